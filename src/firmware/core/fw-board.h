/* The board interface under the provisioning firmware's portable core: what
 * a board (the simulator's host board, qemu-m4, stm32wb55) provides. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FW_UID_LEN 12

/* Faults the simulator may ask for around the core (fault()). */
enum {
  FW_FAULT_WRONG_KEY = 1,      /* GENERATE_CSR signs a CSR for another, fresh key */
  FW_FAULT_REFUSE_INSTALL = 2, /* INSTALL is answered REFUSED */
  /* A board that lies, for the station's tests of counterfeit boards. */
  FW_FAULT_CLAIM_LOCKED = 3,   /* INFO says "locked" whatever the board holds */
  FW_FAULT_UID_AFTER_LOCK = 4, /* INFO gives another UID once locked */
  FW_FAULT_ESCAPE_TEXT = 5,    /* INSTALL refused with terminal escape sequences in its text */
  FW_FAULT_PROTOCOL_V1 = 6,    /* the board speaks protocol 1: INFO says 1, the v2 commands are unknown */
  FW_FAULT_FD_READBACK = 7,    /* FACTORY_DATA_READ answers one byte other than the flash holds */
  FW_FAULT_TAMPER_ATTESTATION = 8, /* ATTESTATION answers elements altered after they were signed */
};

typedef struct {
  void       *ctx;
  const char *hw_model;
  const char *fw_version;

  /* Byte I/O: sends @len bytes to the station (blocking until queued). */
  void (*write) (void *ctx, const uint8_t *data, size_t len);

  /* Entropy from a true random source; 0 on success.  It seeds CTR_DRBG. */
  int (*entropy) (void *ctx, uint8_t *out, size_t len);

  /* Persistent storage: two copies (slots) of slot_size bytes each, flash
   * semantics: erase sets a slot to 0xFF, program only clears bits, at
   * offsets and lengths that are multiples of 8 (a double word).  Each
   * returns 0 on success. */
  size_t slot_size;
  int (*storage_read) (void *ctx, unsigned slot, size_t offset, uint8_t *out, size_t len);
  int (*storage_erase) (void *ctx, unsigned slot);
  int (*storage_program) (void *ctx, unsigned slot, size_t offset, const uint8_t *data, size_t len);

  /* The chip's 96-bit unique ID. */
  void (*uid) (void *ctx, uint8_t uid[FW_UID_LEN]);

  /* Makes the credential storage read-only in hardware (write protection);
   * 0 on success.  May be NULL where there is no such thing. */
  int (*lock) (void *ctx);

  /* Called once the answer to REBOOT is out: 0 restarts the firmware, 1
   * the ROM bootloader.  A real board does not return. */
  void (*reboot) (void *ctx, uint8_t target);

  /* Protocol 2, optional: the product's factory-data region, where its
   * Matter application reads the factory data (ST's X-CUBE-MATTER layout),
   * [fd_base, fd_base + fd_size).  fd_write erases what the range needs and
   * programs @len bytes at @address (any alignment; the board pads); fd_read
   * reads flash.  The core keeps every range inside the region.  Each
   * returns 0 on success.  fd_write NULL: the board has no such region. */
  uint32_t fd_base;
  uint32_t fd_size;
  int (*fd_write) (void *ctx, uint32_t address, const uint8_t *data, size_t len);
  int (*fd_read) (void *ctx, uint32_t address, uint8_t *out, size_t len);

  /* Optional, for the simulator: called with each request's command before
   * it is handled; non-zero drops the request unanswered. */
  int (*before_command) (void *ctx, uint8_t command);
  /* Optional, for the simulator: non-zero when fault @which is injected. */
  int (*fault) (void *ctx, int which);

  /* IDENTIFY (protocol 2): blinks the board's LED for @seconds (1 …
   * FW_IDENTIFY_MAX_SECONDS), or stops blinking with 0, and returns at
   * once: the blinking goes on while the core answers other requests.
   * NULL: the board has no LED (the core answers REFUSED). */
  void (*identify) (void *ctx, uint8_t seconds);
} fw_board;

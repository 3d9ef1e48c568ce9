/* One simulated board: provisioning firmware with persistent secure storage
 * on a pseudo-terminal, with optional fault injection. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  DS_SIM_FAULT_NONE = 0,
  DS_SIM_FAULT_CORRUPT,        /* flip a bit of a byte with probability rate */
  DS_SIM_FAULT_DROP,           /* drop a byte with probability rate */
  DS_SIM_FAULT_STALL,          /* never answer a command */
  DS_SIM_FAULT_DISCONNECT,     /* close the pty at a command */
  DS_SIM_FAULT_WRONG_KEY,      /* GENERATE_CSR for another key */
  DS_SIM_FAULT_REFUSE_INSTALL, /* INSTALL answered REFUSED */
  DS_SIM_FAULT_NACK_WRITE,     /* the bootloader NACKs a write at an address */
  DS_SIM_FAULT_UNPLUG_FLASHING,/* the pty closes halfway through writing flash */
  /* Attacks: a board that lies. */
  DS_SIM_FAULT_CLAIM_LOCKED,   /* INFO says "locked" whatever the board holds */
  DS_SIM_FAULT_UID_AFTER_LOCK, /* INFO gives another UID once locked */
  DS_SIM_FAULT_ESCAPE_TEXT,    /* INSTALL refused with terminal escape sequences in ERROR_TEXT */
  DS_SIM_FAULT_PROTOCOL_V1,    /* firmware of protocol 1: no factory data, no ATTESTATION */
  DS_SIM_FAULT_FD_READBACK,    /* FACTORY_DATA_READ answers one byte other than the flash holds */
  DS_SIM_FAULT_TAMPER_ATTESTATION, /* ATTESTATION answers elements altered after signing */
} DsSimFaultKind;

typedef struct {
  DsSimFaultKind kind;
  double         rate;     /* CORRUPT, DROP */
  guint8         command;  /* STALL, DISCONNECT */
  guint32        address;  /* NACK_WRITE */
} DsSimFault;

/* Parses "KIND[:ARG]" (the part after "INDEX:" of --fault). */
gboolean    ds_sim_fault_parse      (const char  *spec,
                                     DsSimFault  *fault,
                                     GError     **error);

/* The simulated part and its flash. */
typedef struct {
  const char *fw_version;  /* of the firmware a board that is not blank starts with */
  guint16     product_id;  /* AN3155 Get ID: 0x495 STM32WB5x by default */
  guint32     flash_size;  /* bytes; 0: the part's own */
  guint32     page_size;   /* bytes; 0: the part's own */
  gboolean    blank;       /* a new board's flash is erased: it starts in its bootloader */
  gboolean    legacy_erase; /* the bootloader knows Erase (0x43) instead of Extended Erase */
} DsSimBoardConfig;

#define DS_SIM_FLASH_BASE 0x08000000u
/* The factory-data region: where ST's Matter application on the
 * STM32WB5MM-DK reads it, 64 KiB of external flash at 0x901C0000, kept in
 * STATE_DIR/sim-N/factory-data-flash.bin. */
#define DS_SIM_FACTORY_DATA_BASE 0x901C0000u
#define DS_SIM_FACTORY_DATA_SIZE 0x10000u
#define DS_SIM_FACTORY_DATA_SECTOR 4096u

#define DS_TYPE_SIM_BOARD (ds_sim_board_get_type ())
G_DECLARE_FINAL_TYPE (DsSimBoard, ds_sim_board, DS, SIM_BOARD, GObject)

/* Loads the board's state from STATE_DIR/sim-INDEX, creating it (with a UID
 * drawn from @rand) the first time. */
DsSimBoard *ds_sim_board_new        (guint        index,
                                     const char  *state_dir,
                                     const DsSimBoardConfig *config,
                                     GRand       *rand,
                                     GError     **error);
/* The flash sizes of the parts the simulator knows; FALSE for others. */
gboolean    ds_sim_part_lookup      (guint16      product_id,
                                     guint32     *flash_size,
                                     guint32     *page_size);
void        ds_sim_board_add_fault  (DsSimBoard  *self,
                                     const DsSimFault *fault);
void        ds_sim_board_set_baud   (DsSimBoard  *self,
                                     guint        baud);
/* The USB topology the board's announcement claims (docs/fixtures.md):
 * the port's name under /dev/serial/by-path and the probe's serial, hex of
 * its raw bytes.  NULL: none.  Before ds_sim_board_start(). */
void        ds_sim_board_set_usb    (DsSimBoard  *self,
                                     const char  *usb_path,
                                     const char  *probe_serial_hex);
/* Replaces the UID from the state directory, for this run only: two
 * boards with one UID, as a cloned chip would be. */
gboolean    ds_sim_board_set_uid    (DsSimBoard  *self,
                                     const char  *uid,
                                     GError     **error);
const char *ds_sim_board_get_usb_path     (DsSimBoard *self);
const char *ds_sim_board_get_probe_serial (DsSimBoard *self);
const char *ds_sim_board_get_name   (DsSimBoard  *self);
const char *ds_sim_board_get_uid    (DsSimBoard  *self);
const char *ds_sim_board_get_port   (DsSimBoard  *self);
/* Opens the pseudo-terminal, announces the board in @announce_dir and
 * starts serving it in a thread. */
gboolean    ds_sim_board_start      (DsSimBoard  *self,
                                     const char  *announce_dir,
                                     GError     **error);
/* Stops serving, closes the pty and removes the announcement. */
void        ds_sim_board_stop       (DsSimBoard  *self);

G_END_DECLS

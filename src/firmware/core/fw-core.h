/* The provisioning firmware's portable core: framing, TLV, the commands of
 * docs/protocol.md, the credential store and its lock.  Written once; the
 * boards (src/firmware/boards, and the simulator's host board) feed it
 * bytes and provide fw_board underneath. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fw-board.h"
#include "fw-crc.h"
#include "fw-crypto.h"
#include "fw-store.h"

/* The version byte of every frame: it numbers the frame format, which
 * protocol 2 keeps. */
#define FW_PROTOCOL_VERSION 1
/* The protocol (command set) INFO reports: 2 adds factory data and the
 * commissioner's attestation (docs/protocol.md). */
#define FW_PROTOCOL_REVISION 2
#define FW_HEADER_LEN       11
#define FW_TRAILER_LEN      4
#define FW_MAX_PAYLOAD      4096
#define FW_MAX_FRAME        (FW_HEADER_LEN + FW_MAX_PAYLOAD + FW_TRAILER_LEN)

enum {
  FW_CMD_INFO = 0x01,
  FW_CMD_GENERATE_CSR = 0x02,
  FW_CMD_INSTALL = 0x03,
  FW_CMD_READ = 0x04,
  FW_CMD_ATTEST = 0x05,
  FW_CMD_LOCK = 0x06,
  FW_CMD_REBOOT = 0x07,
  /* Protocol 2 */
  FW_CMD_FACTORY_DATA_WRITE = 0x08,
  FW_CMD_FACTORY_DATA_READ = 0x09,
  FW_CMD_ATTESTATION = 0x0A,
  FW_CMD_IDENTIFY = 0x0B,
};

enum {
  FW_STATUS_OK = 0x00,
  FW_STATUS_UNKNOWN_COMMAND = 0x02,
  FW_STATUS_BAD_PAYLOAD = 0x03,
  FW_STATUS_WRONG_STATE = 0x04,
  FW_STATUS_LOCKED = 0x05,
  FW_STATUS_KEY_MISMATCH = 0x06,
  FW_STATUS_STORAGE = 0x07,
  FW_STATUS_NOT_FOUND = 0x08,
  FW_STATUS_BUSY = 0x09,
  FW_STATUS_INTERNAL = 0x0A,
  FW_STATUS_REFUSED = 0x0B,
  FW_STATUS_UNSUPPORTED_VERSION = 0x0C,
};

enum {
  FW_TAG_UID = 0x01,
  FW_TAG_FW_VERSION = 0x02,
  FW_TAG_STATE = 0x03,
  FW_TAG_PROTO_VERSION = 0x04,
  FW_TAG_HW_MODEL = 0x05,
  FW_TAG_VID = 0x10,
  FW_TAG_PID = 0x11,
  FW_TAG_SUBJECT_CN = 0x12,
  FW_TAG_CSR = 0x20,
  FW_TAG_DAC = 0x21,
  FW_TAG_PAI = 0x22,
  FW_TAG_CD = 0x23,
  FW_TAG_OBJECT = 0x24,
  FW_TAG_NONCE = 0x30,
  FW_TAG_SIGNATURE = 0x31,
  FW_TAG_CHALLENGE = 0x32,
  FW_TAG_ATTESTATION_ELEMENTS = 0x33,
  FW_TAG_REBOOT_TARGET = 0x40,
  FW_TAG_FD_ADDRESS = 0x50,
  FW_TAG_FACTORY_DATA = 0x51,
  FW_TAG_IDENTIFY_SECONDS = 0x60,
  FW_TAG_ERROR_TEXT = 0x7F,
};

/* Factory data (ST's X-CUBE-MATTER layout): records of a u32 tag, a u32
 * length and the value, tags ascending, closed by this word. */
#define FW_FD_TERMINATOR    0xACACACACu
#define FW_FD_TAG_DAC       3u
#define FW_FD_TAG_DAC_KEY   5u
#define FW_FD_TAG_DAC_PUB   6u
#define FW_FD_VALUE_MAX     602u
#define FW_CHALLENGE_LEN    16
/* IDENTIFY blinks at most this long: an operator looks for the board at
 * once, and a forgotten request must not blink for ever. */
#define FW_IDENTIFY_MAX_SECONDS 60

typedef struct {
  const fw_board *board;
  fw_store        store;
  fw_crypto       crypto;      /* per core: each simulated board is a thread */
  int             storage_ok;  /* the store could be read at start */

  /* Bytes received, not yet a frame. */
  uint8_t         rx[FW_MAX_FRAME];
  size_t          rx_len;

  /* The last answer, sent again for a retransmitted request. */
  uint8_t         tx[FW_MAX_FRAME];
  size_t          tx_len;
  int             rebooting;   /* REBOOT answered: drop the rest of the input */
  int             have_last;
  uint16_t        last_seq;
  uint8_t         last_cmd;
} fw_core;

/* Starts the core on @board: reads the credential store.  0 on success;
 * otherwise the core still answers, with STORAGE for what needs the store. */
int  fw_core_init    (fw_core        *core,
                      const fw_board *board);
void fw_core_deinit  (fw_core        *core);
/* Feeds bytes from the station; answers go out through board->write. */
void fw_core_input   (fw_core        *core,
                      const uint8_t  *data,
                      size_t          len);
/* Forgets partial input and the last answer, as a reset does. */
void fw_core_reset_link (fw_core     *core);

/* TLV: FALSE (0) when the payload does not parse exactly to its end. */
int fw_tlv_valid (const uint8_t *p, size_t len);
/* Finds the first element with @tag; 0 if absent. */
int fw_tlv_find  (const uint8_t *p, size_t len, uint8_t tag, const uint8_t **value, size_t *value_len);

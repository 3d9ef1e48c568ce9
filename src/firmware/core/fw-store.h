/* The credential store: the key pair, the DAC, PAI and CD, and the state,
 * as one record kept in two copies.  Each copy carries a sequence number and
 * a CRC-32; the newest complete copy wins, so a power cut at any instant of
 * a write leaves the old credentials or the new ones, never neither. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "fw-board.h"

#define FW_STORE_MAGIC       0x31435344u /* "DSC1" */
#define FW_STORE_HEADER_LEN  16          /* magic, seq, body length, CRC-32 */
#define FW_STORE_FIXED_LEN   112         /* state, key pair, object lengths */
#define FW_STORE_MAX_OBJECTS 4096        /* DAC + PAI + CD: at most one payload */
#define FW_STORE_MAX_RECORD  (FW_STORE_HEADER_LEN + FW_STORE_FIXED_LEN + FW_STORE_MAX_OBJECTS)

enum {
  FW_STATE_EMPTY = 0,
  FW_STATE_KEY_PENDING = 1,
  FW_STATE_INSTALLED = 2,
  FW_STATE_LOCKED = 3,
};

/* The credentials as the core sees them (pointers into the record). */
typedef struct {
  uint8_t        state;
  uint8_t        priv[32];    /* P-256 private scalar, big-endian */
  uint8_t        pub[65];     /* uncompressed point */
  const uint8_t *dac, *pai, *cd;
  size_t         dac_len, pai_len, cd_len;
} fw_creds;

typedef struct {
  const fw_board *board;
  int             slot;       /* the slot holding the current record, -1: none */
  uint32_t        seq;
  uint8_t         rec[FW_STORE_MAX_RECORD];   /* the current record */
  uint8_t         work[FW_STORE_MAX_RECORD];  /* a record being written or read */
} fw_store;

/* Reads both copies and keeps the newest complete one.  0 on success (also
 * when the store is empty), -1 when the storage cannot be read. */
int  fw_store_load  (fw_store *store, const fw_board *board);
/* The current credentials: all zero, state EMPTY, when none are stored. */
void fw_store_get   (const fw_store *store, fw_creds *creds);
/* Writes @creds as the new current record, into the copy that is not the
 * current one, then reads it back.  0 on success; on failure the previous
 * record stays current. */
int  fw_store_put   (fw_store *store, const fw_creds *creds);

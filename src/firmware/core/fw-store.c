/* The credential store: two copies of one record, the newest complete one
 * wins (see fw-store.h and docs/firmware.md for the layout). */
#include "fw-store.h"

#include <string.h>

#include "fw-crc.h"

/* Record layout, little-endian:
 *   0 magic "DSC1"  4 seq  8 body length  12 CRC-32 over bytes 4..11 and the body
 *  16 body: state, 3 reserved, private scalar (32), public point (65),
 *     3 reserved, DAC, PAI and CD lengths (u16 each), 2 reserved, then the
 *     DAC, PAI and CD bytes. */

static void
put32 (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

static uint32_t
get32 (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static uint16_t
get16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | p[1] << 8);
}

static uint32_t
record_crc (const uint8_t *rec, uint32_t body_len)
{
  uint32_t crc = fw_crc32 (0, rec + 4, 8);

  return fw_crc32 (crc, rec + FW_STORE_HEADER_LEN, body_len);
}

static size_t
capacity (const fw_store *store)
{
  size_t cap = store->board->slot_size;

  return cap < FW_STORE_MAX_RECORD ? cap : FW_STORE_MAX_RECORD;
}

/* Reads the copy in @slot into store->work; its sequence number when it is
 * complete and sound, else -1 in *valid. */
static int
read_copy (fw_store *store, unsigned slot, uint32_t *seq)
{
  const fw_board *b = store->board;
  uint8_t *w = store->work;
  uint32_t len;

  if (b->storage_read (b->ctx, slot, 0, w, FW_STORE_HEADER_LEN) != 0)
    return -1;
  len = get32 (w + 8);
  if (get32 (w) != FW_STORE_MAGIC || len < FW_STORE_FIXED_LEN || len > capacity (store) - FW_STORE_HEADER_LEN)
    return 0;
  if (b->storage_read (b->ctx, slot, FW_STORE_HEADER_LEN, w + FW_STORE_HEADER_LEN, len) != 0)
    return -1;
  if (record_crc (w, len) != get32 (w + 12))
    return 0;
  /* The object lengths must fit the body. */
  if ((size_t) get16 (w + FW_STORE_HEADER_LEN + 104) + get16 (w + FW_STORE_HEADER_LEN + 106) +
          get16 (w + FW_STORE_HEADER_LEN + 108) + FW_STORE_FIXED_LEN != len ||
      w[FW_STORE_HEADER_LEN] > FW_STATE_LOCKED)
    return 0;
  *seq = get32 (w + 4);
  return 1;
}

int
fw_store_load (fw_store *store, const fw_board *board)
{
  int best = -1;
  uint32_t best_seq = 0;
  int failed = 0;

  store->board = board;
  store->slot = -1;
  store->seq = 0;
  memset (store->rec, 0, sizeof store->rec);
  for (unsigned slot = 0; slot < 2; slot++)
    {
      uint32_t seq = 0;
      int r = read_copy (store, slot, &seq);

      if (r < 0)
        failed = 1;
      /* Sequence numbers grow by one per write; compared with wrap-around. */
      if (r > 0 && (best < 0 || (int32_t) (seq - best_seq) > 0))
        {
          best = (int) slot;
          best_seq = seq;
          memcpy (store->rec, store->work, FW_STORE_HEADER_LEN + get32 (store->work + 8));
        }
    }
  store->slot = best;
  store->seq = best_seq;
  return failed ? -1 : 0;
}

void
fw_store_get (const fw_store *store, fw_creds *creds)
{
  const uint8_t *body = store->rec + FW_STORE_HEADER_LEN;

  memset (creds, 0, sizeof *creds);
  if (store->slot < 0)
    return;
  creds->state = body[0];
  memcpy (creds->priv, body + 4, 32);
  memcpy (creds->pub, body + 36, 65);
  creds->dac_len = get16 (body + 104);
  creds->pai_len = get16 (body + 106);
  creds->cd_len = get16 (body + 108);
  creds->dac = creds->dac_len ? body + FW_STORE_FIXED_LEN : NULL;
  creds->pai = creds->pai_len ? body + FW_STORE_FIXED_LEN + creds->dac_len : NULL;
  creds->cd = creds->cd_len ? body + FW_STORE_FIXED_LEN + creds->dac_len + creds->pai_len : NULL;
}

int
fw_store_put (fw_store *store, const fw_creds *creds)
{
  const fw_board *b = store->board;
  uint8_t *w = store->work;
  uint8_t *body = w + FW_STORE_HEADER_LEN;
  size_t objects = creds->dac_len + creds->pai_len + creds->cd_len;
  uint32_t len = (uint32_t) (FW_STORE_FIXED_LEN + objects);
  size_t total = FW_STORE_HEADER_LEN + len;
  size_t padded = (total + 7) & ~(size_t) 7;
  unsigned slot = store->slot == 0 ? 1 : 0;
  uint32_t seq = store->slot < 0 ? 1 : store->seq + 1;
  uint32_t check;

  if (objects > FW_STORE_MAX_OBJECTS || creds->dac_len > 0xFFFF || creds->pai_len > 0xFFFF ||
      creds->cd_len > 0xFFFF || padded > capacity (store))
    return -1;
  memset (w, 0xFF, padded);
  memset (body, 0, FW_STORE_FIXED_LEN);
  body[0] = creds->state;
  memcpy (body + 4, creds->priv, 32);
  memcpy (body + 36, creds->pub, 65);
  body[104] = (uint8_t) creds->dac_len;
  body[105] = (uint8_t) (creds->dac_len >> 8);
  body[106] = (uint8_t) creds->pai_len;
  body[107] = (uint8_t) (creds->pai_len >> 8);
  body[108] = (uint8_t) creds->cd_len;
  body[109] = (uint8_t) (creds->cd_len >> 8);
  /* The objects may point into the current record, never into work. */
  if (creds->dac_len)
    memcpy (body + FW_STORE_FIXED_LEN, creds->dac, creds->dac_len);
  if (creds->pai_len)
    memcpy (body + FW_STORE_FIXED_LEN + creds->dac_len, creds->pai, creds->pai_len);
  if (creds->cd_len)
    memcpy (body + FW_STORE_FIXED_LEN + creds->dac_len + creds->pai_len, creds->cd, creds->cd_len);
  put32 (w, FW_STORE_MAGIC);
  put32 (w + 4, seq);
  put32 (w + 8, len);
  put32 (w + 12, record_crc (w, len));

  /* The other copy is untouched until this one is complete.  Its first
   * double word (magic and sequence number) goes last: a copy cut short
   * has no magic, or fails its CRC. */
  if (b->storage_erase (b->ctx, slot) != 0 ||
      b->storage_program (b->ctx, slot, 8, w + 8, padded - 8) != 0 ||
      b->storage_program (b->ctx, slot, 0, w, 8) != 0)
    return -1;
  /* Read it back: flash that did not take the bits must not become current. */
  check = 0;
  if (read_copy (store, slot, &check) != 1 || check != seq)
    return -1;
  memcpy (store->rec, w, total);
  store->slot = (int) slot;
  store->seq = seq;
  return 0;
}

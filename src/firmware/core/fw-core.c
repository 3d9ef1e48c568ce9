/* The provisioning firmware's portable core: frames in, commands handled
 * against the credential store, frames out (docs/protocol.md). */
#include "fw-core.h"

#include <string.h>

#include "mbedtls/ecdsa.h"

#define MAGIC0 0xD5
#define MAGIC1 0xAC
#define FLAG_RESPONSE 0x01
#define MAX_CN 256

int
fw_tlv_valid (const uint8_t *p, size_t len)
{
  size_t pos = 0;

  while (pos < len)
    {
      size_t n;

      if (len - pos < 3)
        return 0;
      n = (size_t) p[pos + 1] | (size_t) p[pos + 2] << 8;
      if (len - pos - 3 < n)
        return 0;
      pos += 3 + n;
    }
  return 1;
}

int
fw_tlv_find (const uint8_t *p, size_t len, uint8_t tag, const uint8_t **value, size_t *value_len)
{
  size_t pos = 0;

  while (pos + 3 <= len)
    {
      size_t n = (size_t) p[pos + 1] | (size_t) p[pos + 2] << 8;

      if (len - pos - 3 < n)
        return 0;
      if (p[pos] == tag)
        {
          *value = p + pos + 3;
          *value_len = n;
          return 1;
        }
      pos += 3 + n;
    }
  return 0;
}

static int
tlv_u8 (const uint8_t *p, size_t len, uint8_t tag, uint8_t *out)
{
  const uint8_t *v;
  size_t n;

  if (!fw_tlv_find (p, len, tag, &v, &n) || n != 1)
    return 0;
  *out = v[0];
  return 1;
}

static int
tlv_u16 (const uint8_t *p, size_t len, uint8_t tag, uint16_t *out)
{
  const uint8_t *v;
  size_t n;

  if (!fw_tlv_find (p, len, tag, &v, &n) || n != 2)
    return 0;
  *out = (uint16_t) (v[0] | v[1] << 8);
  return 1;
}

/* UTF-8 without NUL, shortest forms only. */
static int
utf8_valid (const uint8_t *s, size_t len)
{
  size_t i = 0;

  while (i < len)
    {
      uint8_t c = s[i];
      size_t n;
      uint32_t cp;

      if (c == 0)
        return 0;
      if (c < 0x80)
        {
          i++;
          continue;
        }
      if ((c & 0xE0) == 0xC0)
        n = 1, cp = c & 0x1F;
      else if ((c & 0xF0) == 0xE0)
        n = 2, cp = c & 0x0F;
      else if ((c & 0xF8) == 0xF0)
        n = 3, cp = c & 0x07;
      else
        return 0;
      if (len - i - 1 < n)
        return 0;
      for (size_t k = 1; k <= n; k++)
        {
          if ((s[i + k] & 0xC0) != 0x80)
            return 0;
          cp = cp << 6 | (s[i + k] & 0x3F);
        }
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10FFFF ||
          (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
      i += n + 1;
    }
  return 1;
}

/* ---- answers ---------------------------------------------------------- */

/* The answer's payload is built in place, after the header in core->tx. */
typedef struct {
  uint8_t *p;
  size_t   len;
  int      overflow;
} out_buf;

static void
out_tlv (out_buf *o, uint8_t tag, const void *value, size_t n)
{
  if (o->overflow || n > 0xFFFF || FW_MAX_PAYLOAD - o->len < 3 + n)
    {
      o->overflow = 1;
      return;
    }
  o->p[o->len] = tag;
  o->p[o->len + 1] = (uint8_t) n;
  o->p[o->len + 2] = (uint8_t) (n >> 8);
  if (n > 0)
    memcpy (o->p + o->len + 3, value, n);
  o->len += 3 + n;
}

static void
out_str (out_buf *o, uint8_t tag, const char *s)
{
  out_tlv (o, tag, s, strlen (s));
}

static uint8_t
refuse (out_buf *o, uint8_t status, const char *text)
{
  o->len = 0;
  o->overflow = 0;
  out_str (o, FW_TAG_ERROR_TEXT, text);
  return status;
}

static void
finish_answer (fw_core *core, uint16_t seq, uint8_t cmd, uint8_t status, size_t payload_len)
{
  uint8_t *t = core->tx;
  uint32_t crc;

  t[0] = MAGIC0;
  t[1] = MAGIC1;
  t[2] = FW_PROTOCOL_VERSION;
  t[3] = FLAG_RESPONSE;
  t[4] = (uint8_t) seq;
  t[5] = (uint8_t) (seq >> 8);
  t[6] = cmd;
  t[7] = status;
  t[8] = (uint8_t) payload_len;
  t[9] = (uint8_t) (payload_len >> 8);
  t[10] = fw_crc8 (t + 2, 8);
  crc = fw_crc32 (0, t + 2, 9 + payload_len);
  t[11 + payload_len] = (uint8_t) crc;
  t[12 + payload_len] = (uint8_t) (crc >> 8);
  t[13 + payload_len] = (uint8_t) (crc >> 16);
  t[14 + payload_len] = (uint8_t) (crc >> 24);
  core->tx_len = FW_HEADER_LEN + payload_len + FW_TRAILER_LEN;
}

/* ---- commands --------------------------------------------------------- */

static fw_crypto *
crypto_of (fw_core *core)
{
  return &core->crypto;
}

static uint8_t
cmd_info (fw_core *core, out_buf *o)
{
  const fw_board *b = core->board;
  fw_creds creds;
  uint8_t uid[FW_UID_LEN];
  uint8_t proto = FW_PROTOCOL_REVISION;

  if (b->fault != NULL && b->fault (b->ctx, FW_FAULT_PROTOCOL_V1))
    proto = 1;
  fw_store_get (&core->store, &creds);
  b->uid (b->ctx, uid);
  if (creds.state == FW_STATE_LOCKED && b->fault != NULL && b->fault (b->ctx, FW_FAULT_UID_AFTER_LOCK))
    uid[FW_UID_LEN - 1] ^= 0x5A;
  if (b->fault != NULL && b->fault (b->ctx, FW_FAULT_CLAIM_LOCKED))
    creds.state = FW_STATE_LOCKED;
  out_tlv (o, FW_TAG_UID, uid, sizeof uid);
  out_str (o, FW_TAG_FW_VERSION, b->fw_version);
  out_tlv (o, FW_TAG_STATE, &creds.state, 1);
  out_tlv (o, FW_TAG_PROTO_VERSION, &proto, 1);
  out_str (o, FW_TAG_HW_MODEL, b->hw_model);
  return FW_STATUS_OK;
}

static uint8_t
cmd_generate_csr (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  const fw_board *b = core->board;
  fw_creds creds;
  uint16_t vid, pid;
  const uint8_t *cn;
  size_t cn_len;
  size_t csr_len = 0;
  uint8_t other_priv[32], other_pub[65];
  const uint8_t *priv, *pub;
  int ret;

  if (!tlv_u16 (in, in_len, FW_TAG_VID, &vid) || !tlv_u16 (in, in_len, FW_TAG_PID, &pid) ||
      !fw_tlv_find (in, in_len, FW_TAG_SUBJECT_CN, &cn, &cn_len) || cn_len > MAX_CN || !utf8_valid (cn, cn_len))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "GENERATE_CSR needs VID, PID and SUBJECT_CN");
  if (!core->storage_ok)
    return refuse (o, FW_STATUS_STORAGE, "secure storage unreadable");
  fw_store_get (&core->store, &creds);
  if (creds.state == FW_STATE_LOCKED)
    return refuse (o, FW_STATUS_LOCKED, "credentials are locked");
  if (fw_crypto_seed (crypto_of (core), b) != 0)
    return refuse (o, FW_STATUS_INTERNAL, "no entropy");

  if (creds.state == FW_STATE_EMPTY)
    {
      /* The key pair is made here, inside the board, and stored before the
       * CSR leaves: a retry after a lost answer gets the same key. */
      fw_creds fresh;

      memset (&fresh, 0, sizeof fresh);
      fresh.state = FW_STATE_KEY_PENDING;
      if (fw_crypto_keygen (crypto_of (core), fresh.priv, fresh.pub) != 0)
        return refuse (o, FW_STATUS_INTERNAL, "key generation failed");
      ret = fw_store_put (&core->store, &fresh);
      memset (fresh.priv, 0, sizeof fresh.priv);
      if (ret != 0)
        return refuse (o, FW_STATUS_STORAGE, "secure storage write failed");
      fw_store_get (&core->store, &creds);
    }

  priv = creds.priv;
  pub = creds.pub;
  if (b->fault != NULL && b->fault (b->ctx, FW_FAULT_WRONG_KEY))
    {
      if (fw_crypto_keygen (crypto_of (core), other_priv, other_pub) != 0)
        return refuse (o, FW_STATUS_INTERNAL, "key generation failed");
      priv = other_priv;
      pub = other_pub;
    }
  /* The CSR is written into the answer, after its TLV header. */
  ret = fw_crypto_csr (crypto_of (core), priv, pub, (const char *) cn, cn_len, vid, pid,
                       o->p + 3, FW_MAX_PAYLOAD - 3, &csr_len);
  memset (other_priv, 0, sizeof other_priv);
  memset (creds.priv, 0, sizeof creds.priv);
  if (ret != 0)
    return refuse (o, FW_STATUS_INTERNAL, "CSR signing failed");
  o->p[0] = FW_TAG_CSR;
  o->p[1] = (uint8_t) csr_len;
  o->p[2] = (uint8_t) (csr_len >> 8);
  o->len = 3 + csr_len;
  return FW_STATUS_OK;
}

static uint8_t
cmd_install (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  const fw_board *b = core->board;
  fw_creds creds;
  const uint8_t *dac, *pai, *cd;
  size_t dac_len, pai_len, cd_len;
  int has_cd, match, ret;

  if (!fw_tlv_find (in, in_len, FW_TAG_DAC, &dac, &dac_len) || !fw_tlv_find (in, in_len, FW_TAG_PAI, &pai, &pai_len) ||
      dac_len == 0 || pai_len == 0)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "INSTALL needs DAC and PAI");
  has_cd = fw_tlv_find (in, in_len, FW_TAG_CD, &cd, &cd_len) && cd_len > 0;
  if (!core->storage_ok)
    return refuse (o, FW_STATUS_STORAGE, "secure storage unreadable");
  fw_store_get (&core->store, &creds);
  if (creds.state == FW_STATE_LOCKED)
    return refuse (o, FW_STATUS_LOCKED, "credentials are locked");
  if (creds.state == FW_STATE_EMPTY)
    return refuse (o, FW_STATUS_WRONG_STATE, "no key pair: GENERATE_CSR first");
  if (b->fault != NULL && b->fault (b->ctx, FW_FAULT_REFUSE_INSTALL))
    return refuse (o, FW_STATUS_REFUSED, "installation refused (injected fault)");
  if (b->fault != NULL && b->fault (b->ctx, FW_FAULT_ESCAPE_TEXT))
    return refuse (o, FW_STATUS_REFUSED, "\033[2J\033[1;1H\033[32mPASS\033]0;owned\007 all good\r\nPASS");

  match = fw_crypto_dac_matches (dac, dac_len, creds.pub);
  if (match == -2)
    return refuse (o, FW_STATUS_INTERNAL, "out of memory parsing the DAC");
  if (match < 0)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "the DAC is not a certificate");
  if (match > 0)
    return refuse (o, FW_STATUS_KEY_MISMATCH, "the DAC's public key is not this board's key");

  /* A CD already installed stays unless a new one comes. */
  creds.dac = dac;
  creds.dac_len = dac_len;
  creds.pai = pai;
  creds.pai_len = pai_len;
  if (has_cd)
    {
      creds.cd = cd;
      creds.cd_len = cd_len;
    }
  if (creds.dac_len + creds.pai_len + creds.cd_len > FW_STORE_MAX_OBJECTS)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "DAC, PAI and CD are too large together");
  creds.state = FW_STATE_INSTALLED;
  ret = fw_store_put (&core->store, &creds);
  memset (creds.priv, 0, sizeof creds.priv);
  if (ret != 0)
    return refuse (o, FW_STATUS_STORAGE, "secure storage write failed");
  return FW_STATUS_OK;
}

static uint8_t
cmd_read (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  fw_creds creds;
  uint8_t object;
  const uint8_t *value;
  size_t len;
  uint8_t tag;

  /* There is deliberately no object number for the private key. */
  if (!tlv_u8 (in, in_len, FW_TAG_OBJECT, &object))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "READ needs OBJECT");
  fw_store_get (&core->store, &creds);
  memset (creds.priv, 0, sizeof creds.priv);
  switch (object)
    {
    case 1: value = creds.dac; len = creds.dac_len; tag = FW_TAG_DAC; break;
    case 2: value = creds.pai; len = creds.pai_len; tag = FW_TAG_PAI; break;
    case 3: value = creds.cd; len = creds.cd_len; tag = FW_TAG_CD; break;
    default:
      return refuse (o, FW_STATUS_BAD_PAYLOAD, "no such object");
    }
  if (value == NULL)
    return refuse (o, FW_STATUS_NOT_FOUND, "object not installed");
  out_tlv (o, tag, value, len);
  return FW_STATUS_OK;
}

static uint8_t
cmd_attest (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  fw_creds creds;
  const uint8_t *nonce;
  size_t nonce_len;
  uint8_t sig[MBEDTLS_ECDSA_MAX_LEN];
  size_t sig_len = 0;
  int ret;

  if (!fw_tlv_find (in, in_len, FW_TAG_NONCE, &nonce, &nonce_len) || nonce_len != 32)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "ATTEST needs a 32-byte NONCE");
  fw_store_get (&core->store, &creds);
  if (creds.state != FW_STATE_INSTALLED && creds.state != FW_STATE_LOCKED)
    return refuse (o, FW_STATUS_WRONG_STATE, "no DAC installed");
  if (fw_crypto_seed (crypto_of (core), core->board) != 0)
    return refuse (o, FW_STATUS_INTERNAL, "no entropy");
  ret = fw_crypto_sign (crypto_of (core), creds.priv, creds.pub, nonce, nonce_len, sig, sizeof sig, &sig_len);
  memset (creds.priv, 0, sizeof creds.priv);
  if (ret != 0)
    return refuse (o, FW_STATUS_INTERNAL, "signing failed");
  out_tlv (o, FW_TAG_SIGNATURE, sig, sig_len);
  return FW_STATUS_OK;
}

static uint8_t
cmd_lock (fw_core *core, out_buf *o)
{
  const fw_board *b = core->board;
  fw_creds creds;
  int ret;

  if (!core->storage_ok)
    return refuse (o, FW_STATUS_STORAGE, "secure storage unreadable");
  fw_store_get (&core->store, &creds);
  if (creds.state != FW_STATE_LOCKED)
    {
      if (creds.state != FW_STATE_INSTALLED)
        return refuse (o, FW_STATUS_WRONG_STATE, "nothing installed to lock");
      creds.state = FW_STATE_LOCKED;
      ret = fw_store_put (&core->store, &creds);
      memset (creds.priv, 0, sizeof creds.priv);
      if (ret != 0)
        return refuse (o, FW_STATUS_STORAGE, "secure storage write failed");
    }
  /* Then the hardware's write protection, also when a previous LOCK was
   * cut short between the two. */
  if (b->lock != NULL && b->lock (b->ctx) != 0)
    return refuse (o, FW_STATUS_STORAGE, "write protection of the credentials failed");
  return FW_STATUS_OK;
}

/* ---- protocol 2: factory data and the commissioner's attestation ------ */

static uint32_t
get_u32le (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
put_u32le (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

static int
tlv_u32 (const uint8_t *p, size_t len, uint8_t tag, uint32_t *out)
{
  const uint8_t *v;
  size_t n;

  if (!fw_tlv_find (p, len, tag, &v, &n) || n != 4)
    return 0;
  *out = get_u32le (v);
  return 1;
}

/* Checks the station's blob: records with values of 1..602 bytes, tags
 * ascending, neither key tag (the board adds those), the terminator last.
 * The offset where the key records go in *insert_at; 0 when malformed. */
static int
fd_blob_valid (const uint8_t *blob, size_t len, size_t *insert_at, const uint8_t **dac, size_t *dac_len)
{
  size_t pos = 0;
  uint32_t prev = 0;
  int first = 1;

  *insert_at = (size_t) -1;
  *dac = NULL;
  *dac_len = 0;
  for (;;)
    {
      uint32_t tag, n;

      if (len - pos < 4)
        return 0;
      tag = get_u32le (blob + pos);
      if (tag == FW_FD_TERMINATOR)
        {
          if (pos + 4 != len)
            return 0;
          if (*insert_at == (size_t) -1)
            *insert_at = pos;
          return 1;
        }
      if (len - pos < 8)
        return 0;
      n = get_u32le (blob + pos + 4);
      if ((!first && tag <= prev) || tag == FW_FD_TAG_DAC_KEY || tag == FW_FD_TAG_DAC_PUB || n == 0 ||
          n > FW_FD_VALUE_MAX || len - pos - 8 < n)
        return 0;
      if (tag > FW_FD_TAG_DAC_PUB && *insert_at == (size_t) -1)
        *insert_at = pos;
      if (tag == FW_FD_TAG_DAC)
        {
          *dac = blob + pos + 8;
          *dac_len = n;
        }
      first = 0;
      prev = tag;
      pos += 8 + n;
    }
}

/* The region check: [address, address + len) inside the board's region. */
static int
fd_in_region (const fw_board *b, uint32_t address, size_t len)
{
  return address >= b->fd_base && address - b->fd_base <= b->fd_size &&
         len <= (size_t) (b->fd_size - (address - b->fd_base));
}

static uint8_t *
put_fd_record (uint8_t *p, uint32_t tag, const uint8_t *value, size_t n)
{
  put_u32le (p, tag);
  put_u32le (p + 4, (uint32_t) n);
  memcpy (p + 8, value, n);
  return p + 8 + n;
}

static uint8_t
cmd_factory_data_write (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  const fw_board *b = core->board;
  fw_creds creds;
  uint32_t address;
  const uint8_t *blob, *dac;
  size_t blob_len, dac_len, insert_at, total;
  uint8_t *scratch = o->p;
  uint8_t *w;
  int ret;

  if (!tlv_u32 (in, in_len, FW_TAG_FD_ADDRESS, &address) ||
      !fw_tlv_find (in, in_len, FW_TAG_FACTORY_DATA, &blob, &blob_len))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "FACTORY_DATA_WRITE needs FD_ADDRESS and FACTORY_DATA");
  if (!fd_blob_valid (blob, blob_len, &insert_at, &dac, &dac_len))
    return refuse (o, FW_STATUS_BAD_PAYLOAD,
                   "factory data malformed: records in tag order, no key tags 5 and 6, the terminator last");
  if (b->fd_write == NULL || b->fd_read == NULL)
    return refuse (o, FW_STATUS_STORAGE, "this board has no factory-data region");
  if (!core->storage_ok)
    return refuse (o, FW_STATUS_STORAGE, "secure storage unreadable");
  fw_store_get (&core->store, &creds);
  memset (creds.priv, 0, sizeof creds.priv);
  if (creds.state == FW_STATE_LOCKED)
    return refuse (o, FW_STATUS_LOCKED, "credentials are locked");
  if (creds.state != FW_STATE_INSTALLED)
    return refuse (o, FW_STATUS_WRONG_STATE, "no DAC installed: INSTALL first");
  if (dac != NULL)
    {
      int match = fw_crypto_dac_matches (dac, dac_len, creds.pub);

      if (match == -2)
        return refuse (o, FW_STATUS_INTERNAL, "out of memory parsing the DAC");
      if (match != 0)
        return refuse (o, FW_STATUS_KEY_MISMATCH, "the factory data's DAC is not for this board's key");
    }
  /* With the key pair: tag 5 (the private scalar), tag 6 (the point). */
  total = blob_len + 8 + 32 + 8 + 65;
  if (total > FW_MAX_PAYLOAD || !fd_in_region (b, address, total))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "the factory data does not fit its region");

  /* Assembled where the answer goes (the answer is empty), written, read
   * back and compared, then wiped. */
  fw_store_get (&core->store, &creds);
  memcpy (scratch, blob, insert_at);
  w = put_fd_record (scratch + insert_at, FW_FD_TAG_DAC_KEY, creds.priv, 32);
  w = put_fd_record (w, FW_FD_TAG_DAC_PUB, creds.pub, 65);
  memset (creds.priv, 0, sizeof creds.priv);
  memcpy (w, blob + insert_at, blob_len - insert_at);
  ret = b->fd_write (b->ctx, address, scratch, total);
  for (size_t pos = 0; ret == 0 && pos < total; pos += 64)
    {
      uint8_t chunk[64];
      size_t n = total - pos < sizeof chunk ? total - pos : sizeof chunk;

      if (b->fd_read (b->ctx, address + (uint32_t) pos, chunk, n) != 0 || memcmp (chunk, scratch + pos, n) != 0)
        ret = -1;
      memset (chunk, 0, sizeof chunk);
    }
  memset (scratch, 0, total);
  if (ret != 0)
    return refuse (o, FW_STATUS_STORAGE, "writing the factory data failed");
  o->len = 0;
  return FW_STATUS_OK;
}

/* Reads the records at @address from flash into the answer, all but the
 * private key's (never read at all). */
static uint8_t
cmd_factory_data_read (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  const fw_board *b = core->board;
  uint32_t address;
  uint8_t *dst = o->p + 3;
  size_t room = FW_MAX_PAYLOAD - 3;
  size_t pos = 0, len = 0, last_value = 0;

  if (!tlv_u32 (in, in_len, FW_TAG_FD_ADDRESS, &address))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "FACTORY_DATA_READ needs FD_ADDRESS");
  if (b->fd_read == NULL)
    return refuse (o, FW_STATUS_STORAGE, "this board has no factory-data region");
  if (!fd_in_region (b, address, 0))
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "the address is outside the factory-data region");
  for (;;)
    {
      uint8_t head[8];
      uint32_t tag, n;

      if (!fd_in_region (b, address, pos + 4) || room - len < 4)
        return refuse (o, FW_STATUS_NOT_FOUND, "no factory data at this address");
      if (b->fd_read (b->ctx, address + (uint32_t) pos, head, 4) != 0)
        return refuse (o, FW_STATUS_STORAGE, "reading the factory data failed");
      tag = get_u32le (head);
      if (tag == FW_FD_TERMINATOR)
        {
          memcpy (dst + len, head, 4);
          len += 4;
          break;
        }
      if (!fd_in_region (b, address, pos + 8) || b->fd_read (b->ctx, address + (uint32_t) pos + 4, head + 4, 4) != 0)
        return refuse (o, FW_STATUS_NOT_FOUND, "no factory data at this address");
      n = get_u32le (head + 4);
      if (n == 0 || n > FW_FD_VALUE_MAX || !fd_in_region (b, address, pos + 8 + n))
        return refuse (o, FW_STATUS_NOT_FOUND, "no factory data at this address");
      if (tag != FW_FD_TAG_DAC_KEY)
        {
          if (room - len < 8 + n)
            return refuse (o, FW_STATUS_INTERNAL, "the factory data is too large to answer");
          memcpy (dst + len, head, 8);
          if (b->fd_read (b->ctx, address + (uint32_t) pos + 8, dst + len + 8, n) != 0)
            return refuse (o, FW_STATUS_STORAGE, "reading the factory data failed");
          last_value = len + 8 + n - 1;
          len += 8 + n;
        }
      pos += 8 + n;
    }
  if (last_value > 0 && b->fault != NULL && b->fault (b->ctx, FW_FAULT_FD_READBACK))
    dst[last_value] ^= 0x01;
  o->p[0] = FW_TAG_FACTORY_DATA;
  o->p[1] = (uint8_t) len;
  o->p[2] = (uint8_t) (len >> 8);
  o->len = 3 + len;
  return FW_STATUS_OK;
}

/* Matter TLV, context tags, as the attestation elements need them. */
static uint8_t *
mtlv_octets (uint8_t *p, uint8_t tag, const uint8_t *value, size_t n)
{
  if (n <= 0xFF)
    {
      *p++ = 0x30;            /* context tag, octet string, 1-byte length */
      *p++ = tag;
      *p++ = (uint8_t) n;
    }
  else
    {
      *p++ = 0x31;            /* context tag, octet string, 2-byte length */
      *p++ = tag;
      *p++ = (uint8_t) n;
      *p++ = (uint8_t) (n >> 8);
    }
  memcpy (p, value, n);
  return p + n;
}

/* Matter core 6.2.3.1: attestation_elements = { 1: CD, 2: nonce,
 * 3: timestamp (0: the board keeps no time) }, signed together with the
 * attestation challenge. */
static uint8_t
cmd_attestation (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  fw_creds creds;
  const uint8_t *nonce, *challenge;
  size_t nonce_len, challenge_len, elements_len;
  uint8_t *e = o->p + 3;
  uint8_t *p = e;
  uint8_t sig[MBEDTLS_ECDSA_MAX_LEN];
  size_t sig_len = 0;
  int ret;

  if (!fw_tlv_find (in, in_len, FW_TAG_NONCE, &nonce, &nonce_len) || nonce_len != 32 ||
      !fw_tlv_find (in, in_len, FW_TAG_CHALLENGE, &challenge, &challenge_len) || challenge_len != FW_CHALLENGE_LEN)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "ATTESTATION needs a 32-byte NONCE and a 16-byte CHALLENGE");
  fw_store_get (&core->store, &creds);
  memset (creds.priv, 0, sizeof creds.priv);
  if (creds.state != FW_STATE_INSTALLED && creds.state != FW_STATE_LOCKED)
    return refuse (o, FW_STATUS_WRONG_STATE, "no DAC installed");
  if (creds.cd == NULL)
    return refuse (o, FW_STATUS_NOT_FOUND, "no Certification Declaration installed");
  /* Elements, challenge and signature must fit the answer. */
  if (creds.cd_len > FW_MAX_PAYLOAD - 3 - 48 - FW_CHALLENGE_LEN - 3 - MBEDTLS_ECDSA_MAX_LEN)
    return refuse (o, FW_STATUS_INTERNAL, "the Certification Declaration is too large to attest");
  if (fw_crypto_seed (crypto_of (core), core->board) != 0)
    return refuse (o, FW_STATUS_INTERNAL, "no entropy");
  *p++ = 0x15;                /* anonymous structure */
  p = mtlv_octets (p, 1, creds.cd, creds.cd_len);
  p = mtlv_octets (p, 2, nonce, nonce_len);
  *p++ = 0x26;                /* context tag 3, unsigned integer, 4 bytes */
  *p++ = 3;
  put_u32le (p, 0);
  p += 4;
  *p++ = 0x18;                /* end of container */
  elements_len = (size_t) (p - e);
  /* Signed: elements || challenge, the challenge placed after the
   * elements for the hash, then overwritten by the signature. */
  memcpy (p, challenge, FW_CHALLENGE_LEN);
  fw_store_get (&core->store, &creds);
  ret = fw_crypto_sign (crypto_of (core), creds.priv, creds.pub, e, elements_len + FW_CHALLENGE_LEN,
                        sig, sizeof sig, &sig_len);
  memset (creds.priv, 0, sizeof creds.priv);
  if (ret != 0)
    return refuse (o, FW_STATUS_INTERNAL, "signing failed");
  /* A forged answer for the station's tests: the timestamp's low byte
   * changed after signing, so only the signature gives it away. */
  if (core->board->fault != NULL && core->board->fault (core->board->ctx, FW_FAULT_TAMPER_ATTESTATION))
    e[elements_len - 5] ^= 0x01;
  o->p[0] = FW_TAG_ATTESTATION_ELEMENTS;
  o->p[1] = (uint8_t) elements_len;
  o->p[2] = (uint8_t) (elements_len >> 8);
  o->len = 3 + elements_len;
  out_tlv (o, FW_TAG_SIGNATURE, sig, sig_len);
  return FW_STATUS_OK;
}

/* Blinks the LED so an operator finds the board on the fixture.  It
 * touches neither the store nor the keys, so it is allowed in every
 * state. */
static uint8_t
cmd_identify (fw_core *core, const uint8_t *in, size_t in_len, out_buf *o)
{
  const fw_board *b = core->board;
  uint8_t seconds;

  if (!tlv_u8 (in, in_len, FW_TAG_IDENTIFY_SECONDS, &seconds) || seconds > FW_IDENTIFY_MAX_SECONDS)
    return refuse (o, FW_STATUS_BAD_PAYLOAD, "IDENTIFY needs IDENTIFY_SECONDS, 0 to 60");
  if (b->identify == NULL)
    return refuse (o, FW_STATUS_REFUSED, "this board has no LED");
  b->identify (b->ctx, seconds);
  return FW_STATUS_OK;
}

/* Handles one request frame (header and payload checked) into core->tx. */
static void
handle (fw_core *core, const uint8_t *frame)
{
  uint8_t version = frame[2];
  uint16_t seq = (uint16_t) (frame[4] | frame[5] << 8);
  uint8_t cmd = frame[6];
  size_t in_len = (size_t) frame[8] | (size_t) frame[9] << 8;
  const uint8_t *in = frame + FW_HEADER_LEN;
  out_buf o = { core->tx + FW_HEADER_LEN, 0, 0 };
  uint8_t status;

  if (version != FW_PROTOCOL_VERSION)
    status = refuse (&o, FW_STATUS_UNSUPPORTED_VERSION, "protocol version 1 only");
  else if (!fw_tlv_valid (in, in_len))
    status = refuse (&o, FW_STATUS_BAD_PAYLOAD, "malformed TLV payload");
  else
    switch (cmd)
      {
      case FW_CMD_INFO: status = cmd_info (core, &o); break;
      case FW_CMD_GENERATE_CSR: status = cmd_generate_csr (core, in, in_len, &o); break;
      case FW_CMD_INSTALL: status = cmd_install (core, in, in_len, &o); break;
      case FW_CMD_READ: status = cmd_read (core, in, in_len, &o); break;
      case FW_CMD_ATTEST: status = cmd_attest (core, in, in_len, &o); break;
      case FW_CMD_LOCK: status = cmd_lock (core, &o); break;
      case FW_CMD_FACTORY_DATA_WRITE:
      case FW_CMD_FACTORY_DATA_READ:
      case FW_CMD_ATTESTATION:
      case FW_CMD_IDENTIFY:
        if (core->board->fault != NULL && core->board->fault (core->board->ctx, FW_FAULT_PROTOCOL_V1))
          status = refuse (&o, FW_STATUS_UNKNOWN_COMMAND, "unknown command");
        else if (cmd == FW_CMD_FACTORY_DATA_WRITE)
          status = cmd_factory_data_write (core, in, in_len, &o);
        else if (cmd == FW_CMD_FACTORY_DATA_READ)
          status = cmd_factory_data_read (core, in, in_len, &o);
        else if (cmd == FW_CMD_IDENTIFY)
          status = cmd_identify (core, in, in_len, &o);
        else
          status = cmd_attestation (core, in, in_len, &o);
        break;
      case FW_CMD_REBOOT:
        {
          uint8_t target = 0;

          if (tlv_u8 (in, in_len, FW_TAG_REBOOT_TARGET, &target) && target > 1)
            status = refuse (&o, FW_STATUS_BAD_PAYLOAD, "REBOOT_TARGET is 0 or 1");
          else
            status = FW_STATUS_OK;
        }
        break;
      default:
        status = refuse (&o, FW_STATUS_UNKNOWN_COMMAND, "unknown command");
        break;
      }
  if (o.overflow)
    status = refuse (&o, FW_STATUS_INTERNAL, "answer too large");
  finish_answer (core, seq, cmd, status, o.len);
  core->have_last = 1;
  core->last_seq = seq;
  core->last_cmd = cmd;
}

static void
on_frame (fw_core *core, const uint8_t *frame)
{
  const fw_board *b = core->board;
  uint16_t seq = (uint16_t) (frame[4] | frame[5] << 8);
  uint8_t cmd = frame[6];

  if (frame[3] & FLAG_RESPONSE)
    return;
  /* A retransmitted request gets the kept answer, without running the
   * command twice. */
  if (!(core->have_last && core->last_seq == seq && core->last_cmd == cmd))
    {
      if (b->before_command != NULL && b->before_command (b->ctx, cmd) != 0)
        return;
      handle (core, frame);
    }
  b->write (b->ctx, core->tx, core->tx_len);
  if (cmd == FW_CMD_REBOOT && core->tx[7] == FW_STATUS_OK)
    {
      uint8_t target = 0;
      size_t in_len = (size_t) frame[8] | (size_t) frame[9] << 8;

      tlv_u8 (frame + FW_HEADER_LEN, in_len, FW_TAG_REBOOT_TARGET, &target);
      fw_core_reset_link (core);
      core->rebooting = 1;
      b->reboot (b->ctx, target);
    }
}

/* Scans core->rx for frames as docs/protocol.md says: a candidate is
 * dropped, and the scan resumes one byte after its first marker byte, when
 * its header check fails, its length is over 4096 or its frame check
 * fails. */
static void
scan (fw_core *core)
{
  uint8_t *rx = core->rx;

  for (;;)
    {
      size_t skip = 0;
      size_t len, total;
      uint32_t crc;

      while (skip < core->rx_len && !(rx[skip] == MAGIC0 && (skip + 1 == core->rx_len || rx[skip + 1] == MAGIC1)))
        skip++;
      if (skip > 0)
        {
          memmove (rx, rx + skip, core->rx_len - skip);
          core->rx_len -= skip;
        }
      if (core->rx_len < FW_HEADER_LEN)
        return;
      len = (size_t) rx[8] | (size_t) rx[9] << 8;
      if (fw_crc8 (rx + 2, 8) != rx[10] || len > FW_MAX_PAYLOAD)
        {
          memmove (rx, rx + 1, core->rx_len - 1);
          core->rx_len -= 1;
          continue;
        }
      total = FW_HEADER_LEN + len + FW_TRAILER_LEN;
      if (core->rx_len < total)
        return;
      crc = fw_crc32 (0, rx + 2, 9 + len);
      if ((uint32_t) (rx[11 + len] | rx[12 + len] << 8 | rx[13 + len] << 16 | (uint32_t) rx[14 + len] << 24) != crc)
        {
          memmove (rx, rx + 1, core->rx_len - 1);
          core->rx_len -= 1;
          continue;
        }
      on_frame (core, rx);
      /* After REBOOT the link starts afresh (on a real board, the reset
       * loses whatever was still in the buffers). */
      if (core->rebooting)
        return;
      memmove (rx, rx + total, core->rx_len - total);
      core->rx_len -= total;
    }
}

void
fw_core_input (fw_core *core, const uint8_t *data, size_t len)
{
  while (len > 0)
    {
      size_t n = sizeof core->rx - core->rx_len;

      if (n > len)
        n = len;
      memcpy (core->rx + core->rx_len, data, n);
      core->rx_len += n;
      data += n;
      len -= n;
      scan (core);
      if (core->rebooting)
        {
          core->rebooting = 0;
          core->rx_len = 0;
          return;
        }
    }
}

void
fw_core_reset_link (fw_core *core)
{
  core->rx_len = 0;
  core->have_last = 0;
}

int
fw_core_init (fw_core *core, const fw_board *board)
{
  core->board = board;
  core->rx_len = 0;
  core->tx_len = 0;
  core->have_last = 0;
  core->rebooting = 0;
  fw_crypto_init (&core->crypto);
  core->storage_ok = fw_store_load (&core->store, board) == 0;
  return core->storage_ok ? 0 : -1;
}

void
fw_core_deinit (fw_core *core)
{
  fw_crypto_free (&core->crypto);
}

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
  uint8_t proto = FW_PROTOCOL_VERSION;

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

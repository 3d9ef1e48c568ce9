/* Frame codec and TLV payloads of the device protocol (docs/protocol.md). */
#include "config.h"

#include "ds-frame.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static guint32 crc32_table[256];

static gpointer
crc32_init (gpointer data)
{
  for (guint32 i = 0; i < 256; i++)
    {
      guint32 c = i;
      for (int k = 0; k < 8; k++)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      crc32_table[i] = c;
    }
  return NULL;
}

/* CRC-32/ISO-HDLC (the zlib and Ethernet CRC); start with crc = 0. */
guint32
ds_crc32 (guint32       crc,
          const guint8 *data,
          gsize         len)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, crc32_init, NULL);
  crc = ~crc;
  for (gsize i = 0; i < len; i++)
    crc = crc32_table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

/* CRC-8/SMBUS: polynomial 0x07, init 0, no reflection. */
guint8
ds_crc8 (const guint8 *data,
         gsize         len)
{
  guint8 crc = 0;

  for (gsize i = 0; i < len; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc & 0x80) ? (guint8) ((crc << 1) ^ 0x07) : (guint8) (crc << 1);
    }
  return crc;
}

static inline guint16
rd16 (const guint8 *p)
{
  return (guint16) (p[0] | (p[1] << 8));
}

static inline guint32
rd32 (const guint8 *p)
{
  return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) | ((guint32) p[3] << 24);
}

/* Checks a header candidate at @p (which holds at least HEADER_LEN bytes). */
static gboolean
header_ok (const guint8 *p)
{
  if (p[0] != DS_FRAME_MAGIC0 || p[1] != DS_FRAME_MAGIC1)
    return FALSE;
  if (ds_crc8 (p + 2, 8) != p[10])
    return FALSE;
  if (rd16 (p + 8) > DS_FRAME_MAX_PAYLOAD)
    return FALSE;
  return TRUE;
}

DsParseResult
ds_frame_parse (const guint8 *buf,
                gsize         len,
                DsFrame      *frame,
                gsize        *consumed,
                gsize        *garbage)
{
  gsize pos = 0;

  *consumed = 0;
  *garbage = 0;

  while (pos < len)
    {
      const guint8 *p = buf + pos;
      gsize avail = len - pos;
      gsize plen;

      if (p[0] != DS_FRAME_MAGIC0)
        {
          pos++;
          continue;
        }
      if (avail < 2)
        break;
      if (p[1] != DS_FRAME_MAGIC1)
        {
          pos++;
          continue;
        }
      if (avail < DS_FRAME_HEADER_LEN)
        break;
      if (!header_ok (p))
        {
          pos++;
          continue;
        }
      plen = rd16 (p + 8);
      if (avail < DS_FRAME_HEADER_LEN + plen + DS_FRAME_TRAILER_LEN)
        break;
      if (ds_crc32 (0, p + 2, DS_FRAME_HEADER_LEN - 2 + plen) != rd32 (p + DS_FRAME_HEADER_LEN + plen))
        {
          /* A header that passed its CRC-8 by chance, or a damaged payload:
           * resynchronise one byte further on. */
          pos++;
          continue;
        }

      frame->version = p[2];
      frame->flags = p[3];
      frame->seq = rd16 (p + 4);
      frame->command = p[6];
      frame->status = p[7];
      frame->payload = p + DS_FRAME_HEADER_LEN;
      frame->payload_len = plen;
      *garbage = pos;
      *consumed = pos + DS_FRAME_HEADER_LEN + plen + DS_FRAME_TRAILER_LEN;
      return DS_PARSE_FRAME;
    }

  *garbage = pos;
  *consumed = pos;
  return DS_PARSE_NEED_MORE;
}

GBytes *
ds_frame_encode (guint8        flags,
                 guint16       seq,
                 guint8        command,
                 guint8        status,
                 const guint8 *payload,
                 gsize         payload_len)
{
  guint8 *f;
  guint32 crc;
  gsize total;

  g_return_val_if_fail (payload_len <= DS_FRAME_MAX_PAYLOAD, NULL);

  total = DS_FRAME_OVERHEAD + payload_len;
  f = g_malloc (total);
  f[0] = DS_FRAME_MAGIC0;
  f[1] = DS_FRAME_MAGIC1;
  f[2] = DS_FRAME_VERSION;
  f[3] = flags;
  f[4] = seq & 0xFF;
  f[5] = seq >> 8;
  f[6] = command;
  f[7] = status;
  f[8] = payload_len & 0xFF;
  f[9] = (payload_len >> 8) & 0xFF;
  f[10] = ds_crc8 (f + 2, 8);
  if (payload_len > 0)
    memcpy (f + DS_FRAME_HEADER_LEN, payload, payload_len);
  crc = ds_crc32 (0, f + 2, DS_FRAME_HEADER_LEN - 2 + payload_len);
  f[total - 4] = crc & 0xFF;
  f[total - 3] = (crc >> 8) & 0xFF;
  f[total - 2] = (crc >> 16) & 0xFF;
  f[total - 1] = (crc >> 24) & 0xFF;
  return g_bytes_new_take (f, total);
}

struct _DsFrameReader {
  GByteArray *buf;
  gsize       garbage;
};

DsFrameReader *
ds_frame_reader_new (void)
{
  DsFrameReader *reader = g_new0 (DsFrameReader, 1);

  reader->buf = g_byte_array_new ();
  return reader;
}

void
ds_frame_reader_free (DsFrameReader *reader)
{
  if (reader == NULL)
    return;
  g_byte_array_unref (reader->buf);
  g_free (reader);
}

void
ds_frame_reader_push (DsFrameReader *reader,
                      const guint8  *data,
                      gsize          len)
{
  g_byte_array_append (reader->buf, data, len);
}

gboolean
ds_frame_reader_next (DsFrameReader *reader,
                      DsFrame       *frame,
                      GBytes       **payload)
{
  gsize consumed = 0, garbage = 0;
  DsParseResult r;

  r = ds_frame_parse (reader->buf->data, reader->buf->len, frame, &consumed, &garbage);
  reader->garbage += garbage;
  if (r == DS_PARSE_FRAME)
    {
      *payload = g_bytes_new (frame->payload, frame->payload_len);
      frame->payload = NULL;
    }
  if (consumed > 0)
    g_byte_array_remove_range (reader->buf, 0, consumed);
  return r == DS_PARSE_FRAME;
}

void
ds_frame_reader_reset (DsFrameReader *reader)
{
  g_byte_array_set_size (reader->buf, 0);
}

gsize
ds_frame_reader_garbage (DsFrameReader *reader)
{
  return reader->garbage;
}

gsize
ds_frame_reader_pending (DsFrameReader *reader)
{
  return reader->buf->len;
}

/* TLV */

void
ds_tlv_append (GByteArray *out,
               guint8      tag,
               const void *value,
               gsize       len)
{
  guint8 hdr[3];

  g_return_if_fail (len <= G_MAXUINT16);
  hdr[0] = tag;
  hdr[1] = len & 0xFF;
  hdr[2] = (len >> 8) & 0xFF;
  g_byte_array_append (out, hdr, 3);
  if (len > 0)
    g_byte_array_append (out, value, len);
}

void
ds_tlv_append_u8 (GByteArray *out,
                  guint8      tag,
                  guint8      value)
{
  ds_tlv_append (out, tag, &value, 1);
}

void
ds_tlv_append_u16 (GByteArray *out,
                   guint8      tag,
                   guint16     value)
{
  guint8 v[2] = { value & 0xFF, value >> 8 };

  ds_tlv_append (out, tag, v, 2);
}

void
ds_tlv_append_string (GByteArray *out,
                      guint8      tag,
                      const char *value)
{
  ds_tlv_append (out, tag, value, strlen (value));
}

void
ds_tlv_append_bytes (GByteArray *out,
                     guint8      tag,
                     GBytes     *value)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (value, &len);

  ds_tlv_append (out, tag, data, len);
}

gboolean
ds_tlv_validate (const guint8 *payload,
                 gsize         len)
{
  gsize pos = 0;

  while (pos < len)
    {
      gsize l;

      if (len - pos < 3)
        return FALSE;
      l = rd16 (payload + pos + 1);
      if (len - pos - 3 < l)
        return FALSE;
      pos += 3 + l;
    }
  return TRUE;
}

gboolean
ds_tlv_find (const guint8  *payload,
             gsize          len,
             guint8         tag,
             const guint8 **value,
             gsize         *value_len)
{
  gsize pos = 0;

  if (!ds_tlv_validate (payload, len))
    return FALSE;
  while (pos < len)
    {
      gsize l = rd16 (payload + pos + 1);

      if (payload[pos] == tag)
        {
          *value = payload + pos + 3;
          *value_len = l;
          return TRUE;
        }
      pos += 3 + l;
    }
  return FALSE;
}

gboolean
ds_tlv_get_u8 (const guint8 *payload,
               gsize         len,
               guint8        tag,
               guint8       *value)
{
  const guint8 *v;
  gsize l;

  if (!ds_tlv_find (payload, len, tag, &v, &l) || l != 1)
    return FALSE;
  *value = v[0];
  return TRUE;
}

gboolean
ds_tlv_get_u16 (const guint8 *payload,
                gsize         len,
                guint8        tag,
                guint16      *value)
{
  const guint8 *v;
  gsize l;

  if (!ds_tlv_find (payload, len, tag, &v, &l) || l != 2)
    return FALSE;
  *value = rd16 (v);
  return TRUE;
}

char *
ds_tlv_dup_string (const guint8 *payload,
                   gsize         len,
                   guint8        tag)
{
  const guint8 *v;
  gsize l;

  if (!ds_tlv_find (payload, len, tag, &v, &l))
    return NULL;
  if (memchr (v, '\0', l) != NULL || !g_utf8_validate ((const char *) v, l, NULL))
    return NULL;
  return g_strndup ((const char *) v, l);
}

GBytes *
ds_tlv_dup_bytes (const guint8 *payload,
                  gsize         len,
                  guint8        tag)
{
  const guint8 *v;
  gsize l;

  if (!ds_tlv_find (payload, len, tag, &v, &l))
    return NULL;
  return g_bytes_new (v, l);
}

const char *
ds_command_to_string (guint8 command)
{
  switch (command)
    {
    case DS_CMD_INFO: return "INFO";
    case DS_CMD_GENERATE_CSR: return "GENERATE_CSR";
    case DS_CMD_INSTALL: return "INSTALL";
    case DS_CMD_READ: return "READ";
    case DS_CMD_ATTEST: return "ATTEST";
    case DS_CMD_LOCK: return "LOCK";
    case DS_CMD_REBOOT: return "REBOOT";
    case DS_CMD_FACTORY_DATA_WRITE: return "FACTORY_DATA_WRITE";
    case DS_CMD_FACTORY_DATA_READ: return "FACTORY_DATA_READ";
    case DS_CMD_ATTESTATION: return "ATTESTATION";
    case DS_CMD_IDENTIFY: return "IDENTIFY";
    default: return "UNKNOWN";
    }
}

const char *
ds_status_to_string (guint8 status)
{
  switch (status)
    {
    case DS_STATUS_OK: return _("success");
    case DS_STATUS_UNKNOWN_COMMAND: return _("the firmware does not know this command");
    case DS_STATUS_BAD_PAYLOAD: return _("the firmware could not read the request");
    case DS_STATUS_WRONG_STATE: return _("the board is not in the right state for this command");
    case DS_STATUS_LOCKED: return _("the board's credentials are locked");
    case DS_STATUS_KEY_MISMATCH: return _("the certificate is not for the key inside the board");
    case DS_STATUS_STORAGE: return _("the board's secure storage failed");
    case DS_STATUS_NOT_FOUND: return _("the board holds no such object");
    case DS_STATUS_BUSY: return _("the board is busy");
    case DS_STATUS_INTERNAL: return _("the firmware reported an internal error");
    case DS_STATUS_REFUSED: return _("the board refused the request");
    case DS_STATUS_UNSUPPORTED_VERSION: return _("the firmware speaks another protocol version");
    default: return _("the firmware answered with an unknown status");
    }
}

const char *
ds_board_state_to_string (guint8 state)
{
  switch (state)
    {
    case DS_BOARD_STATE_EMPTY: return "empty";
    case DS_BOARD_STATE_KEY_PENDING: return "key-pending";
    case DS_BOARD_STATE_INSTALLED: return "installed";
    case DS_BOARD_STATE_LOCKED: return "locked";
    default: return "unknown";
    }
}

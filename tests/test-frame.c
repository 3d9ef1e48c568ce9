/* Unit tests of the device protocol's frame codec and TLV payloads. */
#include "ds-frame.h"

#include <string.h>

static void
test_crc_known_values (void)
{
  /* The standard check value of CRC-32/ISO-HDLC and CRC-8/SMBUS. */
  g_assert_cmphex (ds_crc32 (0, (const guint8 *) "123456789", 9), ==, 0xCBF43926);
  g_assert_cmphex (ds_crc8 ((const guint8 *) "123456789", 9), ==, 0xF4);
}

static void
test_roundtrip (void)
{
  const guint8 payload[] = { 1, 2, 3, 4, 5 };
  g_autoptr(GBytes) f = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, 0x1234, DS_CMD_ATTEST, DS_STATUS_OK, payload, sizeof payload);
  gsize len, consumed, garbage;
  const guint8 *data = g_bytes_get_data (f, &len);
  DsFrame frame;

  g_assert_cmpuint (len, ==, DS_FRAME_OVERHEAD + sizeof payload);
  g_assert_cmpint (ds_frame_parse (data, len, &frame, &consumed, &garbage), ==, DS_PARSE_FRAME);
  g_assert_cmpuint (consumed, ==, len);
  g_assert_cmpuint (garbage, ==, 0);
  g_assert_cmpuint (frame.seq, ==, 0x1234);
  g_assert_cmpuint (frame.command, ==, DS_CMD_ATTEST);
  g_assert_cmpuint (frame.flags, ==, DS_FRAME_FLAG_RESPONSE);
  g_assert_cmpuint (frame.version, ==, DS_FRAME_VERSION);
  g_assert_cmpmem (frame.payload, frame.payload_len, payload, sizeof payload);
}

static void
test_partial_needs_more (void)
{
  g_autoptr(GBytes) f = ds_frame_encode (0, 7, DS_CMD_INFO, 0, NULL, 0);
  gsize len, consumed, garbage;
  const guint8 *data = g_bytes_get_data (f, &len);
  DsFrame frame;

  for (gsize i = 0; i < len; i++)
    {
      g_assert_cmpint (ds_frame_parse (data, i, &frame, &consumed, &garbage), ==, DS_PARSE_NEED_MORE);
      g_assert_cmpuint (consumed, ==, 0);
    }
}

static void
test_resync_after_garbage (void)
{
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  g_autoptr(GBytes) f = ds_frame_encode (0, 9, DS_CMD_LOCK, 0, (const guint8 *) "xy", 2);
  /* Garbage that contains a false start marker and a half header. */
  const guint8 junk[] = { 0x00, 0xD5, 0xD5, 0xAC, 0x01, 0x00, 0xFF, 0x13, 0x37, 0xD5 };
  g_autoptr(GBytes) payload = NULL;
  gsize len;
  const guint8 *data = g_bytes_get_data (f, &len);
  DsFrame frame;

  ds_frame_reader_push (reader, junk, sizeof junk);
  g_assert_false (ds_frame_reader_next (reader, &frame, &payload));
  ds_frame_reader_push (reader, data, len);
  g_assert_true (ds_frame_reader_next (reader, &frame, &payload));
  g_assert_cmpuint (frame.seq, ==, 9);
  g_assert_cmpuint (frame.command, ==, DS_CMD_LOCK);
  g_assert_cmpmem (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), "xy", 2);
  g_assert_cmpuint (ds_frame_reader_garbage (reader), ==, sizeof junk);
  g_assert_false (ds_frame_reader_next (reader, &frame, &payload));
}

static void
test_corrupted_frame_is_skipped (void)
{
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  g_autoptr(GBytes) a = ds_frame_encode (0, 1, DS_CMD_INFO, 0, (const guint8 *) "hello", 5);
  g_autoptr(GBytes) b = ds_frame_encode (0, 2, DS_CMD_INFO, 0, (const guint8 *) "world", 5);
  g_autoptr(GBytes) payload = NULL;
  g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (a, NULL), g_bytes_get_size (a));
  DsFrame frame;

  /* Flip one payload bit: the CRC-32 must reject the frame. */
  bad[DS_FRAME_HEADER_LEN + 2] ^= 0x10;
  ds_frame_reader_push (reader, bad, g_bytes_get_size (a));
  ds_frame_reader_push (reader, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
  g_assert_true (ds_frame_reader_next (reader, &frame, &payload));
  g_assert_cmpuint (frame.seq, ==, 2);
  g_assert_false (ds_frame_reader_next (reader, &frame, &payload));
}

static void
test_oversized_length_rejected (void)
{
  guint8 hdr[DS_FRAME_HEADER_LEN] = { DS_FRAME_MAGIC0, DS_FRAME_MAGIC1, 1, 0, 0, 0, 1, 0,
                                      (DS_FRAME_MAX_PAYLOAD + 1) & 0xFF, (DS_FRAME_MAX_PAYLOAD + 1) >> 8, 0 };
  gsize consumed, garbage;
  DsFrame frame;

  hdr[10] = ds_crc8 (hdr + 2, 8);
  /* A header announcing more than the limit is garbage, not a reason to wait. */
  g_assert_cmpint (ds_frame_parse (hdr, sizeof hdr, &frame, &consumed, &garbage), ==, DS_PARSE_NEED_MORE);
  g_assert_cmpuint (garbage, ==, sizeof hdr);
}

static void
test_random_garbage_never_crashes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  guint8 buf[512];

  for (int round = 0; round < 2000; round++)
    {
      gsize len = g_rand_int_range (rand, 0, sizeof buf);
      gsize consumed, garbage;
      DsFrame frame;

      for (gsize i = 0; i < len; i++)
        buf[i] = (guint8) g_rand_int (rand);
      if (ds_frame_parse (buf, len, &frame, &consumed, &garbage) == DS_PARSE_FRAME)
        g_assert_cmpuint (consumed, <=, len);
      else
        g_assert_cmpuint (consumed, <=, len);
    }
}

static void
test_tlv (void)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autofree char *s = NULL;
  g_autoptr(GBytes) b = NULL;
  guint16 v16 = 0;
  guint8 v8 = 0;
  const guint8 *v;
  gsize l;

  ds_tlv_append_u16 (p, DS_TAG_VID, 0xFFF1);
  ds_tlv_append_u8 (p, DS_TAG_STATE, DS_BOARD_STATE_LOCKED);
  ds_tlv_append_string (p, DS_TAG_SUBJECT_CN, "board");
  g_assert_true (ds_tlv_validate (p->data, p->len));
  g_assert_true (ds_tlv_get_u16 (p->data, p->len, DS_TAG_VID, &v16));
  g_assert_cmphex (v16, ==, 0xFFF1);
  g_assert_true (ds_tlv_get_u8 (p->data, p->len, DS_TAG_STATE, &v8));
  g_assert_cmpuint (v8, ==, DS_BOARD_STATE_LOCKED);
  s = ds_tlv_dup_string (p->data, p->len, DS_TAG_SUBJECT_CN);
  g_assert_cmpstr (s, ==, "board");
  g_assert_false (ds_tlv_find (p->data, p->len, DS_TAG_CSR, &v, &l));
  /* A u16 read from a u8 element is refused. */
  g_assert_false (ds_tlv_get_u16 (p->data, p->len, DS_TAG_STATE, &v16));
  b = ds_tlv_dup_bytes (p->data, p->len, DS_TAG_SUBJECT_CN);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 5);

  /* Truncation anywhere makes the whole payload invalid. */
  for (guint cut = 1; cut < p->len; cut++)
    if (cut != 5 && cut != 9)
      g_assert_false (ds_tlv_validate (p->data, cut));
}

static void
test_tlv_string_with_nul_refused (void)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autofree char *s = NULL;

  ds_tlv_append (p, DS_TAG_FW_VERSION, "a\0b", 3);
  s = ds_tlv_dup_string (p->data, p->len, DS_TAG_FW_VERSION);
  g_assert_null (s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/frame/crc", test_crc_known_values);
  g_test_add_func ("/frame/roundtrip", test_roundtrip);
  g_test_add_func ("/frame/partial", test_partial_needs_more);
  g_test_add_func ("/frame/resync", test_resync_after_garbage);
  g_test_add_func ("/frame/corrupted", test_corrupted_frame_is_skipped);
  g_test_add_func ("/frame/oversized", test_oversized_length_rejected);
  g_test_add_func ("/frame/random-garbage", test_random_garbage_never_crashes);
  g_test_add_func ("/tlv/basic", test_tlv);
  g_test_add_func ("/tlv/nul", test_tlv_string_with_nul_refused);
  return g_test_run ();
}

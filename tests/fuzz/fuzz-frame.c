/* Fuzz target: the device protocol's frame parser and TLV reader, the bytes
 * a board (or a broken cable) sends the station. */
#include <stdint.h>

#include "ds-frame.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  DsFrame frame;
  GBytes *payload = NULL;
  gsize half = size / 2;

  /* Fed in two pieces, as a serial port delivers bytes. */
  ds_frame_reader_push (reader, data, half);
  while (ds_frame_reader_next (reader, &frame, &payload))
    g_bytes_unref (payload);
  ds_frame_reader_push (reader, data + half, size - half);
  while (ds_frame_reader_next (reader, &frame, &payload))
    {
      gsize len = 0;
      const guint8 *p = g_bytes_get_data (payload, &len);
      g_autofree char *s = ds_tlv_dup_string (p, len, DS_TAG_FW_VERSION);
      g_autoptr(GBytes) csr = ds_tlv_dup_bytes (p, len, DS_TAG_CSR);
      guint8 state;
      guint16 vid;

      ds_tlv_get_u8 (p, len, DS_TAG_STATE, &state);
      ds_tlv_get_u16 (p, len, DS_TAG_VID, &vid);
      g_bytes_unref (payload);
    }
  /* And the payload parser on raw input. */
  ds_tlv_validate (data, size);
  {
    g_autofree char *s = ds_tlv_dup_string (data, size, DS_TAG_ERROR_TEXT);
  }
  return 0;
}

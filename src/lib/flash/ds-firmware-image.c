/* Firmware image parsing (raw and Intel HEX) and the provisioning firmware
 * header. */
#include "config.h"

#include "ds-firmware-image.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-error.h"
#include "ds-frame.h"
#include "ds-util.h"

static void
segment_free (DsImageSegment *s)
{
  g_bytes_unref (s->data);
  g_free (s);
}

void
ds_firmware_image_free (DsFirmwareImage *image)
{
  if (image == NULL)
    return;
  g_ptr_array_unref (image->segments);
  g_free (image);
}

static DsFirmwareImage *
image_new (void)
{
  DsFirmwareImage *image = g_new0 (DsFirmwareImage, 1);

  image->segments = g_ptr_array_new_with_free_func ((GDestroyNotify) segment_free);
  return image;
}

DsFirmwareImage *
ds_firmware_image_new_bin (GBytes  *contents,
                           guint32  address,
                           GError **error)
{
  g_autoptr(DsFirmwareImage) image = image_new ();
  DsImageSegment *s;
  gsize len = g_bytes_get_size (contents);

  if (len == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The firmware image is empty"));
      return NULL;
    }
  if ((guint64) address + len > G_MAXUINT32 + (guint64) 1)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The image (%zu bytes) does not fit above 0x%08X"), len, address);
      return NULL;
    }
  s = g_new0 (DsImageSegment, 1);
  s->address = address;
  s->data = g_bytes_ref (contents);
  g_ptr_array_add (image->segments, s);
  image->size = len;
  return g_steal_pointer (&image);
}

static int
hexval (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

static int
compare_segments (gconstpointer a,
                  gconstpointer b)
{
  const DsImageSegment *sa = *(const DsImageSegment **) a;
  const DsImageSegment *sb = *(const DsImageSegment **) b;

  return sa->address < sb->address ? -1 : sa->address > sb->address;
}

DsFirmwareImage *
ds_firmware_image_parse_hex (const char *text,
                             gsize       len,
                             GError    **error)
{
  g_autoptr(DsFirmwareImage) image = image_new ();
  g_autoptr(GByteArray) run = NULL;
  guint32 run_start = 0;
  guint32 base = 0;
  gboolean eof = FALSE;
  guint line_no = 0;
  gsize pos = 0;

#define FAIL(...) G_STMT_START { g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, __VA_ARGS__); return NULL; } G_STMT_END

  while (pos < len)
    {
      gsize end = pos;
      guint8 rec[5 + 255];
      gsize n, rec_len;
      guint8 sum = 0;
      guint32 addr;

      while (end < len && text[end] != '\n')
        end++;
      line_no++;
      n = end - pos;
      if (n > 0 && text[pos + n - 1] == '\r')
        n--;
      if (n == 0)
        {
          pos = end + 1;
          continue;
        }
      if (eof)
        FAIL (_("Line %u of the HEX file comes after its end-of-file record"), line_no);
      if (text[pos] != ':' || n < 11 || (n - 1) % 2 != 0 || (n - 1) / 2 > sizeof rec)
        FAIL (_("Line %u of the HEX file is not a record"), line_no);
      rec_len = (n - 1) / 2;
      for (gsize i = 0; i < rec_len; i++)
        {
          int hi = hexval (text[pos + 1 + 2 * i]), lo = hexval (text[pos + 2 + 2 * i]);
          if (hi < 0 || lo < 0)
            FAIL (_("Line %u of the HEX file has a character that is not hex"), line_no);
          rec[i] = (guint8) (hi << 4 | lo);
          sum += rec[i];
        }
      if (rec_len != (gsize) rec[0] + 5)
        FAIL (_("Line %u of the HEX file has the wrong length"), line_no);
      if (sum != 0)
        FAIL (_("Line %u of the HEX file has a bad checksum"), line_no);

      addr = base + ((guint32) rec[1] << 8 | rec[2]);
      switch (rec[3])
        {
        case 0x00:
          if (run != NULL && addr != run_start + run->len)
            {
              DsImageSegment *s = g_new0 (DsImageSegment, 1);
              s->address = run_start;
              s->data = g_byte_array_free_to_bytes (g_steal_pointer (&run));
              g_ptr_array_add (image->segments, s);
            }
          if (run == NULL)
            {
              run = g_byte_array_new ();
              run_start = addr;
            }
          g_byte_array_append (run, rec + 4, rec[0]);
          image->size += rec[0];
          break;
        case 0x01:
          eof = TRUE;
          break;
        case 0x02:
          if (rec[0] != 2)
            FAIL (_("Line %u of the HEX file has a malformed segment address"), line_no);
          base = ((guint32) rec[4] << 8 | rec[5]) << 4;
          break;
        case 0x04:
          if (rec[0] != 2)
            FAIL (_("Line %u of the HEX file has a malformed linear address"), line_no);
          base = ((guint32) rec[4] << 8 | rec[5]) << 16;
          break;
        case 0x03:
        case 0x05:
          break;
        default:
          FAIL (_("Line %u of the HEX file has an unknown record type %02X"), line_no, rec[3]);
        }
      pos = end + 1;
    }
  if (!eof)
    FAIL (_("The HEX file has no end-of-file record: it may be truncated"));
  if (run != NULL)
    {
      DsImageSegment *s = g_new0 (DsImageSegment, 1);
      s->address = run_start;
      s->data = g_byte_array_free_to_bytes (g_steal_pointer (&run));
      g_ptr_array_add (image->segments, s);
    }
  if (image->size == 0)
    FAIL (_("The HEX file holds no data"));
  g_ptr_array_sort (image->segments, compare_segments);
  for (guint i = 1; i < image->segments->len; i++)
    {
      DsImageSegment *a = g_ptr_array_index (image->segments, i - 1);
      DsImageSegment *b = g_ptr_array_index (image->segments, i);

      if ((guint64) a->address + g_bytes_get_size (a->data) > b->address)
        FAIL (_("The HEX file writes address 0x%08X twice"), b->address);
    }
#undef FAIL
  return g_steal_pointer (&image);
}

DsFirmwareImage *
ds_firmware_image_load (const char *path,
                        guint32     address,
                        GError    **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  DsFirmwareImage *image;

  if (!ds_util_read_file (path, DS_UTIL_MAX_IMAGE_FILE, &contents, &len, error))
    return NULL;
  if (g_str_has_suffix (path, ".hex") || g_str_has_suffix (path, ".ihex"))
    image = ds_firmware_image_parse_hex (contents, len, error);
  else
    {
      g_autoptr(GBytes) bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
      image = ds_firmware_image_new_bin (bytes, address, error);
    }
  if (image == NULL)
    g_prefix_error (error, "%s: ", path);
  return image;
}

int
ds_firmware_image_byte_at (DsFirmwareImage *image,
                           guint32          address)
{
  for (guint i = 0; i < image->segments->len; i++)
    {
      DsImageSegment *s = g_ptr_array_index (image->segments, i);
      gsize len = g_bytes_get_size (s->data);

      if (address >= s->address && (guint64) address < (guint64) s->address + len)
        return ((const guint8 *) g_bytes_get_data (s->data, NULL))[address - s->address];
    }
  return -1;
}

static void
put32 (guint8 *p,
       guint32 v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = v >> 24;
}

static guint32
get32 (const guint8 *p)
{
  return p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

GBytes *
ds_fw_image_make (const char *version,
                  gsize       size)
{
  guint8 *img;
  gsize body;

  g_return_val_if_fail (size > DS_FW_HEADER_LEN, NULL);
  g_return_val_if_fail (strlen (version) < DS_FW_VERSION_LEN, NULL);
  img = g_malloc0 (size);
  body = size - DS_FW_HEADER_LEN;
  memcpy (img, DS_FW_MAGIC, 4);
  memcpy (img + 4, version, strlen (version));
  /* A body that looks like code rather than a run of one value, so that a
   * flasher that drops or repeats a block is caught by verification. */
  for (gsize i = 0; i < body; i++)
    img[DS_FW_HEADER_LEN + i] = (guint8) ((i * 2654435761u) >> 13);
  put32 (img + 20, (guint32) body);
  put32 (img + 24, ds_crc32 (0, img + DS_FW_HEADER_LEN, body));
  return g_bytes_new_take (img, size);
}

char *
ds_fw_image_get_version (const guint8 *data,
                         gsize         len)
{
  guint32 body;

  if (len < DS_FW_HEADER_LEN || memcmp (data, DS_FW_MAGIC, 4) != 0)
    return NULL;
  body = get32 (data + 20);
  if (body > len - DS_FW_HEADER_LEN || ds_crc32 (0, data + DS_FW_HEADER_LEN, body) != get32 (data + 24))
    return NULL;
  if (memchr (data + 4, '\0', DS_FW_VERSION_LEN) == NULL)
    return NULL;
  return g_strdup ((const char *) data + 4);
}

char *
ds_firmware_image_dup_fw_version (DsFirmwareImage *image)
{
  DsImageSegment *first;
  gsize len = 0;
  const guint8 *data;

  if (image->segments->len == 0)
    return NULL;
  first = g_ptr_array_index (image->segments, 0);
  data = g_bytes_get_data (first->data, &len);
  return ds_fw_image_get_version (data, len);
}

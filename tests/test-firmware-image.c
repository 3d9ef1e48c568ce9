/* Unit tests of firmware images: Intel HEX (good and broken), raw images,
 * and the provisioning firmware header. */
#include <string.h>

#include "ds-error.h"
#include "ds-firmware-image.h"

static DsFirmwareImage *
parse (const char *text,
       GError    **error)
{
  return ds_firmware_image_parse_hex (text, strlen (text), error);
}

/* Two data records below a linear base of 0x0800, a gap, and one more. */
static const char good_hex[] =
  ":020000040800F2\r\n"
  ":10000000000102030405060708090A0B0C0D0E0F78\r\n"
  ":10001000101112131415161718191A1B1C1D1E1F68\r\n"
  ":04010000DEADBEEFC3\r\n"
  ":0400000508000000EF\r\n"
  ":00000001FF\r\n";

static void
test_hex_good (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFirmwareImage) image = parse (good_hex, &error);
  DsImageSegment *s;

  g_assert_no_error (error);
  g_assert_cmpuint (image->size, ==, 36);
  g_assert_cmpuint (image->segments->len, ==, 2);
  s = g_ptr_array_index (image->segments, 0);
  g_assert_cmphex (s->address, ==, 0x08000000);
  g_assert_cmpuint (g_bytes_get_size (s->data), ==, 32);
  s = g_ptr_array_index (image->segments, 1);
  g_assert_cmphex (s->address, ==, 0x08000100);
  g_assert_cmpint (ds_firmware_image_byte_at (image, 0x0800001F), ==, 0x1F);
  g_assert_cmpint (ds_firmware_image_byte_at (image, 0x08000103), ==, 0xEF);
  g_assert_cmpint (ds_firmware_image_byte_at (image, 0x08000020), ==, -1);
}

static void
test_hex_broken (void)
{
  const struct { const char *text; const char *needle; } cases[] = {
    { ":10000000000102030405060708090A0B0C0D0E0F79\n:00000001FF\n", "checksum" },
    { ":10000000000102030405060708090A0B0C0D0E0F78\n", "end-of-file" },
    { ":0F000000000102030405060708090A0B0C0D0E0F78\n:00000001FF\n", "length" },
    { "10000000000102030405060708090A0B0C0D0E0F78\n:00000001FF\n", "not a record" },
    { ":10000000000102030405060708090A0B0C0D0EXX78\n:00000001FF\n", "not hex" },
    { ":0100000000FF\n:0100000000FF\n:00000001FF\n", "twice" },
    { ":00000001FF\n:0100000000FF\n", "after" },
    { ":00000001FF\n", "no data" },
    { ":0100000600F9\n:00000001FF\n", "unknown record" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DsFirmwareImage) image = parse (cases[i].text, &error);

      g_assert_null (image);
      g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

static void
test_bin (void)
{
  g_autoptr(GBytes) data = g_bytes_new ("\x01\x02\x03", 3);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFirmwareImage) image = ds_firmware_image_new_bin (data, 0x08000000, &error);
  g_autoptr(DsFirmwareImage) none = NULL;
  g_autoptr(DsFirmwareImage) too_high = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (ds_firmware_image_byte_at (image, 0x08000002), ==, 3);
  none = ds_firmware_image_new_bin (empty, 0x08000000, &error);
  g_assert_null (none);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  too_high = ds_firmware_image_new_bin (data, 0xFFFFFFFE, &error);
  g_assert_null (too_high);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

static void
test_fw_header (void)
{
  g_autoptr(GBytes) img = ds_fw_image_make ("2.1.0", 4096);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (img, &len);
  g_autofree char *version = ds_fw_image_get_version (data, len);
  g_autofree guint8 *bad = g_memdup2 (data, len);
  g_autofree char *none = NULL;

  g_assert_cmpuint (len, ==, 4096);
  g_assert_cmpstr (version, ==, "2.1.0");
  /* One flipped bit in the body: not a valid image. */
  bad[2000] ^= 0x04;
  none = ds_fw_image_get_version (bad, len);
  g_assert_null (none);
  g_assert_null (ds_fw_image_get_version (data, 10));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/hex/good", test_hex_good);
  g_test_add_func ("/image/hex/broken", test_hex_broken);
  g_test_add_func ("/image/bin", test_bin);
  g_test_add_func ("/image/fw-header", test_fw_header);
  return g_test_run ();
}

/* Tests of the board labels against real readers: zbarimg (zbar-tools)
 * decodes the QR code from the PNG, and from the PDF after pdftoppm
 * (poppler-utils) renders it; the ZPL program is checked field by field. */
#include <glib/gstdio.h>
#include <string.h>

#include "ds-error.h"
#include "ds-label.h"
#include "ds-onboarding.h"
#include "ds-test-util.h"

typedef struct {
  char          *dir;
  char          *qr;
  char          *manual;
  DsLabelInfo    info;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  DsSetupPayload p = { .vid = 0xFFF1, .pid = 0x8001, .discovery = DS_DISCOVERY_BLE };
  guint16 d;

  f->dir = g_dir_make_tmp ("ds-label-XXXXXX", &error);
  g_assert_no_error (error);
  /* A fresh random board each run. */
  g_assert_true (ds_passcode_random (&p.passcode, NULL));
  g_assert_true (ds_discriminator_random (0, 4095, &d, NULL));
  p.discriminator = d;
  f->qr = ds_setup_payload_to_qr (&p, &error);
  g_assert_no_error (error);
  f->manual = ds_setup_payload_to_manual (&p, &error);
  g_assert_no_error (error);
  f->info = (DsLabelInfo) {
    .qr = f->qr, .manual_code = f->manual, .serial_number = "DS-20261202-000042",
    .vid = 0xFFF1, .pid = 0x8001, .product_name = "Lampe Ü^~_2",
  };
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  ds_test_rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->qr);
  g_free (f->manual);
}

static gboolean
need (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);

  if (path == NULL)
    {
      g_autofree char *msg = g_strdup_printf ("%s is not installed", program);

      g_test_skip (msg);
      return FALSE;
    }
  return TRUE;
}

/* What zbarimg reads from @image: the decoded text, without its newline. */
static char *
zbar_read (const char *image)
{
  g_autoptr(GError) error = NULL;
  const char *argv[] = { "zbarimg", "--quiet", "--raw", image, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err,
                               &status, &error));
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_test_message ("zbarimg: %s", err);
      return NULL;
    }
  g_strchomp (out);
  return g_steal_pointer (&out);
}

static void
test_png (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "label.png", NULL);
  g_autofree char *read = NULL;
  DsLabelFormat format;

  if (!need ("zbarimg"))
    return;
  g_assert_true (ds_label_format_for_path (path, &format, &error));
  g_assert_cmpint (format, ==, DS_LABEL_PNG);
  g_assert_true (ds_label_write (&f->info, format, path, &error));
  g_assert_no_error (error);
  read = zbar_read (path);
  g_assert_cmpstr (read, ==, f->qr);
}

static void
test_pdf (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "label.pdf", NULL);
  g_autofree char *prefix = g_build_filename (f->dir, "page", NULL);
  g_autofree char *png = g_strconcat (prefix, ".png", NULL);
  g_autofree char *read = NULL;
  const char *argv[] = { "pdftoppm", "-r", "300", "-png", "-singlefile", path, prefix, NULL };
  g_autofree char *pdf = NULL;
  gsize len;
  int status = -1;

  if (!need ("zbarimg") || !need ("pdftoppm"))
    return;
  g_assert_true (ds_label_write (&f->info, DS_LABEL_PDF, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &pdf, &len, NULL));
  g_assert_true (g_str_has_prefix (pdf, "%PDF-"));

  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                               NULL, NULL, NULL, NULL, &status, &error));
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  read = zbar_read (png);
  g_assert_cmpstr (read, ==, f->qr);
}

static void
test_zpl (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *zpl = ds_label_zpl (&f->info, &error);
  g_autofree char *qr_field = g_strdup_printf ("^BQN,2,5^FDMA,%s^FS", f->qr);
  g_autofree char *manual = ds_manual_code_format (f->manual);
  g_autofree char *path = g_build_filename (f->dir, "label.zpl", NULL);
  g_autofree char *written = NULL;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (zpl, "^XA\n"));
  g_assert_true (g_str_has_suffix (zpl, "^XZ\n"));
  g_assert_nonnull (strstr (zpl, "^PW406\n^LL203\n"));
  g_assert_nonnull (strstr (zpl, qr_field));
  g_assert_nonnull (strstr (zpl, manual));
  g_assert_nonnull (strstr (zpl, "SN DS-20261202-000042"));
  g_assert_nonnull (strstr (zpl, "VID 0xFFF1  PID 0x8001"));
  /* ^ ~ _ and UTF-8 in the product name are hex escapes after ^FH_, so a
   * name cannot inject printer commands. */
  g_assert_nonnull (strstr (zpl, "^FH_^FDLampe _C3_9C_5E_7E_5F2^FS"));

  g_assert_true (ds_label_write (&f->info, DS_LABEL_ZPL, path, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &written, NULL, NULL));
  g_assert_cmpstr (written, ==, zpl);
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "label.png", NULL);
  DsLabelInfo info = f->info;
  DsLabelFormat format;

  g_assert_false (ds_label_format_for_path ("label.jpg", &format, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_true (ds_label_format_for_path ("LABEL.PDF", &format, NULL));
  g_assert_cmpint (format, ==, DS_LABEL_PDF);

  info.qr = "34970112332";
  g_assert_false (ds_label_write (&info, DS_LABEL_PNG, path, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);
  info = f->info;
  info.serial_number = NULL;
  g_assert_null (ds_label_zpl (&info, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  /* An unwritable place is an IO error, not a crash. */
  g_assert_false (ds_label_write (&f->info, DS_LABEL_PNG, "/nonexistent/label.png", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
}

/* A label's owned copy keeps every text and number, and a text the label
 * leaves out stays out. */
static void
test_info_copy (void)
{
  g_autofree char *serial = g_strdup ("DS-20261203-000001");
  DsLabelInfo info = { .qr = "MT:-24J0AFN00KA0648G00", .manual_code = "34970112332", .serial_number = serial,
                       .vid = 0xFFF1, .pid = 0x8001, .product_name = NULL };
  g_autoptr(DsLabelInfo) copy = ds_label_info_copy (&info);

  /* The copy does not lean on the original's texts. */
  memset (serial, 'X', strlen (serial));
  g_assert_cmpstr (copy->qr, ==, "MT:-24J0AFN00KA0648G00");
  g_assert_true (copy->qr != info.qr);
  g_assert_cmpstr (copy->manual_code, ==, "34970112332");
  g_assert_cmpstr (copy->serial_number, ==, "DS-20261203-000001");
  g_assert_null (copy->product_name);
  g_assert_cmphex (copy->vid, ==, 0xFFF1);
  g_assert_cmphex (copy->pid, ==, 0x8001);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/label/info-copy", test_info_copy);
  g_test_add ("/label/png", Fixture, NULL, fixture_set_up, test_png, fixture_tear_down);
  g_test_add ("/label/pdf", Fixture, NULL, fixture_set_up, test_pdf, fixture_tear_down);
  g_test_add ("/label/zpl", Fixture, NULL, fixture_set_up, test_zpl, fixture_tear_down);
  g_test_add ("/label/bad-input", Fixture, NULL, fixture_set_up, test_bad_input, fixture_tear_down);
  return g_test_run ();
}

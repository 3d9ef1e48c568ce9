/* Tests of label printing against a real CUPS scheduler: cupsd started by
 * the test on loopback (ds-test-cups.c) with raw queues whose jobs land in
 * files, so what the station sent is compared byte for byte. */
#include <gio/gio.h>
#include <string.h>

#include "ds-db.h"
#include "ds-error.h"
#include "ds-label-printer.h"
#include "ds-test-cups.h"
#include "ds-test-util.h"

/* The known answers: VID 0xFFF1, PID 0x8001, discriminator 3840,
 * passcode 20202021. */
static const DsLabelInfo label = {
  .qr = "MT:-24J0AFN00KA0648G00", .manual_code = "34970112332",
  .serial_number = "DS-20261202-000017", .vid = 0xFFF1, .pid = 0x8001,
  .product_name = "Test Lamp",
};

typedef struct {
  DsTestCups      cups;
  gboolean        running;
  DsLabelPrinter *printer;
  GAsyncResult   *result;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  const char *printers[] = { "thermal", "office", NULL };

  f->running = ds_test_cups_start (&f->cups, printers);
  if (f->running)
    f->printer = ds_label_printer_new (f->cups.server);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_clear_object (&f->result);
  g_clear_object (&f->printer);
  if (f->running)
    ds_test_cups_stop (&f->cups);
}

static void
got_result_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static gboolean
has_result (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static GAsyncResult *
wait_result (GAsyncResult **result)
{
  ds_test_wait_until (has_result, result, 120, "the printing operation");
  return *result;
}

static int
print_label (DsLabelPrinter *printer,
             const char     *name,
             DsLabelFormat   format,
             GCancellable   *cancellable,
             GError        **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  ds_label_printer_print_async (printer, name, &label, format, cancellable, got_result_cb, &result);
  return ds_label_printer_print_finish (printer, wait_result (&result), error);
}

static void
test_list (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dests = NULL;
  DsPrinterDest *d;

  if (!f->running)
    return;
  ds_label_printer_list_async (f->printer, NULL, got_result_cb, &f->result);
  dests = ds_label_printer_list_finish (f->printer, wait_result (&f->result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (dests->len, ==, 2);
  /* Sorted by name; the scheduler's default marked. */
  d = g_ptr_array_index (dests, 0);
  g_assert_cmpstr (d->name, ==, "office");
  g_assert_cmpstr (d->description, ==, "Test label printer office");
  g_assert_false (d->is_default);
  d = g_ptr_array_index (dests, 1);
  g_assert_cmpstr (d->name, ==, "thermal");
  g_assert_true (d->is_default);
}

static void
test_print_zpl (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autofree char *zpl = NULL;
  int job_id;

  if (!f->running)
    return;
  job_id = print_label (f->printer, "thermal", DS_LABEL_ZPL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  /* A raw queue passes the ZPL program to the printer unchanged. */
  printed = ds_test_cups_wait_output (&f->cups, "thermal", job_id);
  zpl = ds_label_zpl (&label, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (printed, NULL), g_bytes_get_size (printed), zpl, strlen (zpl));
  {
    g_autofree char *type = ds_test_cups_content_type (&f->cups, "thermal", job_id);

    g_assert_cmpstr (type, ==, "application/vnd.cups-raw");
  }

  /* The next label is the next job. */
  g_assert_cmpint (print_label (f->printer, "thermal", DS_LABEL_ZPL, NULL, &error), ==, job_id + 1);
  g_assert_no_error (error);
}

static void
test_print_pdf (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autofree char *path = NULL;
  g_autofree char *text = NULL;
  g_autofree char *out = NULL;
  int status = -1;
  int job_id;

  if (!f->running)
    return;
  job_id = print_label (f->printer, "office", DS_LABEL_PDF, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  printed = ds_test_cups_wait_output (&f->cups, "office", job_id);
  g_assert_cmpuint (g_bytes_get_size (printed), >, 5);
  g_assert_cmpmem (g_bytes_get_data (printed, NULL), 5, "%PDF-", 5);
  {
    g_autofree char *type = ds_test_cups_content_type (&f->cups, "office", job_id);

    g_assert_cmpstr (type, ==, "application/pdf");
  }

  /* The printed PDF is the label: its text names the board. */
  path = g_find_program_in_path ("pdftotext");
  if (path == NULL)
    return;
  {
    g_autofree char *file = ds_test_cups_output (&f->cups, "office", job_id);
    const char *argv[] = { path, file, "-", NULL };

    g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                                 &out, NULL, &status, &error));
    g_assert_no_error (error);
    g_assert_cmpint (status, ==, 0);
    g_assert_nonnull (strstr (out, "DS-20261202-000017"));
    g_assert_nonnull (strstr (out, "Test Lamp"));
  }
}

static void
test_no_such_printer (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (!f->running)
    return;
  g_assert_cmpint (print_label (f->printer, "nowhere", DS_LABEL_ZPL, NULL, &error), ==, 0);
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "“nowhere”"));
  g_assert_nonnull (strstr (error->message, f->cups.server));
}

static void
test_no_printer_chosen (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (!f->running)
    return;
  g_assert_cmpint (print_label (f->printer, "", DS_LABEL_ZPL, NULL, &error), ==, 0);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

static void
test_cancelled (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *out = NULL;

  if (!f->running)
    return;
  g_cancellable_cancel (cancellable);
  g_assert_cmpint (print_label (f->printer, "thermal", DS_LABEL_ZPL, cancellable, &error), ==, 0);
  g_assert_error (error, DS_ERROR, DS_ERROR_CANCELLED);
  /* Nothing reached the printer. */
  out = ds_test_cups_output (&f->cups, "thermal", 1);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* dac-station-cli label printers | print, on the same scheduler. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCliResult) list = NULL;
  g_autoptr(DsCliResult) print = NULL;
  g_autoptr(DsCliResult) missing = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autofree char *zpl = NULL;
  JsonObject *ev;
  int job_id;

  if (!f->running)
    return;
  list = ds_test_run_cli ("/nonexistent", (const char *[]) { "label", "printers", "--server", f->cups.server,
                                                             "--json", NULL });
  g_assert_cmpint (list->exit_status, ==, 0);
  g_assert_cmpuint (list->events->len, ==, 2);
  ev = g_ptr_array_index (list->events, 1);
  g_assert_cmpstr (json_object_get_string_member (ev, "name"), ==, "thermal");
  g_assert_true (json_object_get_boolean_member (ev, "default"));

  /* The manual code, VID and PID come from the QR payload. */
  print = ds_test_run_cli ("/nonexistent", (const char *[]) { "label", "print", "--server", f->cups.server,
                                                              "--printer", "thermal", "--format", "zpl",
                                                              "--qr", label.qr, "--serial", label.serial_number,
                                                              "--product-name", label.product_name, "--json", NULL });
  g_assert_cmpint (print->exit_status, ==, 0);
  ev = ds_test_find_event (print->events, "printed", NULL);
  g_assert_nonnull (ev);
  job_id = json_object_get_int_member (ev, "job_id");
  g_assert_cmpint (job_id, >, 0);
  printed = ds_test_cups_wait_output (&f->cups, "thermal", job_id);
  zpl = ds_label_zpl (&label, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (printed, NULL), g_bytes_get_size (printed), zpl, strlen (zpl));

  missing = ds_test_run_cli ("/nonexistent", (const char *[]) { "label", "print", "--server", f->cups.server,
                                                                "--printer", "nowhere",
                                                                "--qr", label.qr, "--serial", label.serial_number,
                                                                "--product-name", label.product_name, "--json", NULL });
  g_assert_cmpint (missing->exit_status, ==, 1);
  ev = ds_test_find_event (missing->events, "error", NULL);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "code"), ==, "not-found");
}

/* dac-station-cli demo --print: each passed board's label is printed,
 * and nothing else (a "label-error" event fails it). */
static void
test_cli_demo_print (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(DsCliResult) r = NULL;
  g_autofree char *data_dir = NULL;
  guint printed = 0, passed = 0;

  if (!f->running)
    return;
  data_dir = g_build_filename (f->cups.dir, "station", NULL);
  r = ds_test_run_cli (f->cups.dir, (const char *[]) { "demo", "--boards", "2", "--json", "--data-dir", data_dir,
                                                       "--print", "thermal", "--print-format", "zpl",
                                                       "--print-server", f->cups.server, NULL });
  g_assert_cmpint (r->exit_status, ==, 0);
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *ev = g_ptr_array_index (r->events, i);
      const char *name = json_object_get_string_member_with_default (ev, "event", "");

      g_assert_cmpstr (name, !=, "label-error");
      if (g_str_equal (name, "pass"))
        passed++;
      else if (g_str_equal (name, "label-printed"))
        {
          g_autoptr(GBytes) out = NULL;

          g_assert_cmpstr (json_object_get_string_member (ev, "printer"), ==, "thermal");
          out = ds_test_cups_wait_output (&f->cups, "thermal", json_object_get_int_member (ev, "print_job_id"));
          g_assert_cmpuint (g_bytes_get_size (out), >, 3);
          g_assert_cmpmem (g_bytes_get_data (out, NULL), 3, "^XA", 3);
          printed++;
        }
    }
  g_assert_cmpuint (passed, ==, 2);
  g_assert_cmpuint (printed, ==, 2);
}

/* A profile's [label] printer is where a run prints when --print is not
 * given; --print still wins over it. */
static void
test_cli_profile_printer (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *profile = NULL;

  if (!f->running)
    return;
  data_dir = g_build_filename (f->cups.dir, "station", NULL);
  profile = g_build_filename (f->cups.dir, "line.ini", NULL);
  g_assert_true (g_file_set_contents (profile, "[gate]\nproduction=false\n[label]\nprinter=thermal\n", -1, NULL));
  for (guint round = 0; round < 2; round++)
    {
      g_autoptr(DsCliResult) r = NULL;
      const char *expected = round == 0 ? "thermal" : "office";
      guint printed = 0;

      r = ds_test_run_cli (f->cups.dir, (const char *[]) { "demo", "--boards", "1", "--json", "--data-dir", data_dir,
                                                           "--profile", profile, "--print-format", "zpl",
                                                           "--print-server", f->cups.server,
                                                           round == 0 ? NULL : "--print", "office", NULL });
      g_assert_cmpint (r->exit_status, ==, 0);
      for (guint i = 0; i < r->events->len; i++)
        {
          JsonObject *ev = g_ptr_array_index (r->events, i);
          const char *name = json_object_get_string_member_with_default (ev, "event", "");

          g_assert_cmpstr (name, !=, "label-error");
          if (g_str_equal (name, "label-printed"))
            {
              g_autoptr(GBytes) out = NULL;

              g_assert_cmpstr (json_object_get_string_member (ev, "printer"), ==, expected);
              out = ds_test_cups_wait_output (&f->cups, expected, json_object_get_int_member (ev, "print_job_id"));
              g_assert_cmpmem (g_bytes_get_data (out, NULL), 3, "^XA", 3);
              printed++;
            }
        }
      g_assert_cmpuint (printed, ==, 1);
    }
}

/* label print --from-record: a passed board's label, reprinted from the
 * records, is the one its recorded codes make, and the reprint is logged
 * with the printer and job. */
static void
test_cli_from_record (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) print = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *zpl = NULL;
  g_autofree char *expected = NULL;
  DsLabelInfo info = { 0 };
  JsonObject *pass;
  JsonObject *ev;
  int job_id;

  if (!f->running)
    return;
  data_dir = g_build_filename (f->cups.dir, "station", NULL);
  db_path = g_build_filename (data_dir, "records.sqlite3", NULL);
  r = ds_test_run_cli (f->cups.dir, (const char *[]) { "demo", "--boards", "1", "--json", "--show-codes",
                                                       "--data-dir", data_dir, NULL });
  g_assert_cmpint (r->exit_status, ==, 0);
  pass = ds_test_find_event (r->events, "pass", NULL);
  g_assert_nonnull (pass);
  info.qr = json_object_get_string_member (pass, "qr_code");
  info.manual_code = json_object_get_string_member (pass, "manual_code");
  info.serial_number = json_object_get_string_member (pass, "serial_number");
  info.product_name = "Product 8000";
  info.vid = 0xFFF1;
  info.pid = 0x8000;

  print = ds_test_run_cli ("/nonexistent", (const char *[]) { "label", "print", "--server", f->cups.server,
                                                              "--printer", "thermal", "--format", "zpl",
                                                              "--from-record", info.serial_number,
                                                              "--data-dir", data_dir, "--json", NULL });
  g_assert_cmpint (print->exit_status, ==, 0);
  ev = ds_test_find_event (print->events, "printed", NULL);
  g_assert_nonnull (ev);
  g_assert_cmpstr (json_object_get_string_member (ev, "serial_number"), ==, info.serial_number);
  job_id = json_object_get_int_member (ev, "job_id");
  printed = ds_test_cups_wait_output (&f->cups, "thermal", job_id);
  zpl = ds_label_zpl (&info, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (printed, NULL), g_bytes_get_size (printed), zpl, strlen (zpl));

  db = ds_db_open (db_path, TRUE, &error);
  g_assert_no_error (error);
  rows = ds_db_query (db, "SELECT message FROM events WHERE kind = 'label-reprinted'", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_db_rows_count (rows), ==, 1);
  expected = g_strdup_printf ("serial %s to printer thermal, job %d", info.serial_number, job_id);
  g_assert_cmpstr (ds_db_rows_text (rows, 0, 0), ==, expected);
}

/* No scheduler at all: a port nothing listens on. */
static void
test_no_cupsd (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(DsLabelPrinter) printer = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) dests = NULL;
  g_autofree char *server = NULL;

  /* Bound but not listening: connections are refused. */
  g_assert_true (g_socket_bind (socket, any, FALSE, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  server = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  printer = ds_label_printer_new (server);

  g_assert_cmpint (print_label (printer, "thermal", DS_LABEL_ZPL, NULL, &error), ==, 0);
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, server));
  g_assert_nonnull (strstr (error->message, "cupsd"));
  g_clear_error (&error);

  ds_label_printer_list_async (printer, NULL, got_result_cb, &result);
  dests = ds_label_printer_list_finish (printer, wait_result (&result), &error);
  g_assert_null (dests);
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
}

static void
test_format_parse (void)
{
  g_autoptr(GError) error = NULL;
  DsLabelFormat format = DS_LABEL_PNG;

  g_assert_true (ds_label_print_format_parse ("ZPL", &format, &error));
  g_assert_cmpint (format, ==, DS_LABEL_ZPL);
  g_assert_true (ds_label_print_format_parse ("pdf", &format, &error));
  g_assert_cmpint (format, ==, DS_LABEL_PDF);
  g_assert_no_error (error);
  g_assert_false (ds_label_print_format_parse ("ps", &format, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/label-printer/list", Fixture, NULL, fixture_set_up, test_list, fixture_tear_down);
  g_test_add ("/label-printer/print/zpl", Fixture, NULL, fixture_set_up, test_print_zpl, fixture_tear_down);
  g_test_add ("/label-printer/print/pdf", Fixture, NULL, fixture_set_up, test_print_pdf, fixture_tear_down);
  g_test_add ("/label-printer/errors/no-such-printer", Fixture, NULL, fixture_set_up, test_no_such_printer, fixture_tear_down);
  g_test_add ("/label-printer/errors/no-printer-chosen", Fixture, NULL, fixture_set_up, test_no_printer_chosen, fixture_tear_down);
  g_test_add ("/label-printer/errors/cancelled", Fixture, NULL, fixture_set_up, test_cancelled, fixture_tear_down);
  g_test_add ("/label-printer/cli", Fixture, NULL, fixture_set_up, test_cli, fixture_tear_down);
  g_test_add ("/label-printer/cli/from-record", Fixture, NULL, fixture_set_up, test_cli_from_record, fixture_tear_down);
  g_test_add ("/label-printer/cli/demo-print", Fixture, NULL, fixture_set_up, test_cli_demo_print, fixture_tear_down);
  g_test_add ("/label-printer/cli/profile-printer", Fixture, NULL, fixture_set_up, test_cli_profile_printer, fixture_tear_down);
  g_test_add_func ("/label-printer/errors/no-cupsd", test_no_cupsd);
  g_test_add_func ("/label-printer/format", test_format_parse);
  return g_test_run ();
}

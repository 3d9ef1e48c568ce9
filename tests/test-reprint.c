/* Labels reprinted from the records (docs/label-printing.md): the store
 * finds a board's onboarding row by serial number and refuses boards that
 * failed or were provisioned again; a locked board gets its recorded label
 * on a second run; and `label write --from-record` writes a label that
 * zbarimg reads back to the recorded QR code, logged as an audit event. */
#include "config.h"

#include <sqlite3.h>
#include <string.h>

#include "ds-error.h"
#include "ds-job.h"
#include "ds-label.h"
#include "ds-store-onboarding.h"
#include "ds-test-board.h"
#include "ds-test-util.h"

/* ---- in-process boards: the store and the job --------------------------- */

typedef struct {
  DsTestBoards  boards;
  DsJob        *job;
  GError       *error;
  gboolean      done;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  ds_test_boards_setup (&f->boards, 1, NULL);
  f->boards.options.onboarding = ds_onboarding_config_new ();
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->job);
  g_clear_error (&f->error);
  g_clear_pointer (&f->boards.options.onboarding, ds_onboarding_config_free);
  ds_test_boards_teardown (&f->boards);
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  ds_job_run_finish (DS_JOB (object), result, &f->error);
  f->done = TRUE;
}

static void
run_job (Fixture *f)
{
  g_clear_object (&f->job);
  g_clear_error (&f->error);
  f->done = FALSE;
  f->job = ds_job_new (g_ptr_array_index (f->boards.boards, 0), &f->boards.options);
  ds_job_run_async (f->job, NULL, done_cb, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
}

/* The board passes with a label; the next run finds it locked, proves it
 * and gives it the same label, from the onboarding row recorded for its
 * DAC, without making new onboarding data. */
static void
test_provisioned_label (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(DsLabelInfo) first = NULL;
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autoptr(DsOnboardingRecord) none = NULL;
  g_autoptr(GError) error = NULL;
  const DsLabelInfo *second;

  run_job (f);
  g_assert_no_error (f->error);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_PASSED);
  g_assert_nonnull (ds_job_get_label_info (f->job));
  /* A copy: the next run's job is another. */
  first = ds_label_info_copy (ds_job_get_label_info (f->job));
  g_assert_cmpstr (first->product_name, ==, "Product 8000");

  /* The product name is recorded with the codes. */
  rec = ds_store_find_onboarding (f->boards.store, ds_job_get_id (f->job), &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  g_assert_cmpstr (rec->product_name, ==, first->product_name);

  run_job (f);
  g_assert_no_error (f->error);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_ALREADY_PROVISIONED);
  second = ds_job_get_label_info (f->job);
  g_assert_nonnull (second);
  g_assert_cmpstr (second->qr, ==, first->qr);
  g_assert_cmpstr (second->manual_code, ==, first->manual_code);
  g_assert_cmpstr (second->serial_number, ==, first->serial_number);
  g_assert_cmpstr (second->product_name, ==, first->product_name);
  g_assert_cmphex (second->vid, ==, first->vid);
  g_assert_cmphex (second->pid, ==, first->pid);
  /* No onboarding data of its own: the locked board keeps its codes. */
  none = ds_store_find_onboarding (f->boards.store, ds_job_get_id (f->job), &error);
  g_assert_no_error (error);
  g_assert_null (none);
}

/* Records an onboarding row for a job of @uid that ends with @outcome;
 * returns its serial number. */
static char *
add_row (DsStore    *store,
         const char *uid,
         const char *outcome,
         const char *product_name)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  DsOnboardingRecord rec = { 0 };
  gint64 job = ds_store_begin_job (store, uid, "fake", NULL, NULL, NULL, &error);
  char *serial;

  g_assert_no_error (error);
  g_assert_cmpint (job, >, 0);
  rec.job_id = job;
  rec.board_uid = (char *) uid;
  rec.vid = 0xFFF1;
  rec.pid = 0x8000;
  rec.discriminator = 3840;
  rec.iterations = 1000;
  rec.salt_hex = (char *) "00112233445566778899aabbccddeeff";
  rec.verifier_hex = (char *) "00";
  rec.passcode = 20202021;
  rec.qr = (char *) "MT:-24J0AFN00KA0648G00";
  rec.manual_code = (char *) "34970112332";
  rec.manufacturing_date = (char *) "2026-12-02";
  rec.created_us = g_get_real_time ();
  rec.product_name = (char *) product_name;
  g_assert_true (ds_store_add_onboarding (store, &rec, "R-{seq:04}", now, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_finish_job (store, job, outcome, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  serial = rec.serial_number;
  return serial;
}

/* The serial numbers a reprint may not use: unknown, a board that failed,
 * a board provisioned again (the newest serial number is the one to
 * reprint); a row recorded without a product name comes back without one. */
static void
test_find_by_serial (Fixture       *f,
                     gconstpointer  data)
{
  DsStore *store = f->boards.store;
  g_autofree char *failed = add_row (store, "UID-FAILED", "failed", "P");
  g_autofree char *old = add_row (store, "UID-AGAIN", "passed", "P");
  g_autofree char *newer = add_row (store, "UID-AGAIN", "passed", "P");
  g_autofree char *nameless = add_row (store, "UID-OLD", "passed", NULL);
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gint64 n_events = 0;
  gint64 broken = 0;

  rec = ds_store_find_onboarding_by_serial (store, "R-9999", &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_assert_null (rec);
  g_assert_nonnull (strstr (error->message, "R-9999 is not in the records"));
  g_clear_error (&error);

  rec = ds_store_find_onboarding_by_serial (store, failed, &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_null (rec);
  g_assert_nonnull (strstr (error->message, "did not pass (its job is failed)"));
  g_clear_error (&error);

  rec = ds_store_find_onboarding_by_serial (store, old, &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_null (rec);
  g_assert_nonnull (strstr (error->message, "superseded"));
  g_assert_nonnull (strstr (error->message, newer));
  g_clear_error (&error);

  rec = ds_store_find_onboarding_by_serial (store, newer, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  g_assert_cmpstr (rec->serial_number, ==, newer);
  g_assert_cmpstr (rec->board_uid, ==, "UID-AGAIN");
  g_assert_cmpstr (rec->qr, ==, "MT:-24J0AFN00KA0648G00");
  g_assert_cmpstr (rec->product_name, ==, "P");
  g_clear_pointer (&rec, ds_onboarding_record_free);

  rec = ds_store_find_onboarding_by_serial (store, nameless, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  g_assert_null (rec->product_name);
  g_clear_pointer (&rec, ds_onboarding_record_free);

  /* The label rows are in the audit chain with the onboarding rows. */
  g_assert_true (ds_store_verify_audit (store, &n_events, &broken, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (reason, ==, NULL);
  g_assert_cmpint (broken, ==, 0);
  g_assert_cmpint (n_events, >, 0);
}

/* ---- the CLI over the simulator ----------------------------------------- */

/* What zbarimg reads from @image, or NULL (the test skipped) without it. */
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

/* The messages of the events of @kind in the store at @db. */
static GPtrArray *
event_messages (const char *db,
                const char *kind)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);
  sqlite3 *sql = NULL;
  sqlite3_stmt *st = NULL;

  g_assert_cmpint (sqlite3_open_v2 (db, &sql, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (sql, "SELECT message FROM events WHERE kind = ? ORDER BY id", -1, &st, NULL),
                   ==, SQLITE_OK);
  sqlite3_bind_text (st, 1, kind, -1, SQLITE_STATIC);
  while (sqlite3_step (st) == SQLITE_ROW)
    g_ptr_array_add (out, g_strdup ((const char *) sqlite3_column_text (st, 0)));
  sqlite3_finalize (st);
  sqlite3_close (sql);
  return out;
}

/* A board provisioned by the CLI over the simulator: `label write
 * --from-record` writes its label, zbarimg reads the recorded QR code
 * back, and the reprint is logged naming the serial number, not the
 * codes; an unknown serial number exits 1 and logs nothing. */
static void
test_cli_reprint (DsTestTree    *f,
                  gconstpointer  data)
{
  const char *provision[] = { "provision", "--all", "--json", "--data-dir", f->data_dir, NULL };
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  g_autofree char *png = ds_test_tree_path (f, "reprint.png");
  g_autofree char *zpl = ds_test_tree_path (f, "reprint.zpl");
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) write = NULL;
  g_autoptr(DsCliResult) write_zpl = NULL;
  g_autoptr(DsCliResult) unknown = NULL;
  g_autoptr(DsCliResult) mixed = NULL;
  g_autoptr(DsCliResult) verify = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *read = NULL;
  g_autofree char *zpl_text = NULL;
  g_autofree char *expected = NULL;
  JsonObject *pass;
  JsonObject *written;
  const char *serial;

  ds_test_tree_start_sim (f, 1, NULL);
  r = ds_test_run_cli (f->announce_dir, provision);
  g_assert_cmpint (r->exit_status, ==, 0);
  pass = ds_test_find_event (r->events, "pass", NULL);
  g_assert_nonnull (pass);
  serial = json_object_get_string_member (pass, "serial_number");
  g_assert_nonnull (serial);

  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  rec = ds_store_find_onboarding_by_serial (store, serial, &error);
  g_assert_no_error (error);
  g_assert_nonnull (rec);
  g_clear_object (&store);

  {
    const char *args[] = { "label", "write", "--from-record", serial, "--output", png, "--json",
                           "--data-dir", f->data_dir, NULL };

    write = ds_test_run_cli (f->announce_dir, args);
  }
  g_assert_cmpint (write->exit_status, ==, 0);
  written = ds_test_find_event (write->events, "written", NULL);
  g_assert_nonnull (written);
  g_assert_cmpstr (json_object_get_string_member (written, "serial_number"), ==, serial);
  g_assert_true (g_file_test (png, G_FILE_TEST_IS_REGULAR));
  if (g_find_program_in_path ("zbarimg") == NULL)
    g_test_message ("zbarimg is not installed: the QR code was not read back");
  else
    {
      read = zbar_read (png);
      g_assert_cmpstr (read, ==, rec->qr);
    }

  /* ZPL, the thermal printers' language: the codes as recorded. */
  {
    const char *args[] = { "label", "write", "--from-record", serial, "--output", zpl,
                           "--data-dir", f->data_dir, NULL };

    write_zpl = ds_test_run_cli (f->announce_dir, args);
  }
  g_assert_cmpint (write_zpl->exit_status, ==, 0);
  g_assert_true (g_file_get_contents (zpl, &zpl_text, NULL, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (zpl_text, rec->qr));
  g_assert_nonnull (strstr (zpl_text, serial));

  /* Two reprints, two events, naming the serial number and the file and
   * holding none of the codes. */
  events = event_messages (db, "label-reprinted");
  g_assert_cmpuint (events->len, ==, 2);
  expected = g_strdup_printf ("serial %s to file %s", serial, png);
  g_assert_cmpstr (g_ptr_array_index (events, 0), ==, expected);
  for (guint i = 0; i < events->len; i++)
    {
      const char *m = g_ptr_array_index (events, i);

      g_assert_null (strstr (m, "MT:"));
      g_assert_null (strstr (m, rec->manual_code));
    }

  {
    const char *args[] = { "label", "write", "--from-record", "NO-SUCH-SERIAL", "--output", png,
                           "--data-dir", f->data_dir, NULL };

    unknown = ds_test_run_cli (f->announce_dir, args);
  }
  g_assert_cmpint (unknown->exit_status, ==, 1);
  g_assert_nonnull (strstr (unknown->err, "NO-SUCH-SERIAL is not in the records"));
  g_clear_pointer (&events, g_ptr_array_unref);
  events = event_messages (db, "label-reprinted");
  g_assert_cmpuint (events->len, ==, 2);

  /* The codes come from the records, never from the command line too. */
  {
    const char *args[] = { "label", "write", "--from-record", serial, "--qr", rec->qr, "--output", png,
                           "--data-dir", f->data_dir, NULL };

    mixed = ds_test_run_cli (f->announce_dir, args);
  }
  g_assert_cmpint (mixed->exit_status, ==, 2);

  /* The chain holds the reprints as it holds the station's own writes. */
  {
    const char *args[] = { "audit", "verify", "--data-dir", f->data_dir, NULL };

    verify = ds_test_run_cli (f->announce_dir, args);
  }
  g_assert_cmpint (verify->exit_status, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/reprint/provisioned-label", Fixture, NULL, setup, test_provisioned_label, teardown);
  g_test_add ("/reprint/find-by-serial", Fixture, NULL, setup, test_find_by_serial, teardown);
  g_test_add ("/reprint/cli", DsTestTree, NULL, ds_test_tree_setup, test_cli_reprint, ds_test_tree_teardown);
  return g_test_run ();
}

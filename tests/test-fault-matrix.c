/* The fault-injection matrix (docs/fault-matrix.md): each board fault at
 * each step, injected into one of three simulated boards.  For each cell:
 * the faulty board ends FAIL with the right step and cause (or PASS when the
 * protocol's retransmission absorbs the fault), the other two boards pass,
 * and after the fault is gone the faulty board passes on retry; the records
 * then hold exactly one live, installed DAC per board, every DAC a board
 * holds is the one recorded for it, and the audit chain verifies. */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <sqlite3.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>

#include "ds-test-util.h"

typedef struct {
  const char *name;
  const char *fault;     /* the --fault argument for board 1 */
  gboolean    blank;     /* boards arrive without firmware: flashing runs */
  const char *step;      /* where it must fail; NULL: PASS is fine too */
  const char *codes;     /* acceptable codes, space separated */
  gboolean    no_cd;     /* provision with --cd none: the attest step's v1 path (ATTEST) */
} Cell;

static const Cell cells[] = {
  { "stall-info", "1:stall:INFO", FALSE, "connect", "timed-out" },
  { "stall-csr", "1:stall:GENERATE_CSR", FALSE, "csr", "timed-out" },
  { "stall-install", "1:stall:INSTALL", FALSE, "install", "timed-out" },
  /* The test CA's boards get the built-in test CD, so the attest step is
   * the commissioner's ATTESTATION; without a CD it is v1's ATTEST. */
  { "stall-attest", "1:stall:ATTESTATION", FALSE, "attest", "timed-out" },
  { "stall-attest-no-cd", "1:stall:ATTEST", FALSE, "attest", "timed-out", TRUE },
  { "stall-lock", "1:stall:LOCK", FALSE, "lock", "timed-out" },
  { "disconnect-info", "1:disconnect:INFO", FALSE, "connect", "disconnected" },
  { "disconnect-csr", "1:disconnect:GENERATE_CSR", FALSE, "csr", "disconnected" },
  { "disconnect-install", "1:disconnect:INSTALL", FALSE, "install", "disconnected" },
  { "disconnect-attest", "1:disconnect:ATTESTATION", FALSE, "attest", "disconnected" },
  { "disconnect-attest-no-cd", "1:disconnect:ATTEST", FALSE, "attest", "disconnected", TRUE },
  { "disconnect-lock", "1:disconnect:LOCK", FALSE, "lock", "disconnected" },
  { "wrong-key", "1:wrong-key", FALSE, "install", "rejected" },
  { "refuse-install", "1:refuse-install", FALSE, "install", "rejected" },
  { "protocol-v1", "1:protocol-v1", FALSE, "connect", "protocol" },
  { "fd-readback", "1:fd-readback", FALSE, "install", "invalid-data" },
  { "corrupt", "1:corrupt:0.02", FALSE, NULL, "timed-out protocol" },
  { "drop", "1:drop:0.02", FALSE, NULL, "timed-out protocol" },
  { "nack-write", "1:nack-write:0x08000400", TRUE, "flash", "rejected protocol failed" },
  { "unplug-flashing", "1:unplug-flashing", TRUE, "flash", "disconnected" },
};

/* The temporary tree and its simulator (ds-test-util). */
typedef DsTestTree Fixture;

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

/* The DAC a board holds (from its state directory) is the live, installed
 * certificate the records have for it. */
static void
assert_records (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  /* One live DAC per board, installed; a public key never certified twice
   * (the schema's UNIQUE says so too). */
  g_assert_cmpint (query_int (db, "SELECT COUNT(DISTINCT board_uid) FROM certificates WHERE superseded = 0 AND installed = 1"), ==, 3);
  g_assert_cmpint (query_int (db, "SELECT COUNT(*) FROM certificates WHERE superseded = 0"), ==, 3);
  g_assert_cmpint (query_int (db, "SELECT COUNT(*) FROM (SELECT board_uid FROM certificates WHERE superseded = 0 "
                                  "GROUP BY board_uid HAVING COUNT(*) > 1)"), ==, 0);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *dac_path = g_strdup_printf ("%s/sim-%u/dac.der", f->state_dir, i);
      g_autofree char *dac = NULL;
      gsize len = 0;
      sqlite3_stmt *stmt = NULL;

      g_assert_true (g_file_get_contents (dac_path, &dac, &len, NULL));
      g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT COUNT(*) FROM certificates WHERE dac_der = ? AND superseded = 0 AND installed = 1",
                                           -1, &stmt, NULL), ==, SQLITE_OK);
      sqlite3_bind_blob (stmt, 1, dac, (int) len, SQLITE_STATIC);
      g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
      g_assert_cmpint (sqlite3_column_int64 (stmt, 0), ==, 1);
      sqlite3_finalize (stmt);
    }
  sqlite3_close (db);
}

static void
test_cell (Fixture       *f,
           gconstpointer  data)
{
  const Cell *cell = data;
  g_autofree char *image = g_build_filename (f->tmp, "fw.bin", NULL);
  const char *faults[] = { "--fault", cell->fault, cell->blank ? "--blank" : NULL, NULL };
  const char *with_cd[] = { "provision", "--all", "--json", "--data-dir", f->data_dir,
                            "--command-timeout", "300", "--retries", "2",
                            cell->blank ? "--image" : NULL, image, NULL };
  const char *without_cd[] = { "provision", "--all", "--json", "--data-dir", f->data_dir,
                               "--command-timeout", "300", "--retries", "2", "--cd", "none", NULL };
  const char **args = cell->no_cd ? without_cd : with_cd;
  const char *audit[] = { "audit", "verify", "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) again = NULL;
  g_autoptr(DsCliResult) a = NULL;
  JsonObject *o;

  if (cell->blank)
    {
      const char *make[] = { g_getenv ("DS_SIM"), "--make-firmware", image, "--firmware-size", "8", NULL };
      int status = 0;
      g_autoptr(GError) error = NULL;

      g_spawn_sync (NULL, (char **) make, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error);
      g_assert_no_error (error);
      g_assert_true (g_spawn_check_wait_status (status, NULL));
    }

  ds_test_tree_start_sim (f, 3, faults);
  r = ds_test_run_cli (f->announce_dir, args);
  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-0"));
  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-2"));
  o = ds_test_find_event (r->events, "fail", "sim-1");
  if (o == NULL)
    {
      /* Only faults the protocol may absorb can pass. */
      g_assert_null (cell->step);
      g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-1"));
      g_test_message ("%s: PASS (absorbed by retransmission)", cell->name);
    }
  else
    {
      const char *step = json_object_get_string_member (o, "step");
      const char *code = json_object_get_string_member (o, "code");
      g_auto(GStrv) codes = g_strsplit (cell->codes, " ", -1);

      g_test_message ("%s: FAIL at %s, %s: %s", cell->name, step, code,
                      json_object_get_string_member (o, "cause"));
      if (cell->step != NULL)
        g_assert_cmpstr (step, ==, cell->step);
      g_assert_true (g_strv_contains ((const char * const *) codes, code));
      g_assert_cmpint (r->exit_status, ==, 1);
    }

  /* The fault is gone: the same boards, healthy. */
  ds_test_tree_stop_sim (f);
  ds_test_tree_start_sim (f, 3, NULL);
  again = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (again->exit_status, ==, 0);
  g_assert_true (ds_test_find_event (again->events, "pass", "sim-1") != NULL ||
                 ds_test_find_event (again->events, "already-provisioned", "sim-1") != NULL);
  ds_test_tree_stop_sim (f);

  assert_records (f);
  a = ds_test_run_cli (f->announce_dir, audit);
  g_assert_cmpint (a->exit_status, ==, 0);
}

/* A full disk: the CLI runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ
 * ignored), so its record store's writes fail part-way, as on a full disk.
 * No board may pass or hold a DAC without a durable record; with room
 * again, every board passes and the records are whole. */
static void
limit_file_size (gpointer data)
{
  struct rlimit rl = { 150 * 1024, 150 * 1024 };

  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &rl);
}

static void
test_full_disk (Fixture       *f,
                gconstpointer  data)
{
  const char *argv[] = { g_getenv ("DS_CLI"), "provision", "--all", "--json", "--data-dir", f->data_dir, NULL };
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->data_dir, NULL };
  const char *audit[] = { "audit", "verify", "--data-dir", f->data_dir, NULL };
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "DAC_STATION_SIM_DIR", f->announce_dir, TRUE);
  g_autofree char *out = NULL;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCliResult) again = NULL;
  g_autoptr(DsCliResult) a = NULL;
  int status = 0;
  guint failed = 0;

  ds_test_tree_start_sim (f, 3, NULL);
  g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_STDERR_TO_DEV_NULL, limit_file_size, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    ds_test_parse_json_line (lines[i], events);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *board = g_strdup_printf ("sim-%u", i);
      g_autofree char *dac = g_strdup_printf ("%s/%s/dac.der", f->state_dir, board);
      JsonObject *o = ds_test_find_event (events, "fail", board);

      if (o == NULL)
        continue;
      failed++;
      g_test_message ("%s: FAIL at %s: %s", board, json_object_get_string_member (o, "step"),
                      json_object_get_string_member (o, "cause"));
      g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "Record store"));
      g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "is the disk full?"));
      g_assert_false (g_file_test (dac, G_FILE_TEST_EXISTS));
    }
  g_assert_cmpuint (failed, >, 0);

  again = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (again->exit_status, ==, 0);
  ds_test_tree_stop_sim (f);
  assert_records (f);
  a = ds_test_run_cli (f->announce_dir, audit);
  g_assert_cmpint (a->exit_status, ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (cells); i++)
    {
      g_autofree char *path = g_strdup_printf ("/fault-matrix/%s", cells[i].name);
      g_test_add (path, Fixture, &cells[i], ds_test_tree_setup, test_cell, ds_test_tree_teardown);
    }
  g_test_add ("/fault-matrix/full-disk", Fixture, NULL, ds_test_tree_setup, test_full_disk, ds_test_tree_teardown);
  return g_test_run ();
}

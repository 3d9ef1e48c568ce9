/* The crash matrix: the station is killed with SIGKILL while a board is at
 * each step in turn; the next run finishes the job without losing or
 * wasting a DAC, and the records match the CA's own issuance log.  On a
 * SQLite file, and built with DS_TEST_PG on a PostgreSQL database. */
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include "ds-store.h"
#include "ds-test-util.h"

typedef struct {
  const char *step;      /* where the station is killed */
  const char *command;   /* the board command the board stalls on there */
} Cell;

static const Cell cells[] = {
  { "connect", "INFO" },
  { "csr", "GENERATE_CSR" },
  { "install", "INSTALL" },
  { "attest", "ATTESTATION" },  /* the test CA's boards get the built-in test CD */
  { "lock", "LOCK" },
};

/* Runs `provision --all --json` and kills it with SIGKILL once sim-0 has
 * started @step and sim-1 has passed. */
static void
run_and_kill (const char *announce_dir,
              const char *data_dir,
              const char *db,
              const char *step)
{
  const char *argv[] = { g_getenv ("DS_CLI"), "provision", "--all", "--json", "--data-dir", data_dir,
                         "--db", db, "--command-timeout", "60000", NULL };
  g_auto(GStrv) env = g_environ_setenv (g_get_environ (), "DAC_STATION_SIM_DIR", announce_dir, TRUE);
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  g_autoptr(GIOChannel) ch = NULL;
  g_autoptr(GError) error = NULL;
  gboolean at_step = FALSE, other_passed = FALSE;
  GPid pid = 0;
  int out_fd = -1;

  g_spawn_async_with_pipes (NULL, (char **) argv, env, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                            &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  ch = g_io_channel_unix_new (out_fd);
  g_io_channel_set_close_on_unref (ch, TRUE);
  while (!(at_step && other_passed))
    {
      g_autofree char *line = NULL;
      GIOStatus st = g_io_channel_read_line (ch, &line, NULL, NULL, &error);
      JsonObject *o;

      g_assert_no_error (error);
      g_assert_cmpint (st, ==, G_IO_STATUS_NORMAL);
      ds_test_parse_json_line (line, events);
      o = g_ptr_array_index (events, events->len - 1);
      if (g_strcmp0 (json_object_get_string_member_with_default (o, "board", ""), "sim-0") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "step", ""), step) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "status", ""), "started") == 0)
        at_step = TRUE;
      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "pass") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "board", ""), "sim-1") == 0)
        other_passed = TRUE;
    }
  /* The board is now waiting in the middle of the step: a power cut. */
  ds_test_stop (&pid, SIGKILL);
}

static GHashTable *
issued_serials (const char *log_path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *serials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_assert_true (g_file_get_contents (log_path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", -1);

      if (g_strv_length (f) == 4)
        {
          g_assert_false (g_hash_table_contains (serials, f[1]));
          g_hash_table_add (serials, g_strdup (f[1]));
        }
    }
  return serials;
}

static void
test_kill_at_step (DsTestTree    *tree,
                   gconstpointer  data)
{
  const Cell *cell = data;
  g_autoptr(GError) error = NULL;
  const char *announce = tree->announce_dir;
  const char *data_dir = tree->data_dir;
  g_autofree char *sqlite_db = g_build_filename (data_dir, "records.sqlite3", NULL);
  g_autofree char *db = ds_test_backend_new_store (sqlite_db);
  g_autofree char *ca_log = g_build_filename (data_dir, "pki", "issued.log", NULL);
  g_autofree char *fault = g_strdup_printf ("0:stall:%s", cell->command);
  const char *faulty[] = { "--fault", fault, NULL };
  const char *args[] = { "provision", "--all", "--json", "--data-dir", data_dir, "--db", db, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GHashTable) serials = NULL;
  g_autofree char *reason = NULL;
  DsStoreCounts counts = { 0 };
  gint64 n_events = 0, broken = 0;
  JsonObject *sum;

  g_assert_no_error (error);
  ds_test_tree_start_sim (tree, 2, faulty);
  run_and_kill (announce, data_dir, db, cell->step);
  ds_test_tree_stop_sim (tree);

  /* Power back: the same boards, healthy; the station starts again. */
  ds_test_tree_start_sim (tree, 2, NULL);
  r = ds_test_run_cli (announce, args);
  ds_test_tree_stop_sim (tree);
  g_assert_cmpint (r->exit_status, ==, 0);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (sum, "already_provisioned"), ==, 1);
  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-0"));
  g_assert_nonnull (ds_test_find_event (r->events, "already-provisioned", "sim-1"));

  /* After the DAC was issued, the retry uses that DAC. */
  if (g_str_equal (cell->step, "install") || g_str_equal (cell->step, "attest") || g_str_equal (cell->step, "lock"))
    {
      JsonObject *o = ds_test_find_step (r->events, "sim-0", "forward");
      g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "skipped");
    }

  /* The station key is in the station's data folder. */
  store = ds_store_open_full (db, data_dir, DS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_get_counts (store, &counts, &error));
  g_assert_no_error (error);
  /* Two boards, two DACs: none lost, none wasted. */
  g_assert_cmpint (counts.certificates, ==, 2);
  g_assert_cmpint (counts.boards, ==, 2);
  /* sim-0: the killed job (closed as interrupted) and its retry; sim-1:
   * passed, then recognised. */
  g_assert_cmpint (counts.jobs, ==, 4);
  g_assert_cmpint (counts.passed, ==, 2);
  g_assert_cmpint (counts.already_provisioned, ==, 1);

  /* The CA issued exactly the DACs the station recorded. */
  serials = issued_serials (ca_log);
  g_assert_cmpuint (g_hash_table_size (serials), ==, 2);
  for (guint b = 0; b < 2; b++)
    {
      g_autofree char *name = g_strdup_printf ("sim-%u", b);
      JsonObject *o = ds_test_find_event (r->events, b == 0 ? "pass" : "already-provisioned", name);

      g_assert_true (g_hash_table_contains (serials, json_object_get_string_member (o, "dac_serial")));
    }

  /* The statistics count boards, by UID: both passed, none "never passed",
   * and a killed job that never learnt its board's UID is no board. */
  {
    const char *stats_args[] = { "stats", "--json", "--data-dir", data_dir, "--db", db, NULL };
    g_autoptr(DsCliResult) st = ds_test_run_cli (announce, stats_args);
    JsonObject *o = ds_test_find_event (st->events, "stats", NULL);

    g_assert_cmpint (st->exit_status, ==, 0);
    g_assert_nonnull (o);
    g_assert_cmpint (json_object_get_int_member (o, "boards"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (o, "passed"), ==, 2);
    g_assert_cmpint (json_object_get_int_member (o, "failed"), ==, 0);
    g_assert_cmpint (json_object_get_int_member (o, "jobs_unidentified"), ==,
                     g_str_equal (cell->step, "connect") ? 1 : 0);
  }

  g_assert_true (ds_store_verify_audit (store, &n_events, &broken, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpint (broken, ==, 0);
  g_clear_object (&store);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!ds_test_backend_init (DS_TEST_PG, "/resume"))
    return ds_test_backend_run ();
  for (gsize i = 0; i < G_N_ELEMENTS (cells); i++)
    {
      g_autofree char *path = g_strdup_printf ("/killed-at/%s", cells[i].step);
      g_test_add (ds_test_backend_path (path), DsTestTree, &cells[i], ds_test_tree_setup, test_kill_at_step,
                  ds_test_tree_teardown);
    }
  return ds_test_backend_run ();
}

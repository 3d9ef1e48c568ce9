/* One database for a whole line: several station processes, each with its
 * own simulated boards and data folder, provision at once into one
 * PostgreSQL database.  Nothing is lost, no id is handed out twice, the
 * audit chain stays one chain, and stats and export cover the whole line. */
#include <gio/gio.h>
#include <string.h>

#include "ds-db.h"
#include "ds-store.h"
#include "ds-test-util.h"

#define N_STATIONS 3
#define N_BOARDS   4

typedef struct {
  char        *dir;
  char        *announce;
  char        *data;
  char        *out_path;
  GPid         sim;
  GSubprocess *proc;
} Station;

static GPtrArray *
read_events (const char *path)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  GPtrArray *events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    ds_test_parse_json_line (lines[i], events);
  return events;
}

static void
test_stations_at_once (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-line-XXXXXX", &error);
  g_autofree char *db = ds_test_backend_new_store (NULL);
  g_autoptr(GHashTable) job_ids = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr(GHashTable) serials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsDb) reader = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autoptr(DsCliResult) audit = NULL;
  g_autoptr(DsCliResult) stats = NULL;
  g_autoptr(DsCliResult) export = NULL;
  g_autofree char *reason = NULL;
  Station st[N_STATIONS];
  DsStoreCounts counts = { 0 };
  gint64 n_events = 0, broken = -1;
  const gint64 total = N_STATIONS * N_BOARDS;
  JsonObject *o;

  g_assert_no_error (error);
  for (guint s = 0; s < N_STATIONS; s++)
    {
      g_autofree char *state = NULL;
      /* Each station's boards are boards of their own: UIDs from another seed. */
      g_autofree char *seed = g_strdup_printf ("%u", 1000 + s);
      const char *extra[] = { "--seed", seed, NULL };

      st[s].dir = g_strdup_printf ("%s/station-%u", tmp, s);
      st[s].announce = g_build_filename (st[s].dir, "announce", NULL);
      st[s].data = g_build_filename (st[s].dir, "data", NULL);
      st[s].out_path = g_build_filename (st[s].dir, "out.jsonl", NULL);
      state = g_build_filename (st[s].dir, "boards", NULL);
      st[s].sim = ds_test_start_sim (state, st[s].announce, N_BOARDS, extra);
    }

  /* The stations of a line share one station key (SECURITY.md): the first
   * store to open the database makes it, the others get a copy. */
  {
    g_autofree char *first_key = NULL;
    g_autofree char *contents = NULL;
    gsize len = 0;

    store = ds_store_open_full (db, st[0].data, DS_STORE_OPEN_DEFAULT, &error);
    g_assert_no_error (error);
    g_clear_object (&store);
    first_key = g_build_filename (st[0].data, "audit.key", NULL);
    g_assert_true (g_file_get_contents (first_key, &contents, &len, &error));
    for (guint s = 1; s < N_STATIONS; s++)
      {
        g_autofree char *key = g_build_filename (st[s].data, "audit.key", NULL);

        g_assert_cmpint (g_mkdir_with_parents (st[s].data, 0700), ==, 0);
        g_assert_true (g_file_set_contents_full (key, contents, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error));
      }
  }

  /* All stations start together and write at once. */
  for (guint s = 0; s < N_STATIONS; s++)
    {
      g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
      g_autofree char *name = g_strdup_printf ("station-%u", s);
      g_autofree char *err_path = g_build_filename (st[s].dir, "err.txt", NULL);

      g_subprocess_launcher_setenv (l, "DAC_STATION_SIM_DIR", st[s].announce, TRUE);
      g_subprocess_launcher_set_stdout_file_path (l, st[s].out_path);
      g_subprocess_launcher_set_stderr_file_path (l, err_path);
      st[s].proc = g_subprocess_launcher_spawn (l, &error, g_getenv ("DS_CLI"), "provision", "--all", "--json",
                                                "--data-dir", st[s].data, "--db", db, "--station", name,
                                                "--operator", "op-1", "--lot", "LOT-L", NULL);
      g_assert_no_error (error);
    }
  for (guint s = 0; s < N_STATIONS; s++)
    {
      g_autoptr(GPtrArray) events = NULL;
      JsonObject *sum;

      g_assert_true (g_subprocess_wait (st[s].proc, NULL, &error));
      g_assert_no_error (error);
      ds_test_stop (&st[s].sim, 0);
      events = read_events (st[s].out_path);
      if (!g_subprocess_get_successful (st[s].proc))
        {
          g_autofree char *out = NULL;
          g_autofree char *err = NULL;
          g_autofree char *err_path = g_build_filename (st[s].dir, "err.txt", NULL);

          g_file_get_contents (st[s].out_path, &out, NULL, NULL);
          g_file_get_contents (err_path, &err, NULL, NULL);
          g_test_message ("station %u:\n%s\nstderr:\n%s", s, out, err);
        }
      /* A station killed by a signal (a crash) fails here too. */
      g_assert_true (g_subprocess_get_if_exited (st[s].proc));
      g_assert_cmpint (g_subprocess_get_exit_status (st[s].proc), ==, 0);
      sum = g_ptr_array_index (events, events->len - 1);
      g_assert_cmpstr (json_object_get_string_member (sum, "event"), ==, "summary");
      g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, N_BOARDS);

      /* No job id and no DAC serial is handed out twice across stations. */
      for (guint i = 0; i < events->len; i++)
        {
          JsonObject *e = g_ptr_array_index (events, i);

          if (g_strcmp0 (json_object_get_string_member_with_default (e, "event", ""), "pass") != 0)
            continue;
          g_array_append_val (ids, *(gint64[]) { json_object_get_int_member (e, "job_id") });
          g_assert_false (g_hash_table_contains (serials, json_object_get_string_member (e, "dac_serial")));
          g_hash_table_add (serials, g_strdup (json_object_get_string_member (e, "dac_serial")));
        }
      g_clear_object (&st[s].proc);
    }
  g_assert_cmpuint (ids->len, ==, total);
  for (guint i = 0; i < ids->len; i++)
    {
      g_assert_false (g_hash_table_contains (job_ids, &g_array_index (ids, gint64, i)));
      g_hash_table_add (job_ids, &g_array_index (ids, gint64, i));
    }

  /* Nothing lost: every job, step, certificate and board of every station. */
  store = ds_store_open_full (db, st[0].data, DS_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_get_counts (store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.jobs, ==, total);
  g_assert_cmpint (counts.passed, ==, total);
  g_assert_cmpint (counts.certificates, ==, total);
  g_assert_cmpint (counts.boards, ==, total);
  reader = ds_db_open (db, TRUE, &error);
  g_assert_no_error (error);
  rows = ds_db_query (reader, "SELECT count(*), count(DISTINCT station), count(DISTINCT id), "
                              "min(id), max(id) FROM jobs", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 1), ==, N_STATIONS);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 2), ==, total);
  /* Ids from the database's identity column: 1..n without gaps here, as
   * no transaction that took one rolled back. */
  g_assert_cmpint (ds_db_rows_int (rows, 0, 3), ==, 1);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 4), ==, total);
  g_clear_pointer (&rows, ds_db_rows_free);
  rows = ds_db_query (reader, "SELECT count(*) FROM steps s JOIN jobs j ON j.id = s.job_id "
                              "WHERE s.outcome = 'pass'", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 0), >=, total * 5);

  /* One audit chain for the line, unbroken, ids without gaps. */
  g_assert_true (ds_store_verify_audit (store, &n_events, &broken, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpint (broken, ==, 0);
  g_assert_cmpint (n_events, >, total * 6);
  {
    const char *args[] = { "audit", "verify", "--json", "--db", db, "--data-dir", st[0].data, NULL };
    audit = ds_test_run_cli (tmp, args);
  }
  g_assert_cmpint (audit->exit_status, ==, 0);
  o = ds_test_find_event (audit->events, "audit", NULL);
  g_assert_true (json_object_get_boolean_member (o, "intact"));
  g_assert_cmpint (json_object_get_int_member (o, "events"), ==, n_events);

  /* Statistics and exports over the whole line. */
  {
    const char *args[] = { "stats", "--json", "--db", db, NULL };
    stats = ds_test_run_cli (tmp, args);
  }
  g_assert_cmpint (stats->exit_status, ==, 0);
  g_assert_nonnull (strstr (stats->out, "station-0"));
  g_assert_nonnull (strstr (stats->out, "station-2"));
  {
    const char *args[] = { "export", "--csv", "--table", "jobs", "--db", db, "--lot", "LOT-L", NULL };
    g_auto(GStrv) lines = NULL;

    export = ds_test_run_cli (tmp, args);
    g_assert_cmpint (export->exit_status, ==, 0);
    lines = g_strsplit (g_strstrip (export->out), "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, total + 1);
  }

  for (guint s = 0; s < N_STATIONS; s++)
    {
      g_free (st[s].dir);
      g_free (st[s].announce);
      g_free (st[s].data);
      g_free (st[s].out_path);
    }
  ds_test_rm_rf (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Stations sharing one record store: a PostgreSQL server's. */
  if (ds_test_backend_init (TRUE, "/line"))
    g_test_add_func (ds_test_backend_path ("/stations-at-once"), test_stations_at_once);
  return ds_test_backend_run ();
}

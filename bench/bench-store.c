/* Benchmark: recorded jobs per second with durable commits, on the store
 * at the path or URI given, against a bare INSERT + COMMIT loop through
 * the same driver and the same durability settings (the baseline).
 *
 *   bench-store STORE BASELINE N [THREADS]
 *     prints: jobs seconds commits seconds [jobs seconds writes commits]
 *
 * STORE and BASELINE are a SQLite file or a postgresql:// URI each, empty
 * or new.  With THREADS, N more jobs then run on THREADS threads at once,
 * as a line's boards do, and the last four figures are theirs, with the
 * writes and transactions group commit made of them. */
#include <stdio.h>
#include <stdlib.h>

#include "ds-db.h"
#include "ds-store.h"

/* The records of one board as ds-job writes them: 11 commits (the records
 * of "forward" and "lock" ride on the next commit, as in ds-job). */
static const char *const steps[] = { "flash", "connect", "csr", "forward", "check", "install", "attest", "lock" };
#define COMMITS_PER_JOB (G_N_ELEMENTS (steps) + 5 - 2)

static void
check (gboolean ok,
       GError  *error)
{
  if (!ok)
    {
      g_printerr ("bench-store: %s\n", error != NULL ? error->message : "failed");
      exit (1);
    }
}

static void
one_job (DsStore *store,
         guint    i)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uid = g_strdup_printf ("%024X", i);
  g_autofree char *serial = g_strdup_printf ("%032X", i);
  g_autofree char *key = g_strdup_printf ("key-%u", i);
  g_autoptr(DsCertRecord) rec = g_new0 (DsCertRecord, 1);
  gint64 now = g_get_real_time ();
  gint64 job = ds_store_begin_job (store, NULL, "/dev/pts/1", "op-1", "LOT-1", "bench", &error);

  check (job > 0, error);
  check (ds_store_set_job_board (store, job, uid, &error), error);
  for (gsize s = 0; s < G_N_ELEMENTS (steps); s++)
    {
      if (g_str_equal (steps[s], "forward") || g_str_equal (steps[s], "lock"))
        ds_store_record_step_later (store, job, steps[s], "pass", now, now + 1, NULL, NULL);
      else
        check (ds_store_record_step (store, job, steps[s], "pass", now, now + 1, NULL, NULL, &error), error);
      if (g_str_equal (steps[s], "forward"))
        {
          rec->job_id = job;
          rec->board_uid = g_strdup (uid);
          rec->serial = g_strdup (serial);
          rec->fingerprint = g_strdup_printf ("fp-%s", serial);
          rec->pubkey_sha256 = g_strdup (key);
          rec->subject = g_strdup ("CN=Matter Test DAC");
          /* About the size of a real DAC and PAI. */
          rec->dac_der = g_bytes_new_take (g_malloc0 (520), 520);
          rec->pai_der = g_bytes_new_take (g_malloc0 (480), 480);
          check (ds_store_add_certificate (store, rec, &error), error);
        }
    }
  check (ds_store_mark_installed (store, rec->id, &error), error);
  check (ds_store_finish_job (store, job, "passed", NULL, NULL, NULL, &error), error);
}

typedef struct {
  DsStore *store;
  guint    first;
  guint    end;
  gint     next;
} Shared;

static gpointer
worker (gpointer data)
{
  Shared *sh = data;
  guint i;

  while ((i = sh->first + (guint) g_atomic_int_add (&sh->next, 1)) < sh->end)
    one_job (sh->store, i);
  return NULL;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsDb) db = NULL;
  guint n, n_commits, n_threads;
  gint64 t0;
  double store_s, base_s, conc_s = 0;
  DsStoreWriteStats before = { 0 }, after = { 0 };

  if (argc != 4 && argc != 5)
    {
      g_printerr ("usage: bench-store STORE BASELINE N [THREADS]\n");
      return 2;
    }
  n = (guint) atoi (argv[3]);
  n_threads = argc == 5 ? (guint) atoi (argv[4]) : 0;

  store = ds_store_open (argv[1], &error);
  check (store != NULL, error);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    one_job (store, i);
  store_s = (g_get_monotonic_time () - t0) / 1e6;

  if (n_threads > 0)
    {
      Shared sh = { store, n, 2 * n, 0 };
      g_autoptr(GPtrArray) threads = g_ptr_array_new ();

      ds_store_get_write_stats (store, &before);
      t0 = g_get_monotonic_time ();
      for (guint t = 0; t < n_threads; t++)
        g_ptr_array_add (threads, g_thread_new ("job", worker, &sh));
      for (guint t = 0; t < n_threads; t++)
        g_thread_join (threads->pdata[t]);
      conc_s = (g_get_monotonic_time () - t0) / 1e6;
      ds_store_get_write_stats (store, &after);
    }

  /* The baseline: as many commits as the jobs made, each one bare INSERT,
   * with the store's own durability (WAL and synchronous=FULL on SQLite;
   * synchronous_commit=on, set by ds-db, on PostgreSQL). */
  db = ds_db_open (argv[2], FALSE, &error);
  check (db != NULL, error);
  if (ds_db_get_kind (db) == DS_DB_SQLITE)
    check (ds_db_exec (db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL", &error), error);
  check (ds_db_exec (db, "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)", &error), error);
  n_commits = n * COMMITS_PER_JOB;
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n_commits; i++)
    {
      g_autoptr(DsDbRows) rows = NULL;

      check (ds_db_exec (db, "BEGIN", &error), error);
      rows = ds_db_query (db, "INSERT INTO t VALUES (?, ?)", DB_PARAMS (DB_INT (i), DB_TEXT ("pass")), &error);
      check (rows != NULL, error);
      check (ds_db_commit (db, &error), error);
    }
  base_s = (g_get_monotonic_time () - t0) / 1e6;

  printf ("%u %.6f %u %.6f", n, store_s, n_commits, base_s);
  if (n_threads > 0)
    printf (" %u %.6f %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT, n, conc_s,
            after.writes - before.writes, after.commits - before.commits);
  printf ("\n");
  return 0;
}

/* Yield figures from a real record store: what counts as an attempt, first
 * pass and final yield, units per hour, and the filters. */
#include "config.h"

#include <glib/gstdio.h>

#include "ds-stats.h"
#include "ds-store.h"
#include "ds-test-util.h"

typedef struct {
  char    *dir;
  DsStore *store;
  DsStats *stats;
} Fixture;

/* Waits until the wall clock has moved past *@data (µs). */
static gboolean
clock_passed (gpointer data)
{
  return g_get_real_time () > *(gint64 *) data;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;

  f->dir = g_dir_make_tmp ("dac-station-stats-XXXXXX", &error);
  g_assert_no_error (error);
  db = g_build_filename (f->dir, "records.sqlite3", NULL);
  f->store = ds_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
  f->stats = ds_stats_open (ds_store_get_path (f->store), &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->stats);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->stats);
  g_clear_object (&f->store);
  ds_test_rm_rf (f->dir);
  g_free (f->dir);
}

/* One finished job; returns its id. */
static gint64
job (Fixture    *f,
     const char *uid,
     const char *lot,
     const char *station,
     const char *outcome)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ds_store_begin_job (f->store, uid, "/dev/pts/1", "op-1", lot, station, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  if (outcome != NULL)
    {
      gboolean failed = g_str_equal (outcome, "failed");

      g_assert_true (ds_store_finish_job (f->store, id, outcome, failed ? "install" : NULL,
                                          failed ? "rejected" : NULL, failed ? "refused" : NULL, &error));
      g_assert_no_error (error);
    }
  return id;
}

static void
query (Fixture             *f,
       const DsStatsFilter *filter,
       DsStatsSummary      *summary)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ds_stats_query_summary (f->stats, filter, summary, &error));
  g_assert_no_error (error);
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  DsStatsSummary s;

  query (f, NULL, &s);
  g_assert_cmpint (s.passed, ==, 0);
  g_assert_cmpint (s.failed, ==, 0);
  g_assert_cmpint (s.boards, ==, 0);
  g_assert_cmpfloat (ds_stats_summary_first_pass_yield (&s), <, 0.0);
  g_assert_cmpfloat (ds_stats_summary_final_yield (&s), <, 0.0);
  g_assert_cmpfloat (ds_stats_summary_units_per_hour (&s, 0, g_get_real_time ()), ==, 0.0);
}

static void
test_yields (Fixture       *f,
             gconstpointer  data)
{
  DsStatsSummary s;
  DsStoreCounts counts;
  g_autoptr(GError) error = NULL;
  gint64 now;

  job (f, "AAAA", "L1", "st", "failed");           /* A fails first... */
  job (f, "AAAA", "L1", "st", "passed");           /* ...then passes */
  job (f, "BBBB", "L1", "st", "passed");           /* B passes first time */
  job (f, "CCCC", "L1", "st", "already-provisioned");
  job (f, "DDDD", "L1", "st", "cancelled");
  job (f, NULL, "L1", "st", "failed");             /* failed before its UID was known */
  job (f, "EEEE", "L1", "st", NULL);               /* still running */

  query (f, NULL, &s);
  g_assert_cmpint (s.passed, ==, 2);
  g_assert_cmpint (s.failed, ==, 2);
  g_assert_cmpint (s.already_provisioned, ==, 1);
  g_assert_cmpint (s.cancelled, ==, 1);
  /* A and B: the job that never identified its board is no board's. */
  g_assert_cmpint (s.boards, ==, 2);
  g_assert_cmpint (s.jobs_unidentified, ==, 1);
  g_assert_cmpint (s.boards_first_pass, ==, 1);
  g_assert_cmpint (s.boards_passed, ==, 2);
  g_assert_cmpfloat_with_epsilon (ds_stats_summary_first_pass_yield (&s), 1.0 / 2.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (ds_stats_summary_final_yield (&s), 2.0 / 2.0, 1e-9);
  g_assert_cmpint (s.first_started_us, >, 0);
  g_assert_cmpint (s.last_finished_us, >=, s.first_started_us);

  /* The same passed and failed counts as the store's own. */
  g_assert_true (ds_store_get_counts (f->store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.passed, ==, s.passed);
  g_assert_cmpint (counts.failed, ==, s.failed);

  /* Two units in an hour are two units per hour. */
  now = g_get_real_time ();
  g_assert_cmpfloat_with_epsilon (ds_stats_summary_units_per_hour (&s, now - (gint64) 3600 * G_USEC_PER_SEC, now),
                                  2.0, 1e-9);
  g_assert_cmpfloat (ds_stats_summary_units_per_hour (&s, now, now), ==, 0.0);
}

static void
test_filters (Fixture       *f,
              gconstpointer  data)
{
  DsStatsSummary s;
  DsStatsFilter filter = { 0 };
  gint64 between;

  job (f, "AAAA", "L1", "st-1", "passed");
  job (f, "BBBB", "L2", "st-2", "failed");
  /* A time strictly between the first two jobs and the third. */
  between = g_get_real_time ();
  ds_test_wait_until (clock_passed, &between, 10, "the clock to move on");
  between = g_get_real_time ();
  ds_test_wait_until (clock_passed, &between, 10, "the clock to move on");
  job (f, "CCCC", "L1", "st-2", "passed");

  filter.lot = "L1";
  query (f, &filter, &s);
  g_assert_cmpint (s.passed, ==, 2);
  g_assert_cmpint (s.failed, ==, 0);

  filter.lot = NULL;
  filter.station = "st-2";
  query (f, &filter, &s);
  g_assert_cmpint (s.passed, ==, 1);
  g_assert_cmpint (s.failed, ==, 1);
  g_assert_cmpfloat_with_epsilon (ds_stats_summary_first_pass_yield (&s), 0.5, 1e-9);

  filter.station = NULL;
  filter.since_us = between;
  query (f, &filter, &s);
  g_assert_cmpint (s.passed, ==, 1);
  g_assert_cmpint (s.failed, ==, 0);

  filter.since_us = 0;
  filter.until_us = between;
  filter.operator_id = "op-1";
  query (f, &filter, &s);
  g_assert_cmpint (s.passed, ==, 1);
  g_assert_cmpint (s.failed, ==, 1);

  filter.until_us = 0;
  filter.operator_id = "nobody";
  query (f, &filter, &s);
  g_assert_cmpint (s.passed + s.failed, ==, 0);
}

/* Records that the station wrote for a board up to its lock step, as a
 * crash or a full disk leaves them: a job whose end is missing (closed as
 * interrupted on the next start) and an installed DAC; with @lock_step the
 * lock step's record made it to disk. */
static void
locked_board (Fixture    *f,
              const char *uid,
              gboolean    lock_step)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCertRecord) rec = g_new0 (DsCertRecord, 1);
  gint64 id = job (f, uid, "L1", "st", NULL);
  gint64 now = g_get_real_time ();

  rec->job_id = id;
  rec->board_uid = g_strdup (uid);
  rec->serial = g_strdup_printf ("5E%s", uid);
  rec->fingerprint = g_strdup_printf ("f%s", uid);
  rec->pubkey_sha256 = g_strdup_printf ("k%s", uid);
  rec->dac_der = g_bytes_new_static ("dac", 3);
  rec->pai_der = g_bytes_new_static ("pai", 3);
  g_assert_true (ds_store_add_certificate (f->store, rec, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_mark_installed (f->store, rec->id, &error));
  g_assert_no_error (error);
  if (lock_step)
    {
      g_assert_true (ds_store_record_step (f->store, id, "lock", "pass", now, now, NULL, NULL, &error));
      g_assert_no_error (error);
    }
}

/* Boards that locked before their job's end was recorded have passed;
 * jobs that never identified a board (a busy port) are no boards. */
static void
test_locked_is_passed (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  DsStatsSummary s;

  locked_board (f, "AAAA", TRUE);        /* its lock step is recorded */
  locked_board (f, "BBBB", FALSE);       /* killed at LOCK... */
  job (f, NULL, "L1", "st", "failed");   /* a busy port, twice */
  job (f, NULL, "L1", "st", "failed");
  g_assert_cmpint (ds_store_close_interrupted_jobs (f->store, &error), ==, 2);
  g_assert_no_error (error);

  query (f, NULL, &s);
  g_assert_cmpint (s.boards, ==, 2);
  g_assert_cmpint (s.jobs_unidentified, ==, 2);
  g_assert_cmpint (s.interrupted, ==, 2);
  g_assert_cmpint (s.boards_passed, ==, 1);
  g_assert_cmpint (s.boards_first_pass, ==, 1);

  /* ...and found locked, with the DAC recorded for it, on the next run. */
  job (f, "BBBB", "L1", "st", "already-provisioned");
  query (f, NULL, &s);
  g_assert_cmpint (s.boards, ==, 2);
  g_assert_cmpint (s.boards_passed, ==, 2);
  g_assert_cmpint (s.boards_first_pass, ==, 1);
  g_assert_cmpfloat_with_epsilon (ds_stats_summary_final_yield (&s), 1.0, 1e-9);
}

static void
test_missing_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStats) stats = ds_stats_open ("/nonexistent/dac-station/records.sqlite3", &error);

  g_assert_null (stats);
  g_assert_nonnull (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/stats/empty", Fixture, NULL, setup, test_empty, teardown);
  g_test_add ("/stats/yields", Fixture, NULL, setup, test_yields, teardown);
  g_test_add ("/stats/filters", Fixture, NULL, setup, test_filters, teardown);
  g_test_add ("/stats/locked-is-passed", Fixture, NULL, setup, test_locked_is_passed, teardown);
  g_test_add_func ("/stats/missing-store", test_missing_store);
  return g_test_run ();
}

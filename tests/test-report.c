/* Unit tests of the yield statistics: a hand-worked history, and a
 * generated one checked against SQL written independently in the test. */
#include <glib/gstdio.h>
#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "ds-export.h"
#include "ds-report.h"
#include "ds-store.h"
#include "ds-test-util.h"

static gint64
t0 (void)
{
  g_autoptr(GTimeZone) tz = g_time_zone_new_local ();
  g_autoptr(GDateTime) t = g_date_time_new (tz, 2026, 3, 2, 8, 0, 0);

  return g_date_time_to_unix (t) * G_USEC_PER_SEC;
}

#define S(sec) (t0 () + (gint64) (sec) * G_USEC_PER_SEC)

static const DsReportCount *
count_at (GPtrArray *a,
          guint      i)
{
  g_assert_cmpuint (i, <, a->len);
  return g_ptr_array_index (a, i);
}

static const DsReportGroup *
group (GPtrArray  *a,
       const char *key)
{
  for (guint i = 0; i < a->len; i++)
    {
      const DsReportGroup *g = g_ptr_array_index (a, i);
      if (g_strcmp0 (g->key, key) == 0)
        return g;
    }
  g_assert_not_reached ();
  return NULL;
}

/* Boards that locked before their job's end was recorded (killed, a full
 * disk): passed, not "never passed"; jobs without a UID are no boards. */
static void
test_locked_is_passed (void)
{
  const DsReportJob jobs[] = {
    /* Killed after LOCK, then found locked and proven so. */
    { 1, "A", "s1", "L1", "o1", S (0), S (30), "interrupted", NULL, NULL, FALSE },
    { 2, "A", "s1", "L1", "o1", S (40), S (41), "already-provisioned", NULL, NULL, TRUE },
    /* Its lock step passed, its end was never written. */
    { 3, "B", "s1", "L1", "o1", S (10), S (20), "interrupted", NULL, NULL, TRUE },
    /* Killed before LOCK and never seen again. */
    { 4, "C", "s1", "L1", "o1", S (10), S (20), "interrupted", NULL, NULL, FALSE },
    /* A busy port, three times: no UID. */
    { 5, NULL, "s1", "L1", "o1", S (50), S (51), "failed", "connect", "io", FALSE },
    { 6, NULL, "s1", "L1", "o1", S (52), S (53), "failed", "connect", "io", FALSE },
    { 7, NULL, "s1", "L1", "o1", S (54), S (55), "interrupted", NULL, NULL, FALSE },
  };
  g_autoptr(DsReport) r = ds_report_compute_jobs (jobs, G_N_ELEMENTS (jobs));

  g_assert_cmpint (r->boards, ==, 3);
  g_assert_cmpint (r->jobs_unidentified, ==, 3);
  g_assert_cmpint (r->boards_passed, ==, 2);
  g_assert_cmpint (r->boards_failed, ==, 1);
  g_assert_cmpint (r->first_pass, ==, 1);
  g_assert_cmpint (r->already_provisioned, ==, 1);
}

static void
test_hand_worked (void)
{
  const DsReportJob jobs[] = {
    { 1, "A", "s1", "L1", "o1", S (0), S (30), "passed", NULL, NULL },
    { 2, "B", "s1", "L1", "o1", S (10), S (20), "failed", "install", "timed-out" },
    { 3, "B", "s1", "L1", "o1", S (40), S (100), "passed", NULL, NULL },
    { 4, "C", "s1", "L1", "o1", S (50), S (55), "failed", "csr", "rejected" },
    { 5, "C", "s1", "L1", "o1", S (60), S (70), "failed", "csr", "rejected" },
    { 6, "D", "s2", "L2", "o2", S (3600), S (3640), "passed", NULL, NULL },
    { 7, "A", "s2", "L2", "o2", S (3700), S (3701), "already-provisioned", NULL, NULL },
    { 8, NULL, "s2", "L2", "o2", S (3800), S (3810), "failed", "connect", "timed-out" },
    { 9, "E", "s2", "L2", "o2", S (3900), S (3905), "interrupted", NULL, NULL },
    { 10, "E", "s2", "L2", "o2", S (4000), S (4090), "passed", NULL, NULL },
  };
  g_autoptr(DsReport) r = ds_report_compute_jobs (jobs, G_N_ELEMENTS (jobs));
  const DsReportGroup *g;

  g_assert_cmpint (r->jobs, ==, 9);
  g_assert_cmpint (r->already_provisioned, ==, 1);
  /* A, B, C, D and E; the job that never identified its board is no
   * board's. */
  g_assert_cmpint (r->boards, ==, 5);
  g_assert_cmpint (r->jobs_unidentified, ==, 1);
  g_assert_cmpint (r->boards_passed, ==, 4);
  g_assert_cmpint (r->boards_failed, ==, 1);
  g_assert_cmpint (r->first_pass, ==, 2);
  g_assert_cmpfloat_with_epsilon (r->first_pass_yield, 2.0 / 5, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->final_yield, 4.0 / 5, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->units_per_hour, 4 / (4090.0 / 3600), 1e-9);
  /* Cycle times of passes: 30, 60, 40, 90 s. */
  g_assert_cmpfloat_with_epsilon (r->cycle_median_s, 40, 1e-9);
  g_assert_cmpfloat_with_epsilon (r->cycle_p95_s, 90, 1e-9);

  g_assert_cmpuint (r->failures_by_step->len, ==, 3);
  g_assert_cmpstr (count_at (r->failures_by_step, 0)->key, ==, "csr");
  g_assert_cmpint (count_at (r->failures_by_step, 0)->count, ==, 2);
  g_assert_cmpuint (r->failures_by_cause->len, ==, 2);
  g_assert_cmpstr (count_at (r->failures_by_cause, 0)->key, ==, "rejected");
  g_assert_cmpint (count_at (r->failures_by_cause, 0)->count, ==, 2);
  g_assert_cmpstr (count_at (r->failures_by_cause, 1)->key, ==, "timed-out");
  g_assert_cmpint (count_at (r->failures_by_cause, 1)->count, ==, 2);

  g = group (r->by_lot, "L1");
  g_assert_cmpint (g->boards, ==, 3);
  g_assert_cmpint (g->passed, ==, 2);
  g_assert_cmpint (g->first_pass, ==, 1);
  g = group (r->by_lot, "L2");
  g_assert_cmpint (g->boards, ==, 2);
  g_assert_cmpint (g->passed, ==, 2);
  g_assert_cmpfloat_with_epsilon (g->first_pass_yield, 1.0 / 2, 1e-9);
  g = group (r->by_shift, "A");
  g_assert_cmpint (g->boards, ==, 5);
  g = group (r->by_day, "2026-03-02");
  g_assert_cmpint (g->boards, ==, 5);
  g_assert_cmpuint (r->by_operator->len, ==, 2);

  /* 68 minutes from the first start to the last end: 5-minute buckets from
   * 08:00; A and B pass in the first, D at 09:00:40, E at 09:08:10. */
  g_assert_cmpint (r->trend_bucket_us, ==, 5 * 60 * G_USEC_PER_SEC);
  g_assert_cmpuint (r->trend->len, ==, 14);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 0).start_us, ==, S (0));
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 0).passed, ==, 2);
  g_assert_cmpfloat_with_epsilon (g_array_index (r->trend, DsReportBucket, 0).units_per_hour, 24, 1e-9);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 1).passed, ==, 0);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 12).passed, ==, 1);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 13).passed, ==, 1);
  g_assert_cmpfloat_with_epsilon (g_array_index (r->trend, DsReportBucket, 13).units_per_hour, 12, 1e-9);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 13).end_us, ==, S (14 * 300));
}

static void
test_trend_buckets (void)
{
  const gint64 min = 60 * G_USEC_PER_SEC;
  const DsReportJob jobs[] = {
    /* Starts at 08:07:30: the 1-minute buckets start at 08:07. */
    { 1, "A", "s", "L", "o", S (450), S (460), "passed", NULL, NULL },
    { 2, "B", "s", "L", "o", S (470), S (500), "failed", "csr", "rejected" },
  };
  g_autoptr(DsReport) r = ds_report_compute_jobs (jobs, G_N_ELEMENTS (jobs));

  g_assert_cmpint (ds_report_trend_bucket_for (0), ==, min);
  g_assert_cmpint (ds_report_trend_bucket_for (23 * min), ==, min);
  g_assert_cmpint (ds_report_trend_bucket_for (24 * min), ==, 2 * min);
  g_assert_cmpint (ds_report_trend_bucket_for (8 * 60 * min), ==, 30 * min);
  g_assert_cmpint (ds_report_trend_bucket_for (23 * 60 * min), ==, 60 * min);
  g_assert_cmpint (ds_report_trend_bucket_for (24 * 60 * min), ==, 2 * 60 * min);
  g_assert_cmpint (ds_report_trend_bucket_for (30 * 24 * 60 * min), ==, 2 * 24 * 60 * min);
  g_assert_cmpint (ds_report_trend_bucket_for ((gint64) 400 * 24 * 60 * min) %
                   (7 * 24 * 60 * min), ==, 0);
  g_assert_cmpint ((gint64) 400 * 24 * 60 * min / ds_report_trend_bucket_for ((gint64) 400 * 24 * 60 * min),
                   <, DS_REPORT_TREND_MAX_BUCKETS);

  g_assert_cmpint (r->trend_bucket_us, ==, min);
  /* B's failure ends at 08:08:20: the line ran into a second bucket. */
  g_assert_cmpuint (r->trend->len, ==, 2);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 0).start_us, ==, S (420));
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 1).passed, ==, 0);
  g_assert_cmpint (g_array_index (r->trend, DsReportBucket, 0).passed, ==, 1);
  /* One board in a minute is 60 an hour, though the line ran half of it. */
  g_assert_cmpfloat_with_epsilon (g_array_index (r->trend, DsReportBucket, 0).units_per_hour, 60, 1e-9);
}

static void
test_csv_row (void)
{
  const char *fields[] = { "plain", NULL, "", "a,b", "say \"hi\"", "=cmd()", "-1", "two\nlines" };
  g_autoptr(GString) out = g_string_new (NULL);

  ds_export_csv_append_row (out, fields, G_N_ELEMENTS (fields));
  g_assert_cmpstr (out->str, ==, "plain,,\"\",\"a,b\",\"say \"\"hi\"\"\",\"'=cmd()\",\"'-1\",\"two\nlines\"\r\n");
}

/* Times in a CSV: ISO 8601 with the local zone's offset, to the millisecond. */
static void
test_csv_time (void)
{
  g_autofree char *old_tz = g_strdup (g_getenv ("TZ"));
  g_autofree char *utc = NULL;
  g_autofree char *west = NULL;

  g_setenv ("TZ", "UTC", TRUE);
  utc = ds_export_format_time (G_GINT64_CONSTANT (1796230984123456));
  g_setenv ("TZ", "<-0330>3:30", TRUE);
  west = ds_export_format_time (G_GINT64_CONSTANT (1796230984123456));
  if (old_tz != NULL)
    g_setenv ("TZ", old_tz, TRUE);
  else
    g_unsetenv ("TZ");
  g_assert_cmpstr (utc, ==, "2026-12-02T17:03:04.123+00:00");
  g_assert_cmpstr (west, ==, "2026-12-02T13:33:04.123-03:30");
}

static void
test_empty (void)
{
  g_autoptr(DsReport) r = ds_report_compute_jobs (NULL, 0);

  g_assert_cmpint (r->boards, ==, 0);
  g_assert_cmpfloat (r->first_pass_yield, ==, 0);
  g_assert_cmpfloat (r->units_per_hour, ==, 0);
  g_assert_cmpuint (r->failures_by_step->len, ==, 0);
  g_assert_cmpuint (r->trend->len, ==, 0);
  g_assert_cmpint (r->trend_bucket_us, ==, 0);
}

static gint64
sql_int (sqlite3    *db,
         const char *sql,
         const char *lot)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (lot != NULL)
    sqlite3_bind_text (stmt, 1, lot, -1, SQLITE_STATIC);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

/* The same figures, worked out in SQL straight from the jobs table.  Boards
 * count by UID: a job without one is no board's (count DISTINCT skips it). */
#define ATTEMPTS "(SELECT *, board_uid AS unit FROM jobs " \
                 "WHERE outcome IS NOT NULL AND outcome != 'already-provisioned' AND (?1 IS NULL OR lot = ?1))"

static void
test_generated_history (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-report-XXXXXX", &error);
  g_autofree char *path = g_build_filename (tmp, "records.sqlite3", NULL);
  g_autoptr(DsStore) store = ds_store_open (path, &error);
  g_autoptr(GRand) rand = g_rand_new_with_seed (2026);
  const char *lots[] = { "L1", "L2", "L3" };
  const char *steps[] = { "connect", "csr", "install", "attest" };
  const char *codes[] = { "timed-out", "rejected", "disconnected" };
  sqlite3 *db = NULL;
  sqlite3_stmt *ins = NULL;
  gint64 start = t0 ();

  g_assert_no_error (error);
  g_clear_object (&store);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db,
    "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us, finished_us, outcome, failed_step, error_code) "
    "VALUES (?, 'p', ?, ?, 'st', ?, ?, ?, ?, ?)", -1, &ins, NULL), ==, SQLITE_OK);
  sqlite3_exec (db, "PRAGMA foreign_keys = OFF; BEGIN", NULL, NULL, NULL);
  for (guint b = 0; b < 300; b++)
    {
      g_autofree char *uid = g_strdup_printf ("%024X", b);
      const char *lot = lots[g_rand_int_range (rand, 0, 3)];
      int attempts = g_rand_int_range (rand, 1, 4);

      for (int a = 0; a < attempts; a++)
        {
          gboolean last = a == attempts - 1;
          gboolean pass = last ? g_rand_double (rand) < 0.8 : FALSE;
          gint64 dur = g_rand_int_range (rand, 5, 120) * G_USEC_PER_SEC;

          sqlite3_reset (ins);
          sqlite3_clear_bindings (ins);
          if (g_rand_double (rand) < 0.03)
            sqlite3_bind_null (ins, 1);
          else
            sqlite3_bind_text (ins, 1, uid, -1, SQLITE_TRANSIENT);
          sqlite3_bind_text (ins, 2, g_rand_boolean (rand) ? "o1" : "o2", -1, SQLITE_STATIC);
          sqlite3_bind_text (ins, 3, lot, -1, SQLITE_STATIC);
          sqlite3_bind_int64 (ins, 4, start);
          sqlite3_bind_int64 (ins, 5, start + dur);
          sqlite3_bind_text (ins, 6, pass ? "passed" : "failed", -1, SQLITE_STATIC);
          if (!pass)
            {
              sqlite3_bind_text (ins, 7, steps[g_rand_int_range (rand, 0, 4)], -1, SQLITE_STATIC);
              sqlite3_bind_text (ins, 8, codes[g_rand_int_range (rand, 0, 3)], -1, SQLITE_STATIC);
            }
          g_assert_cmpint (sqlite3_step (ins), ==, SQLITE_DONE);
          start += dur + g_rand_int_range (rand, 1, 30) * G_USEC_PER_SEC;
        }
    }
  sqlite3_exec (db, "COMMIT", NULL, NULL, NULL);
  sqlite3_finalize (ins);

  for (guint f = 0; f < 2; f++)
    {
      const char *lot = f == 0 ? NULL : "L2";
      DsReportFilter filter = { .lot = lot };
      g_autoptr(DsReport) r = ds_report_compute (path, &filter, &error);
      gint64 boards, passed, first_pass, jobs, csr_failures;

      g_assert_no_error (error);
      jobs = sql_int (db, "SELECT count(*) FROM " ATTEMPTS, lot);
      boards = sql_int (db, "SELECT count(DISTINCT unit) FROM " ATTEMPTS, lot);
      passed = sql_int (db, "SELECT count(DISTINCT unit) FROM " ATTEMPTS " WHERE outcome = 'passed'", lot);
      first_pass = sql_int (db,
        "SELECT count(*) FROM " ATTEMPTS " a WHERE outcome = 'passed' AND unit IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM " ATTEMPTS " b WHERE b.unit = a.unit AND "
        "(b.started_us < a.started_us OR (b.started_us = a.started_us AND b.id < a.id)))", lot);
      csr_failures = sql_int (db, "SELECT count(*) FROM " ATTEMPTS " WHERE outcome = 'failed' AND failed_step = 'csr'", lot);

      g_assert_cmpint (r->jobs, ==, jobs);
      g_assert_cmpint (r->boards, ==, boards);
      g_assert_cmpint (r->boards_passed, ==, passed);
      g_assert_cmpint (r->first_pass, ==, first_pass);
      g_assert_cmpfloat_with_epsilon (r->first_pass_yield, (double) first_pass / boards, 1e-12);
      g_assert_cmpfloat_with_epsilon (r->final_yield, (double) passed / boards, 1e-12);
      for (guint i = 0; i < r->failures_by_step->len; i++)
        if (g_str_equal (count_at (r->failures_by_step, i)->key, "csr"))
          g_assert_cmpint (count_at (r->failures_by_step, i)->count, ==, csr_failures);
      if (lot != NULL)
        {
          g_assert_cmpuint (r->by_lot->len, ==, 1);
          g_assert_cmpstr (group (r->by_lot, "L2")->key, ==, "L2");
        }
    }
  sqlite3_close (db);
  ds_test_rm_rf (tmp);
}

static void
test_parse_time (void)
{
  gint64 a = 0, b = 0;

  g_assert_true (ds_report_parse_time ("2026-03-02", &a));
  g_assert_cmpint (a, ==, t0 () - (gint64) 8 * 3600 * G_USEC_PER_SEC);
  g_assert_true (ds_report_parse_time ("2026-03-02T08:00:00", &b));
  g_assert_cmpint (b, ==, t0 ());
  g_assert_true (ds_report_parse_time ("2026-03-02T08:00:00Z", &b));
  g_assert_false (ds_report_parse_time ("yesterday", &a));
  g_assert_false (ds_report_parse_time ("2026-13-45", &a));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/report/hand-worked", test_hand_worked);
  g_test_add_func ("/report/locked-is-passed", test_locked_is_passed);
  g_test_add_func ("/report/empty", test_empty);
  g_test_add_func ("/report/trend-buckets", test_trend_buckets);
  g_test_add_func ("/report/csv-row", test_csv_row);
  g_test_add_func ("/report/csv-time", test_csv_time);
  g_test_add_func ("/report/generated-history", test_generated_history);
  g_test_add_func ("/report/parse-time", test_parse_time);
  return g_test_run ();
}

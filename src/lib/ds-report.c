/* Yield statistics computed from finished jobs. */
#include "config.h"

#include "ds-report.h"
#include "ds-report-private.h"

#include <glib/gi18n-lib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ds-error.h"

static void
count_free (DsReportCount *c)
{
  g_free (c->key);
  g_free (c);
}

static void
group_free (DsReportGroup *g)
{
  g_free (g->key);
  g_free (g);
}

void
ds_report_free (DsReport *r)
{
  if (r == NULL)
    return;
  g_ptr_array_unref (r->failures_by_step);
  g_ptr_array_unref (r->failures_by_cause);
  g_ptr_array_unref (r->by_station);
  g_ptr_array_unref (r->by_lot);
  g_ptr_array_unref (r->by_operator);
  g_ptr_array_unref (r->by_day);
  g_ptr_array_unref (r->by_shift);
  g_array_unref (r->trend);
  g_free (r);
}

const char *
ds_report_shift_for (gint64 time_us)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  int h = g_date_time_get_hour (t);

  return h >= 6 && h < 14 ? "A" : h >= 14 && h < 22 ? "B" : "C";
}

static char *
day_for (gint64 time_us)
{
  g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);

  return g_date_time_format (t, "%Y-%m-%d");
}

gboolean
ds_report_parse_time (const char *text,
                      gint64     *out_us)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  g_autoptr(GDateTime) t = NULL;
  int y, m, d;
  char tail;

  if (text == NULL)
    return FALSE;
  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3)
    t = g_date_time_new (local, y, m, d, 0, 0, 0);
  else
    t = g_date_time_new_from_iso8601 (text, local);
  if (t == NULL)
    return FALSE;
  *out_us = g_date_time_to_unix (t) * G_USEC_PER_SEC + g_date_time_get_microsecond (t);
  return TRUE;
}

static gboolean
is_attempt (const DsReportJob *j)
{
  return g_strcmp0 (j->outcome, "already-provisioned") != 0;
}

static int
compare_jobs (gconstpointer a,
              gconstpointer b)
{
  const DsReportJob *ja = *(const DsReportJob **) a;
  const DsReportJob *jb = *(const DsReportJob **) b;

  if (ja->started_us != jb->started_us)
    return ja->started_us < jb->started_us ? -1 : 1;
  return ja->id < jb->id ? -1 : ja->id > jb->id;
}

static void
bump (GHashTable *counts,
      const char *key)
{
  gpointer v = g_hash_table_lookup (counts, key);

  g_hash_table_insert (counts, g_strdup (key), GSIZE_TO_POINTER (GPOINTER_TO_SIZE (v) + 1));
}

static int
compare_counts (gconstpointer a,
                gconstpointer b)
{
  const DsReportCount *ca = *(const DsReportCount **) a;
  const DsReportCount *cb = *(const DsReportCount **) b;

  if (ca->count != cb->count)
    return ca->count > cb->count ? -1 : 1;
  return g_strcmp0 (ca->key, cb->key);
}

static GPtrArray *
counts_to_array (GHashTable *counts)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) count_free);
  GHashTableIter iter;
  gpointer k, v;

  g_hash_table_iter_init (&iter, counts);
  while (g_hash_table_iter_next (&iter, &k, &v))
    {
      DsReportCount *c = g_new0 (DsReportCount, 1);
      c->key = g_strdup (k);
      c->count = GPOINTER_TO_SIZE (v);
      g_ptr_array_add (out, c);
    }
  g_ptr_array_sort (out, compare_counts);
  return out;
}

/* What the report knows of one board: its first attempt and whether any
 * attempt passed. */
typedef struct {
  const DsReportJob *first;
  gboolean           passed;
  gint64             passed_us;   /* end of the first passing job */
} Board;

static int
compare_groups (gconstpointer a,
                gconstpointer b)
{
  return g_strcmp0 ((*(const DsReportGroup **) a)->key, (*(const DsReportGroup **) b)->key);
}

static GPtrArray *
group_boards (GPtrArray *boards,
              char     *(*key_for) (const DsReportJob *job))
{
  g_autoptr(GHashTable) groups = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) group_free);

  for (guint i = 0; i < boards->len; i++)
    {
      Board *b = g_ptr_array_index (boards, i);
      g_autofree char *key = key_for (b->first);
      DsReportGroup *g = g_hash_table_lookup (groups, key);

      if (g == NULL)
        {
          g = g_new0 (DsReportGroup, 1);
          g->key = g_strdup (key);
          g_hash_table_insert (groups, g->key, g);
          g_ptr_array_add (out, g);
        }
      g->boards++;
      if (b->passed)
        g->passed++;
      if (b->first->board_passed || g_strcmp0 (b->first->outcome, "passed") == 0)
        g->first_pass++;
    }
  for (guint i = 0; i < out->len; i++)
    {
      DsReportGroup *g = g_ptr_array_index (out, i);
      g->first_pass_yield = g->boards > 0 ? (double) g->first_pass / g->boards : 0;
    }
  g_ptr_array_sort (out, compare_groups);
  return out;
}

static char *key_station (const DsReportJob *j) { return g_strdup (j->station != NULL ? j->station : "-"); }
static char *key_lot (const DsReportJob *j) { return g_strdup (j->lot != NULL ? j->lot : "-"); }
static char *key_operator (const DsReportJob *j) { return g_strdup (j->operator_id != NULL ? j->operator_id : "-"); }
static char *key_day (const DsReportJob *j) { return day_for (j->started_us); }
static char *key_shift (const DsReportJob *j) { return g_strdup (ds_report_shift_for (j->started_us)); }

static int
compare_double (gconstpointer a,
                gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted @v. */
static double
percentile (GArray *v,
            double  p)
{
  gsize rank;

  if (v->len == 0)
    return 0;
  rank = (gsize) ceil (p * v->len);
  if (rank < 1)
    rank = 1;
  return g_array_index (v, double, rank - 1);
}

gint64
ds_report_trend_bucket_for (gint64 span_us)
{
  static const gint64 minutes[] = { 1, 2, 5, 10, 15, 30, 60, 120, 180, 240, 360, 720, 1440, 2880 };
  const gint64 week = G_GINT64_CONSTANT (7) * 1440 * 60 * G_USEC_PER_SEC;
  gint64 weeks;

  for (gsize i = 0; i < G_N_ELEMENTS (minutes); i++)
    {
      gint64 width = minutes[i] * 60 * G_USEC_PER_SEC;

      if (span_us / width + 1 <= DS_REPORT_TREND_MAX_BUCKETS)
        return width;
    }
  weeks = span_us / week / DS_REPORT_TREND_MAX_BUCKETS + 1;
  while (span_us / (weeks * week) + 1 > DS_REPORT_TREND_MAX_BUCKETS)
    weeks++;
  return weeks * week;
}

/* Passes per time bucket from the first attempt to the last end.  Buckets
 * start on whole multiples of their width in local time (10:00, 10:15…), so
 * that their labels read well. */
static void
compute_trend (DsReport  *r,
               GPtrArray *boards,
               gint64     first_start,
               gint64     last_finish)
{
  g_autoptr(GDateTime) t = NULL;
  gint64 offset, start, width;
  guint n;

  r->trend = g_array_new (FALSE, TRUE, sizeof (DsReportBucket));
  if (r->boards_passed == 0 || last_finish < first_start)
    return;
  t = g_date_time_new_from_unix_local (first_start / G_USEC_PER_SEC);
  offset = g_date_time_get_utc_offset (t);
  width = ds_report_trend_bucket_for (last_finish - first_start);
  start = (first_start + offset) / width * width - offset;
  if (start > first_start)
    start -= width;
  n = (guint) ((last_finish - start) / width + 1);
  g_array_set_size (r->trend, n);
  r->trend_bucket_us = width;
  for (guint i = 0; i < n; i++)
    {
      DsReportBucket *bucket = &g_array_index (r->trend, DsReportBucket, i);

      bucket->start_us = start + (gint64) i * width;
      bucket->end_us = bucket->start_us + width;
    }
  for (guint i = 0; i < boards->len; i++)
    {
      Board *b = g_ptr_array_index (boards, i);
      gint64 k;

      if (!b->passed)
        continue;
      k = (b->passed_us - start) / width;
      g_array_index (r->trend, DsReportBucket, CLAMP (k, 0, (gint64) n - 1)).passed++;
    }
  /* Over the bucket's whole width, as an hourly output board counts it: a
   * bucket the line ran only part of (the first, the current) reads low
   * rather than a single quick pass reading as a spike. */
  for (guint i = 0; i < n; i++)
    {
      DsReportBucket *bucket = &g_array_index (r->trend, DsReportBucket, i);

      bucket->units_per_hour = bucket->passed * 3600e6 / (double) width;
    }
}

DsReport *
ds_report_compute_jobs (const DsReportJob *jobs,
                        gsize              n_jobs)
{
  DsReport *r = g_new0 (DsReport, 1);
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  g_autoptr(GHashTable) board_index = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) boards = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) by_step = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) by_cause = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GArray) cycles = g_array_new (FALSE, FALSE, sizeof (double));
  gint64 first_start = G_MAXINT64, last_finish = 0;

  for (gsize i = 0; i < n_jobs; i++)
    g_ptr_array_add (sorted, (gpointer) &jobs[i]);
  g_ptr_array_sort (sorted, compare_jobs);

  for (guint i = 0; i < sorted->len; i++)
    {
      const DsReportJob *j = g_ptr_array_index (sorted, i);
      g_autofree char *key = NULL;
      Board *b;

      if (!is_attempt (j))
        {
          r->already_provisioned++;
          /* Found locked and proven so: a board attempted before in the
           * window whose job never said it passed (killed, or its end
           * not recorded) has passed. */
          b = j->board_uid != NULL ? g_hash_table_lookup (board_index, j->board_uid) : NULL;
          if (b != NULL && j->board_passed && !b->passed)
            {
              b->passed = TRUE;
              b->passed_us = j->finished_us;
            }
          continue;
        }
      r->jobs++;
      first_start = MIN (first_start, j->started_us);
      last_finish = MAX (last_finish, j->finished_us);

      /* Boards count by UID: a job whose board never said who it is is
       * no board's. */
      if (j->board_uid == NULL)
        {
          r->jobs_unidentified++;
          if (g_strcmp0 (j->outcome, "failed") == 0)
            {
              bump (by_step, j->failed_step != NULL ? j->failed_step : "unknown");
              bump (by_cause, j->error_code != NULL ? j->error_code : "unknown");
            }
          continue;
        }
      key = g_strdup (j->board_uid);
      b = g_hash_table_lookup (board_index, key);
      if (b == NULL)
        {
          b = g_new0 (Board, 1);
          b->first = j;
          g_ptr_array_add (boards, b);
          g_hash_table_insert (board_index, g_steal_pointer (&key), b);
        }
      if (g_strcmp0 (j->outcome, "passed") == 0 || j->board_passed)
        {
          if (!b->passed)
            b->passed_us = j->finished_us;
          b->passed = TRUE;
        }
      if (g_strcmp0 (j->outcome, "passed") == 0)
        {
          double cycle = (j->finished_us - j->started_us) / 1e6;

          g_array_append_val (cycles, cycle);
        }
      else if (g_strcmp0 (j->outcome, "failed") == 0)
        {
          bump (by_step, j->failed_step != NULL ? j->failed_step : "unknown");
          bump (by_cause, j->error_code != NULL ? j->error_code : "unknown");
        }
    }

  r->boards = boards->len;
  for (guint i = 0; i < boards->len; i++)
    {
      Board *b = g_ptr_array_index (boards, i);

      if (b->passed)
        r->boards_passed++;
      else
        r->boards_failed++;
      if (b->first->board_passed || g_strcmp0 (b->first->outcome, "passed") == 0)
        r->first_pass++;
    }
  if (r->boards > 0)
    {
      r->first_pass_yield = (double) r->first_pass / r->boards;
      r->final_yield = (double) r->boards_passed / r->boards;
    }
  if (last_finish > first_start)
    r->units_per_hour = r->boards_passed / ((last_finish - first_start) / 3600e6);
  g_array_sort (cycles, compare_double);
  r->cycle_median_s = percentile (cycles, 0.5);
  r->cycle_p95_s = percentile (cycles, 0.95);
  r->failures_by_step = counts_to_array (by_step);
  r->failures_by_cause = counts_to_array (by_cause);
  r->by_station = group_boards (boards, key_station);
  r->by_lot = group_boards (boards, key_lot);
  r->by_operator = group_boards (boards, key_operator);
  r->by_day = group_boards (boards, key_day);
  r->by_shift = group_boards (boards, key_shift);
  compute_trend (r, boards, first_start, last_finish);
  return r;
}

void
ds_report_filter_params (const DsReportFilter *filter,
                         DsDbValue             params[5])
{
  params[0] = DB_INT (filter != NULL ? filter->since_us : 0);
  params[1] = DB_INT (filter != NULL ? filter->until_us : 0);
  params[2] = DB_TEXT (filter != NULL ? filter->lot : NULL);
  params[3] = DB_TEXT (filter != NULL ? filter->operator_id : NULL);
  params[4] = DB_TEXT (filter != NULL ? filter->station : NULL);
}

DsReport *
ds_report_compute (const char           *db_path,
                   const DsReportFilter *filter,
                   GError              **error)
{
  g_autoptr(GArray) jobs = g_array_new (FALSE, TRUE, sizeof (DsReportJob));
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  DsDbValue params[5];

  db = ds_db_open (db_path, TRUE, error);
  if (db == NULL)
    return NULL;
  ds_report_filter_params (filter, params);
  rows = ds_db_query (db,
    "SELECT id, board_uid, station, lot, operator, started_us, finished_us, outcome, failed_step, error_code, "
    /* The same rule as the yield panel's (ds-stats.c). */
    "CASE WHEN board_uid IS NOT NULL AND (outcome = 'passed' OR ((outcome = 'already-provisioned' "
    "OR EXISTS (SELECT 1 FROM steps s WHERE s.job_id = jobs.id AND s.step = 'lock' AND s.outcome = 'pass')) "
    "AND EXISTS (SELECT 1 FROM certificates c WHERE c.board_uid = jobs.board_uid AND c.installed = 1 "
    "AND c.superseded = 0))) THEN 1 ELSE 0 END "
    "FROM jobs WHERE outcome IS NOT NULL AND " DS_REPORT_FILTER_SQL (""),
    params, G_N_ELEMENTS (params), error);
  if (rows == NULL)
    {
      g_prefix_error (error, _("Cannot read the records: "));
      return NULL;
    }

  /* The strings stay in @rows until the report is computed. */
  for (guint r = 0; r < ds_db_rows_count (rows); r++)
    {
      DsReportJob j = { 0 };

      j.id = ds_db_rows_int (rows, r, 0);
      j.board_uid = ds_db_rows_text (rows, r, 1);
      j.station = ds_db_rows_text (rows, r, 2);
      j.lot = ds_db_rows_text (rows, r, 3);
      j.operator_id = ds_db_rows_text (rows, r, 4);
      j.started_us = ds_db_rows_int (rows, r, 5);
      j.finished_us = ds_db_rows_int (rows, r, 6);
      j.outcome = ds_db_rows_text (rows, r, 7);
      j.failed_step = ds_db_rows_text (rows, r, 8);
      j.error_code = ds_db_rows_text (rows, r, 9);
      j.board_passed = ds_db_rows_int (rows, r, 10) != 0;
      g_array_append_val (jobs, j);
    }
  return ds_report_compute_jobs ((const DsReportJob *) (void *) jobs->data, jobs->len);
}

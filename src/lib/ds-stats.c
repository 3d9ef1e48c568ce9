/* Read-only yield queries over the record store's jobs table. */
#include "config.h"

#include "ds-stats.h"

#include <glib/gi18n-lib.h>
#include "ds-db.h"
#include "ds-error.h"

struct _DsStats
{
  GObject  parent_instance;

  DsDb    *db;
  GMutex   lock;     /* one query at a time on the connection */
};

G_DEFINE_FINAL_TYPE (DsStats, ds_stats, G_TYPE_OBJECT)

/* Whether a job's board is proven provisioned: the job passed, or the
 * board holds a live, installed DAC in the records and the job saw it
 * locked (its lock step passed, or it found the board locked and proved
 * it), whatever the job's own end record says: a crash, a full disk or a
 * busy port after LOCK does not make a locked board a failure.  The
 * ds-report.c twin of this expression must say the same. */
#define DS_STATS_JOB_OK(jobs) \
  "(" jobs ".board_uid IS NOT NULL AND (" jobs ".outcome = 'passed' OR ((" jobs ".outcome = 'already-provisioned' " \
  "OR EXISTS (SELECT 1 FROM steps s WHERE s.job_id = " jobs ".id AND s.step = 'lock' AND s.outcome = 'pass')) " \
  "AND EXISTS (SELECT 1 FROM certificates c WHERE c.board_uid = " jobs ".board_uid AND c.installed = 1 " \
  "AND c.superseded = 0))))"

/* The jobs of the filter.  Boards are counted by UID; a job whose board
 * never said its UID is no board's, and is counted on its own.  Outcomes
 * that are attempts are 'passed', 'failed' and 'interrupted'. */
static const char summary_sql[] =
  "WITH j AS ("
  "  SELECT id, board_uid AS board, outcome, started_us, finished_us, " DS_STATS_JOB_OK ("jobs") " AS ok"
  "  FROM jobs"
  "  WHERE (CAST(?1 AS BIGINT) = 0 OR started_us >= ?1) AND (CAST(?2 AS BIGINT) = 0 OR started_us < ?2)"
  "    AND (CAST(?3 AS TEXT) IS NULL OR station = ?3) AND (CAST(?4 AS TEXT) IS NULL OR lot = ?4)"
  "    AND (CAST(?5 AS TEXT) IS NULL OR operator = ?5)),"
  " attempts AS (SELECT * FROM j WHERE board IS NOT NULL AND outcome IN ('passed', 'failed', 'interrupted')),"
  /* Each board's first attempt: no attempt of the same board started
   * before it (the lower id first on a tie).  Plain SQL, the same on
   * SQLite and PostgreSQL. */
  " firsts AS (SELECT a.board, a.ok FROM attempts a WHERE NOT EXISTS ("
  "   SELECT 1 FROM attempts b WHERE b.board = a.board"
  "   AND (b.started_us < a.started_us OR (b.started_us = a.started_us AND b.id < a.id))))"
  " SELECT"
  "  (SELECT count(*) FROM j WHERE outcome = 'passed'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'failed'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'already-provisioned'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'cancelled'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'interrupted'),"
  "  (SELECT count(DISTINCT board) FROM attempts),"
  "  (SELECT count(*) FROM firsts WHERE ok),"
  "  (SELECT count(DISTINCT a.board) FROM attempts a WHERE EXISTS (SELECT 1 FROM j p WHERE p.board = a.board AND p.ok)),"
  "  (SELECT coalesce(min(started_us), 0) FROM j),"
  "  (SELECT coalesce(max(finished_us), 0) FROM j),"
  "  (SELECT count(*) FROM j WHERE board IS NULL AND outcome IN ('failed', 'interrupted'))";

static void
ds_stats_finalize (GObject *object)
{
  DsStats *self = DS_STATS (object);

  g_clear_pointer (&self->db, ds_db_close);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_stats_parent_class)->finalize (object);
}

static void
ds_stats_class_init (DsStatsClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_stats_finalize;
}

static void
ds_stats_init (DsStats *self)
{
  g_mutex_init (&self->lock);
}

DsStats *
ds_stats_open (const char  *path,
               GError     **error)
{
  g_autoptr(DsStats) self = g_object_new (DS_TYPE_STATS, NULL);

  g_return_val_if_fail (path != NULL, NULL);

  /* Read-only: on SQLite the station writes while we read, and the
   * connection waits for its short transactions. */
  self->db = ds_db_open (path, TRUE, error);
  if (self->db == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
ds_stats_query_summary (DsStats             *self,
                        const DsStatsFilter *filter,
                        DsStatsSummary      *summary,
                        GError             **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  DsStatsFilter none = { 0 };

  g_return_val_if_fail (DS_IS_STATS (self), FALSE);
  g_return_val_if_fail (summary != NULL, FALSE);

  if (filter == NULL)
    filter = &none;
  locker = g_mutex_locker_new (&self->lock);
  rows = ds_db_query (self->db, summary_sql,
                      DB_PARAMS (DB_INT (filter->since_us), DB_INT (filter->until_us), DB_TEXT (filter->station),
                                 DB_TEXT (filter->lot), DB_TEXT (filter->operator_id)), error);
  if (rows == NULL)
    {
      g_prefix_error (error, _("Reading the yield figures: "));
      return FALSE;
    }

  summary->passed = ds_db_rows_int (rows, 0, 0);
  summary->failed = ds_db_rows_int (rows, 0, 1);
  summary->already_provisioned = ds_db_rows_int (rows, 0, 2);
  summary->cancelled = ds_db_rows_int (rows, 0, 3);
  summary->interrupted = ds_db_rows_int (rows, 0, 4);
  summary->boards = ds_db_rows_int (rows, 0, 5);
  summary->boards_first_pass = ds_db_rows_int (rows, 0, 6);
  summary->boards_passed = ds_db_rows_int (rows, 0, 7);
  summary->first_started_us = ds_db_rows_int (rows, 0, 8);
  summary->last_finished_us = ds_db_rows_int (rows, 0, 9);
  summary->jobs_unidentified = ds_db_rows_int (rows, 0, 10);
  return TRUE;
}

double
ds_stats_summary_first_pass_yield (const DsStatsSummary *summary)
{
  if (summary->boards <= 0)
    return -1.0;
  return (double) summary->boards_first_pass / (double) summary->boards;
}

double
ds_stats_summary_final_yield (const DsStatsSummary *summary)
{
  if (summary->boards <= 0)
    return -1.0;
  return (double) summary->boards_passed / (double) summary->boards;
}

double
ds_stats_summary_units_per_hour (const DsStatsSummary *summary,
                                 gint64                start_us,
                                 gint64                now_us)
{
  gint64 from = start_us > 0 ? start_us : summary->first_started_us;

  if (from <= 0 || now_us <= from)
    return 0.0;
  return (double) summary->passed * 3600.0 * G_USEC_PER_SEC / (double) (now_us - from);
}

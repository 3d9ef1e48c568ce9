/* Read-only yield queries over the record store's jobs table. */
#include "config.h"

#include "ds-stats.h"

#include <glib/gi18n-lib.h>
#include <sqlite3.h>

#include "ds-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

struct _DsStats
{
  GObject  parent_instance;

  char    *path;
  sqlite3 *db;
  GMutex   lock;     /* one query at a time on the connection */
};

G_DEFINE_FINAL_TYPE (DsStats, ds_stats, G_TYPE_OBJECT)

/* The jobs of the filter, with a board identity for every job: its UID, or
 * the job itself when the board failed before it said its UID.  Outcomes
 * that are attempts are 'passed' and 'failed'. */
static const char summary_sql[] =
  "WITH j AS ("
  "  SELECT id, coalesce(board_uid, 'job:' || id) AS board, outcome, started_us, finished_us"
  "  FROM jobs"
  "  WHERE (?1 = 0 OR started_us >= ?1) AND (?2 = 0 OR started_us < ?2)"
  "    AND (?3 IS NULL OR station = ?3) AND (?4 IS NULL OR lot = ?4)"
  "    AND (?5 IS NULL OR operator = ?5)),"
  " attempts AS (SELECT * FROM j WHERE outcome IN ('passed', 'failed')),"
  /* SQLite takes the bare column of a min() aggregate from the row that
   * holds the minimum: the outcome of each board's first attempt. */
  " firsts AS (SELECT board, outcome, min(started_us) FROM attempts GROUP BY board)"
  " SELECT"
  "  (SELECT count(*) FROM j WHERE outcome = 'passed'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'failed'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'already-provisioned'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'cancelled'),"
  "  (SELECT count(*) FROM j WHERE outcome = 'interrupted'),"
  "  (SELECT count(DISTINCT board) FROM attempts),"
  "  (SELECT count(*) FROM firsts WHERE outcome = 'passed'),"
  "  (SELECT count(DISTINCT board) FROM attempts WHERE outcome = 'passed'),"
  "  (SELECT coalesce(min(started_us), 0) FROM j),"
  "  (SELECT coalesce(max(finished_us), 0) FROM j)";

static void
ds_stats_finalize (GObject *object)
{
  DsStats *self = DS_STATS (object);

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self->path);
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

static gboolean
set_error (DsStats    *self,
           GError    **error,
           const char *what)
{
  g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s failed: %s"),
               self->path, what, sqlite3_errmsg (self->db));
  return FALSE;
}

DsStats *
ds_stats_open (const char  *path,
               GError     **error)
{
  g_autoptr(DsStats) self = g_object_new (DS_TYPE_STATS, NULL);
  int rc;

  g_return_val_if_fail (path != NULL, NULL);

  self->path = g_strdup (path);
  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read the record store %s: %s"),
                   path, self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  /* The station writes while we read: wait for its short transactions. */
  sqlite3_busy_timeout (self->db, 5000);
  return g_steal_pointer (&self);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           idx,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, idx);
}

gboolean
ds_stats_query_summary (DsStats             *self,
                        const DsStatsFilter *filter,
                        DsStatsSummary      *summary,
                        GError             **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  DsStatsFilter none = { 0 };

  g_return_val_if_fail (DS_IS_STATS (self), FALSE);
  g_return_val_if_fail (summary != NULL, FALSE);

  if (filter == NULL)
    filter = &none;
  locker = g_mutex_locker_new (&self->lock);
  if (sqlite3_prepare_v2 (self->db, summary_sql, -1, &stmt, NULL) != SQLITE_OK)
    return set_error (self, error, "preparing the yield query");
  sqlite3_bind_int64 (stmt, 1, filter->since_us);
  sqlite3_bind_int64 (stmt, 2, filter->until_us);
  bind_text (stmt, 3, filter->station);
  bind_text (stmt, 4, filter->lot);
  bind_text (stmt, 5, filter->operator_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_error (self, error, "reading the yield figures");

  summary->passed = sqlite3_column_int64 (stmt, 0);
  summary->failed = sqlite3_column_int64 (stmt, 1);
  summary->already_provisioned = sqlite3_column_int64 (stmt, 2);
  summary->cancelled = sqlite3_column_int64 (stmt, 3);
  summary->interrupted = sqlite3_column_int64 (stmt, 4);
  summary->boards = sqlite3_column_int64 (stmt, 5);
  summary->boards_first_pass = sqlite3_column_int64 (stmt, 6);
  summary->boards_passed = sqlite3_column_int64 (stmt, 7);
  summary->first_started_us = sqlite3_column_int64 (stmt, 8);
  summary->last_finished_us = sqlite3_column_int64 (stmt, 9);
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

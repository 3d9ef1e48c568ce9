/* Table exports from the record store (read-only). */
#include "config.h"

#include "ds-export.h"

#include <glib/gi18n-lib.h>
#include <sqlite3.h>

#include "ds-error.h"
#include "ds-report-private.h"

const char *const ds_export_tables[] = { "boards", "jobs", "steps", "certificates", "events", NULL };

#define JOB_FILTER "(?1 = 0 OR j.started_us >= ?1) AND (?2 = 0 OR j.started_us < ?2) " \
                   "AND (?3 IS NULL OR j.lot = ?3) AND (?4 IS NULL OR j.operator = ?4) " \
                   "AND (?5 IS NULL OR j.station = ?5)"

/* Certificates are exported without their DER: serial, fingerprint and the
 * files say which certificate it is. */
static const struct {
  const char *table;
  const char *sql;
} queries[] = {
  { "boards", "SELECT b.uid, b.first_seen_us, b.last_seen_us FROM boards b WHERE b.uid IN "
              "(SELECT j.board_uid FROM jobs j WHERE " JOB_FILTER ") ORDER BY b.first_seen_us" },
  { "jobs", "SELECT j.id, j.board_uid, j.port, j.operator, j.lot, j.station, j.started_us, j.finished_us, "
            "j.outcome, j.failed_step, j.error_code, j.error_message FROM jobs j WHERE " JOB_FILTER " ORDER BY j.id" },
  { "steps", "SELECT s.id, s.job_id, j.board_uid, s.step, s.outcome, s.started_us, s.finished_us, s.error_code, "
             "s.error_message FROM steps s JOIN jobs j ON j.id = s.job_id WHERE " JOB_FILTER " ORDER BY s.id" },
  { "certificates", "SELECT c.id, c.job_id, c.board_uid, c.serial, c.fingerprint, c.pubkey_sha256, c.subject, "
                    "c.dac_path, c.pai_path, c.issued_us, c.installed, c.superseded, c.superseded_reason "
                    "FROM certificates c JOIN jobs j ON j.id = c.job_id WHERE " JOB_FILTER " ORDER BY c.id" },
  { "events", "SELECT e.id, e.time_us, e.job_id, e.board_uid, e.kind, e.message, e.prev_hash, e.hash "
              "FROM events e LEFT JOIN jobs j ON j.id = e.job_id WHERE e.job_id IS NULL OR (" JOB_FILTER ") "
              "ORDER BY e.id" },
};

gboolean
ds_export_table (const char           *db_path,
                 const char           *table,
                 const DsReportFilter *filter,
                 DsExportRowFunc       func,
                 gpointer              user_data,
                 GError              **error)
{
  const char *sql = NULL;
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gboolean ok = TRUE;
  int rc;

  for (gsize i = 0; i < G_N_ELEMENTS (queries); i++)
    if (g_strcmp0 (queries[i].table, table) == 0)
      sql = queries[i].sql;
  if (sql == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                   _("No table “%s”: boards, jobs, steps, certificates or events"), table);
      return FALSE;
    }
  if (sqlite3_open_v2 (db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
      sqlite3_busy_timeout (db, 5000) != SQLITE_OK ||
      sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read the record store %s: %s"), db_path,
                   db != NULL ? sqlite3_errmsg (db) : "out of memory");
      sqlite3_finalize (stmt);
      sqlite3_close (db);
      return FALSE;
    }
  ds_report_filter_bind (stmt, filter);

  {
    guint n = sqlite3_column_count (stmt);
    g_autofree const char **columns = g_new0 (const char *, n + 1);
    g_autofree const char **values = g_new0 (const char *, n + 1);

    for (guint i = 0; i < n; i++)
      columns[i] = sqlite3_column_name (stmt, i);
    while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
      {
        for (guint i = 0; i < n; i++)
          values[i] = (const char *) sqlite3_column_text (stmt, i);
        if (!func (columns, values, n, user_data))
          break;
      }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      {
        g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read the record store %s: %s"), db_path,
                     sqlite3_errmsg (db));
        ok = FALSE;
      }
  }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return ok;
}

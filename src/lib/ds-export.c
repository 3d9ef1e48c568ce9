/* Table exports from the record store (read-only). */
#include "config.h"

#include "ds-export.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"
#include "ds-report-private.h"

const char *const ds_export_tables[] = { "boards", "jobs", "steps", "certificates", "events", NULL };

#define JOB_FILTER DS_REPORT_FILTER_SQL ("j.")

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
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree const char **columns = NULL;
  g_autofree const char **values = NULL;
  DsDbValue params[5];
  guint n;

  for (gsize i = 0; i < G_N_ELEMENTS (queries); i++)
    if (g_strcmp0 (queries[i].table, table) == 0)
      sql = queries[i].sql;
  if (sql == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                   _("No table “%s”: boards, jobs, steps, certificates or events"), table);
      return FALSE;
    }
  db = ds_db_open (db_path, TRUE, error);
  if (db == NULL)
    return FALSE;
  ds_report_filter_params (filter, params);
  rows = ds_db_query (db, sql, params, G_N_ELEMENTS (params), error);
  if (rows == NULL)
    {
      g_prefix_error (error, _("Cannot read the records: "));
      return FALSE;
    }

  n = ds_db_rows_columns (rows);
  columns = g_new0 (const char *, n + 1);
  values = g_new0 (const char *, n + 1);
  for (guint i = 0; i < n; i++)
    columns[i] = ds_db_rows_name (rows, i);
  for (guint r = 0; r < ds_db_rows_count (rows); r++)
    {
      for (guint i = 0; i < n; i++)
        values[i] = ds_db_rows_text (rows, r, i);
      if (!func (columns, values, n, user_data))
        break;
    }
  return TRUE;
}

/* Table exports from the record store (read-only). */
#include "config.h"

#include "ds-export.h"

#include <glib/gi18n-lib.h>
#include <string.h>

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

/* @table's query, or NULL with DS_ERROR_NOT_FOUND. */
static const char *
query_for (const char  *table,
           GError     **error)
{
  for (gsize i = 0; i < G_N_ELEMENTS (queries); i++)
    if (g_strcmp0 (queries[i].table, table) == 0)
      return queries[i].sql;
  g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
               _("No table “%s”: boards, jobs, steps, certificates or events"), table);
  return NULL;
}

gboolean
ds_export_table (const char           *db_path,
                 const char           *table,
                 const DsReportFilter *filter,
                 DsExportRowFunc       func,
                 gpointer              user_data,
                 GError              **error)
{
  const char *sql = query_for (table, error);
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree const char **columns = NULL;
  g_autofree const char **values = NULL;
  DsDbValue params[5];
  guint n;

  if (sql == NULL)
    return FALSE;
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

static char **
table_columns (const char  *db_path,
               const char  *table,
               GError     **error)
{
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autoptr(GStrvBuilder) builder = NULL;
  const char *sql = query_for (table, error);
  DsDbValue params[5];

  if (sql == NULL || (db = ds_db_open (db_path, TRUE, error)) == NULL)
    return NULL;
  g_autofree char *no_rows = g_strconcat (sql, " LIMIT 0", NULL);

  ds_report_filter_params (NULL, params);
  rows = ds_db_query (db, no_rows, params, G_N_ELEMENTS (params), error);
  if (rows == NULL)
    return NULL;
  builder = g_strv_builder_new ();
  for (guint i = 0; i < ds_db_rows_columns (rows); i++)
    g_strv_builder_add (builder, ds_db_rows_name (rows, i));
  return g_strv_builder_end (builder);
}

void
ds_export_csv_append_row (GString           *out,
                          const char *const *fields,
                          guint              n_fields)
{
  for (guint i = 0; i < n_fields; i++)
    {
      const char *value = fields[i];

      if (i > 0)
        g_string_append_c (out, ',');
      if (value == NULL)
        continue;
      if (*value == '\0' || strpbrk (value, ",\"\r\n") != NULL || strchr ("=+-@", value[0]) != NULL)
        {
          g_string_append_c (out, '"');
          if (*value != '\0' && strchr ("=+-@", value[0]) != NULL)
            g_string_append_c (out, '\'');
          for (const char *p = value; *p != '\0'; p++)
            {
              if (*p == '"')
                g_string_append_c (out, '"');
              g_string_append_c (out, *p);
            }
          g_string_append_c (out, '"');
        }
      else
        g_string_append (out, value);
    }
  g_string_append (out, "\r\n");
}

/* Columns named *_us hold microseconds since the epoch. */
static gboolean
is_time_column (const char *name)
{
  return name != NULL && g_str_has_suffix (name, "_us");
}

char *
ds_export_format_time (gint64 time_us)
{
  g_autoptr(GDateTime) seconds = g_date_time_new_from_unix_local (time_us / G_USEC_PER_SEC);
  g_autoptr(GDateTime) dt = NULL;
  g_autofree char *date = NULL;
  g_autofree char *zone = NULL;

  if (seconds == NULL)
    return NULL;
  dt = g_date_time_add (seconds, time_us % G_USEC_PER_SEC);
  if (dt == NULL)
    return NULL;
  date = g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S");
  zone = g_date_time_format (dt, "%:z");
  return g_strdup_printf ("%s.%03d%s", date, g_date_time_get_microsecond (dt) / 1000, zone);
}

/* A CSV is read by people and spreadsheets: the header names the time
 * without its unit and the times are ISO 8601 in the station's time zone. */
static void
csv_humanize (const char *const *columns,
              const char *const *values,
              guint               n,
              GPtrArray          *header,
              GPtrArray          *row)
{
  for (guint i = 0; i < n; i++)
    {
      if (!is_time_column (columns[i]))
        {
          g_ptr_array_add (header, g_strdup (columns[i]));
          g_ptr_array_add (row, g_strdup (values != NULL ? values[i] : NULL));
          continue;
        }
      g_ptr_array_add (header, g_strndup (columns[i], strlen (columns[i]) - strlen ("_us")));
      if (values == NULL || values[i] == NULL || *values[i] == '\0')
        g_ptr_array_add (row, g_strdup (values != NULL ? values[i] : NULL));
      else
        {
          gint64 us;
          char *time = NULL;

          if (g_ascii_string_to_signed (values[i], 10, 0, G_MAXINT64, &us, NULL))
            time = ds_export_format_time (us);
          g_ptr_array_add (row, time != NULL ? time : g_strdup (values[i]));
        }
    }
}

void
ds_export_csv_append_table_row (GString           *out,
                                const char *const *columns,
                                const char *const *values,
                                guint               n_columns)
{
  g_autoptr(GPtrArray) header = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) row = g_ptr_array_new_with_free_func (g_free);

  csv_humanize (columns, values, n_columns, header, row);
  ds_export_csv_append_row (out, (const char *const *) (values != NULL ? row : header)->pdata, n_columns);
}

typedef struct {
  GOutputStream *stream;
  GCancellable  *cancellable;
  GString       *line;
  GError        *error;
  guint64        rows;
  gboolean       header_done;
} CsvState;

static gboolean
csv_row (const char *const *columns,
         const char *const *values,
         guint               n,
         gpointer            user_data)
{
  CsvState *st = user_data;

  g_string_truncate (st->line, 0);
  if (!st->header_done)
    {
      ds_export_csv_append_table_row (st->line, columns, NULL, n);
      st->header_done = TRUE;
    }
  ds_export_csv_append_table_row (st->line, columns, values, n);
  if (!g_output_stream_write_all (st->stream, st->line->str, st->line->len, NULL,
                                  st->cancellable, &st->error))
    return FALSE;
  st->rows++;
  return TRUE;
}

gboolean
ds_export_table_csv (const char           *db_path,
                     const char           *table,
                     const DsReportFilter *filter,
                     GOutputStream        *stream,
                     guint64              *n_rows,
                     GCancellable         *cancellable,
                     GError              **error)
{
  CsvState st = { stream, cancellable, g_string_new (NULL), NULL, 0, FALSE };
  gboolean ok;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);

  ok = ds_export_table (db_path, table, filter, csv_row, &st, error);
  g_string_free (st.line, TRUE);
  if (ok && st.error != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&st.error), _("Writing the CSV: "));
      return FALSE;
    }
  g_clear_error (&st.error);
  if (!ok)
    return FALSE;
  /* A header even when nothing matched: the file still says what it is. */
  if (!st.header_done)
    {
      g_autoptr(GString) line = g_string_new (NULL);
      g_auto(GStrv) columns = table_columns (db_path, table, error);

      if (columns == NULL)
        return FALSE;
      ds_export_csv_append_table_row (line, (const char *const *) columns, NULL, g_strv_length (columns));
      if (!g_output_stream_write_all (stream, line->str, line->len, NULL, cancellable, error))
        {
          g_prefix_error (error, _("Writing the CSV: "));
          return FALSE;
        }
    }
  if (n_rows != NULL)
    *n_rows = st.rows;
  return TRUE;
}

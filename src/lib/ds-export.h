/* Reads the record store's tables row by row for exports. */
#pragma once

#include <gio/gio.h>

#include "ds-report.h"

G_BEGIN_DECLS

/* Called once per row with the column names and the row's values as text
 * (NULL for SQL NULL).  Return FALSE to stop. */
typedef gboolean (*DsExportRowFunc) (const char *const *columns,
                                     const char *const *values,
                                     guint               n_columns,
                                     gpointer            user_data);

/* The tables an export knows. */
extern const char *const ds_export_tables[];

/* Walks @table ("boards", "jobs", "steps", "certificates" or "events") of the
 * store at @db_path, restricted to the jobs matching @filter (rows of other
 * tables follow their job, boards their jobs' boards). */
gboolean ds_export_table (const char           *db_path,
                          const char           *table,
                          const DsReportFilter *filter,
                          DsExportRowFunc       func,
                          gpointer              user_data,
                          GError              **error);

/* Appends one CSV record (RFC 4180, CRLF) of @fields to @out.  NULL fields
 * are empty, empty strings are "" ; a field that starts with = + - or @ is
 * quoted behind a ' so that a spreadsheet does not run it as a formula. */
void     ds_export_csv_append_row (GString              *out,
                                   const char *const    *fields,
                                   guint                 n_fields);

/* @time_us (microseconds since the epoch) as ISO 8601 in the local time
 * zone to the millisecond, e.g. "2026-12-02T17:03:04.123+01:00". */
char    *ds_export_format_time    (gint64                time_us);

/* Appends one CSV record of a row from ds_export_table() to @out: the
 * header when @values is NULL, else the row.  Times (the columns named
 * *_us) are written by ds_export_format_time() under their name without
 * "_us" ("started", not "started_us"). */
void     ds_export_csv_append_table_row (GString           *out,
                                         const char *const *columns,
                                         const char *const *values,
                                         guint               n_columns);

/* Writes @table as CSV, a header line then one line per row, to @stream.
 * Times (the columns named *_us) are written by ds_export_format_time()
 * under their name without "_us" ("started", not "started_us").
 * @n_rows (optional) is set to the number of rows written, header aside. */
gboolean ds_export_table_csv      (const char           *db_path,
                                   const char           *table,
                                   const DsReportFilter *filter,
                                   GOutputStream        *stream,
                                   guint64              *n_rows,
                                   GCancellable         *cancellable,
                                   GError              **error);

G_END_DECLS

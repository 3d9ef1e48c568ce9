/* Reads the record store's tables row by row for exports. */
#pragma once

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

G_END_DECLS

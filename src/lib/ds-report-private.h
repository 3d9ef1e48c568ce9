/* What the record readers (report, export) share inside the library. */
#pragma once

#include <sqlite3.h>

#include "ds-report.h"

G_BEGIN_DECLS

/* Binds @filter to parameters ?1 (since), ?2 (until), ?3 (lot),
 * ?4 (operator) and ?5 (station) of @stmt; unset ones match everything. */
void ds_report_filter_bind (sqlite3_stmt         *stmt,
                            const DsReportFilter *filter);

G_END_DECLS

/* What the record readers (report, export) share inside the library. */
#pragma once

#include "ds-db.h"
#include "ds-report.h"

G_BEGIN_DECLS

/* The job filter as SQL over the jobs table aliased @alias, on parameters
 * ?1 (since), ?2 (until), ?3 (lot), ?4 (operator) and ?5 (station); unset
 * ones match everything.  The casts tell PostgreSQL the parameters' types
 * even when they are NULL. */
#define DS_REPORT_FILTER_SQL(alias) \
  "(CAST(?1 AS BIGINT) = 0 OR " alias "started_us >= ?1) AND (CAST(?2 AS BIGINT) = 0 OR " alias "started_us < ?2) " \
  "AND (CAST(?3 AS TEXT) IS NULL OR " alias "lot = ?3) AND (CAST(?4 AS TEXT) IS NULL OR " alias "operator = ?4) " \
  "AND (CAST(?5 AS TEXT) IS NULL OR " alias "station = ?5)"

/* Fills the five parameters of DS_REPORT_FILTER_SQL from @filter. */
void ds_report_filter_params (const DsReportFilter *filter,
                              DsDbValue             params[5]);

G_END_DECLS

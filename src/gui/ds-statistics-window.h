/* The statistics window: yield, cycle times, failures by step and cause,
 * the units-per-hour trend, filtered by lot, operator and day, with an
 * export of the matching jobs to CSV. */
#pragma once

#include <gtk/gtk.h>

#include "ds-bar-chart.h"
#include "ds-report.h"

G_BEGIN_DECLS

typedef enum {
  DS_STATISTICS_FIGURE_BOARDS,
  DS_STATISTICS_FIGURE_PASSED,
  DS_STATISTICS_FIGURE_FAILED,
  DS_STATISTICS_FIGURE_FIRST_PASS_YIELD,
  DS_STATISTICS_FIGURE_FINAL_YIELD,
  DS_STATISTICS_FIGURE_UNITS_PER_HOUR,
  DS_STATISTICS_FIGURE_CYCLE_MEDIAN,
  DS_STATISTICS_FIGURE_CYCLE_P95,
  DS_STATISTICS_N_FIGURES
} DsStatisticsFigure;

typedef enum {
  DS_STATISTICS_CHART_BY_STEP,
  DS_STATISTICS_CHART_BY_CAUSE,
  DS_STATISTICS_CHART_TREND,
  DS_STATISTICS_N_CHARTS
} DsStatisticsChart;

#define DS_TYPE_STATISTICS_WINDOW (ds_statistics_window_get_type ())
G_DECLARE_FINAL_TYPE (DsStatisticsWindow, ds_statistics_window, DS, STATISTICS_WINDOW, GtkApplicationWindow)

/* A window over the record store at @db_path, kept above @parent and
 * closed with it. */
DsStatisticsWindow *ds_statistics_window_new        (GtkWindow           *parent,
                                                     const char          *db_path);
/* Reads the store again, in a worker thread; "updated" follows. */
void                ds_statistics_window_refresh    (DsStatisticsWindow  *self);
gboolean            ds_statistics_window_is_busy    (DsStatisticsWindow  *self);
/* Chooses the filters as the combo boxes would (NULL: all). */
void                ds_statistics_window_set_filter (DsStatisticsWindow  *self,
                                                     const char          *lot,
                                                     const char          *operator_id,
                                                     const char          *day);
/* The filter of what is shown; the strings belong to the window. */
void                ds_statistics_window_get_filter (DsStatisticsWindow  *self,
                                                     DsReportFilter      *filter);
/* What is shown: NULL before the first read. */
const DsReport     *ds_statistics_window_get_report (DsStatisticsWindow  *self);
const char         *ds_statistics_window_get_figure_text (DsStatisticsWindow *self,
                                                          DsStatisticsFigure  figure);
DsBarChart         *ds_statistics_window_get_chart  (DsStatisticsWindow  *self,
                                                     DsStatisticsChart    chart);
/* The lots, operators or days offered by a filter's combo box (ids, the
 * first one "" for all); transfer full. */
char              **ds_statistics_window_dup_choices (DsStatisticsWindow *self,
                                                      const char         *which);

/* Writes the jobs matching the current filter to @file as CSV (what
 * Export does after asking for the file). */
void                ds_statistics_window_export_async  (DsStatisticsWindow  *self,
                                                        GFile               *file,
                                                        GCancellable        *cancellable,
                                                        GAsyncReadyCallback  callback,
                                                        gpointer             user_data);
gboolean            ds_statistics_window_export_finish (DsStatisticsWindow  *self,
                                                        GAsyncResult        *result,
                                                        guint64             *n_rows,
                                                        GError             **error);

G_END_DECLS

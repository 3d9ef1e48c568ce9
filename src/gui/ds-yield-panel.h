/* The always-visible yield panel: passed, failed, first-pass yield and
 * units per hour for the shift, read from the record store. */
#pragma once

#include <gtk/gtk.h>

#include "ds-stats.h"

G_BEGIN_DECLS

#define DS_TYPE_YIELD_PANEL (ds_yield_panel_get_type ())
G_DECLARE_FINAL_TYPE (DsYieldPanel, ds_yield_panel, DS, YIELD_PANEL, GtkBox)

/* Counts the jobs of @station in the store at @db_path started since
 * @since_us (unix microseconds), and refreshes. */
void        ds_yield_panel_set_source  (DsYieldPanel *self,
                                        const char   *db_path,
                                        const char   *station,
                                        gint64        since_us);
/* Reads the store again in a worker thread; "updated" follows. Calls made
 * while a query runs are folded into one more query. */
void        ds_yield_panel_refresh     (DsYieldPanel *self);
/* The figures last read; FALSE before the first read. */
gboolean    ds_yield_panel_get_summary (DsYieldPanel   *self,
                                        DsStatsSummary *summary);
/* The texts shown: "8", "1", "87.5 %", "412". */
const char *ds_yield_panel_get_passed_text     (DsYieldPanel *self);
const char *ds_yield_panel_get_failed_text     (DsYieldPanel *self);
const char *ds_yield_panel_get_attempts_text   (DsYieldPanel *self);
const char *ds_yield_panel_get_first_pass_text (DsYieldPanel *self);
const char *ds_yield_panel_get_rate_text       (DsYieldPanel *self);
/* TRUE while a query is running or pending. */
gboolean    ds_yield_panel_is_busy     (DsYieldPanel *self);

G_END_DECLS

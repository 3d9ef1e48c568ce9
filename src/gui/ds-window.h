/* The station's main window: header bar with the mode badge, the yield
 * panel, and one card per board that comes and goes with the board. */
#pragma once

#include <gtk/gtk.h>

#include "ds-board-card.h"
#include "ds-station.h"
#include "ds-statistics-window.h"
#include "ds-store.h"
#include "ds-yield-panel.h"

G_BEGIN_DECLS

#define DS_TYPE_WINDOW (ds_window_get_type ())
G_DECLARE_FINAL_TYPE (DsWindow, ds_window, DS, WINDOW, GtkApplicationWindow)

/* @application has DsApplication's properties: "settings", "data-dir",
 * "sim-dir", "simulated-only", "auto-start", "operator", "lot",
 * "demo-boards", "demo-baud" and "timeout-ms". */
DsWindow     *ds_window_new             (GtkApplication *application);
/* Records every job from now on under @operator_id and @lot. */
void          ds_window_sign_in         (DsWindow      *self,
                                         const char    *operator_id,
                                         const char    *lot);
/* Closes every dialog, cancels the jobs (queued ones unstarted) and
 * closes once they are recorded, or after 4 s regardless.  Asks nothing. */
void          ds_window_quit            (DsWindow      *self);
gboolean      ds_window_is_signed_in    (DsWindow      *self);
/* The cards shown, sorted as on screen; transfer container. */
GList        *ds_window_get_cards       (DsWindow      *self);
/* The card of the board on @port_or_name (a port, board name or slot
 * label), or NULL. */
DsBoardCard  *ds_window_find_card       (DsWindow      *self,
                                         const char    *port_or_name);
DsYieldPanel *ds_window_get_yield_panel (DsWindow      *self);
/* NULL when the record store cannot be opened (the window says why). */
DsStore      *ds_window_get_store       (DsWindow      *self);
/* The statistics window while it is open (win.statistics), or NULL. */
DsStatisticsWindow *ds_window_get_statistics (DsWindow *self);
/* NULL until the operator signed in. */
DsStation    *ds_window_get_station     (DsWindow      *self);
/* TRUE while the station for the next job is built (in a thread): a
 * board started meanwhile waits for it. */
gboolean      ds_window_is_preparing_station (DsWindow *self);
/* The message shown in the window's error bar, or NULL. */
const char   *ds_window_get_error       (DsWindow      *self);
/* How many times the window has beeped (one a pass, two a failure, with
 * the "sound" setting on). */
guint         ds_window_get_n_beeps     (DsWindow      *self);
/* "14 passed · 2 to set aside (A3, B1)" once every board of the last
 * Start All has a verdict; NULL before. */
const char   *ds_window_get_batch_summary (DsWindow    *self);
/* The empty slots shown (DsSlotPlaceholder), in no order; transfer container. */
GList        *ds_window_get_placeholders (DsWindow     *self);
GtkFlowBox   *ds_window_get_flow_box    (DsWindow      *self);

G_END_DECLS

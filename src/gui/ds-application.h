/* The GTK application: command-line options, settings, accelerators and the
 * application-wide actions. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_APPLICATION (ds_application_get_type ())
G_DECLARE_FINAL_TYPE (DsApplication, ds_application, DS, APPLICATION, GtkApplication)

DsApplication *ds_application_new               (void);
GSettings     *ds_application_get_settings      (DsApplication *self);
/* Where records, the test PKI and issued certificates live. */
const char    *ds_application_get_data_dir      (DsApplication *self);
/* The simulator announce directory; NULL for the default. */
const char    *ds_application_get_sim_dir       (DsApplication *self);
/* TRUE when only simulated boards are watched (no serial ports). */
gboolean       ds_application_get_simulated_only (DsApplication *self);
/* TRUE when boards start as soon as they appear for this run, whatever the
 * auto-start setting says. */
gboolean       ds_application_get_auto_start    (DsApplication *self);
/* Operator and lot given on the command line, or NULL. */
const char    *ds_application_get_operator      (DsApplication *self);
const char    *ds_application_get_lot           (DsApplication *self);
/* Simulated boards to add at start-up; 0 for none. */
guint          ds_application_get_demo_boards   (DsApplication *self);
/* The simulated UART speed for this run; -1 to use the setting. */
int            ds_application_get_demo_baud     (DsApplication *self);
/* The per-command answer timeout in ms for this run; -1 to use the setting. */
int            ds_application_get_timeout_ms    (DsApplication *self);

G_END_DECLS

/* Preferences: CA, trust, firmware, product IDs, concurrency, auto-start,
 * sound and the demo, all stored in GSettings. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_PREFERENCES_DIALOG (ds_preferences_dialog_get_type ())
G_DECLARE_FINAL_TYPE (DsPreferencesDialog, ds_preferences_dialog, DS, PREFERENCES_DIALOG, GtkDialog)

DsPreferencesDialog *ds_preferences_dialog_new (GtkWindow  *parent,
                                                GSettings  *settings,
                                                const char *data_dir);
/* TRUE while a production profile's settings wait for an engineer to
 * unlock them. */
gboolean             ds_preferences_dialog_get_locked (DsPreferencesDialog *self);

G_END_DECLS

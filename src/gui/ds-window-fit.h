/* Windows fit the screen they open on. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* @width x @height, at most the workarea of the monitor @window opens on
 * (its transient parent's, or the primary one). */
void ds_window_fit_default_size (GtkWindow *window,
                                 int        width,
                                 int        height);

G_END_DECLS

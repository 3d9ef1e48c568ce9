/* Identify in the GUI: the Identify buttons of the board card and the
 * details dialog, and the brief highlight of a card whose board was just
 * plugged into its slot. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* The style class of a card whose board was just plugged in. */
#define DS_JUST_PLUGGED_CLASS "just-plugged"
/* How long that highlight lasts. */
#define DS_JUST_PLUGGED_SECONDS 4

/* Why the board on @port cannot be identified now, or NULL when it can:
 * a board that is not plugged in, or one whose job is queued or running
 * (Identify never talks over a job). */
const char *ds_identify_why_not          (gboolean    connected,
                                          gboolean    job_active);
/* Points @button at win.identify for @port, or, with @why_not, leaves it
 * insensitive with @why_not as its tooltip. */
void        ds_identify_button_update    (GtkWidget  *button,
                                          const char *port,
                                          const char *why_not);
/* Adds DS_JUST_PLUGGED_CLASS to @widget and takes it off again after
 * DS_JUST_PLUGGED_SECONDS (sooner never: a second plug-in restarts the
 * time). */
void        ds_identify_highlight_plugged (GtkWidget *widget);

G_END_DECLS

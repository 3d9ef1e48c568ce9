/* Identify in the GUI: button state and the just-plugged highlight. */
#include "config.h"

#include "ds-identify-ui.h"
#include "ds-tooltip.h"

#include <glib/gi18n.h>

#define HIGHLIGHT_KEY "ds-just-plugged-source"

const char *
ds_identify_why_not (gboolean connected,
                     gboolean job_active)
{
  if (!connected)
    return _("The board is not plugged in");
  if (job_active)
    return _("The board is being provisioned: Identify waits until its job has ended");
  return NULL;
}

void
ds_identify_button_update (GtkWidget  *button,
                           const char *port,
                           const char *why_not)
{
  /* A disabled action would grey out every board's button; one board's
   * busy-ness is its button's alone, so a busy button has no action. */
  if (why_not != NULL)
    {
      gtk_actionable_set_action_name (GTK_ACTIONABLE (button), NULL);
      gtk_widget_set_sensitive (button, FALSE);
      ds_tooltip_set_text (button, why_not);
      return;
    }
  gtk_actionable_set_action_target_value (GTK_ACTIONABLE (button), g_variant_new_string (port));
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "win.identify");
  /* The action helper only reports a change of the action's state, and
   * the action stayed enabled while the button had none. */
  gtk_widget_set_sensitive (button, TRUE);
  ds_tooltip_set_text (button, _("Blink the board’s LED, to find it on the fixture"));
}

static gboolean
highlight_done_cb (gpointer data)
{
  GtkWidget *widget = data;

  gtk_style_context_remove_class (gtk_widget_get_style_context (widget), DS_JUST_PLUGGED_CLASS);
  /* The source ends here: forget it without removing it. */
  g_object_steal_data (G_OBJECT (widget), HIGHLIGHT_KEY);
  return G_SOURCE_REMOVE;
}

static void
remove_source (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

void
ds_identify_highlight_plugged (GtkWidget *widget)
{
  guint id;

  gtk_style_context_add_class (gtk_widget_get_style_context (widget), DS_JUST_PLUGGED_CLASS);
  /* Replacing the data removes an earlier timeout; finalizing the widget
   * removes this one. */
  id = g_timeout_add_seconds (DS_JUST_PLUGGED_SECONDS, highlight_done_cb, widget);
  g_object_set_data_full (G_OBJECT (widget), HIGHLIGHT_KEY, GUINT_TO_POINTER (id), remove_source);
}

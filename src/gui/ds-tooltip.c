/* Tooltips set only when they change: see ds-tooltip.h. */
#include "config.h"

#include "ds-tooltip.h"

void
ds_tooltip_set_text (GtkWidget  *widget,
                     const char *text)
{
  g_autofree char *current = NULL;

  g_return_if_fail (GTK_IS_WIDGET (widget));

  current = gtk_widget_get_tooltip_text (widget);
  if (g_strcmp0 (current, text) == 0)
    return;
  gtk_widget_set_tooltip_text (widget, text);
}

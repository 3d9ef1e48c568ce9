/* Windows fit the screen they open on: a default size larger than the
 * monitor's workarea puts buttons off screen on a 1280x800 panel. */
#include "config.h"

#include "ds-window-fit.h"

static GdkMonitor *
monitor_for (GtkWindow *window)
{
  GtkWindow *parent = gtk_window_get_transient_for (window);
  GdkDisplay *display = gtk_widget_get_display (GTK_WIDGET (window));
  GdkMonitor *monitor = NULL;

  if (parent != NULL && gtk_widget_get_window (GTK_WIDGET (parent)) != NULL)
    monitor = gdk_display_get_monitor_at_window (display, gtk_widget_get_window (GTK_WIDGET (parent)));
  if (monitor == NULL)
    monitor = gdk_display_get_primary_monitor (display);
  if (monitor == NULL && gdk_display_get_n_monitors (display) > 0)
    monitor = gdk_display_get_monitor (display, 0);
  return monitor;
}

void
ds_window_fit_default_size (GtkWindow *window,
                            int        width,
                            int        height)
{
  GdkMonitor *monitor = monitor_for (window);

  if (monitor != NULL)
    {
      GdkRectangle area;

      gdk_monitor_get_workarea (monitor, &area);
      if (area.width > 0)
        width = MIN (width, area.width);
      if (area.height > 0)
        height = MIN (height, area.height);
    }
  gtk_window_set_default_size (window, width, height);
}

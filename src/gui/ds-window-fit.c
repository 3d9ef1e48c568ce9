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

/* Once the window has its surface: what the default size leaves out (a
 * client-side title bar and frame) may still push it over the edge. */
static void
realize_cb (GtkWidget *widget,
            gpointer   user_data)
{
  GdkWindow *gdk_window = gtk_widget_get_window (widget);
  GdkMonitor *monitor;
  GdkRectangle area;
  int over_w, over_h;

  g_signal_handlers_disconnect_by_func (widget, realize_cb, user_data);
  if (gdk_window == NULL || gtk_window_is_maximized (GTK_WINDOW (widget)))
    return;
  monitor = gdk_display_get_monitor_at_window (gtk_widget_get_display (widget), gdk_window);
  if (monitor == NULL)
    return;
  gdk_monitor_get_workarea (monitor, &area);
  over_w = gdk_window_get_width (gdk_window) - area.width;
  over_h = gdk_window_get_height (gdk_window) - area.height;
  if (over_w > 0 || over_h > 0)
    {
      int width, height;

      gtk_window_get_size (GTK_WINDOW (widget), &width, &height);
      gtk_window_resize (GTK_WINDOW (widget), MAX (1, width - MAX (over_w, 0)), MAX (1, height - MAX (over_h, 0)));
    }
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
  g_signal_handlers_disconnect_by_func (window, realize_cb, NULL);
  g_signal_connect_after (window, "realize", G_CALLBACK (realize_cb), NULL);
}

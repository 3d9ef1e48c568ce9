/* Tooltips set only when they change. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* gtk_widget_set_tooltip_text(), unless @widget's tooltip already says
 * @text (NULL: none).  GTK 3 answers every set, even of the same text, by
 * asking the X server where the pointer is, three round trips that wait
 * for it to draw everything sent before: a card sets its buttons'
 * tooltips each time it renders its job. */
void ds_tooltip_set_text (GtkWidget  *widget,
                          const char *text);

G_END_DECLS

/* A small bar chart drawn with cairo: labelled bars, horizontal (one row
 * per category) or vertical (one column per time bucket).  Colours come
 * from the stylesheet, text is laid out with Pango. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_BAR_CHART (ds_bar_chart_get_type ())
G_DECLARE_FINAL_TYPE (DsBarChart, ds_bar_chart, DS, BAR_CHART, GtkDrawingArea)

GtkWidget  *ds_bar_chart_new            (void);
/* GTK_ORIENTATION_HORIZONTAL: bars grow to the right, labels on the left;
 * VERTICAL: columns grow upwards, labels under them. */
void        ds_bar_chart_set_orientation (DsBarChart     *self,
                                          GtkOrientation  orientation);
/* Shown instead of the bars when there are none. */
void        ds_bar_chart_set_empty_text (DsBarChart     *self,
                                         const char     *text);
void        ds_bar_chart_clear          (DsBarChart     *self);
/* Adds a bar of @value, named @label, with @value_text written at its end
 * (NULL: the value as a whole number). */
void        ds_bar_chart_append         (DsBarChart     *self,
                                         const char     *label,
                                         double          value,
                                         const char     *value_text);

guint       ds_bar_chart_get_n_bars     (DsBarChart     *self);
const char *ds_bar_chart_get_label      (DsBarChart     *self,
                                         guint           index);
double      ds_bar_chart_get_value      (DsBarChart     *self,
                                         guint           index);

G_END_DECLS

/* A bar chart on a GtkDrawingArea.  Every colour is the stylesheet's: the
 * widget's CSS node is "barchart", and the bars, grid, axis labels and value
 * texts are drawn with the classes .bar, .grid, .axis and .value added to
 * it for the time they are drawn. */
#include "config.h"

#include "ds-bar-chart.h"

#include <math.h>

#define ROW_HEIGHT      30   /* horizontal: per bar, at most */
#define MAX_COLUMN      56   /* vertical: the widest column */
#define MIN_HEIGHT      120
#define GAP             8
#define MAX_LABEL_SHARE 0.4  /* of the width, for the labels left of the bars */

typedef struct {
  char   *label;
  char   *value_text;
  double  value;
} Bar;

struct _DsBarChart
{
  GtkDrawingArea  parent_instance;

  GtkOrientation  orientation;
  GArray         *bars;        /* Bar */
  char           *empty_text;
};

G_DEFINE_FINAL_TYPE_WITH_CODE (DsBarChart, ds_bar_chart, GTK_TYPE_DRAWING_AREA,
                               G_IMPLEMENT_INTERFACE (GTK_TYPE_ORIENTABLE, NULL))

enum {
  PROP_0,
  PROP_EMPTY_TEXT,
  N_PROPS,
  PROP_ORIENTATION = N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
bar_clear (Bar *bar)
{
  g_free (bar->label);
  g_free (bar->value_text);
}

static void
ds_bar_chart_finalize (GObject *object)
{
  DsBarChart *self = DS_BAR_CHART (object);

  g_array_unref (self->bars);
  g_free (self->empty_text);
  G_OBJECT_CLASS (ds_bar_chart_parent_class)->finalize (object);
}

/* ---- drawing ------------------------------------------------------------ */

static PangoLayout *
make_layout (DsBarChart *self,
             const char *text)
{
  return gtk_widget_create_pango_layout (GTK_WIDGET (self), text);
}

static int
text_width (DsBarChart *self,
            const char *text)
{
  g_autoptr(PangoLayout) layout = make_layout (self, text);
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return w;
}

static int
text_height (DsBarChart *self)
{
  g_autoptr(PangoLayout) layout = make_layout (self, "0");
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  return h;
}

/* Draws @text with the style of @css_class (NULL: the widget's own). */
static void
draw_text (DsBarChart  *self,
           cairo_t     *cr,
           const char  *css_class,
           PangoLayout *layout,
           double       x,
           double       y)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  gtk_style_context_save (context);
  if (css_class != NULL)
    gtk_style_context_add_class (context, css_class);
  gtk_render_layout (context, cr, x, y, layout);
  gtk_style_context_restore (context);
}

static void
draw_bar (DsBarChart *self,
          cairo_t    *cr,
          double      x,
          double      y,
          double      w,
          double      h)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));

  if (w <= 0 || h <= 0)
    return;
  gtk_style_context_save (context);
  gtk_style_context_add_class (context, "bar");
  gtk_render_background (context, cr, x, y, w, h);
  gtk_render_frame (context, cr, x, y, w, h);
  gtk_style_context_restore (context);
}

static void
draw_hline (DsBarChart *self,
            cairo_t    *cr,
            double      x0,
            double      x1,
            double      y)
{
  GtkStyleContext *context = gtk_widget_get_style_context (GTK_WIDGET (self));
  GdkRGBA color;

  gtk_style_context_save (context);
  gtk_style_context_add_class (context, "grid");
  gtk_style_context_get_color (context, gtk_style_context_get_state (context), &color);
  gtk_style_context_restore (context);
  cairo_save (cr);
  gdk_cairo_set_source_rgba (cr, &color);
  cairo_set_line_width (cr, 1);
  cairo_move_to (cr, x0, floor (y) + 0.5);
  cairo_line_to (cr, x1, floor (y) + 0.5);
  cairo_stroke (cr);
  cairo_restore (cr);
}

static double
max_value (DsBarChart *self)
{
  double max = 0;

  for (guint i = 0; i < self->bars->len; i++)
    max = MAX (max, g_array_index (self->bars, Bar, i).value);
  return max;
}

/* 1, 2 or 5 times a power of ten, at least @v: the top of the axis. */
static double
nice_ceil (double v)
{
  double p;

  if (v <= 0)
    return 1;
  p = pow (10, floor (log10 (v)));
  if (v <= p)
    return p;
  if (v <= 2 * p)
    return 2 * p;
  if (v <= 5 * p)
    return 5 * p;
  return 10 * p;
}

static void
draw_empty (DsBarChart *self,
            cairo_t    *cr,
            int         width,
            int         height)
{
  g_autoptr(PangoLayout) layout = make_layout (self, self->empty_text != NULL ? self->empty_text : "");
  int w, h;

  pango_layout_get_pixel_size (layout, &w, &h);
  draw_text (self, cr, "empty", layout, (width - w) / 2.0, (height - h) / 2.0);
}

static void
draw_horizontal (DsBarChart *self,
                 cairo_t    *cr,
                 int         width,
                 int         height)
{
  guint n = self->bars->len;
  double row = MIN ((double) height / n, ROW_HEIGHT);
  double thickness = row * 0.62;
  int label_w = 0, value_w = 0;
  double bar_x, bar_room, max = max_value (self);
  int th = text_height (self);

  for (guint i = 0; i < n; i++)
    {
      Bar *bar = &g_array_index (self->bars, Bar, i);

      label_w = MAX (label_w, text_width (self, bar->label));
      value_w = MAX (value_w, text_width (self, bar->value_text));
    }
  label_w = MIN (label_w, (int) (width * MAX_LABEL_SHARE));
  bar_x = label_w + GAP;
  bar_room = width - bar_x - GAP - value_w;

  for (guint i = 0; i < n; i++)
    {
      Bar *bar = &g_array_index (self->bars, Bar, i);
      g_autoptr(PangoLayout) label = make_layout (self, bar->label);
      g_autoptr(PangoLayout) value = make_layout (self, bar->value_text);
      double y = i * row;
      double length = max > 0 ? bar_room * bar->value / max : 0;

      pango_layout_set_width (label, label_w * PANGO_SCALE);
      pango_layout_set_ellipsize (label, PANGO_ELLIPSIZE_END);
      pango_layout_set_alignment (label, PANGO_ALIGN_RIGHT);
      draw_text (self, cr, NULL, label, 0, y + (row - th) / 2);
      /* A sliver even for a tiny value, so that the row is not read as 0. */
      if (bar->value > 0)
        length = MAX (length, 2);
      draw_bar (self, cr, bar_x, y + (row - thickness) / 2, length, thickness);
      draw_text (self, cr, "value", value, bar_x + length + GAP / 2.0, y + (row - th) / 2);
    }
}

static void
draw_vertical (DsBarChart *self,
               cairo_t    *cr,
               int         width,
               int         height)
{
  guint n = self->bars->len;
  int th = text_height (self);
  double top = nice_ceil (max_value (self));
  g_autofree char *top_text = g_strdup_printf ("%g", top);
  g_autofree char *mid_text = g_strdup_printf ("%g", top / 2);
  int axis_w = MAX (text_width (self, top_text), text_width (self, mid_text)) + GAP;
  double plot_x = axis_w, plot_y = th + 4, plot_w = width - axis_w, plot_h = height - plot_y - th - 6;
  double col = plot_w / n, thickness = CLAMP (col * 0.7, 1, MAX_COLUMN);
  int label_w = 0;
  guint every;

  if (plot_h <= 0 || plot_w <= 0)
    return;

  /* Grid lines at 0, half and the top, with their values on the left. */
  for (int k = 0; k <= 2; k++)
    {
      double y = plot_y + plot_h - plot_h * k / 2.0;
      g_autoptr(PangoLayout) tick = make_layout (self, k == 0 ? "0" : k == 1 ? mid_text : top_text);
      int w, h;

      pango_layout_get_pixel_size (tick, &w, &h);
      draw_hline (self, cr, plot_x, width, y);
      draw_text (self, cr, "axis", tick, axis_w - GAP - w, y - h / 2.0);
    }

  /* Labels under the columns, as many as fit side by side. */
  for (guint i = 0; i < n; i++)
    label_w = MAX (label_w, text_width (self, g_array_index (self->bars, Bar, i).label));
  every = (guint) ceil ((label_w + GAP) / col);
  every = MAX (every, 1);

  for (guint i = 0; i < n; i++)
    {
      Bar *bar = &g_array_index (self->bars, Bar, i);
      double h = plot_h * bar->value / top;
      double x = plot_x + i * col + (col - thickness) / 2;

      if (bar->value > 0)
        h = MAX (h, 2);
      draw_bar (self, cr, x, plot_y + plot_h - h, thickness, h);
      if (bar->value > 0 && text_width (self, bar->value_text) <= col)
        {
          g_autoptr(PangoLayout) value = make_layout (self, bar->value_text);
          int w, lh;

          pango_layout_get_pixel_size (value, &w, &lh);
          draw_text (self, cr, "value", value, plot_x + i * col + (col - w) / 2, plot_y + plot_h - h - lh - 2);
        }
      if (i % every == 0)
        {
          g_autoptr(PangoLayout) label = make_layout (self, bar->label);
          int w, lh;

          pango_layout_get_pixel_size (label, &w, &lh);
          draw_text (self, cr, "axis", label,
                     CLAMP (plot_x + i * col + (col - w) / 2, 0, width - w), plot_y + plot_h + 4);
        }
    }
}

static gboolean
ds_bar_chart_draw (GtkWidget *widget,
                   cairo_t   *cr)
{
  DsBarChart *self = DS_BAR_CHART (widget);
  GtkStyleContext *context = gtk_widget_get_style_context (widget);
  int width = gtk_widget_get_allocated_width (widget);
  int height = gtk_widget_get_allocated_height (widget);
  GtkBorder padding;

  gtk_render_background (context, cr, 0, 0, width, height);
  gtk_render_frame (context, cr, 0, 0, width, height);
  gtk_style_context_get_padding (context, gtk_style_context_get_state (context), &padding);
  cairo_save (cr);
  cairo_translate (cr, padding.left, padding.top);
  width -= padding.left + padding.right;
  height -= padding.top + padding.bottom;
  if (self->bars->len == 0)
    draw_empty (self, cr, width, height);
  else if (self->orientation == GTK_ORIENTATION_HORIZONTAL)
    draw_horizontal (self, cr, width, height);
  else
    draw_vertical (self, cr, width, height);
  cairo_restore (cr);
  return GDK_EVENT_PROPAGATE;
}

static void
ds_bar_chart_get_preferred_height (GtkWidget *widget,
                                   int       *minimum,
                                   int       *natural)
{
  DsBarChart *self = DS_BAR_CHART (widget);
  int rows = self->orientation == GTK_ORIENTATION_HORIZONTAL ? (int) self->bars->len : 0;

  *minimum = MIN_HEIGHT;
  if (self->orientation == GTK_ORIENTATION_HORIZONTAL)
    *natural = MAX (MIN_HEIGHT, rows * ROW_HEIGHT + 12);
  else
    *natural = 2 * MIN_HEIGHT;
}

static void
ds_bar_chart_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  DsBarChart *self = DS_BAR_CHART (object);

  switch (prop_id)
    {
    case PROP_EMPTY_TEXT: g_value_set_string (value, self->empty_text); break;
    case PROP_ORIENTATION: g_value_set_enum (value, self->orientation); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_bar_chart_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  DsBarChart *self = DS_BAR_CHART (object);

  switch (prop_id)
    {
    case PROP_EMPTY_TEXT: ds_bar_chart_set_empty_text (self, g_value_get_string (value)); break;
    case PROP_ORIENTATION: ds_bar_chart_set_orientation (self, g_value_get_enum (value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_bar_chart_class_init (DsBarChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ds_bar_chart_finalize;
  object_class->get_property = ds_bar_chart_get_property;
  object_class->set_property = ds_bar_chart_set_property;

  properties[PROP_EMPTY_TEXT] =
    g_param_spec_string ("empty-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
  g_object_class_override_property (object_class, PROP_ORIENTATION, "orientation");

  widget_class->draw = ds_bar_chart_draw;
  widget_class->get_preferred_height = ds_bar_chart_get_preferred_height;
  gtk_widget_class_set_css_name (widget_class, "barchart");
  gtk_widget_class_set_accessible_role (widget_class, ATK_ROLE_CHART);
}

static void
ds_bar_chart_init (DsBarChart *self)
{
  self->orientation = GTK_ORIENTATION_HORIZONTAL;
  self->bars = g_array_new (FALSE, TRUE, sizeof (Bar));
  g_array_set_clear_func (self->bars, (GDestroyNotify) bar_clear);
}

/* ---- data --------------------------------------------------------------- */

/* Screen readers get the figures the picture shows. */
static void
update_accessible (DsBarChart *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; i < self->bars->len; i++)
    {
      Bar *bar = &g_array_index (self->bars, Bar, i);

      if (i > 0)
        g_string_append (text, "; ");
      g_string_append_printf (text, "%s: %s", bar->label, bar->value_text);
    }
  if (self->bars->len == 0 && self->empty_text != NULL)
    g_string_append (text, self->empty_text);
  atk_object_set_description (gtk_widget_get_accessible (GTK_WIDGET (self)), text->str);
}

GtkWidget *
ds_bar_chart_new (void)
{
  return g_object_new (DS_TYPE_BAR_CHART, NULL);
}

void
ds_bar_chart_set_orientation (DsBarChart     *self,
                              GtkOrientation  orientation)
{
  g_return_if_fail (DS_IS_BAR_CHART (self));

  if (self->orientation == orientation)
    return;
  self->orientation = orientation;
  gtk_widget_queue_resize (GTK_WIDGET (self));
  g_object_notify (G_OBJECT (self), "orientation");
}

void
ds_bar_chart_set_empty_text (DsBarChart *self,
                             const char *text)
{
  g_return_if_fail (DS_IS_BAR_CHART (self));

  if (g_strcmp0 (self->empty_text, text) == 0)
    return;
  g_free (self->empty_text);
  self->empty_text = g_strdup (text);
  update_accessible (self);
  gtk_widget_queue_draw (GTK_WIDGET (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMPTY_TEXT]);
}

void
ds_bar_chart_clear (DsBarChart *self)
{
  g_return_if_fail (DS_IS_BAR_CHART (self));

  g_array_set_size (self->bars, 0);
  update_accessible (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

void
ds_bar_chart_append (DsBarChart *self,
                     const char *label,
                     double      value,
                     const char *value_text)
{
  Bar bar;

  g_return_if_fail (DS_IS_BAR_CHART (self));

  bar.label = g_strdup (label != NULL ? label : "");
  bar.value = MAX (value, 0);
  bar.value_text = value_text != NULL ? g_strdup (value_text) : g_strdup_printf ("%.0f", value);
  g_array_append_val (self->bars, bar);
  update_accessible (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint
ds_bar_chart_get_n_bars (DsBarChart *self)
{
  g_return_val_if_fail (DS_IS_BAR_CHART (self), 0);

  return self->bars->len;
}

const char *
ds_bar_chart_get_label (DsBarChart *self,
                        guint       index)
{
  g_return_val_if_fail (DS_IS_BAR_CHART (self), NULL);
  g_return_val_if_fail (index < self->bars->len, NULL);

  return g_array_index (self->bars, Bar, index).label;
}

double
ds_bar_chart_get_value (DsBarChart *self,
                        guint       index)
{
  g_return_val_if_fail (DS_IS_BAR_CHART (self), 0);
  g_return_val_if_fail (index < self->bars->len, 0);

  return g_array_index (self->bars, Bar, index).value;
}

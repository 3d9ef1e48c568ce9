/* A card's step list, drawn by one widget.  It used to be eight rows of an
 * icon stack (image and spinner) and a label each: 40 widgets a card, eight
 * templates to build, and CSS nodes that GTK restyled and laid out again
 * whenever a step moved on.  Drawn, a step that moves on costs a redraw of
 * its row, and the strip's size never changes with what it shows. */
#include "config.h"

#include "ds-step-strip.h"

#include <glib/gi18n.h>

#define ICON_SIZE    16
#define ICON_GAP     8   /* between a step's icon and its name */
#define ROW_SPACING  1
#define SPIN_STEPS   12  /* positions of the spinning icon a turn */
#define SPIN_PERIOD  (G_USEC_PER_SEC)

typedef enum {
  OUTCOME_PENDING,
  OUTCOME_RUNNING,
  OUTCOME_PASS,
  OUTCOME_FAIL,
  OUTCOME_SKIPPED,
  N_OUTCOMES
} Outcome;

struct _DsStepStrip
{
  GtkWidget             parent_instance;

  char                 *outcome[DS_N_STEPS];
  char                 *message[DS_N_STEPS];
  /* The steps' names, plain and bold, made once for the widget's font. */
  PangoLayout          *names[DS_N_STEPS][2];
  PangoFontDescription *font;    /* the names' font */
  int                   row_height;
  guint                 spin_id; /* tick callback while a step runs */
  int                   spin_phase;
};

G_DEFINE_FINAL_TYPE (DsStepStrip, ds_step_strip, GTK_TYPE_WIDGET)

static Outcome
outcome_of (const char *outcome)
{
  if (outcome == NULL)
    return OUTCOME_PENDING;
  if (g_str_equal (outcome, "running"))
    return OUTCOME_RUNNING;
  if (g_str_equal (outcome, "pass"))
    return OUTCOME_PASS;
  if (g_str_equal (outcome, "fail"))
    return OUTCOME_FAIL;
  if (g_str_equal (outcome, "skipped"))
    return OUTCOME_SKIPPED;
  return OUTCOME_PENDING;
}

/* The state of a step in words, for the tooltip and screen readers. */
static const char *
outcome_label (const char *outcome)
{
  if (outcome == NULL)
    /* TRANSLATORS: a provisioning step that has not started */
    return C_("step state", "not started");
  if (g_str_equal (outcome, "running"))
    return C_("step state", "running");
  if (g_str_equal (outcome, "pass"))
    return C_("step state", "passed");
  if (g_str_equal (outcome, "fail"))
    return C_("step state", "failed");
  if (g_str_equal (outcome, "skipped"))
    return C_("step state", "skipped");
  return outcome;
}

static void
clear_names (DsStepStrip *self)
{
  for (DsStep step = 0; step < DS_N_STEPS; step++)
    {
      g_clear_object (&self->names[step][0]);
      g_clear_object (&self->names[step][1]);
    }
  self->row_height = 0;
  g_clear_pointer (&self->font, pango_font_description_free);
}

static void
ensure_names (DsStepStrip *self)
{
  g_autoptr(PangoAttrList) bold = NULL;
  int height = 0;

  if (self->names[0][0] != NULL)
    return;
  gtk_style_context_get (gtk_widget_get_style_context (GTK_WIDGET (self)),
                         gtk_style_context_get_state (gtk_widget_get_style_context (GTK_WIDGET (self))),
                         "font", &self->font, NULL);
  bold = pango_attr_list_new ();
  pango_attr_list_insert (bold, pango_attr_weight_new (PANGO_WEIGHT_BOLD));
  for (DsStep step = 0; step < DS_N_STEPS; step++)
    for (int b = 0; b < 2; b++)
      {
        PangoLayout *layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), ds_step_get_label (step));

        pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
        if (b)
          pango_layout_set_attributes (layout, bold);
        self->names[step][b] = layout;
      }
  pango_layout_get_pixel_size (self->names[0][1], NULL, &height);
  self->row_height = MAX (ICON_SIZE, height);
}

static int
strip_height (DsStepStrip *self)
{
  ensure_names (self);
  return DS_N_STEPS * self->row_height + (DS_N_STEPS - 1) * ROW_SPACING;
}

static void
ds_step_strip_get_preferred_width (GtkWidget *widget,
                                   int       *minimum,
                                   int       *natural)
{
  /* Names are shortened to the card's width; the card sets the width. */
  *minimum = *natural = ICON_SIZE + ICON_GAP;
}

static void
ds_step_strip_get_preferred_height (GtkWidget *widget,
                                    int       *minimum,
                                    int       *natural)
{
  *minimum = *natural = strip_height (DS_STEP_STRIP (widget));
}

static void
ds_step_strip_style_updated (GtkWidget *widget)
{
  DsStepStrip *self = DS_STEP_STRIP (widget);
  int old_height = self->row_height;
  g_autoptr(PangoFontDescription) font = NULL;

  GTK_WIDGET_CLASS (ds_step_strip_parent_class)->style_updated (widget);
  /* The card's restyles reach the strip too: names are made again only
   * when the font changed (colours are taken at each draw). */
  gtk_style_context_get (gtk_widget_get_style_context (widget),
                         gtk_style_context_get_state (gtk_widget_get_style_context (widget)), "font", &font, NULL);
  if (self->font != NULL && pango_font_description_equal (font, self->font))
    {
      gtk_widget_queue_draw (widget);
      return;
    }
  clear_names (self);
  if (old_height != 0 && strip_height (self) != DS_N_STEPS * old_height + (DS_N_STEPS - 1) * ROW_SPACING)
    gtk_widget_queue_resize (widget);
  else
    gtk_widget_queue_draw (widget);
}

/* Draws again a part of the strip, in its own coordinates.  GTK 3 takes
 * the area of a widget without a window of its own in its parent window's
 * coordinates, not from the widget's corner: a step that moved on was
 * drawn again somewhere else, and its row showed its old state until the
 * card as a whole was drawn again. */
static void
queue_draw_part (DsStepStrip *self,
                 int          x,
                 int          y,
                 int          width,
                 int          height)
{
  GtkAllocation allocation = { 0 };

  if (!gtk_widget_get_has_window (GTK_WIDGET (self)))
    gtk_widget_get_allocation (GTK_WIDGET (self), &allocation);
  gtk_widget_queue_draw_area (GTK_WIDGET (self), allocation.x + x, allocation.y + y, width, height);
}

static const char *
icon_name_for (Outcome outcome)
{
  switch (outcome)
    {
    case OUTCOME_RUNNING: return "process-working-symbolic";
    case OUTCOME_PASS: return "object-select-symbolic";
    case OUTCOME_FAIL: return "process-stop-symbolic";
    case OUTCOME_SKIPPED: return "media-skip-forward-symbolic";
    case OUTCOME_PENDING:
    default:
      return "radio-symbolic";
    }
}

/* The few icons every strip draws, by name, colour and scale: loaded once
 * for the process, not at each draw. */
static cairo_surface_t *
lookup_icon (GtkWidget     *widget,
             const char    *name,
             const GdkRGBA *color,
             int            scale)
{
  static GHashTable *icons;
  g_autofree char *rgba = gdk_rgba_to_string (color);
  g_autofree char *key = g_strdup_printf ("%s %s %d", name, rgba, scale);
  GtkIconTheme *theme;
  g_autoptr(GtkIconInfo) info = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  cairo_surface_t *surface;
  GtkWidget *toplevel;

  theme = gtk_icon_theme_get_for_screen (gtk_widget_get_screen (widget));
  if (icons == NULL)
    {
      icons = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cairo_surface_destroy);
      /* Another icon theme: load again. */
      g_signal_connect_swapped (theme, "changed", G_CALLBACK (g_hash_table_remove_all), icons);
    }
  surface = g_hash_table_lookup (icons, key);
  if (surface != NULL)
    return surface;
  info = gtk_icon_theme_lookup_icon_for_scale (theme, name, ICON_SIZE, scale, GTK_ICON_LOOKUP_FORCE_SIZE);
  if (info == NULL)
    return NULL;
  pixbuf = gtk_icon_info_load_symbolic (info, color, NULL, NULL, NULL, NULL, NULL);
  if (pixbuf == NULL)
    return NULL;
  surface = gdk_cairo_surface_create_from_pixbuf (pixbuf, scale, NULL);
  /* Kept where the window draws (a pixmap on the X server), so that
   * drawing the icon does not send its pixels each time. */
  toplevel = gtk_widget_get_toplevel (widget);
  if (gtk_widget_get_realized (toplevel))
    {
      cairo_surface_t *similar = gdk_window_create_similar_surface (gtk_widget_get_window (toplevel),
                                                                    CAIRO_CONTENT_COLOR_ALPHA, ICON_SIZE, ICON_SIZE);
      cairo_t *cr = cairo_create (similar);

      cairo_set_source_surface (cr, surface, 0, 0);
      cairo_set_operator (cr, CAIRO_OPERATOR_SOURCE);
      cairo_paint (cr);
      cairo_destroy (cr);
      cairo_surface_destroy (surface);
      surface = similar;
    }
  g_hash_table_insert (icons, g_steal_pointer (&key), surface);
  return surface;
}

static void
draw_icon (DsStepStrip   *self,
           cairo_t       *cr,
           Outcome        outcome,
           const GdkRGBA *color,
           double         alpha,
           int            x,
           int            y)
{
  cairo_surface_t *surface = lookup_icon (GTK_WIDGET (self), icon_name_for (outcome), color,
                                          gtk_widget_get_scale_factor (GTK_WIDGET (self)));

  if (surface == NULL)
    return;
  cairo_save (cr);
  cairo_translate (cr, x + ICON_SIZE / 2.0, y + ICON_SIZE / 2.0);
  if (outcome == OUTCOME_RUNNING)
    cairo_rotate (cr, 2 * G_PI * self->spin_phase / SPIN_STEPS);
  cairo_set_source_surface (cr, surface, -ICON_SIZE / 2.0, -ICON_SIZE / 2.0);
  cairo_paint_with_alpha (cr, alpha);
  cairo_restore (cr);
}

static const GdkRGBA *
icon_color_for (Outcome        outcome,
                const GdkRGBA *fg,
                const GdkRGBA *pass,
                const GdkRGBA *fail)
{
  return outcome == OUTCOME_PASS ? pass : outcome == OUTCOME_FAIL ? fail : fg;
}

static void
get_colors (DsStepStrip *self,
            GdkRGBA     *fg,
            GdkRGBA     *pass,
            GdkRGBA     *fail)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));

  gtk_style_context_get_color (style, gtk_style_context_get_state (style), fg);
  if (!gtk_style_context_lookup_color (style, "ds_pass_color", pass))
    *pass = *fg;
  if (!gtk_style_context_lookup_color (style, "ds_fail_color", fail))
    *fail = *fg;
}

void
ds_step_strip_prepare (DsStepStrip *self)
{
  GdkRGBA fg, pass, fail;

  g_return_if_fail (DS_IS_STEP_STRIP (self));

  ensure_names (self);
  get_colors (self, &fg, &pass, &fail);
  for (Outcome outcome = 0; outcome < N_OUTCOMES; outcome++)
    lookup_icon (GTK_WIDGET (self), icon_name_for (outcome), icon_color_for (outcome, &fg, &pass, &fail),
                 gtk_widget_get_scale_factor (GTK_WIDGET (self)));
}

static gboolean
ds_step_strip_draw (GtkWidget *widget,
                    cairo_t   *cr)
{
  DsStepStrip *self = DS_STEP_STRIP (widget);
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;
  int width = gtk_widget_get_allocated_width (widget);
  int text_width = MAX (0, width - ICON_SIZE - ICON_GAP);
  GdkRGBA fg, pass, fail;
  GdkRectangle clip;

  ensure_names (self);
  get_colors (self, &fg, &pass, &fail);
  if (!gdk_cairo_get_clip_rectangle (cr, &clip))
    return GDK_EVENT_PROPAGATE;

  for (DsStep step = 0; step < DS_N_STEPS; step++)
    {
      Outcome outcome = outcome_of (self->outcome[step]);
      int y = step * (self->row_height + ROW_SPACING);
      double alpha = outcome == OUTCOME_PENDING ? 0.5 : outcome == OUTCOME_SKIPPED ? 0.65 : 1.0;
      gboolean bold = outcome == OUTCOME_RUNNING || outcome == OUTCOME_FAIL;
      PangoLayout *name = self->names[step][bold];
      const GdkRGBA *icon_color = icon_color_for (outcome, &fg, &pass, &fail);
      const GdkRGBA *text_color = outcome == OUTCOME_FAIL ? &fail : &fg;
      int text_height;

      if (y + self->row_height < clip.y || y > clip.y + clip.height)
        continue;
      draw_icon (self, cr, outcome, icon_color, alpha, rtl ? width - ICON_SIZE : 0,
                 y + (self->row_height - ICON_SIZE) / 2);

      pango_layout_set_width (name, text_width * PANGO_SCALE);
      pango_layout_set_alignment (name, rtl ? PANGO_ALIGN_RIGHT : PANGO_ALIGN_LEFT);
      pango_layout_get_pixel_size (name, NULL, &text_height);
      cairo_save (cr);
      cairo_set_source_rgba (cr, text_color->red, text_color->green, text_color->blue, text_color->alpha * alpha);
      cairo_move_to (cr, rtl ? 0 : ICON_SIZE + ICON_GAP, y + (self->row_height - text_height) / 2);
      pango_cairo_show_layout (cr, name);
      cairo_restore (cr);
    }
  return GDK_EVENT_PROPAGATE;
}

static gboolean
ds_step_strip_query_tooltip (GtkWidget  *widget,
                             int         x,
                             int         y,
                             gboolean    keyboard_mode,
                             GtkTooltip *tooltip)
{
  DsStepStrip *self = DS_STEP_STRIP (widget);
  g_autofree char *text = NULL;
  int step;
  GdkRectangle area;

  ensure_names (self);
  step = keyboard_mode ? 0 : y / (self->row_height + ROW_SPACING);
  if (step < 0 || step >= DS_N_STEPS)
    return FALSE;
  text = ds_step_strip_dup_tooltip (self, step);
  gtk_tooltip_set_text (tooltip, text);
  area.x = 0;
  area.y = step * (self->row_height + ROW_SPACING);
  area.width = gtk_widget_get_allocated_width (widget);
  area.height = self->row_height;
  gtk_tooltip_set_tip_area (tooltip, &area);
  return TRUE;
}

/* The running step's icon turns, a twelfth of a turn at a time, and only
 * its square is drawn again. */
static gboolean
spin_cb (GtkWidget     *widget,
         GdkFrameClock *clock,
         gpointer       user_data)
{
  DsStepStrip *self = DS_STEP_STRIP (widget);
  int phase = (gdk_frame_clock_get_frame_time (clock) % SPIN_PERIOD) * SPIN_STEPS / SPIN_PERIOD;
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;

  if (phase == self->spin_phase)
    return G_SOURCE_CONTINUE;
  self->spin_phase = phase;
  for (DsStep step = 0; step < DS_N_STEPS; step++)
    if (outcome_of (self->outcome[step]) == OUTCOME_RUNNING)
      queue_draw_part (self, rtl ? gtk_widget_get_allocated_width (widget) - ICON_SIZE : 0,
                       step * (self->row_height + ROW_SPACING) + (self->row_height - ICON_SIZE) / 2,
                       ICON_SIZE, ICON_SIZE);
  return G_SOURCE_CONTINUE;
}

static void
update_spinning (DsStepStrip *self)
{
  gboolean running = FALSE;
  gboolean animate = TRUE;

  for (DsStep step = 0; step < DS_N_STEPS; step++)
    running |= outcome_of (self->outcome[step]) == OUTCOME_RUNNING;
  g_object_get (gtk_widget_get_settings (GTK_WIDGET (self)), "gtk-enable-animations", &animate, NULL);
  if (running && animate && self->spin_id == 0)
    self->spin_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), spin_cb, NULL, NULL);
  else if ((!running || !animate) && self->spin_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->spin_id);
      self->spin_id = 0;
    }
}

static void
update_accessible (DsStepStrip *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  for (DsStep step = 0; step < DS_N_STEPS; step++)
    {
      if (text->len > 0)
        g_string_append (text, "; ");
      /* TRANSLATORS: a step and its state, e.g. "Install: passed" */
      g_string_append_printf (text, _("%s: %s"), ds_step_get_label (step), outcome_label (self->outcome[step]));
    }
  atk_object_set_description (gtk_widget_get_accessible (GTK_WIDGET (self)), text->str);
}

static void
ds_step_strip_dispose (GObject *object)
{
  DsStepStrip *self = DS_STEP_STRIP (object);

  if (self->spin_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->spin_id);
      self->spin_id = 0;
    }
  clear_names (self);
  G_OBJECT_CLASS (ds_step_strip_parent_class)->dispose (object);
}

static void
ds_step_strip_finalize (GObject *object)
{
  DsStepStrip *self = DS_STEP_STRIP (object);

  for (DsStep step = 0; step < DS_N_STEPS; step++)
    {
      g_free (self->outcome[step]);
      g_free (self->message[step]);
    }
  G_OBJECT_CLASS (ds_step_strip_parent_class)->finalize (object);
}

static void
ds_step_strip_class_init (DsStepStripClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_step_strip_dispose;
  object_class->finalize = ds_step_strip_finalize;
  widget_class->get_preferred_width = ds_step_strip_get_preferred_width;
  widget_class->get_preferred_height = ds_step_strip_get_preferred_height;
  widget_class->style_updated = ds_step_strip_style_updated;
  widget_class->draw = ds_step_strip_draw;
  widget_class->query_tooltip = ds_step_strip_query_tooltip;
  gtk_widget_class_set_css_name (widget_class, "stepstrip");
}

static void
ds_step_strip_init (DsStepStrip *self)
{
  gtk_widget_set_has_window (GTK_WIDGET (self), FALSE);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  gtk_style_context_add_class (gtk_widget_get_style_context (GTK_WIDGET (self)), "step-strip");
  /* TRANSLATORS: what a screen reader calls a card's list of steps */
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), _("Steps"));
  update_accessible (self);
}

GtkWidget *
ds_step_strip_new (void)
{
  return g_object_new (DS_TYPE_STEP_STRIP, NULL);
}

void
ds_step_strip_set_outcome (DsStepStrip *self,
                           DsStep       step,
                           const char  *outcome,
                           const char  *message)
{
  g_return_if_fail (DS_IS_STEP_STRIP (self));
  g_return_if_fail (step < DS_N_STEPS);

  if (g_strcmp0 (outcome, self->outcome[step]) == 0 && g_strcmp0 (message, self->message[step]) == 0)
    return;
  if (g_strcmp0 (outcome, self->outcome[step]) != 0)
    {
      g_free (self->outcome[step]);
      self->outcome[step] = g_strdup (outcome);
      update_spinning (self);
      update_accessible (self);
      if (self->row_height > 0)
        queue_draw_part (self, 0, step * (self->row_height + ROW_SPACING),
                         gtk_widget_get_allocated_width (GTK_WIDGET (self)), self->row_height);
      else
        gtk_widget_queue_draw (GTK_WIDGET (self));
    }
  g_free (self->message[step]);
  self->message[step] = g_strdup (message);
}

const char *
ds_step_strip_get_outcome (DsStepStrip *self,
                           DsStep       step)
{
  g_return_val_if_fail (DS_IS_STEP_STRIP (self), NULL);
  g_return_val_if_fail (step < DS_N_STEPS, NULL);

  return self->outcome[step];
}

char *
ds_step_strip_dup_tooltip (DsStepStrip *self,
                           DsStep       step)
{
  const char *message;
  g_autofree char *state = NULL;

  g_return_val_if_fail (DS_IS_STEP_STRIP (self), NULL);
  g_return_val_if_fail (step < DS_N_STEPS, NULL);

  message = self->message[step];
  /* TRANSLATORS: a step and its state, e.g. "Install: passed" */
  state = g_strdup_printf (_("%s: %s"), ds_step_get_label (step), outcome_label (self->outcome[step]));
  if (message != NULL && *message != '\0')
    return g_strdup_printf ("%s\n%s", state, message);
  return g_steal_pointer (&state);
}

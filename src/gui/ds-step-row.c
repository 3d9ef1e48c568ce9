/* A step of a card's step list. */
#include "config.h"

#include "ds-step-row.h"

#include <glib/gi18n.h>

struct _DsStepRow
{
  GtkBox     parent_instance;

  GtkStack  *icon_stack;
  GtkImage  *icon;
  GtkWidget *spinner;
  GtkLabel  *label;

  DsStep     step;
  char      *outcome;
  char      *message;
  gboolean   shown;     /* outcome and message are on screen */
};

G_DEFINE_FINAL_TYPE (DsStepRow, ds_step_row, GTK_TYPE_BOX)

static const char *const outcome_classes[] = { "pending", "running", "pass", "fail", "skipped" };

static void
ds_step_row_finalize (GObject *object)
{
  DsStepRow *self = DS_STEP_ROW (object);

  g_free (self->outcome);
  g_free (self->message);
  G_OBJECT_CLASS (ds_step_row_parent_class)->finalize (object);
}

static void
ds_step_row_class_init (DsStepRowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = ds_step_row_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-step-row.ui");
  gtk_widget_class_bind_template_child (widget_class, DsStepRow, icon_stack);
  gtk_widget_class_bind_template_child (widget_class, DsStepRow, icon);
  gtk_widget_class_bind_template_child (widget_class, DsStepRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, DsStepRow, label);
}

static void
ds_step_row_init (DsStepRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
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

void
ds_step_row_set_outcome (DsStepRow  *self,
                         const char *outcome,
                         const char *message)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));
  const char *cls = outcome != NULL ? outcome : "pending";
  const char *icon_name = "radio-symbolic";
  g_autofree char *accessible = NULL;
  g_autofree char *tooltip = NULL;

  /* A card refreshes all its rows on every change of its job: touching
   * style classes makes GTK restyle and relayout, so do it only when
   * something changed. */
  if (self->shown && g_strcmp0 (outcome, self->outcome) == 0 && g_strcmp0 (message, self->message) == 0)
    return;
  self->shown = TRUE;
  g_free (self->outcome);
  self->outcome = g_strdup (outcome);
  g_free (self->message);
  self->message = g_strdup (message);

  for (gsize i = 0; i < G_N_ELEMENTS (outcome_classes); i++)
    gtk_style_context_remove_class (style, outcome_classes[i]);
  gtk_style_context_add_class (style, cls);

  if (g_strcmp0 (outcome, "pass") == 0)
    icon_name = "object-select-symbolic";
  else if (g_strcmp0 (outcome, "fail") == 0)
    icon_name = "process-stop-symbolic";
  else if (g_strcmp0 (outcome, "skipped") == 0)
    icon_name = "media-skip-forward-symbolic";
  gtk_image_set_from_icon_name (self->icon, icon_name, GTK_ICON_SIZE_MENU);
  gtk_stack_set_visible_child_name (self->icon_stack,
                                    g_strcmp0 (outcome, "running") == 0 ? "spinner" : "icon");

  /* TRANSLATORS: a step and its state, e.g. "Install: passed" */
  accessible = g_strdup_printf (_("%s: %s"), ds_step_get_label (self->step), outcome_label (outcome));
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
  tooltip = message != NULL && *message != '\0'
            ? g_strdup_printf ("%s\n%s", accessible, message) : g_strdup (accessible);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), tooltip);
}

const char *
ds_step_row_get_outcome (DsStepRow *self)
{
  return self->outcome;
}

GtkWidget *
ds_step_row_new (DsStep step)
{
  DsStepRow *self = g_object_new (DS_TYPE_STEP_ROW, NULL);

  self->step = step;
  gtk_label_set_text (self->label, ds_step_get_label (step));
  ds_step_row_set_outcome (self, NULL, NULL);
  return GTK_WIDGET (self);
}

/* An empty slot of the fixture: the grid keeps its place, so that no card
 * moves when a board comes or goes. */
#include "config.h"

#include "ds-slot-placeholder.h"

#include <glib/gi18n.h>

#include "ds-board-card.h"

struct _DsSlotPlaceholder
{
  GtkFlowBoxChild parent_instance;

  GtkWidget *frame;
  GtkLabel  *slot_label;
  GtkLabel  *empty_label;

  char      *label;
  guint      row;
  guint      column;
};

G_DEFINE_FINAL_TYPE (DsSlotPlaceholder, ds_slot_placeholder, GTK_TYPE_FLOW_BOX_CHILD)

static void
ds_slot_placeholder_finalize (GObject *object)
{
  DsSlotPlaceholder *self = DS_SLOT_PLACEHOLDER (object);

  g_free (self->label);
  G_OBJECT_CLASS (ds_slot_placeholder_parent_class)->finalize (object);
}

static void
ds_slot_placeholder_class_init (DsSlotPlaceholderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = ds_slot_placeholder_finalize;
  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-slot-placeholder.ui");
  gtk_widget_class_bind_template_child (widget_class, DsSlotPlaceholder, frame);
  gtk_widget_class_bind_template_child (widget_class, DsSlotPlaceholder, slot_label);
  gtk_widget_class_bind_template_child (widget_class, DsSlotPlaceholder, empty_label);
  gtk_widget_class_set_css_name (widget_class, "flowboxchild");
}

static void
ds_slot_placeholder_init (DsSlotPlaceholder *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
ds_slot_placeholder_new (const char *label,
                         guint       row,
                         guint       column)
{
  DsSlotPlaceholder *self = g_object_new (DS_TYPE_SLOT_PLACEHOLDER, NULL);

  self->label = g_strdup (label);
  self->row = row;
  self->column = column;
  if (label != NULL)
    {
      /* TRANSLATORS: what a screen reader says for an empty slot, e.g. "Slot A3: empty" */
      g_autofree char *accessible = g_strdup_printf (_("Slot %s: empty"), label);

      gtk_label_set_text (self->slot_label, label);
      atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
    }
  else
    {
      /* A place of the grid that the fixture has no slot for. */
      gtk_widget_set_visible (self->frame, FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self), FALSE);
    }
  gtk_widget_set_can_focus (GTK_WIDGET (self), FALSE);
  ds_slot_placeholder_set_compact (self, FALSE);
  return GTK_WIDGET (self);
}

const char *
ds_slot_placeholder_get_label (DsSlotPlaceholder *self)
{
  g_return_val_if_fail (DS_IS_SLOT_PLACEHOLDER (self), NULL);
  return self->label;
}

guint
ds_slot_placeholder_get_row (DsSlotPlaceholder *self)
{
  return self->row;
}

guint
ds_slot_placeholder_get_column (DsSlotPlaceholder *self)
{
  return self->column;
}

void
ds_slot_placeholder_set_compact (DsSlotPlaceholder *self,
                                 gboolean           compact)
{
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self));

  gtk_widget_set_size_request (self->frame, compact ? DS_BOARD_CARD_COMPACT_WIDTH : DS_BOARD_CARD_WIDTH, -1);
  if (compact)
    gtk_style_context_add_class (style, "compact");
  else
    gtk_style_context_remove_class (style, "compact");
}

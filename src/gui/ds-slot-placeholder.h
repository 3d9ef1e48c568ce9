/* An empty slot of the fixture: its label where a board's card would be. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_SLOT_PLACEHOLDER (ds_slot_placeholder_get_type ())
G_DECLARE_FINAL_TYPE (DsSlotPlaceholder, ds_slot_placeholder, DS, SLOT_PLACEHOLDER, GtkFlowBoxChild)

/* @label: the slot's label; NULL for a place of the grid that no slot has. */
GtkWidget  *ds_slot_placeholder_new        (const char        *label,
                                            guint              row,
                                            guint              column);
/* NULL for a place no slot has. */
const char *ds_slot_placeholder_get_label  (DsSlotPlaceholder *self);
guint       ds_slot_placeholder_get_row    (DsSlotPlaceholder *self);
guint       ds_slot_placeholder_get_column (DsSlotPlaceholder *self);
void        ds_slot_placeholder_set_compact (DsSlotPlaceholder *self,
                                            gboolean           compact);

G_END_DECLS

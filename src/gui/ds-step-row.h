/* One line of a card's step list: an icon for the step's state and its name. */
#pragma once

#include <gtk/gtk.h>

#include "ds-job.h"

G_BEGIN_DECLS

#define DS_TYPE_STEP_ROW (ds_step_row_get_type ())
G_DECLARE_FINAL_TYPE (DsStepRow, ds_step_row, DS, STEP_ROW, GtkBox)

GtkWidget  *ds_step_row_new         (DsStep     step);
/* @outcome: NULL (not reached), "running", "pass", "fail" or "skipped";
 * @message, shown as a tooltip, may be NULL. */
void        ds_step_row_set_outcome (DsStepRow  *self,
                                     const char *outcome,
                                     const char *message);
const char *ds_step_row_get_outcome (DsStepRow  *self);

G_END_DECLS

/* A card's step list: the eight steps with their states, drawn by one
 * widget. */
#pragma once

#include <gtk/gtk.h>

#include "ds-job.h"

G_BEGIN_DECLS

#define DS_TYPE_STEP_STRIP (ds_step_strip_get_type ())
G_DECLARE_FINAL_TYPE (DsStepStrip, ds_step_strip, DS, STEP_STRIP, GtkWidget)

GtkWidget  *ds_step_strip_new          (void);
/* @outcome: NULL (not reached), "running", "pass", "fail" or "skipped";
 * @message, shown in the step's tooltip, may be NULL.  Only redraws: the
 * strip's size never depends on what it shows. */
void        ds_step_strip_set_outcome  (DsStepStrip *self,
                                        DsStep       step,
                                        const char  *outcome,
                                        const char  *message);
const char *ds_step_strip_get_outcome  (DsStepStrip *self,
                                        DsStep       step);
/* Loads what drawing the strip needs (its step names laid out, its
 * icons in its colours, kept on the X server) before its first frame. */
void        ds_step_strip_prepare      (DsStepStrip *self);
/* The step's tooltip: its name and state, and its message if any. */
char       *ds_step_strip_dup_tooltip  (DsStepStrip *self,
                                        DsStep       step);

G_END_DECLS

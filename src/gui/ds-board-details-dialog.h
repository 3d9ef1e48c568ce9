/* A board's details: its log, and its certificate chain with the
 * validator's verdict. */
#pragma once

#include <gtk/gtk.h>

#include "ds-ca.h"
#include "ds-job.h"

G_BEGIN_DECLS

#define DS_TYPE_BOARD_DETAILS_DIALOG (ds_board_details_dialog_get_type ())
G_DECLARE_FINAL_TYPE (DsBoardDetailsDialog, ds_board_details_dialog, DS, BOARD_DETAILS_DIALOG, GtkDialog)

/* Follows @job (live log); checks the chain against @ca's PAA for
 * @vid/@pid.  "chain-loaded" is emitted once the verdict is known. */
/* The chain is checked with the job's own options. */
DsBoardDetailsDialog *ds_board_details_dialog_new         (GtkWindow            *parent,
                                                           DsJob                *job);
DsJob                *ds_board_details_dialog_get_job     (DsBoardDetailsDialog *self);
/* The verdict shown, or NULL while the chain is being read. */
const char           *ds_board_details_dialog_get_verdict (DsBoardDetailsDialog *self);
/* TRUE when the chain was read and verified. */
gboolean              ds_board_details_dialog_get_valid   (DsBoardDetailsDialog *self);

/* The label section: the QR payload and manual code (grouped) shown (NULL while the
 * job has no label information), and the outcome of the last print. */
const char           *ds_board_details_dialog_get_qr           (DsBoardDetailsDialog *self);
const char           *ds_board_details_dialog_get_manual_code  (DsBoardDetailsDialog *self);
const char           *ds_board_details_dialog_get_print_status (DsBoardDetailsDialog *self);

G_END_DECLS

/* Sign-in at the start of a shift: operator ID and lot / work order, typed
 * or scanned (a barcode scanner types and presses Enter). */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define DS_TYPE_LOGIN_DIALOG (ds_login_dialog_get_type ())
G_DECLARE_FINAL_TYPE (DsLoginDialog, ds_login_dialog, DS, LOGIN_DIALOG, GtkDialog)

/* Answers GTK_RESPONSE_OK when both fields are filled in. */
DsLoginDialog *ds_login_dialog_new          (GtkWindow     *parent,
                                             const char    *operator_id,
                                             const char    *lot);
/* The values entered, trimmed. */
char          *ds_login_dialog_dup_operator (DsLoginDialog *self);
char          *ds_login_dialog_dup_lot      (DsLoginDialog *self);
/* The product profile file of the shift; NULL: the Preferences' profile. */
void           ds_login_dialog_set_profile  (DsLoginDialog *self,
                                             const char    *path);
char          *ds_login_dialog_dup_profile  (DsLoginDialog *self);

G_END_DECLS

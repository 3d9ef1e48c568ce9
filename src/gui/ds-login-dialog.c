/* The sign-in dialog. */
#include "config.h"

#include "ds-login-dialog.h"

struct _DsLoginDialog
{
  GtkDialog  parent_instance;

  GtkEntry  *operator_entry;
  GtkEntry  *lot_entry;
  GtkFileChooser *profile_button;
};

G_DEFINE_FINAL_TYPE (DsLoginDialog, ds_login_dialog, GTK_TYPE_DIALOG)

static char *
entry_text (GtkEntry *entry)
{
  return g_strstrip (g_strdup (gtk_entry_get_text (entry)));
}

static gboolean
complete (DsLoginDialog *self)
{
  g_autofree char *op = entry_text (self->operator_entry);
  g_autofree char *lot = entry_text (self->lot_entry);

  return *op != '\0' && *lot != '\0';
}

static void
entry_changed_cb (DsLoginDialog *self)
{
  gtk_dialog_set_response_sensitive (GTK_DIALOG (self), GTK_RESPONSE_OK, complete (self));
}

/* A scan of the badge ends with Enter: go on to the lot. */
static void
operator_activated_cb (DsLoginDialog *self)
{
  g_autofree char *op = entry_text (self->operator_entry);

  if (*op == '\0')
    return;
  gtk_widget_grab_focus (GTK_WIDGET (self->lot_entry));
}

/* Enter on the lot signs in when both are there (the entry activates the
 * default response); otherwise it sends the operator back to what is missing. */
static void
lot_activated_cb (DsLoginDialog *self)
{
  g_autofree char *op = entry_text (self->operator_entry);

  if (*op == '\0')
    gtk_widget_grab_focus (GTK_WIDGET (self->operator_entry));
}

static void
ds_login_dialog_class_init (DsLoginDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-login-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, DsLoginDialog, operator_entry);
  gtk_widget_class_bind_template_child (widget_class, DsLoginDialog, lot_entry);
  gtk_widget_class_bind_template_child (widget_class, DsLoginDialog, profile_button);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, operator_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, lot_activated_cb);
}

static void
ds_login_dialog_init (DsLoginDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

DsLoginDialog *
ds_login_dialog_new (GtkWindow  *parent,
                     const char *operator_id,
                     const char *lot)
{
  DsLoginDialog *self = g_object_new (DS_TYPE_LOGIN_DIALOG,
                                      "use-header-bar", TRUE,
                                      "transient-for", parent,
                                      /* The application's shortcuts (Quit) work here too. */
                                      "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                                      NULL);

  gtk_entry_set_text (self->operator_entry, operator_id != NULL ? operator_id : "");
  gtk_entry_set_text (self->lot_entry, lot != NULL ? lot : "");
  gtk_dialog_set_default_response (GTK_DIALOG (self), GTK_RESPONSE_OK);
  entry_changed_cb (self);
  /* Start on the operator, all selected, so that a scan replaces the last
   * operator's ID. */
  gtk_widget_grab_focus (GTK_WIDGET (self->operator_entry));
  gtk_editable_select_region (GTK_EDITABLE (self->operator_entry), 0, -1);
  return self;
}

char *
ds_login_dialog_dup_operator (DsLoginDialog *self)
{
  return entry_text (self->operator_entry);
}

char *
ds_login_dialog_dup_lot (DsLoginDialog *self)
{
  return entry_text (self->lot_entry);
}

void
ds_login_dialog_set_profile (DsLoginDialog *self,
                             const char    *path)
{
  if (path != NULL && *path != '\0')
    gtk_file_chooser_set_filename (self->profile_button, path);
  else
    gtk_file_chooser_unselect_all (self->profile_button);
}

char *
ds_login_dialog_dup_profile (DsLoginDialog *self)
{
  return gtk_file_chooser_get_filename (self->profile_button);
}

/* The preferences dialog: widgets bound to GSettings, nothing else.  What
 * the backend cannot do yet is shown, insensitive, and says so. */
#include "config.h"

#include "ds-preferences-dialog.h"

#include "ds-label-printer.h"
#include "ds-settings-profile.h"

#include <glib/gi18n.h>
#include <string.h>

struct _DsPreferencesDialog
{
  GtkDialog  parent_instance;

  GtkWidget *switcher;
  GtkWidget *stack;
  GtkWidget *lock_bar;
  GtkWidget *vendor_id_entry;
  GtkWidget *product_id_entry;
  GtkWidget *max_jobs_spin;
  GtkWidget *timeout_spin;
  GtkWidget *auto_start_switch;
  GtkWidget *sound_switch;
  GtkWidget *label_auto_print_switch;
  GtkWidget *label_printer_combo;
  GtkWidget *label_printer_entry;
  GtkWidget *label_format_combo;
  GtkWidget *label_printers_status;
  GCancellable *cancellable;
  GtkWidget *demo_boards_spin;
  GtkWidget *demo_baud_spin;
  GtkWidget *est_url_entry;
  GtkWidget *est_cert_entry;
  GtkWidget *est_key_entry;
  GtkWidget *est_bundle_entry;
  GtkWidget *trust_store_entry;
  GtkWidget *cd_entry;
  GtkWidget *firmware_entry;
  GtkLabel  *pki_label;

  GSettings *settings;
  GtkFileChooserNative *chooser;
  GtkEntry  *chooser_entry;       /* the path field the chooser fills */
  gboolean   locked;
  GtkWidget *fixture_entry;
};

G_DEFINE_FINAL_TYPE (DsPreferencesDialog, ds_preferences_dialog, GTK_TYPE_DIALOG)

static void
ds_preferences_dialog_dispose (GObject *object)
{
  DsPreferencesDialog *self = DS_PREFERENCES_DIALOG (object);

  g_clear_object (&self->chooser);
  g_clear_object (&self->settings);
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (ds_preferences_dialog_parent_class)->dispose (object);
}

static void
firmware_chosen_cb (GtkNativeDialog     *chooser,
                    int                  response,
                    DsPreferencesDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));

      if (path != NULL)
        gtk_entry_set_text (GTK_ENTRY (self->firmware_entry), path);
    }
  g_clear_object (&self->chooser);
}

/* A native chooser, answering through "response": no nested main loop. */
static void
choose_firmware_cb (DsPreferencesDialog *self)
{
  GtkFileFilter *filter;

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Provisioning Firmware"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Use"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  /* TRANSLATORS: a file filter in the firmware chooser */
  gtk_file_filter_set_name (filter, _("Firmware images (.hex, .bin)"));
  gtk_file_filter_add_pattern (filter, "*.hex");
  gtk_file_filter_add_pattern (filter, "*.ihex");
  gtk_file_filter_add_pattern (filter, "*.bin");
  /* The chooser takes the filter's floating reference. */
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (firmware_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
path_chosen_cb (GtkNativeDialog     *chooser,
                int                  response,
                DsPreferencesDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->chooser_entry != NULL)
    {
      g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));

      if (path != NULL)
        gtk_entry_set_text (self->chooser_entry, path);
    }
  self->chooser_entry = NULL;
  g_clear_object (&self->chooser);
}

/* The open icon of a path field: a native chooser instead of typing. */
static void
path_icon_pressed_cb (GtkEntry             *entry,
                      GtkEntryIconPosition  position,
                      GdkEvent             *event,
                      DsPreferencesDialog  *self)
{
  GtkFileChooserAction action = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (entry), "ds-chooser-action"));
  const char *title = g_object_get_data (G_OBJECT (entry), "ds-chooser-title");
  const char *current = gtk_entry_get_text (entry);

  if (self->chooser != NULL || position != GTK_ENTRY_ICON_SECONDARY)
    return;
  self->chooser = gtk_file_chooser_native_new (title, GTK_WINDOW (self), action, _("_Use"), _("_Cancel"));
  if (*current != '\0')
    gtk_file_chooser_set_filename (GTK_FILE_CHOOSER (self->chooser), current);
  self->chooser_entry = entry;
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (path_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* The fixture file, from a chooser that shows fixture files. */
static void
fixture_chosen_cb (GtkNativeDialog     *chooser,
                   int                  response,
                   DsPreferencesDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (chooser));

      if (path != NULL)
        gtk_entry_set_text (GTK_ENTRY (self->fixture_entry), path);
    }
  g_clear_object (&self->chooser);
}

static void
choose_fixture_cb (DsPreferencesDialog *self)
{
  GtkFileFilter *filter;

  if (self->chooser != NULL)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Fixture"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN, _("_Use"), _("_Cancel"));
  filter = gtk_file_filter_new ();
  /* TRANSLATORS: a file filter in the fixture chooser */
  gtk_file_filter_set_name (filter, _("Fixture files (.ini, .fixture)"));
  gtk_file_filter_add_pattern (filter, "*.ini");
  gtk_file_filter_add_pattern (filter, "*.fixture");
  gtk_file_filter_add_pattern (filter, "*.conf");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (fixture_chosen_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
add_chooser (DsPreferencesDialog  *self,
             GtkWidget            *entry,
             const char           *title,
             GtkFileChooserAction  action)
{
  gtk_entry_set_icon_from_icon_name (GTK_ENTRY (entry), GTK_ENTRY_ICON_SECONDARY, "document-open-symbolic");
  gtk_entry_set_icon_tooltip_text (GTK_ENTRY (entry), GTK_ENTRY_ICON_SECONDARY, _("Choose…"));
  g_object_set_data (G_OBJECT (entry), "ds-chooser-action", GINT_TO_POINTER (action));
  g_object_set_data (G_OBJECT (entry), "ds-chooser-title", (gpointer) title);
  g_signal_connect (entry, "icon-press", G_CALLBACK (path_icon_pressed_cb), self);
}

static void
set_locked (DsPreferencesDialog *self,
            gboolean             locked)
{
  self->locked = locked;
  gtk_widget_set_sensitive (self->stack, !locked);
  gtk_widget_set_visible (self->lock_bar, locked);
}

static void
unlock_response_cb (GtkDialog           *confirm,
                    int                  response,
                    DsPreferencesDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    set_locked (self, FALSE);
  gtk_widget_destroy (GTK_WIDGET (confirm));
}

/* A production profile is changed on purpose, by an engineer who says
 * so: never by a stray scan into a focused field. */
static void
unlock_clicked_cb (DsPreferencesDialog *self)
{
  GtkWidget *confirm = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                               GTK_MESSAGE_WARNING, GTK_BUTTONS_NONE,
                                               "%s", _("Unlock the production settings?"));

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (confirm), "%s",
                                            _("Changes apply from the next board on. Unlock only as the engineer responsible for this line."));
  gtk_dialog_add_buttons (GTK_DIALOG (confirm), _("_Cancel"), GTK_RESPONSE_CANCEL, _("_Unlock"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_dialog_set_default_response (GTK_DIALOG (confirm), GTK_RESPONSE_CANCEL);
  g_signal_connect_object (confirm, "response", G_CALLBACK (unlock_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (confirm));
}

gboolean
ds_preferences_dialog_get_locked (DsPreferencesDialog *self)
{
  return self->locked;
}

static void
ds_preferences_dialog_class_init (DsPreferencesDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  G_OBJECT_CLASS (klass)->dispose = ds_preferences_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-preferences-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, switcher);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, stack);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, lock_bar);
  gtk_widget_class_bind_template_callback (widget_class, unlock_clicked_cb);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, vendor_id_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, product_id_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, max_jobs_spin);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, timeout_spin);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, auto_start_switch);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, sound_switch);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, label_auto_print_switch);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, label_printer_combo);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, label_printer_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, label_format_combo);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, label_printers_status);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, demo_boards_spin);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, demo_baud_spin);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, est_url_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, est_cert_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, est_key_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, est_bundle_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, trust_store_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, cd_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, fixture_entry);
  gtk_widget_class_bind_template_callback (widget_class, choose_fixture_cb);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, firmware_entry);
  gtk_widget_class_bind_template_child (widget_class, DsPreferencesDialog, pki_label);
  gtk_widget_class_bind_template_callback (widget_class, choose_firmware_cb);
}

static void
ds_preferences_dialog_init (DsPreferencesDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
}

/* Vendor and product IDs are 16-bit numbers shown as four hex digits. */
static gboolean
hex_get_mapping (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  g_value_take_string (value, g_strdup_printf ("%04X", g_variant_get_uint16 (variant)));
  return TRUE;
}

static GVariant *
hex_set_mapping (const GValue       *value,
                 const GVariantType *expected_type,
                 gpointer            user_data)
{
  const char *text = g_value_get_string (value);
  guint64 v;

  /* Half-typed values are not saved; the entry says what is wrong. */
  if (text == NULL || strlen (text) != 4 ||
      !g_ascii_string_to_unsigned (text, 16, 0, 0xFFFF, &v, NULL))
    return NULL;
  return g_variant_new_uint16 ((guint16) v);
}

static void
hex_entry_changed_cb (GtkEntry *entry,
                      gpointer  user_data)
{
  const char *text = gtk_entry_get_text (entry);
  guint64 v;
  gboolean ok = strlen (text) == 4 && g_ascii_string_to_unsigned (text, 16, 0, 0xFFFF, &v, NULL);

  gtk_entry_set_icon_from_icon_name (entry, GTK_ENTRY_ICON_SECONDARY, ok ? NULL : "dialog-warning-symbolic");
  gtk_entry_set_icon_tooltip_text (entry, GTK_ENTRY_ICON_SECONDARY,
                                   ok ? NULL : _("Four hex digits, for example FFF1"));
}

static void
label_printers_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(DsPreferencesDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) dests = ds_label_printer_list_finish (DS_LABEL_PRINTER (object), result, &error);

  /* A dialog closed meanwhile has no cancellable left. */
  if (self->cancellable == NULL || g_cancellable_is_cancelled (self->cancellable))
    return;
  if (dests == NULL)
    {
      gtk_label_set_text (GTK_LABEL (self->label_printers_status), error->message);
      return;
    }
  for (guint i = 0; i < dests->len; i++)
    {
      DsPrinterDest *d = g_ptr_array_index (dests, i);

      gtk_combo_box_text_append (GTK_COMBO_BOX_TEXT (self->label_printer_combo), d->name, d->name);
    }
  gtk_label_set_text (GTK_LABEL (self->label_printers_status),
                      dests->len == 0 ? _("The printing service has no printers.") : "");
}

/* The printers of the system's CUPS server, offered in the combo box;
 * a name can be typed as well. */
static void
list_label_printers (DsPreferencesDialog *self)
{
  g_autoptr(DsLabelPrinter) printer = ds_label_printer_new (NULL);

  gtk_label_set_text (GTK_LABEL (self->label_printers_status), _("Looking for printers…"));
  ds_label_printer_list_async (printer, self->cancellable, label_printers_cb, g_object_ref (self));
}

DsPreferencesDialog *
ds_preferences_dialog_new (GtkWindow  *parent,
                           GSettings  *settings,
                           const char *data_dir)
{
  DsPreferencesDialog *self = g_object_new (DS_TYPE_PREFERENCES_DIALOG,
                                            "use-header-bar", TRUE,
                                            "transient-for", parent,
                                            "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                                            NULL);
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GAction) ca_backend = g_settings_create_action (settings, "ca-backend");
  g_autoptr(GAction) flasher = g_settings_create_action (settings, "flasher");
  g_autofree char *pki = g_build_filename (data_dir, "pki", NULL);
  GtkWidget *header = gtk_dialog_get_header_bar (GTK_DIALOG (self));

  self->settings = g_object_ref (settings);
  if (GTK_IS_HEADER_BAR (header))
    gtk_header_bar_set_custom_title (GTK_HEADER_BAR (header), self->switcher);

  g_action_map_add_action (G_ACTION_MAP (group), ca_backend);
  g_action_map_add_action (G_ACTION_MAP (group), flasher);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "prefs", G_ACTION_GROUP (group));

  g_settings_bind_with_mapping (settings, "vendor-id", self->vendor_id_entry, "text", G_SETTINGS_BIND_DEFAULT,
                                hex_get_mapping, hex_set_mapping, NULL, NULL);
  g_settings_bind_with_mapping (settings, "product-id", self->product_id_entry, "text", G_SETTINGS_BIND_DEFAULT,
                                hex_get_mapping, hex_set_mapping, NULL, NULL);
  g_signal_connect (self->vendor_id_entry, "changed", G_CALLBACK (hex_entry_changed_cb), NULL);
  g_signal_connect (self->product_id_entry, "changed", G_CALLBACK (hex_entry_changed_cb), NULL);
  g_settings_bind (settings, "max-jobs", self->max_jobs_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "command-timeout", self->timeout_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "auto-start", self->auto_start_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "sound", self->sound_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "label-auto-print", self->label_auto_print_switch, "active", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "label-printer", self->label_printer_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "label-format", self->label_format_combo, "active-id", G_SETTINGS_BIND_DEFAULT);
  list_label_printers (self);
  g_settings_bind (settings, "demo-boards", self->demo_boards_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "demo-baud", self->demo_baud_spin, "value", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "firmware-image", self->firmware_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "trust-store", self->trust_store_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "certification-declaration", self->cd_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "fixture", self->fixture_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "est-url", self->est_url_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "est-ca-bundle", self->est_bundle_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "est-client-certificate", self->est_cert_entry, "text", G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "est-client-key", self->est_key_entry, "text", G_SETTINGS_BIND_DEFAULT);

  gtk_label_set_text (self->pki_label, pki);
  add_chooser (self, self->trust_store_entry, _("Trusted PAA Folder"), GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER);
  add_chooser (self, self->cd_entry, _("Certification Declaration"), GTK_FILE_CHOOSER_ACTION_OPEN);
  add_chooser (self, self->est_bundle_entry, _("EST Server CA Bundle"), GTK_FILE_CHOOSER_ACTION_OPEN);
  add_chooser (self, self->est_cert_entry, _("EST Client Certificate"), GTK_FILE_CHOOSER_ACTION_OPEN);
  add_chooser (self, self->est_key_entry, _("EST Client Key"), GTK_FILE_CHOOSER_ACTION_OPEN);
  {
    g_autoptr(DsProfile) profile = ds_settings_profile_new (settings, NULL);

    set_locked (self, profile != NULL && profile->production);
  }
  /* Start on the page switcher, not in the Vendor ID with its text
   * selected: a stray scan must not overwrite a setting. */
  {
    g_autoptr(GList) pages = gtk_container_get_children (GTK_CONTAINER (self->switcher));

    if (pages != NULL)
      gtk_window_set_focus (GTK_WINDOW (self), pages->data);
  }
  return self;
}

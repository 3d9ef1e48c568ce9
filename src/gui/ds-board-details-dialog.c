/* The board details dialog.  The certificates are read and checked in a
 * worker thread; the log follows the job live. */
#include "config.h"

#include <inttypes.h>

#include "ds-board-details-dialog.h"

#include <glib/gi18n.h>

#include "ds-cert-info.h"
#include "ds-cert-view.h"
#include "ds-identify-ui.h"
#include "ds-label-print.h"
#include "ds-onboarding.h"
#include "ds-qr-view.h"

struct _DsBoardDetailsDialog
{
  GtkDialog      parent_instance;

  GtkLabel      *result_label;
  GtkLabel      *port_value;
  GtkLabel      *uid_value;
  GtkLabel      *description_value;
  GtkLabel      *record_value;
  GtkWidget     *verdict_box;
  GtkImage      *verdict_icon;
  GtkLabel      *verdict_label;
  GtkBox        *chain_box;
  GtkTextView   *log_view;
  GtkWidget     *identify_button;
  GtkWidget     *label_box;
  DsQrView      *qr_view;
  GtkLabel      *manual_value;
  GtkLabel      *serial_value;
  GtkLabel      *ids_value;
  GtkLabel      *product_value;
  GtkLabel      *print_status;
  GSimpleAction *print_action;
  gboolean       printing;

  DsJob         *job;
  GCancellable  *cancellable;
  char          *verdict;
  gboolean       valid;
  gboolean       loading;
  gboolean       loaded;
};

G_DEFINE_FINAL_TYPE (DsBoardDetailsDialog, ds_board_details_dialog, GTK_TYPE_DIALOG)

enum {
  CHAIN_LOADED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void load_chain (DsBoardDetailsDialog *self);

static void
ds_board_details_dialog_dispose (GObject *object)
{
  DsBoardDetailsDialog *self = DS_BOARD_DETAILS_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  if (self->job != NULL)
    g_signal_handlers_disconnect_by_data (self->job, self);
  g_clear_object (&self->job);
  G_OBJECT_CLASS (ds_board_details_dialog_parent_class)->dispose (object);
}

static void
ds_board_details_dialog_finalize (GObject *object)
{
  DsBoardDetailsDialog *self = DS_BOARD_DETAILS_DIALOG (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->print_action);
  g_free (self->verdict);
  G_OBJECT_CLASS (ds_board_details_dialog_parent_class)->finalize (object);
}

static void
ds_board_details_dialog_class_init (DsBoardDetailsDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_board_details_dialog_dispose;
  object_class->finalize = ds_board_details_dialog_finalize;

  signals[CHAIN_LOADED] =
    g_signal_new ("chain-loaded", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-board-details-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, result_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, port_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, uid_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, description_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, record_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, verdict_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, verdict_icon);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, verdict_label);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, chain_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, log_view);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, label_box);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, qr_view);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, manual_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, serial_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, ids_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, product_value);
  gtk_widget_class_bind_template_child (widget_class, DsBoardDetailsDialog, print_status);
  g_type_ensure (DS_TYPE_QR_VIEW);
}

static void
label_printed_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(DsBoardDetailsDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  int job_id = ds_label_print_job_finish (result, &error);

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  self->printing = FALSE;
  g_simple_action_set_enabled (self->print_action, TRUE);
  if (job_id <= 0)
    /* TRANSLATORS: %s says why */
    text = g_strdup_printf (_("Not printed: %s"), error->message);
  else
    /* TRANSLATORS: %d is the print job's number at the printing service */
    text = g_strdup_printf (_("Sent to the printer as job %d."), job_id);
  gtk_label_set_text (self->print_status, text);
}

static void
print_label_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  DsBoardDetailsDialog *self = DS_BOARD_DETAILS_DIALOG (user_data);
  g_autoptr(GSettings) settings = g_settings_new (DS_APP_ID);

  self->printing = TRUE;
  g_simple_action_set_enabled (self->print_action, FALSE);
  gtk_label_set_text (self->print_status, _("Printing…"));
  ds_label_print_job_async (settings, self->job, self->cancellable, label_printed_cb, g_object_ref (self));
}

static void
ds_board_details_dialog_init (DsBoardDetailsDialog *self)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  self->print_action = g_simple_action_new ("print-label", NULL);
  g_simple_action_set_enabled (self->print_action, FALSE);
  g_signal_connect (self->print_action, "activate", G_CALLBACK (print_label_activated), self);
  g_action_map_add_action (G_ACTION_MAP (group), G_ACTION (self->print_action));
  gtk_widget_insert_action_group (GTK_WIDGET (self), "details", G_ACTION_GROUP (group));
}

/* The board's label: QR code, manual code, serial number, IDs, product. */
static void
update_label (DsBoardDetailsDialog *self)
{
  const DsLabelInfo *info = ds_job_get_label_info (self->job);
  g_autofree char *ids = NULL;
  g_autofree char *manual = NULL;

  gtk_widget_set_visible (self->label_box, info != NULL);
  if (info == NULL)
    {
      ds_qr_view_set_text (self->qr_view, NULL);
      g_simple_action_set_enabled (self->print_action, FALSE);
      return;
    }
  ds_qr_view_set_text (self->qr_view, info->qr);
  /* Grouped as on the label: 3497-011-2332. */
  manual = ds_manual_code_format (info->manual_code);
  gtk_label_set_text (self->manual_value, manual);
  gtk_label_set_text (self->serial_value, info->serial_number);
  ids = g_strdup_printf ("0x%04X / 0x%04X", info->vid, info->pid);
  gtk_label_set_text (self->ids_value, ids);
  gtk_label_set_text (self->product_value, info->product_name);
  g_simple_action_set_enabled (self->print_action, !self->printing);
}

static void
append_log (DsBoardDetailsDialog *self,
            const char           *line)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextIter end;
  GtkTextMark *mark;

  gtk_text_buffer_get_end_iter (buffer, &end);
  gtk_text_buffer_insert (buffer, &end, line, -1);
  gtk_text_buffer_insert (buffer, &end, "\n", 1);
  mark = gtk_text_buffer_get_insert (buffer);
  gtk_text_buffer_place_cursor (buffer, &end);
  gtk_text_view_scroll_mark_onscreen (self->log_view, mark);
}

static void
log_cb (DsJob                *job,
        const char           *line,
        DsBoardDetailsDialog *self)
{
  append_log (self, line);
}

static void
set_verdict (DsBoardDetailsDialog *self,
             const char           *icon_name,
             const char           *css_class,
             const char           *text)
{
  GtkStyleContext *style = gtk_widget_get_style_context (self->verdict_box);

  gtk_style_context_remove_class (style, "valid");
  gtk_style_context_remove_class (style, "invalid");
  if (css_class != NULL)
    gtk_style_context_add_class (style, css_class);
  gtk_image_set_from_icon_name (self->verdict_icon, icon_name, GTK_ICON_SIZE_LARGE_TOOLBAR);
  gtk_label_set_text (self->verdict_label, text);
}

static void
update_summary (DsBoardDetailsDialog *self)
{
  DsJob *job = self->job;
  DsJobState state = ds_job_get_state (job);
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self->result_label));
  g_autofree char *record = NULL;
  g_autoptr(GDateTime) started = NULL;
  g_autofree char *started_text = NULL;
  g_autofree char *uid = ds_board_dup_uid (ds_job_get_board (job));

  gtk_label_set_text (self->result_label, ds_job_get_message (job) != NULL ? ds_job_get_message (job) : "");
  gtk_style_context_remove_class (style, "passed");
  gtk_style_context_remove_class (style, "failed");
  if (state == DS_JOB_STATE_PASSED || state == DS_JOB_STATE_ALREADY_PROVISIONED)
    gtk_style_context_add_class (style, "passed");
  else if (state == DS_JOB_STATE_FAILED)
    gtk_style_context_add_class (style, "failed");

  gtk_label_set_text (self->uid_value, ds_job_get_uid (job) != NULL ? ds_job_get_uid (job)
                                       : uid != NULL ? uid : _("not known yet"));
  if (ds_job_get_started (job) > 0)
    {
      started = g_date_time_new_from_unix_local (ds_job_get_started (job) / G_USEC_PER_SEC);
      started_text = g_date_time_format (started, "%Y-%m-%d %H:%M:%S");
    }
  if (ds_job_get_id (job) > 0)
    /* TRANSLATORS: the job's row in the record store and when it started */
    record = g_strdup_printf (_("Job %" PRId64 ", started %s"), ds_job_get_id (job),
                              started_text != NULL ? started_text : "?");
  else
    record = g_strdup (_("Not recorded yet"));
  gtk_label_set_text (self->record_value, record);
  update_label (self);
}

/* What the chain thread reads: its own reference to the job, whose
 * options it checks with, as the dialog may be closed meanwhile (its
 * dispose drops the dialog's). */
typedef struct {
  char  *dac_path;
  char  *pai_path;
  DsJob *job;
} ChainLoad;

static void
chain_load_free (ChainLoad *load)
{
  g_free (load->dac_path);
  g_free (load->pai_path);
  g_clear_object (&load->job);
  g_free (load);
}

static void
chain_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  ChainLoad *load = task_data;
  GError *error = NULL;
  DsChainInfo *info = ds_chain_info_load (load->dac_path, load->pai_path, ds_job_get_options (load->job), &error);

  if (info == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, info, (GDestroyNotify) ds_chain_info_free);
}

static void
chain_loaded_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  DsBoardDetailsDialog *self = DS_BOARD_DETAILS_DIALOG (object);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsChainInfo) info = g_task_propagate_pointer (G_TASK (result), &error);
  g_autoptr(GList) children = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  self->loading = FALSE;
  self->loaded = TRUE;

  children = gtk_container_get_children (GTK_CONTAINER (self->chain_box));
  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);

  g_free (self->verdict);
  if (info == NULL)
    {
      self->valid = FALSE;
      self->verdict = g_strdup_printf (_("The certificates cannot be read: %s"), error->message);
      set_verdict (self, "dialog-error-symbolic", "invalid", self->verdict);
    }
  else
    {
      self->valid = info->valid;
      if (info->test)
        /* TRANSLATORS: %s is the validator's verdict */
        self->verdict = g_strdup_printf (_("%s\nTest certificate (test vendor ID): for development only, never for a product."),
                                         info->verdict);
      else
        self->verdict = g_strdup (info->verdict);
      set_verdict (self, info->valid ? "emblem-ok-symbolic" : "dialog-error-symbolic",
                   info->valid ? "valid" : "invalid", self->verdict);
      for (guint i = 0; i < info->certs->len; i++)
        gtk_container_add (GTK_CONTAINER (self->chain_box), ds_cert_view_new (g_ptr_array_index (info->certs, i)));
    }
  g_signal_emit (self, signals[CHAIN_LOADED], 0);
}

static void
load_chain (DsBoardDetailsDialog *self)
{
  g_autoptr(GTask) task = NULL;
  ChainLoad *load;

  if (self->loading || self->loaded)
    return;
  if (ds_job_get_dac_path (self->job) == NULL)
    {
      DsJobState state = ds_job_get_state (self->job);

      if (state == DS_JOB_STATE_QUEUED || state == DS_JOB_STATE_RUNNING)
        set_verdict (self, "content-loading-symbolic", NULL,
                     _("No certificate yet: the board has not got its DAC so far."));
      else
        {
          set_verdict (self, "dialog-information-symbolic", NULL,
                       _("No certificate was issued to this board in this job."));
          g_free (self->verdict);
          self->verdict = g_strdup (gtk_label_get_text (self->verdict_label));
          self->loaded = TRUE;
          g_signal_emit (self, signals[CHAIN_LOADED], 0);
        }
      return;
    }
  self->loading = TRUE;
  load = g_new0 (ChainLoad, 1);
  load->dac_path = g_strdup (ds_job_get_dac_path (self->job));
  load->pai_path = g_strdup (ds_job_get_pai_path (self->job));
  load->job = g_object_ref (self->job);
  task = g_task_new (self, self->cancellable, chain_loaded_cb, NULL);
  g_task_set_source_tag (task, load_chain);
  g_task_set_task_data (task, load, (GDestroyNotify) chain_load_free);
  g_task_run_in_thread (task, chain_thread);
}

/* Identify, like the card's button: not while the job is queued or
 * running. */
static void
update_identify (DsBoardDetailsDialog *self)
{
  DsJobState state = ds_job_get_state (self->job);

  ds_identify_button_update (self->identify_button, ds_board_get_port (ds_job_get_board (self->job)),
                             ds_identify_why_not (TRUE, state == DS_JOB_STATE_QUEUED || state == DS_JOB_STATE_RUNNING));
}

static void
job_changed_cb (DsBoardDetailsDialog *self)
{
  update_summary (self);
  update_identify (self);
  /* The chain is final once the job is: check it then (or now, when the
   * DAC already failed the checks and the job ended). */
  if (ds_job_get_state (self->job) != DS_JOB_STATE_RUNNING &&
      ds_job_get_state (self->job) != DS_JOB_STATE_QUEUED)
    load_chain (self);
}

DsBoardDetailsDialog *
ds_board_details_dialog_new (GtkWindow *parent,
                             DsJob     *job)
{
  DsBoardDetailsDialog *self = g_object_new (DS_TYPE_BOARD_DETAILS_DIALOG,
                                             "use-header-bar", TRUE,
                                             "transient-for", parent,
                                             "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                                             NULL);
  DsBoard *board = ds_job_get_board (job);
  GPtrArray *log = ds_job_get_log (job);
  GtkWidget *header = gtk_dialog_get_header_bar (GTK_DIALOG (self));
  g_autofree char *title = NULL;

  self->job = g_object_ref (job);

  /* TRANSLATORS: the title of a board's details window, e.g. "Board sim-3" */
  title = g_strdup_printf (_("Board %s"), ds_board_get_name (board));
  gtk_window_set_title (GTK_WINDOW (self), title);
  if (GTK_IS_HEADER_BAR (header))
    gtk_header_bar_set_subtitle (GTK_HEADER_BAR (header), _("Log and certificates"));

  /* TRANSLATORS: a button in a board's details window: the board blinks its LED */
  self->identify_button = gtk_button_new_with_mnemonic (_("_Identify"));
  gtk_widget_show (self->identify_button);
  if (GTK_IS_HEADER_BAR (header))
    gtk_header_bar_pack_start (GTK_HEADER_BAR (header), self->identify_button);
  else
    gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (self))), self->identify_button,
                        FALSE, FALSE, 0);
  /* The window's actions (win.identify) reach this separate toplevel. */
  if (G_IS_ACTION_GROUP (parent))
    gtk_widget_insert_action_group (GTK_WIDGET (self), "win", G_ACTION_GROUP (parent));
  update_identify (self);
  gtk_label_set_text (self->port_value, ds_board_get_port (board));
  gtk_label_set_text (self->description_value, ds_board_get_description (board) != NULL
                                               ? ds_board_get_description (board) : "");

  for (guint i = 0; i < log->len; i++)
    append_log (self, g_ptr_array_index (log, i));
  g_signal_connect (job, "log", G_CALLBACK (log_cb), self);
  g_signal_connect_swapped (job, "changed", G_CALLBACK (job_changed_cb), self);
  g_signal_connect_swapped (job, "finished", G_CALLBACK (job_changed_cb), self);
  update_summary (self);
  load_chain (self);
  return self;
}

DsJob *
ds_board_details_dialog_get_job (DsBoardDetailsDialog *self)
{
  return self->job;
}

const char *
ds_board_details_dialog_get_verdict (DsBoardDetailsDialog *self)
{
  return self->verdict;
}

const char *
ds_board_details_dialog_get_qr (DsBoardDetailsDialog *self)
{
  return gtk_widget_get_visible (self->label_box) ? ds_qr_view_get_text (self->qr_view) : NULL;
}

const char *
ds_board_details_dialog_get_manual_code (DsBoardDetailsDialog *self)
{
  return gtk_widget_get_visible (self->label_box) ? gtk_label_get_text (self->manual_value) : NULL;
}

const char *
ds_board_details_dialog_get_print_status (DsBoardDetailsDialog *self)
{
  return gtk_label_get_text (self->print_status);
}

gboolean
ds_board_details_dialog_get_valid (DsBoardDetailsDialog *self)
{
  return self->valid;
}

/* A board's label to the printer of the preferences (libcups through
 * DsLabelPrinter, in its worker thread). */
#include "config.h"

#include "ds-label-print.h"

#include <glib/gi18n.h>

#include "ds-error.h"
#include "ds-label-printer.h"
#include "ds-store-onboarding.h"

/* A label that came from the records (the board was already provisioned)
 * is a reprint: it is logged once it has gone out. */
typedef struct {
  DsStore *store;
  gint64   job_id;
  char    *board_uid;
  char    *serial_number;
  char    *printer;
  int      print_job;
} Reprint;

static void
reprint_free (Reprint *r)
{
  g_clear_object (&r->store);
  g_free (r->board_uid);
  g_free (r->serial_number);
  g_free (r->printer);
  g_free (r);
}

/* The store's write blocks: it runs in a worker thread. */
static void
log_reprint_thread (GTask        *task,
                    gpointer      source,
                    gpointer      task_data,
                    GCancellable *cancellable)
{
  Reprint *r = task_data;
  g_autofree char *destination = g_strdup_printf ("printer %s, job %d", r->printer, r->print_job);
  DsOnboardingRecord rec = { 0 };
  GError *error = NULL;

  rec.job_id = r->job_id;
  rec.board_uid = r->board_uid;
  rec.serial_number = r->serial_number;
  if (!ds_store_record_label_reprint (r->store, &rec, destination, &error))
    {
      /* TRANSLATORS: %d is the print job's number at the printing service */
      g_prefix_error (&error, _("The label was printed as job %d, but the records cannot say so: "), r->print_job);
      g_task_return_error (task, error);
      return;
    }
  g_task_return_int (task, r->print_job);
}

static void
printed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  int job_id = ds_label_printer_print_finish (DS_LABEL_PRINTER (object), result, &error);
  Reprint *reprint = g_task_get_task_data (task);

  if (job_id <= 0)
    g_task_return_error (task, error);
  else if (reprint != NULL)
    {
      reprint->print_job = job_id;
      g_task_run_in_thread (task, log_reprint_thread);
    }
  else
    g_task_return_int (task, job_id);
}

void
ds_label_print_job_async (GSettings           *settings,
                          DsJob               *job,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr(DsLabelPrinter) printer = NULL;
  g_autofree char *name = g_settings_get_string (settings, "label-printer");
  const DsLabelInfo *info = ds_job_get_label_info (job);
  DsLabelFormat format = g_settings_get_enum (settings, "label-format") == 1 ? DS_LABEL_ZPL : DS_LABEL_PDF;

  g_task_set_source_tag (task, ds_label_print_job_async);
  g_task_set_check_cancellable (task, FALSE);
  if (info == NULL)
    {
      g_task_return_new_error (task, DS_ERROR, DS_ERROR_NOT_FOUND,
                               _("Board %s has no label yet: it gets one when its onboarding data is installed"),
                               ds_board_get_name (ds_job_get_board (job)));
      return;
    }
  if (*name == '\0')
    {
      g_task_return_new_error (task, DS_ERROR, DS_ERROR_CONFIG,
                               _("No label printer is chosen: choose one in the Preferences"));
      return;
    }
  if (ds_job_get_state (job) == DS_JOB_STATE_ALREADY_PROVISIONED && ds_job_get_options (job)->store != NULL)
    {
      Reprint *reprint = g_new0 (Reprint, 1);

      reprint->store = g_object_ref (ds_job_get_options (job)->store);
      reprint->job_id = ds_job_get_id (job);
      reprint->board_uid = g_strdup (ds_job_get_uid (job));
      reprint->serial_number = g_strdup (info->serial_number);
      reprint->printer = g_strdup (name);
      g_task_set_task_data (task, reprint, (GDestroyNotify) reprint_free);
    }
  /* The system's CUPS server (CUPS_SERVER, client.conf or the local
   * scheduler; in the Flatpak, the host's through the cups socket). */
  printer = ds_label_printer_new (NULL);
  ds_label_printer_print_async (printer, name, info, format, cancellable, printed_cb, g_steal_pointer (&task));
}

int
ds_label_print_job_finish (GAsyncResult *result,
                           GError      **error)
{
  gssize job_id;

  g_return_val_if_fail (g_task_is_valid (result, NULL), 0);
  job_id = g_task_propagate_int (G_TASK (result), error);
  return job_id > 0 ? (int) job_id : 0;
}

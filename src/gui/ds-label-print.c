/* A board's label to the printer of the preferences (libcups through
 * DsLabelPrinter, in its worker thread). */
#include "config.h"

#include "ds-label-print.h"

#include <glib/gi18n.h>

#include "ds-error.h"
#include "ds-label-printer.h"

static void
printed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  int job_id = ds_label_printer_print_finish (DS_LABEL_PRINTER (object), result, &error);

  if (job_id <= 0)
    g_task_return_error (task, error);
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

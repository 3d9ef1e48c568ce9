/* Printing a board's label from the GUI: the job's label information on
 * the printer and in the format the preferences name. */
#pragma once

#include <gio/gio.h>

#include "ds-job.h"

G_BEGIN_DECLS

/* Prints @job's label on the "label-printer" of @settings as its
 * "label-format"; the finish function returns the CUPS job ID, or 0 with
 * @error set (no label information, no printer chosen, CUPS failed).  The
 * label of a board that was already provisioned came from the records:
 * printing it is a reprint, logged as a "label-reprinted" event. */
void ds_label_print_job_async  (GSettings           *settings,
                                DsJob               *job,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
int  ds_label_print_job_finish (GAsyncResult        *result,
                                GError             **error);

G_END_DECLS

/* Identify: one IDENTIFY request to a board, from a worker thread. */
#include "config.h"

#include "ds-board-identify.h"

#include <glib/gi18n-lib.h>

#include "ds-device.h"
#include "ds-error.h"
#include "ds-frame.h"

G_STATIC_ASSERT (DS_BOARD_IDENTIFY_MAX_SECONDS == DS_IDENTIFY_MAX_SECONDS);

/* Identifies in flight per board: counted up on the caller's thread, down
 * on the worker's once the port is closed. */
#define RUNNING_KEY "ds-identify-running"
static GMutex running_lock;

static void
add_running (DsBoard *board,
             int      delta)
{
  g_mutex_lock (&running_lock);
  g_object_set_data (G_OBJECT (board), RUNNING_KEY,
                     GINT_TO_POINTER (GPOINTER_TO_INT (g_object_get_data (G_OBJECT (board), RUNNING_KEY)) + delta));
  g_mutex_unlock (&running_lock);
}

gboolean
ds_board_identify_is_running (DsBoard *board)
{
  gboolean running;

  g_return_val_if_fail (DS_IS_BOARD (board), FALSE);

  g_mutex_lock (&running_lock);
  running = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (board), RUNNING_KEY)) > 0;
  g_mutex_unlock (&running_lock);
  return running;
}

gboolean
ds_board_identify (DsBoard      *board,
                   guint         seconds,
                   GCancellable *cancellable,
                   GError      **error)
{
  g_autoptr(DsTransport) transport = NULL;
  g_autoptr(DsDevice) device = NULL;
  gboolean ok;

  g_return_val_if_fail (DS_IS_BOARD (board), FALSE);
  g_return_val_if_fail (seconds <= DS_IDENTIFY_MAX_SECONDS, FALSE);

  transport = ds_board_new_transport (board);
  if (!ds_transport_open (transport, error))
    {
      /* TRANSLATORS: %s is a fixture slot ("A3") or a board's name */
      g_prefix_error (error, _("Cannot identify %s: "), ds_board_get_label (board));
      return FALSE;
    }
  device = ds_device_new (transport);
  ok = ds_device_identify (device, seconds, cancellable, error);
  ds_transport_close (transport);
  return ok;
}

static void
identify_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  GError *error = NULL;
  gboolean ok = ds_board_identify (source_object, GPOINTER_TO_UINT (task_data), cancellable, &error);

  add_running (source_object, -1);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

void
ds_board_identify_async (DsBoard             *board,
                         guint                seconds,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (DS_IS_BOARD (board));
  g_return_if_fail (seconds <= DS_IDENTIFY_MAX_SECONDS);

  task = g_task_new (board, cancellable, callback, user_data);
  g_task_set_source_tag (task, ds_board_identify_async);
  g_task_set_task_data (task, GUINT_TO_POINTER (seconds), NULL);
  add_running (board, 1);
  g_task_run_in_thread (task, identify_thread);
}

gboolean
ds_board_identify_finish (DsBoard       *board,
                          GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, board), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

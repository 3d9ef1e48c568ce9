/* Identify: asks a board to blink its LED, so an operator finds it on the
 * fixture (IDENTIFY, docs/protocol.md).  For the front ends, which do not
 * speak the device protocol themselves. */
#pragma once

#include <gio/gio.h>

#include "ds-board.h"

G_BEGIN_DECLS

/* How long the front ends make a board blink. */
#define DS_BOARD_IDENTIFY_SECONDS 10
/* The longest the firmware blinks (DS_IDENTIFY_MAX_SECONDS). */
#define DS_BOARD_IDENTIFY_MAX_SECONDS 60

/* Opens the board's port, sends IDENTIFY for @seconds (0 … 60; 0 stops
 * the blinking) and closes the port again, in a worker thread.  The port
 * is held for that one exchange only.  A board whose port another job or
 * program holds fails with DS_ERROR_IO ("in use"): Identify never talks
 * over a running job.  Firmware that lacks IDENTIFY fails with
 * DS_ERROR_REJECTED saying so. */
void     ds_board_identify_async  (DsBoard             *board,
                                   guint                seconds,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data);
gboolean ds_board_identify_finish (DsBoard             *board,
                                   GAsyncResult        *result,
                                   GError             **error);
/* TRUE from ds_board_identify_async() until the port is closed again:
 * a job started meanwhile would find the port in use, so a front end
 * holds it back. */
gboolean ds_board_identify_is_running (DsBoard          *board);
/* The same, blocking, for the CLI and tests. */
gboolean ds_board_identify        (DsBoard             *board,
                                   guint                seconds,
                                   GCancellable        *cancellable,
                                   GError             **error);

G_END_DECLS

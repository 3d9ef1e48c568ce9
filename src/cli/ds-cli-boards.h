/* dac-station-cli boards, and choosing boards by fixture slot. */
#pragma once

#include <glib.h>

#include "ds-board-monitor.h"
#include "ds-station-setup.h"

G_BEGIN_DECLS

int        ds_cli_boards            (int               argc,
                                     char            **argv);
/* Loads --fixture FILE into @monitor (when given); FALSE after saying why. */
gboolean   ds_cli_boards_set_fixture (DsBoardMonitor  *monitor,
                                      const char      *fixture_path);
/* The boards of @slots ("A1,A2", or one per array element), in that order;
 * NULL after saying why (an unknown or empty slot). */
GPtrArray *ds_cli_boards_by_slot    (DsBoardMonitor  *monitor,
                                     char            **slots);
/* Says every duplicate probe serial or UID among @boards' neighbours and
 * returns the boards of @boards that are not blocked by one (transfer
 * container).  *@n_blocked: how many were held back. */
GPtrArray *ds_cli_boards_unblocked  (DsBoardMonitor  *monitor,
                                     GPtrArray       *boards,
                                     gboolean         json,
                                     guint           *n_blocked);

/* --reprovision UID --engineer ID --reason TEXT: an engineer's explicit
 * authorisation to give boards whose UID already holds a DAC a second one. */
extern GOptionEntry ds_cli_reprovision_entries[];
/* Checks those options and gives them to @setup; FALSE after saying why. */
gboolean   ds_cli_reprovision_apply (DsStationSetup  *setup);

G_END_DECLS

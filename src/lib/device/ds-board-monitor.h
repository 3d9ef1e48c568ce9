/* Watches for boards coming and going: ST-LINK serial ports (polled through
 * libserialport) and simulated boards (announcement files). */
#pragma once

#include "ds-board.h"
#include "ds-fixture.h"

G_BEGIN_DECLS

#define DS_TYPE_BOARD_MONITOR (ds_board_monitor_get_type ())
G_DECLARE_FINAL_TYPE (DsBoardMonitor, ds_board_monitor, DS, BOARD_MONITOR, GObject)

/* @sim_dir: the announce directory; NULL for ds_sim_announce_dir_default(). */
DsBoardMonitor *ds_board_monitor_new        (const char     *sim_dir);
/* Watch for changes on the thread-default main context from now on;
 * "board-added" and "board-removed" are emitted there. */
void            ds_board_monitor_start      (DsBoardMonitor *self);
/* Looks again now (emitting the signals for what changed). */
void            ds_board_monitor_scan       (DsBoardMonitor *self);
/* The boards present, sorted by name; transfer container. */
GPtrArray      *ds_board_monitor_list       (DsBoardMonitor *self);
DsBoard        *ds_board_monitor_find       (DsBoardMonitor *self,
                                             const char     *port_or_name);
const char     *ds_board_monitor_get_sim_dir (DsBoardMonitor *self);
/* With a fixture, boards get their slot from their USB path, are listed in
 * fixture order, can be found by slot label, and boards outside the
 * fixture are skipped (listed apart) unless it allows unknown ports.
 * Takes effect at the next scan. */
void            ds_board_monitor_set_fixture (DsBoardMonitor *self,
                                              DsFixture      *fixture);
DsFixture      *ds_board_monitor_get_fixture (DsBoardMonitor *self);
/* The boards outside the fixture, set aside at the last scan. */
GPtrArray      *ds_board_monitor_list_skipped (DsBoardMonitor *self);
/* DsIdentityConflict for every probe serial or UID two present boards
 * share; each names both slots (or board names outside a fixture). */
GPtrArray      *ds_board_monitor_find_conflicts (DsBoardMonitor *self);
void            ds_board_monitor_set_serial_enabled (DsBoardMonitor *self,
                                             gboolean        enabled);

G_END_DECLS

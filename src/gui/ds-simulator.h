/* Runs dac-station-sim for an engineer's demo: simulated boards on
 * pseudo-terminals, announced where the station's board monitor looks.
 * GIO only; nothing here blocks the main loop. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DS_TYPE_SIMULATOR (ds_simulator_get_type ())
G_DECLARE_FINAL_TYPE (DsSimulator, ds_simulator, DS, SIMULATOR, GObject)

/* $DAC_STATION_SIM, else beside this program, else installed, else $PATH;
 * NULL when there is none. */
char        *ds_simulator_find_program (void);

DsSimulator *ds_simulator_new          (const char          *announce_dir);
/* Starts @n_boards boards with fresh state, at @baud (0: no limit); finishes
 * once the simulator says its boards are ready. */
void         ds_simulator_start_async  (DsSimulator         *self,
                                        guint                n_boards,
                                        guint                baud,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean     ds_simulator_start_finish (DsSimulator         *self,
                                        GAsyncResult        *result,
                                        GError             **error);
/* Asks the simulator to stop; its boards are unplugged and "exited" is
 * emitted when it is gone. */
void         ds_simulator_stop         (DsSimulator         *self);
gboolean     ds_simulator_is_running   (DsSimulator         *self);

G_END_DECLS

/* Runs dac-station-sim: simulated boards on pseudo-terminals, announced
 * where the station's board monitor looks.  The one way the GUI's demo,
 * the CLI's demo, the benchmarks and the tests start the simulator; the
 * child gets SIGTERM when the process (the thread) that started it dies.
 * GIO only; only the _sync calls block. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DS_TYPE_SIMULATOR (ds_simulator_get_type ())
G_DECLARE_FINAL_TYPE (DsSimulator, ds_simulator, DS, SIMULATOR, GObject)

/* $DAC_STATION_SIM, else beside this program, else installed, else $PATH;
 * NULL when there is none. */
char        *ds_simulator_find_program (void);

/* Starts @argv (the simulator, or a stand-in board that speaks like one)
 * with its stdout piped and the parent-death signal set, so that a crash
 * or a failed test assertion never leaves boards running. */
GSubprocess *ds_simulator_spawn        (const char * const  *argv,
                                        GError             **error);
/* Reads @lines (a child's stdout) until a line is "ready" or starts with
 * "ready "; fails when the child ends first. */
gboolean     ds_simulator_wait_ready   (GDataInputStream    *lines,
                                        GCancellable        *cancellable,
                                        GError             **error);

DsSimulator *ds_simulator_new          (const char          *announce_dir);
/* The program to run instead of ds_simulator_find_program()'s. */
void         ds_simulator_set_program  (DsSimulator         *self,
                                        const char          *program);
/* Keeps the boards' state in @state_dir (kept after exit) instead of a
 * fresh temporary folder. */
void         ds_simulator_set_state_dir (DsSimulator        *self,
                                        const char          *state_dir);
/* More arguments for the next start: "--blank", "--fault", "0:crc"… */
void         ds_simulator_add_arguments (DsSimulator        *self,
                                        const char * const  *args);
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
/* The same, blocking until the boards are ready; for the CLI and tests. */
gboolean     ds_simulator_start_sync   (DsSimulator         *self,
                                        guint                n_boards,
                                        guint                baud,
                                        GCancellable        *cancellable,
                                        GError             **error);
/* Asks the simulator to stop; its boards are unplugged and "exited" is
 * emitted when it is gone. */
void         ds_simulator_stop         (DsSimulator         *self);
/* Sends @signal (0: SIGTERM) and waits until the simulator has exited;
 * "exited" is emitted before this returns. */
void         ds_simulator_stop_sync    (DsSimulator         *self,
                                        int                  signal);
gboolean     ds_simulator_is_running   (DsSimulator         *self);
/* The running simulator's process id, 0 when none runs. */
GPid         ds_simulator_get_pid      (DsSimulator         *self);

G_END_DECLS

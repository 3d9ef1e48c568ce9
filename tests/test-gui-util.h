/* Helpers shared by the GUI tests and the screenshot driver: a simulator
 * child process, an in-process station window, waiting on the main loop. */
#pragma once

#include <gtk/gtk.h>

#include "ds-application.h"
#include "ds-simulator.h"
#include "ds-test-util.h"
#include "ds-window.h"

G_BEGIN_DECLS

typedef struct {
  DsSimulator      *simulator;
} TestSim;

/* Starts dac-station-sim ($DS_SIM) with @n boards and the NULL-terminated
 * @faults ("INDEX:KIND[:ARG]"), and waits for its "ready" line. */
TestSim       *test_sim_start       (const char          *state_dir,
                                     const char          *announce_dir,
                                     guint                n,
                                     guint                baud,
                                     const char * const  *faults);
/* The same, with more of the simulator's options (--usb-path,
 * --probe-serial, --uid...), NULL-terminated. */
TestSim       *test_sim_start_args  (const char          *state_dir,
                                     const char          *announce_dir,
                                     guint                n,
                                     guint                baud,
                                     const char * const  *faults,
                                     const char * const  *args);
/* SIGTERM, then waits for the simulator to exit (its boards are gone). */
void           test_sim_stop        (TestSim             *sim);

/* Iterates the default main context until @cond returns TRUE or
 * @timeout_s passes; returns the last value of @cond
 * (ds_test_try_wait_until()). */
gboolean       test_wait_until      (gboolean          (*cond) (gpointer data),
                                     gpointer             data,
                                     guint                timeout_s);
/* Waits until the X server has seen every request so far and the default
 * main context has nothing left to dispatch now (at most 1000 sources). */
void           test_flush           (void);
/* Iterates the default main context for @ms milliseconds.  A sleep: wait
 * on a condition (test_wait_until) instead wherever there is one. */
void           test_spin            (guint                ms);

/* A station application with its window, as "dac-station --data-dir DATA
 * --sim-dir SIM --simulated-only [--operator OP --lot LOT] [--auto-start]"
 * would make it, but in this process. */
DsApplication *test_app_new         (const char          *data_dir,
                                     const char          *sim_dir,
                                     const char          *operator_id,
                                     const char          *lot,
                                     gboolean             auto_start);
DsWindow      *test_app_get_window  (DsApplication       *app);
/* Closes the window (cancelling what runs) and waits for it to go. */
void           test_app_close       (DsApplication       *app);

/* The first button under @root whose action is @action_name. */
GtkWidget     *test_find_button     (GtkWidget           *root,
                                     const char          *action_name);
/* The toplevel window of type @type, or NULL. */
GtkWidget     *test_find_toplevel   (GType                type);
/* Counts the cards whose status is @status. */
guint          test_count_cards     (DsWindow            *window,
                                     DsCardStatus         status);
/* Waits until @window shows exactly @n cards; fails the test after
 * @timeout_s seconds. */
void           test_wait_cards      (DsWindow            *window,
                                     guint                n,
                                     guint                timeout_s);
/* Waits until @window has built the station it was building (in a
 * thread), and what waited for it started; fails the test after
 * @timeout_s seconds. */
void           test_wait_station    (DsWindow            *window,
                                     guint                timeout_s);
/* Waits until @window's @n cards all show a verdict (none idle, queued or
 * running); fails the test after @timeout_s seconds. */
void           test_wait_finished   (DsWindow            *window,
                                     guint                n,
                                     guint                timeout_s);

/* ds_test_rm_rf(), under its old name. */
void           test_rm_rf           (const char          *path);

G_END_DECLS

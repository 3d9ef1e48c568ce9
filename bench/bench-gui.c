/* Benchmark: how responsive the GTK station stays while N simulated boards
 * provision at once.  A 1 ms timer on the main loop measures the longest
 * gap between its runs (a main-loop stall), first with the window idle for
 * the same time (the baseline), then while the boards provision; and the
 * process's peak resident memory before and after.  Run under a (virtual)
 * X server: bench/run does it with xvfb-run.
 *
 * On a shared machine a gap also holds the time the process waited for a
 * core, so each gap's main-thread CPU time is measured as well: the longest
 * is the stall the main loop itself caused, whatever the load.
 *
 * DS_BENCH_STALLS=1 prints each long gap (over 12 ms of CPU, or over 16 ms
 * of wall clock) with how many cards are shown, passed and waiting to be
 * rendered, where its CPU time went (the frame
 * clock's update phase: tick callbacks, such as the cards rendering their
 * jobs and the window adding cards; layout: restyling, size requests and
 * allocation; paint; and the rest: idle callbacks, job signals, X events),
 * how many widgets were restyled and allocated in it, how long the main
 * thread waited for a core in it and how often it blocked (waiting for the
 * X server, say);
 * DS_BENCH_HIDDEN=1 runs with the window unmapped (no layout, no drawing);
 * DS_BENCH_WM=1 waits for a window manager to run on the display first
 * (bench/run starts one: without one, GTK 3 asks the X server at every
 * frame whether a window manager has come, a round trip that waits for the
 * server to draw everything sent before).
 *
 *   bench-gui N BAUD   prints "idle_stall_ms busy_stall_ms provisioning_stall_ms
 *                       idle_rss_kib busy_rss_kib seconds
 *                       idle_cpu_stall_ms busy_cpu_stall_ms" */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>

#include "test-gui-util.h"

#include <gdk/gdkx.h>

typedef struct {
  gint64    last;
  gint64    longest;
  gint64    last_cpu;
  gint64    longest_cpu;
  long      last_vcsw;      /* the main thread's waits so far (for X, a lock) */
  gint64    last_runq;      /* its time runnable without a core so far, us */
  gboolean  log_stalls;     /* DS_BENCH_STALLS: print every long gap */
  /* The same, counted only once every card is on screen: the stalls of
   * provisioning itself, without the cards' construction. */
  DsWindow *window;
  guint     n;
  gboolean  all_cards;
  gint64    longest_provisioning;
} Stall;

/* Where the main thread's CPU time goes within a gap, by frame clock
 * phase: an emission hook runs before any handler of its signal, so each
 * phase's signal marks the end of the phase before it. */
typedef enum { PHASE_OTHER, PHASE_UPDATE, PHASE_LAYOUT, PHASE_PAINT, N_PHASES } Phase;

static Phase  phase = PHASE_OTHER;
static gint64 phase_since;
static gint64 phase_cpu[N_PHASES];
static guint  n_restyled;    /* widgets whose style changed in the gap */
static guint  n_allocated;   /* widgets given an allocation in the gap */

/* How long the calling thread has been runnable but waiting for a core,
 * in microseconds (the kernel's schedstat); 0 where it cannot be read. */
static gint64
thread_runqueue_time (void)
{
  g_autofree char *text = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/thread-self/schedstat", &text, NULL, NULL))
    return 0;
  fields = g_strsplit (g_strstrip (text), " ", -1);
  return g_strv_length (fields) >= 2 ? g_ascii_strtoll (fields[1], NULL, 10) / 1000 : 0;
}

/* The main thread's CPU time, in microseconds. */
static gint64
thread_cpu_time (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

static gboolean
phase_hook_cb (GSignalInvocationHint *hint,
               guint                  n_params,
               const GValue          *params,
               gpointer               data)
{
  gint64 cpu = thread_cpu_time ();

  phase_cpu[phase] += cpu - phase_since;
  phase_since = cpu;
  phase = GPOINTER_TO_INT (data);
  return TRUE;
}

static gboolean
count_hook_cb (GSignalInvocationHint *hint,
               guint                  n_params,
               const GValue          *params,
               gpointer               data)
{
  (*(guint *) data)++;
  return TRUE;
}

static void
hook_phases (void)
{
  static const struct { const char *signal; Phase phase; } hooks[] = {
    { "update", PHASE_UPDATE }, { "layout", PHASE_LAYOUT }, { "paint", PHASE_PAINT }, { "after-paint", PHASE_OTHER },
  };

  g_type_class_ref (GDK_TYPE_FRAME_CLOCK);
  for (gsize i = 0; i < G_N_ELEMENTS (hooks); i++)
    g_signal_add_emission_hook (g_signal_lookup (hooks[i].signal, GDK_TYPE_FRAME_CLOCK), 0, phase_hook_cb,
                                GINT_TO_POINTER (hooks[i].phase), NULL);
  g_type_class_ref (GTK_TYPE_WIDGET);
  g_signal_add_emission_hook (g_signal_lookup ("style-updated", GTK_TYPE_WIDGET), 0, count_hook_cb, &n_restyled, NULL);
  g_signal_add_emission_hook (g_signal_lookup ("size-allocate", GTK_TYPE_WIDGET), 0, count_hook_cb, &n_allocated,
                              NULL);
  phase_since = thread_cpu_time ();
}

static gboolean
tick (gpointer data)
{
  Stall *s = data;
  gint64 now = g_get_monotonic_time ();
  gint64 cpu = thread_cpu_time ();
  gint64 runq = s->log_stalls ? thread_runqueue_time () : 0;
  struct rusage ru;

  /* The timer itself runs outside the frame clock's phases. */
  phase_cpu[phase] += cpu - phase_since;
  phase_since = cpu;
  getrusage (RUSAGE_THREAD, &ru);
  if (s->last != 0)
    {
      s->longest = MAX (s->longest, now - s->last);
      s->longest_cpu = MAX (s->longest_cpu, cpu - s->last_cpu);
      if (s->log_stalls && (cpu - s->last_cpu > 12000 || now - s->last > 16000) && s->window != NULL)
        {
          g_autoptr(GList) cards = ds_window_get_cards (s->window);
          guint passed = 0, unrendered = 0;

          for (GList *l = cards; l != NULL; l = l->next)
            {
              passed += ds_board_card_get_status (l->data) == DS_CARD_STATUS_PASSED;
              unrendered += !ds_board_card_is_rendered (l->data);
            }
          g_printerr ("stall: %.1f ms CPU, %.1f ms wall; %u cards, %u passed, %u waiting to be rendered; "
                      "CPU ms: update %.1f, layout %.1f, paint %.1f, other %.1f; %u widgets restyled, %u allocated; "
                      "the main thread waited for a core %.1f ms and was blocked %ld times\n",
                      (cpu - s->last_cpu) / 1000.0, (now - s->last) / 1000.0, g_list_length (cards), passed,
                      unrendered, phase_cpu[PHASE_UPDATE] / 1000.0, phase_cpu[PHASE_LAYOUT] / 1000.0,
                      phase_cpu[PHASE_PAINT] / 1000.0, phase_cpu[PHASE_OTHER] / 1000.0, n_restyled, n_allocated,
                      (runq - s->last_runq) / 1000.0, ru.ru_nvcsw - s->last_vcsw);
        }
      if (s->all_cards)
        s->longest_provisioning = MAX (s->longest_provisioning, now - s->last);
    }
  if (s->window != NULL && !s->all_cards)
    {
      g_autoptr(GList) cards = ds_window_get_cards (s->window);
      s->all_cards = g_list_length (cards) == s->n;
    }
  s->last_vcsw = ru.ru_nvcsw;
  s->last_runq = runq;
  s->last = g_get_monotonic_time ();
  s->last_cpu = thread_cpu_time ();
  memset (phase_cpu, 0, sizeof phase_cpu);
  phase_since = s->last_cpu;
  n_restyled = n_allocated = 0;
  return G_SOURCE_CONTINUE;
}

typedef struct {
  DsWindow *window;
  guint     n;
} Boards;

static gboolean
all_passed (gpointer data)
{
  Boards *b = data;
  g_autoptr(GList) cards = ds_window_get_cards (b->window);
  guint passed = 0;

  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_status (l->data) == DS_CARD_STATUS_PASSED && ds_board_card_is_rendered (l->data))
      passed++;
  return passed == b->n;
}

static long
peak_rss_kib (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

int
main (int    argc,
      char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 16;
  guint baud = argc > 2 ? (guint) atoi (argv[2]) : 115200;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *data_dir = NULL, *sim_dir = NULL, *state_dir = NULL;
  DsApplication *app;
  TestSim *sim;
  Stall idle = { 0 }, busy = { 0 };
  Boards boards;
  long idle_rss;
  gint64 start, elapsed;
  guint id;

  setlocale (LC_ALL, "");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_init (&argc, &argv);
  hook_phases ();
  tmp = g_dir_make_tmp ("ds-bench-gui-XXXXXX", &error);
  g_assert_no_error (error);
  data_dir = g_build_filename (tmp, "data", NULL);
  sim_dir = g_build_filename (tmp, "announce", NULL);
  state_dir = g_build_filename (tmp, "boards", NULL);
  g_mkdir_with_parents (sim_dir, 0700);

  if (g_getenv ("DS_BENCH_WM") != NULL)
    {
      GdkScreen *screen = gdk_screen_get_default ();
      gint64 until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

      while (GDK_IS_X11_SCREEN (screen) &&
             g_strcmp0 (gdk_x11_screen_get_window_manager_name (screen), "unknown") == 0 &&
             g_get_monotonic_time () < until)
        g_usleep (50000);
      if (!GDK_IS_X11_SCREEN (screen) || g_strcmp0 (gdk_x11_screen_get_window_manager_name (screen), "unknown") == 0)
        {
          g_printerr ("no window manager came\n");
          return 1;
        }
    }
  app = test_app_new (data_dir, sim_dir, "bench", "LOT-BENCH", TRUE);
  boards.window = test_app_get_window (app);
  boards.n = n;
  /* DS_BENCH_HIDDEN: the same run with the window unmapped, so without
   * layout and drawing, to tell their share. */
  if (g_getenv ("DS_BENCH_HIDDEN") != NULL)
    gtk_widget_hide (GTK_WIDGET (boards.window));
  test_spin (500);

  /* Baseline: the same window, idle, for about as long as a run. */
  id = g_timeout_add_full (G_PRIORITY_HIGH, 1, tick, &idle, NULL);
  test_spin (2000);
  g_source_remove (id);
  idle_rss = peak_rss_kib ();

  busy.window = boards.window;
  busy.n = n;
  busy.log_stalls = g_getenv ("DS_BENCH_STALLS") != NULL;
  id = g_timeout_add_full (G_PRIORITY_HIGH, 1, tick, &busy, NULL);
  start = g_get_monotonic_time ();
  sim = test_sim_start (state_dir, sim_dir, n, baud, NULL);
  if (!test_wait_until (all_passed, &boards, 300))
    {
      g_printerr ("not every board passed\n");
      return 1;
    }
  elapsed = g_get_monotonic_time () - start;
  g_source_remove (id);
  /* DS_BENCH_SCREENSHOT=FILE.png: the window with every card passed. */
  if (g_getenv ("DS_BENCH_SCREENSHOT") != NULL)
    {
      GtkWidget *widget = GTK_WIDGET (boards.window);
      cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32,
                                                             gtk_widget_get_allocated_width (widget),
                                                             gtk_widget_get_allocated_height (widget));
      cairo_t *cr = cairo_create (surface);

      gtk_widget_draw (widget, cr);
      cairo_destroy (cr);
      cairo_surface_write_to_png (surface, g_getenv ("DS_BENCH_SCREENSHOT"));
      cairo_surface_destroy (surface);
    }

  printf ("%.1f %.1f %.1f %ld %ld %.2f %.1f %.1f\n", idle.longest / 1000.0, busy.longest / 1000.0,
          busy.longest_provisioning / 1000.0, idle_rss, peak_rss_kib (), elapsed / 1e6,
          idle.longest_cpu / 1000.0, busy.longest_cpu / 1000.0);
  test_app_close (app);
  test_sim_stop (sim);
  g_object_unref (app);
  test_rm_rf (tmp);
  return 0;
}

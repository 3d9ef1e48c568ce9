/* DsSimulator, the one way the station, the CLI, the benchmarks and the
 * tests start dac-station-sim: the real simulator on real pseudo-terminals. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "ds-error.h"
#include "ds-simulator.h"
#include "ds-test-util.h"

static guint
count_announcements (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      n++;
  return n;
}

static DsSimulator *
new_simulator (DsTestTree *tree)
{
  DsSimulator *sim = ds_simulator_new (tree->announce_dir);

  ds_simulator_set_program (sim, g_getenv ("DS_SIM"));
  ds_simulator_set_state_dir (sim, tree->state_dir);
  return sim;
}

static void
exited_cb (DsSimulator *sim,
           gpointer     data)
{
  (*(guint *) data)++;
}

/* Started synchronously, its boards are announced at once; stopped, they
 * are gone, "exited" is emitted and the boards' state stays. */
static void
test_start_stop_sync (DsTestTree    *tree,
                      gconstpointer  data)
{
  g_autoptr(DsSimulator) sim = new_simulator (tree);
  g_autoptr(GError) error = NULL;
  guint exited = 0;

  g_signal_connect (sim, "exited", G_CALLBACK (exited_cb), &exited);
  g_assert_false (ds_simulator_is_running (sim));
  g_assert_cmpint (ds_simulator_get_pid (sim), ==, 0);
  g_assert_true (ds_simulator_start_sync (sim, 3, 0, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_simulator_is_running (sim));
  g_assert_cmpint (ds_simulator_get_pid (sim), >, 0);
  g_assert_cmpuint (count_announcements (tree->announce_dir), ==, 3);

  /* One simulator at a time. */
  g_assert_false (ds_simulator_start_sync (sim, 1, 0, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);

  ds_simulator_stop_sync (sim, 0);
  g_assert_false (ds_simulator_is_running (sim));
  g_assert_cmpuint (exited, ==, 1);
  g_assert_cmpuint (count_announcements (tree->announce_dir), ==, 0);
  g_assert_true (g_file_test (tree->state_dir, G_FILE_TEST_IS_DIR));
}

typedef struct {
  gboolean      done;
  gboolean      ok;
  GError       *error;
} StartResult;

static void
started_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      data)
{
  StartResult *r = data;

  r->ok = ds_simulator_start_finish (DS_SIMULATOR (object), result, &r->error);
  r->done = TRUE;
}

static gboolean
is_done (gpointer data)
{
  return *(gboolean *) data;
}

static gboolean
exited_once (gpointer data)
{
  return *(guint *) data > 0;
}

static gboolean
announced_none (gpointer data)
{
  return count_announcements (data) == 0;
}

/* As the GUI's demo runs it: asynchronously, with state in a temporary
 * folder of its own; stop() asks, "exited" tells. */
static void
test_start_stop_async (DsTestTree    *tree,
                       gconstpointer  data)
{
  g_autoptr(DsSimulator) sim = ds_simulator_new (tree->announce_dir);
  StartResult r = { 0 };
  guint exited = 0;

  ds_simulator_set_program (sim, g_getenv ("DS_SIM"));
  g_signal_connect (sim, "exited", G_CALLBACK (exited_cb), &exited);
  ds_simulator_start_async (sim, 2, 0, NULL, started_cb, &r);
  ds_test_wait_until (is_done, &r.done, 60, "the simulator to start");
  g_assert_no_error (r.error);
  g_assert_true (r.ok);
  g_assert_cmpuint (count_announcements (tree->announce_dir), ==, 2);

  ds_simulator_stop (sim);
  ds_test_wait_until (exited_once, &exited, 60, "the simulator to exit");
  g_assert_false (ds_simulator_is_running (sim));
  ds_test_wait_until (announced_none, tree->announce_dir, 10, "the announcements to go");
}

/* A program that ends before it says "ready" is an error, not a hang. */
static void
test_exits_before_ready (DsTestTree    *tree,
                         gconstpointer  data)
{
  g_autoptr(DsSimulator) sim = new_simulator (tree);
  g_autoptr(DsSimulator) missing = new_simulator (tree);
  const char *bad[] = { "--boards-are-not-an-option", NULL };
  g_autoptr(GError) error = NULL;

  ds_simulator_add_arguments (sim, bad);
  g_assert_false (ds_simulator_start_sync (sim, 1, 0, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_false (ds_simulator_is_running (sim));
  g_clear_error (&error);

  ds_simulator_set_program (missing, "/nonexistent/dac-station-sim");
  g_assert_false (ds_simulator_start_sync (missing, 1, 0, NULL, &error));
  g_assert_nonnull (error);
  g_assert_false (ds_simulator_is_running (missing));
}

static gboolean
ready_in (const char  *output,
          GError     **error)
{
  g_autoptr(GInputStream) mem = g_memory_input_stream_new_from_data (output, -1, NULL);
  g_autoptr(GDataInputStream) lines = g_data_input_stream_new (mem);

  return ds_simulator_wait_ready (lines, NULL, error);
}

/* "ready" alone or with more words (a stand-in board's port) ends the
 * wait; other lines do not, and the end of output is an error. */
static void
test_wait_ready (void)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (ready_in ("sim-0 /dev/pts/3 0011\nready\n", &error));
  g_assert_no_error (error);
  g_assert_true (ready_in ("ready /dev/pts/2\n", &error));
  g_assert_no_error (error);
  g_assert_false (ready_in ("sim-0 ready\nreadyish\n", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
}

/* The process's state from /proc: 0 when it is gone. */
static char
process_state (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *close_paren;

  if (!g_file_get_contents (path, &stat, NULL, NULL))
    return 0;
  close_paren = strrchr (stat, ')');
  return close_paren != NULL && close_paren[1] == ' ' ? close_paren[2] : '?';
}

static gboolean
process_gone (gpointer data)
{
  char state = process_state (GPOINTER_TO_INT (data));

  /* A zombie is dead: its new parent may not reap it. */
  return state == 0 || state == 'Z' || state == 'X';
}

/* The child: starts a simulator, says its pid, then dies the way a failed
 * assertion kills a test, with no teardown. */
static void
dies_with_parent_child (void)
{
  const char *dir = g_getenv ("DS_TEST_SIM_DIR");
  g_autofree char *state = g_build_filename (dir, "boards", NULL);
  g_autofree char *announce = g_build_filename (dir, "announce", NULL);
  g_autofree char *pid_file = g_build_filename (dir, "sim.pid", NULL);
  g_autofree char *pid = NULL;
  DsSimulator *sim = ds_simulator_new (announce);
  g_autoptr(GError) error = NULL;

  if (!g_test_subprocess ())
    {
      g_test_skip ("Runs only as /simulator/dies-with-parent's child");
      return;
    }
  ds_simulator_set_program (sim, g_getenv ("DS_SIM"));
  ds_simulator_set_state_dir (sim, state);
  g_assert_true (ds_simulator_start_sync (sim, 1, 0, NULL, &error));
  g_assert_no_error (error);
  pid = g_strdup_printf ("%d", (int) ds_simulator_get_pid (sim));
  g_assert_true (g_file_set_contents (pid_file, pid, -1, &error));
  abort ();
}

/* A test (or a station) that dies does not leave its simulator running. */
static void
test_dies_with_parent (DsTestTree    *tree,
                       gconstpointer  data)
{
  g_autofree char *pid_file = ds_test_tree_path (tree, "sim.pid");
  g_autofree char *contents = NULL;
  GPid pid;

  g_setenv ("DS_TEST_SIM_DIR", tree->tmp, TRUE);
  g_test_trap_subprocess ("/simulator/dies-with-parent/subprocess", 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_failed ();
  g_assert_true (g_file_get_contents (pid_file, &contents, NULL, NULL));
  pid = (GPid) g_ascii_strtoll (contents, NULL, 10);
  g_assert_cmpint (pid, >, 0);
  ds_test_wait_until (process_gone, GINT_TO_POINTER (pid), 30, "the orphaned simulator to end");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_nonnull (g_getenv ("DS_SIM"));
  g_test_add_func ("/simulator/wait-ready", test_wait_ready);
  g_test_add ("/simulator/start-stop-sync", DsTestTree, NULL, ds_test_tree_setup, test_start_stop_sync,
              ds_test_tree_teardown);
  g_test_add ("/simulator/start-stop-async", DsTestTree, NULL, ds_test_tree_setup, test_start_stop_async,
              ds_test_tree_teardown);
  g_test_add ("/simulator/exits-before-ready", DsTestTree, NULL, ds_test_tree_setup, test_exits_before_ready,
              ds_test_tree_teardown);
  g_test_add ("/simulator/dies-with-parent", DsTestTree, NULL, ds_test_tree_setup, test_dies_with_parent,
              ds_test_tree_teardown);
  g_test_add_func ("/simulator/dies-with-parent/subprocess", dies_with_parent_child);
  return g_test_run ();
}

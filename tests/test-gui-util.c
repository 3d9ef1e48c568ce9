/* Helpers for the GUI tests and the screenshot driver. */
#include "config.h"

#include "test-gui-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>

static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

TestSim *
test_sim_start (const char         *state_dir,
                const char         *announce_dir,
                guint               n,
                guint               baud,
                const char * const *faults)
{
  return test_sim_start_args (state_dir, announce_dir, n, baud, faults, NULL);
}

TestSim *
test_sim_start_args (const char         *state_dir,
                     const char         *announce_dir,
                     guint               n,
                     guint               baud,
                     const char * const *faults,
                     const char * const *args)
{
  const char *program = g_getenv ("DS_SIM");
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  TestSim *sim = g_new0 (TestSim, 1);

  g_assert_nonnull (program);
  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup ("--boards"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", n));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (state_dir));
  g_ptr_array_add (argv, g_strdup ("--announce-dir"));
  g_ptr_array_add (argv, g_strdup (announce_dir));
  g_ptr_array_add (argv, g_strdup ("--baud"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", baud));
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    {
      g_ptr_array_add (argv, g_strdup ("--fault"));
      g_ptr_array_add (argv, g_strdup (faults[i]));
    }
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);

  {
    g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

    /* A test that aborts must not leave its boards running (nor the
     * simulator holding the test runner's output open). */
    g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
    sim->process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  }
  g_assert_no_error (error);
  sim->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (sim->process));
  /* A test may block here: the simulator answers within a second. */
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (sim->out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      if (g_str_equal (g_strstrip (line), "ready"))
        break;
    }
  return sim;
}

void
test_sim_stop (TestSim *sim)
{
  g_autoptr(GError) error = NULL;

  if (sim == NULL)
    return;
  g_subprocess_send_signal (sim->process, SIGTERM);
  g_subprocess_wait (sim->process, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&sim->out);
  g_clear_object (&sim->process);
  g_free (sim);
}

gboolean
test_wait_until (gboolean (*cond) (gpointer data),
                 gpointer  data,
                 guint     timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return cond (data);
      /* Jobs post from their threads: wake up now and then to look. */
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
  return TRUE;
}

static gboolean
spin_done (gpointer data)
{
  return g_get_monotonic_time () >= *(gint64 *) data;
}

void
test_spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  test_wait_until (spin_done, &end, ms / 1000 + 2);
}

DsApplication *
test_app_new (const char *data_dir,
              const char *sim_dir,
              const char *operator_id,
              const char *lot,
              gboolean    auto_start)
{
  g_autoptr(GError) error = NULL;
  DsApplication *app = g_object_new (DS_TYPE_APPLICATION,
                                     "application-id", DS_APP_ID,
                                     "flags", G_APPLICATION_NON_UNIQUE,
                                     "data-dir", data_dir,
                                     "sim-dir", sim_dir,
                                     "simulated-only", TRUE,
                                     "operator", operator_id,
                                     "lot", lot,
                                     "auto-start", auto_start,
                                     NULL);

  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);
  g_application_activate (G_APPLICATION (app));
  g_assert_nonnull (test_app_get_window (app));
  return app;
}

DsWindow *
test_app_get_window (DsApplication *app)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (app));

  for (GList *l = windows; l != NULL; l = l->next)
    if (DS_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static gboolean
no_window (gpointer data)
{
  return test_app_get_window (data) == NULL;
}

void
test_app_close (DsApplication *app)
{
  DsWindow *window = test_app_get_window (app);

  if (window != NULL)
    {
      gtk_window_close (GTK_WINDOW (window));
      g_assert_true (test_wait_until (no_window, app, 30));
    }
}

GtkWidget *
test_find_button (GtkWidget  *root,
                  const char *action_name)
{
  g_autoptr(GList) children = NULL;

  if (GTK_IS_BUTTON (root) &&
      g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (root)), action_name) == 0)
    return root;
  if (!GTK_IS_CONTAINER (root))
    return NULL;
  children = gtk_container_get_children (GTK_CONTAINER (root));
  for (GList *l = children; l != NULL; l = l->next)
    {
      GtkWidget *found = test_find_button (l->data, action_name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
test_find_toplevel (GType type)
{
  g_autoptr(GList) toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    if (G_TYPE_CHECK_INSTANCE_TYPE (l->data, type))
      return l->data;
  return NULL;
}

guint
test_count_cards (DsWindow     *window,
                  DsCardStatus  status)
{
  g_autoptr(GList) cards = ds_window_get_cards (window);
  guint n = 0;

  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_status (l->data) == status)
      n++;
  return n;
}

typedef struct {
  DsWindow *window;
  guint     n;
} CardCount;

static gboolean
has_n_cards (gpointer data)
{
  CardCount *c = data;
  g_autoptr(GList) cards = ds_window_get_cards (c->window);

  return g_list_length (cards) == c->n;
}

void
test_wait_cards (DsWindow *window,
                 guint     n,
                 guint     timeout_s)
{
  CardCount c = { window, n };

  if (!test_wait_until (has_n_cards, &c, timeout_s))
    {
      g_autoptr(GList) cards = ds_window_get_cards (window);

      g_assert_cmpuint (g_list_length (cards), ==, n);
    }
}

/* Every card shows a verdict: nothing idle, queued or running. */
static gboolean
all_finished (gpointer data)
{
  CardCount *c = data;
  g_autoptr(GList) cards = ds_window_get_cards (c->window);

  if (g_list_length (cards) != c->n)
    return FALSE;
  for (GList *l = cards; l != NULL; l = l->next)
    {
      DsCardStatus status = ds_board_card_get_status (l->data);

      if (status == DS_CARD_STATUS_IDLE || status == DS_CARD_STATUS_QUEUED ||
          status == DS_CARD_STATUS_RUNNING || !ds_board_card_is_rendered (l->data))
        return FALSE;
    }
  return TRUE;
}

void
test_wait_finished (DsWindow *window,
                    guint     n,
                    guint     timeout_s)
{
  CardCount c = { window, n };

  g_assert_true (test_wait_until (all_finished, &c, timeout_s));
}

void
test_rm_rf (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          test_rm_rf (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
}

/* Helpers for the GUI tests and the screenshot driver. */
#include "config.h"

#include "test-gui-util.h"

#include <signal.h>

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
  g_autoptr(GError) error = NULL;
  TestSim *sim = g_new0 (TestSim, 1);

  g_assert_nonnull (program);
  sim->simulator = ds_simulator_new (announce_dir);
  ds_simulator_set_program (sim->simulator, program);
  ds_simulator_set_state_dir (sim->simulator, state_dir);
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    {
      const char *fault[] = { "--fault", faults[i], NULL };

      ds_simulator_add_arguments (sim->simulator, fault);
    }
  if (args != NULL)
    ds_simulator_add_arguments (sim->simulator, args);
  /* A test may block here: the simulator answers within a second. */
  g_assert_true (ds_simulator_start_sync (sim->simulator, n, baud, NULL, &error));
  g_assert_no_error (error);
  return sim;
}

void
test_sim_stop (TestSim *sim)
{
  if (sim == NULL)
    return;
  ds_simulator_stop_sync (sim->simulator, SIGTERM);
  g_clear_object (&sim->simulator);
  g_free (sim);
}

gboolean
test_wait_until (gboolean (*cond) (gpointer data),
                 gpointer  data,
                 guint     timeout_s)
{
  return ds_test_try_wait_until (cond, data, timeout_s);
}

void
test_flush (void)
{
  gdk_display_sync (gdk_display_get_default ());
  for (guint i = 0; i < 1000 && g_main_context_iteration (NULL, FALSE); i++)
    ;
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

static gboolean
pointer_cleared (gpointer data)
{
  return *(gpointer *) data == NULL;
}

void
test_app_close (DsApplication *app)
{
  DsWindow *window = test_app_get_window (app);
  DsStore *store;

  if (window == NULL)
    return;
  /* The record store goes last: what still runs for the window (a label
   * being printed, a job's last record) holds it, and it writes its audit
   * checkpoint as it goes, so the test's folder must outlive it. */
  store = ds_window_get_store (window);
  if (store != NULL)
    g_object_add_weak_pointer (G_OBJECT (store), (gpointer *) &store);
  gtk_window_close (GTK_WINDOW (window));
  g_assert_true (test_wait_until (no_window, app, 30));
  g_assert_true (test_wait_until (pointer_cleared, &store, 30));
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

static gboolean
station_built (gpointer data)
{
  return !ds_window_is_preparing_station (data);
}

void
test_wait_station (DsWindow *window,
                   guint     timeout_s)
{
  g_assert_true (test_wait_until (station_built, window, timeout_s));
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
  ds_test_rm_rf (path);
}

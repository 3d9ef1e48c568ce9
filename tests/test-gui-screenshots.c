/* Drives the station window through a demo run and saves the screenshots
 * used in README.md and the AppStream metainfo (run by tools/screenshots,
 * under a virtual X server). */
#include "config.h"

#include <locale.h>

#include "ds-board-details-dialog.h"
#include "ds-login-dialog.h"
#include "ds-preferences-dialog.h"
#include "test-gui-util.h"

static char *out_dir;

static void
save (GtkWidget  *toplevel,
      const char *name)
{
  g_autofree char *path = g_build_filename (out_dir, name, NULL);
  cairo_surface_t *surface;
  cairo_t *cr;

  /* Let the last changes be laid out, then render the window's widgets
   * (header bar included) straight into an image. */
  test_spin (400);
  surface = cairo_image_surface_create (CAIRO_FORMAT_ARGB32, gtk_widget_get_allocated_width (toplevel),
                                        gtk_widget_get_allocated_height (toplevel));
  cr = cairo_create (surface);
  gtk_widget_draw (toplevel, cr);
  cairo_destroy (cr);
  g_assert_cmpint (cairo_surface_write_to_png (surface, path), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_destroy (surface);
  g_print ("%s\n", path);
}

/* Mid-run: the first five have their verdict, the last three are half-way. */
static gboolean
mid_run (gpointer data)
{
  DsWindow *window = data;
  g_autoptr(GList) cards = ds_window_get_cards (window);
  guint halfway = 0;

  for (GList *l = cards; l != NULL; l = l->next)
    {
      DsJob *job = ds_board_card_get_job (l->data);

      if (job != NULL && ds_job_get_state (job) == DS_JOB_STATE_RUNNING &&
          ds_job_get_step (job) >= DS_STEP_CHECK)
        halfway++;
    }
  return test_count_cards (window, DS_CARD_STATUS_FAILED) == 1 &&
         test_count_cards (window, DS_CARD_STATUS_PASSED) == 4 && halfway == 3;
}

static gboolean
all_done (gpointer data)
{
  DsWindow *window = data;

  return ds_window_get_station (window) != NULL &&
         ds_station_get_n_active (ds_window_get_station (window)) == 0 &&
         !ds_yield_panel_is_busy (ds_window_get_yield_panel (window)) &&
         test_count_cards (window, DS_CARD_STATUS_IDLE) == 0;
}

static void
deselect (DsWindow *window)
{
  g_autoptr(GList) cards = ds_window_get_cards (window);

  if (cards != NULL)
    gtk_flow_box_unselect_all (GTK_FLOW_BOX (gtk_widget_get_parent (cards->data)));
  gtk_window_set_focus (GTK_WINDOW (window), NULL);
}

static gboolean
chain_loaded (gpointer data)
{
  return ds_board_details_dialog_get_verdict (data) != NULL;
}

int
main (int    argc,
      char **argv)
{
  const char *faults[] = { "1:refuse-install", NULL };
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *sim_dir = NULL;
  g_autofree char *state_dir = NULL;
  g_autoptr(DsApplication) app = NULL;
  GSettings *settings;
  DsWindow *window;
  TestSim *sim;
  DsBoardDetailsDialog *dialog;
  GtkWidget *details;
  GtkWidget *prefs;
  GtkWidget *login;

  setlocale (LC_ALL, "");
  gtk_init (&argc, &argv);
  if (argc != 2)
    {
      g_printerr ("usage: gui-screenshots OUTPUT-DIR\n");
      return 2;
    }
  out_dir = argv[1];
  g_mkdir_with_parents (out_dir, 0755);

  tmp = g_dir_make_tmp ("dac-station-shots-XXXXXX", &error);
  g_assert_no_error (error);
  data_dir = g_build_filename (tmp, "data", NULL);
  sim_dir = g_build_filename (tmp, "announce", NULL);
  state_dir = g_build_filename (tmp, "boards", NULL);
  g_mkdir_with_parents (sim_dir, 0700);

  app = test_app_new (data_dir, sim_dir, "op-17", "WO-2024-117", TRUE);
  g_object_set (app, "timeout-ms", 10000, NULL);
  settings = ds_application_get_settings (app);
  /* Five at a time, so that a run shows every state at once. */
  g_settings_set_uint (settings, "max-jobs", 5);
  window = test_app_get_window (app);
  gtk_window_resize (GTK_WINDOW (window), 1300, 1040);
  gtk_widget_show (GTK_WIDGET (window));
  test_spin (500);

  sim = test_sim_start (state_dir, sim_dir, 8, 2400, faults);

  /* Mid-run: the first five are done (one failed), the rest installing. */
  g_assert_true (test_wait_until (mid_run, window, 120));
  /* No card selected: the picture is of the boards, not of the focus. */
  deselect (window);
  save (GTK_WIDGET (window), "main-window.png");

  g_assert_true (test_wait_until (all_done, window, 120));
  deselect (window);
  save (GTK_WIDGET (window), "main-window-done.png");

  /* The details of a board that passed: log and certificate chain. */
  details = test_find_button (GTK_WIDGET (ds_window_find_card (window, "sim-0")), "win.board-details");
  gtk_button_clicked (GTK_BUTTON (details));
  dialog = DS_BOARD_DETAILS_DIALOG (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (test_wait_until (chain_loaded, dialog, 30));
  gtk_window_resize (GTK_WINDOW (dialog), 1180, 760);
  save (GTK_WIDGET (dialog), "board-details.png");
  gtk_widget_destroy (GTK_WIDGET (dialog));

  /* Preferences and the sign-in, for the documentation. */
  g_action_group_activate_action (G_ACTION_GROUP (app), "preferences", NULL);
  prefs = test_find_toplevel (DS_TYPE_PREFERENCES_DIALOG);
  g_assert_nonnull (prefs);
  save (prefs, "preferences.png");
  gtk_widget_destroy (prefs);

  g_action_group_activate_action (G_ACTION_GROUP (window), "sign-in", NULL);
  login = test_find_toplevel (DS_TYPE_LOGIN_DIALOG);
  g_assert_nonnull (login);
  save (login, "sign-in.png");
  gtk_widget_destroy (login);

  test_app_close (app);
  test_sim_stop (sim);
  test_rm_rf (tmp);
  return 0;
}

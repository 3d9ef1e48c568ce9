/* Drives the station window through a demo run and saves the screenshots
 * used in README.md and the AppStream metainfo (run by tools/screenshots,
 * under a virtual X server). */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <sqlite3.h>

#include "ds-board-details-dialog.h"
#include "ds-login-dialog.h"
#include "ds-preferences-dialog.h"
#include "ds-statistics-window.h"
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

/* Earlier today: two lots of another shift, written straight into the
 * store, so that the statistics have a day to show and not one demo run.
 * Five boards at a time, about 40 s each as on real hardware, a break, a
 * few failures of each kind and most failed boards retried. */
static void
seed_history (const char *db_path)
{
  static const struct {
    const char *step;
    const char *code;
    const char *message;
    int         weight;
  } failures[] = {
    { "install", "rejected", "The board refused INSTALL", 5 },
    { "csr", "timed-out", "The board did not answer CSR in time", 4 },
    { "connect", "disconnected", "The board went away", 3 },
    { "check", "invalid-data", "The DAC breaks a Matter rule", 2 },
    { "attest", "protocol", "The attestation answer does not parse", 1 },
  };
  static const struct {
    const char *lot;
    const char *operator_id;
    double      from_h;    /* hours before now */
    double      to_h;
    double      rate;      /* boards started per minute */
  } runs[] = {
    { "WO-2024-115", "op-12", 7.0, 5.2, 5.5 },
    { "WO-2024-115", "op-12", 4.8, 4.0, 6.5 },
    { "WO-2024-116", "op-14", 3.6, 0.6, 6.0 },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (20241117);
  gint64 now = g_get_real_time ();
  sqlite3 *db = NULL;
  sqlite3_stmt *board = NULL, *job = NULL;
  guint serial = 0;

  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  sqlite3_busy_timeout (db, 5000);
  g_assert_cmpint (sqlite3_exec (db, "BEGIN", NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO boards (uid, first_seen_us, last_seen_us) VALUES (?1, ?2, ?3)",
                                       -1, &board, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us, "
                                       "finished_us, outcome, failed_step, error_code, error_message) "
                                       "VALUES (?1, ?2, ?3, ?4, 'line-3', ?5, ?6, ?7, ?8, ?9, ?10)",
                                       -1, &job, NULL), ==, SQLITE_OK);
  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      gint64 t = now - (gint64) (runs[r].from_h * 3600e6);
      gint64 end = now - (gint64) (runs[r].to_h * 3600e6);

      for (; t < end; t += (gint64) (60e6 / runs[r].rate * g_rand_double_range (rand, 0.6, 1.4)))
        {
          g_autofree char *uid = g_strdup_printf ("%08X%08X%08X", 0x5EED0000u + serial++,
                                                  g_rand_int (rand), g_rand_int (rand));
          g_autofree char *port = g_strdup_printf ("/dev/ttyACM%u", serial % 5);
          gint64 start = t;
          gboolean passed = FALSE;

          sqlite3_reset (board);
          sqlite3_bind_text (board, 1, uid, -1, SQLITE_TRANSIENT);
          sqlite3_bind_int64 (board, 2, t);
          sqlite3_bind_int64 (board, 3, t);
          g_assert_cmpint (sqlite3_step (board), ==, SQLITE_DONE);

          /* A first attempt, and for a failure up to two retries. */
          for (int attempt = 0; attempt < 3 && !passed; attempt++)
            {
              gint64 cycle = (gint64) (g_rand_double_range (rand, 34, 44) * G_USEC_PER_SEC);
              int pick = -1;

              if (g_rand_double (rand) < (attempt == 0 ? 0.075 : 0.3))
                {
                  int w = g_rand_int_range (rand, 0, 15);

                  for (pick = 0; w >= failures[pick].weight; pick++)
                    w -= failures[pick].weight;
                  cycle /= 2;
                }
              else if (g_rand_double (rand) < 0.04)
                cycle *= 2;   /* a slow board: the p95 */
              passed = pick < 0;
              sqlite3_reset (job);
              sqlite3_clear_bindings (job);
              sqlite3_bind_text (job, 1, uid, -1, SQLITE_TRANSIENT);
              sqlite3_bind_text (job, 2, port, -1, SQLITE_TRANSIENT);
              sqlite3_bind_text (job, 3, runs[r].operator_id, -1, SQLITE_STATIC);
              sqlite3_bind_text (job, 4, runs[r].lot, -1, SQLITE_STATIC);
              sqlite3_bind_int64 (job, 5, start);
              sqlite3_bind_int64 (job, 6, start + cycle);
              sqlite3_bind_text (job, 7, passed ? "passed" : "failed", -1, SQLITE_STATIC);
              if (!passed)
                {
                  sqlite3_bind_text (job, 8, failures[pick].step, -1, SQLITE_STATIC);
                  sqlite3_bind_text (job, 9, failures[pick].code, -1, SQLITE_STATIC);
                  sqlite3_bind_text (job, 10, failures[pick].message, -1, SQLITE_STATIC);
                }
              g_assert_cmpint (sqlite3_step (job), ==, SQLITE_DONE);
              /* Retried a few minutes later, or given up on (a third of them). */
              if (!passed && g_rand_double (rand) < 0.33)
                break;
              start += cycle + (gint64) (g_rand_double_range (rand, 60, 600) * G_USEC_PER_SEC);
            }
        }
    }
  sqlite3_finalize (board);
  sqlite3_finalize (job);
  g_assert_cmpint (sqlite3_exec (db, "COMMIT", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static gboolean
stats_settled (gpointer data)
{
  return !ds_statistics_window_is_busy (data) && ds_statistics_window_get_report (data) != NULL;
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
  DsStatisticsWindow *stats;
  GtkWidget *details;
  GtkWidget *prefs;
  GtkWidget *login;

  setlocale (LC_ALL, "");
  gtk_init (&argc, &argv);
  /* The translations of the build tree: LANGUAGE=de makes the German set. */
  {
    g_autofree char *exe_dir = g_path_get_dirname (argv[0]);
    g_autofree char *po = g_build_filename (exe_dir, "..", "po", NULL);

    bindtextdomain (GETTEXT_PACKAGE, po);
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
    textdomain (GETTEXT_PACKAGE);
  }
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
  {
    g_autofree char *db = g_build_filename (data_dir, "records.sqlite3", NULL);

    seed_history (db);
  }
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
  /* A passed board's card with its QR code (issue 17), as the window
   * draws it. */
  save (GTK_WIDGET (ds_window_find_card (window, "sim-0")), "board-card-label.png");

  /* The details of a board that passed: log and certificate chain. */
  details = test_find_button (GTK_WIDGET (ds_window_find_card (window, "sim-0")), "win.board-details");
  gtk_button_clicked (GTK_BUTTON (details));
  dialog = DS_BOARD_DETAILS_DIALOG (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (test_wait_until (chain_loaded, dialog, 30));
  gtk_window_resize (GTK_WINDOW (dialog), 1180, 760);
  save (GTK_WIDGET (dialog), "board-details.png");
  gtk_widget_destroy (GTK_WIDGET (dialog));

  /* The failed board once more: closing mid-run asks; it fails again and
   * is set aside ("Attempt 2 of 2"), and the tiles count boards. */
  {
    GtkWidget *confirm;

    g_action_group_activate_action (G_ACTION_GROUP (window), "start-all", NULL);
    test_spin (300);
    gtk_window_close (GTK_WINDOW (window));
    test_spin (300);
    confirm = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
    g_assert_nonnull (confirm);
    save (confirm, "confirm-close.png");
    gtk_dialog_response (GTK_DIALOG (confirm), GTK_RESPONSE_CANCEL);
    g_assert_true (test_wait_until (all_done, window, 120));
    deselect (window);
    save (GTK_WIDGET (window), "main-window-set-aside.png");
  }

  /* The statistics of the day, from the main window's Ctrl+Y. */
  g_action_group_activate_action (G_ACTION_GROUP (window), "statistics", NULL);
  stats = ds_window_get_statistics (window);
  g_assert_nonnull (stats);
  gtk_window_resize (GTK_WINDOW (stats), 1240, 900);
  g_assert_true (test_wait_until (stats_settled, stats, 30));
  save (GTK_WIDGET (stats), "statistics.png");
  gtk_widget_destroy (GTK_WIDGET (stats));

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

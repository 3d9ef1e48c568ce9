/* Printing a label when a board passes (the "label-auto-print" preference):
 * the real window in this process, real simulated boards, and a real cupsd
 * started by the test (ds-test-cups.c) as the system's CUPS server. */
#include "config.h"

#include <string.h>

#include "ds-test-cups.h"
#include "test-gui-util.h"

typedef struct {
  DsTestTree     tree;
  DsTestCups     cups;
  gboolean       running;
  DsApplication *app;
  DsWindow      *window;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *printers[] = { "thermal", NULL };

  ds_test_tree_setup (&f->tree, data);
  f->running = ds_test_cups_start (&f->cups, printers);
  if (!f->running)
    return;
  /* libcups' default server, as the GUI uses it. */
  g_setenv ("CUPS_SERVER", f->cups.server, TRUE);
  f->app = test_app_new (f->tree.data_dir, f->tree.announce_dir, "op-label", "LOT-LABEL", FALSE);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->app != NULL)
    {
      GSettings *settings = ds_application_get_settings (f->app);

      g_settings_reset (settings, "label-auto-print");
      g_settings_reset (settings, "label-printer");
      g_settings_reset (settings, "label-format");
      test_app_close (f->app);
    }
  ds_test_tree_stop_sim (&f->tree);
  g_clear_object (&f->app);
  if (f->running)
    ds_test_cups_stop (&f->cups);
  ds_test_tree_teardown (&f->tree, data);
}

static gboolean
station_idle (gpointer data)
{
  DsStation *station = ds_window_get_station (data);

  return station != NULL && ds_station_get_n_active (station) == 0;
}

static gboolean
card_passed (gpointer data)
{
  return ds_board_card_get_status (data) == DS_CARD_STATUS_PASSED;
}

static gboolean
label_outcome (gpointer data)
{
  Fixture *f = data;
  g_autofree char *out = ds_test_cups_output (&f->cups, "thermal", 1);

  return g_file_test (out, G_FILE_TEST_EXISTS) || ds_window_get_error (f->window) != NULL;
}

/* Starts the board @name, as its card's Start button does. */
static void
provision (Fixture    *f,
           const char *name)
{
  DsBoardCard *card = ds_window_find_card (f->window, name);

  g_assert_nonnull (card);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "provision",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (card))));
}

static void
test_auto_print (Fixture       *f,
                 gconstpointer  data)
{
  GSettings *settings;
  const char *error;

  if (!f->running)
    return;
  settings = ds_application_get_settings (f->app);

  /* Off (the default): a pass prints nothing and says nothing. */
  g_assert_false (g_settings_get_boolean (settings, "label-auto-print"));
  ds_test_tree_start_sim (&f->tree, 2, NULL);
  test_wait_cards (f->window, 2, 30);
  provision (f, "sim-0");
  g_assert_true (test_wait_until (card_passed, ds_window_find_card (f->window, "sim-0"), 90));
  g_assert_true (test_wait_until (station_idle, f->window, 10));
  test_flush ();
  g_assert_null (ds_window_get_error (f->window));

  /* On: the next board's label goes to the printer, or the window says
   * why it could not. */
  g_settings_set_boolean (settings, "label-auto-print", TRUE);
  g_settings_set_string (settings, "label-printer", "thermal");
  g_settings_set_string (settings, "label-format", "zpl");
  provision (f, "sim-1");
  g_assert_true (test_wait_until (label_outcome, f, 90));
  g_assert_cmpint (ds_board_card_get_status (ds_window_find_card (f->window, "sim-1")), ==, DS_CARD_STATUS_PASSED);
  error = ds_window_get_error (f->window);
  if (error != NULL)
    {
      g_test_message ("%s", error);
      /* Nothing but the missing label information may stop it. */
      g_assert_nonnull (strstr (error, "has no label yet"));
      g_test_incomplete ("the job has no label information after PASS: Install fills it on the onb17 branch");
    }
  else
    {
      g_autoptr(GBytes) printed = ds_test_cups_wait_output (&f->cups, "thermal", 1);

      g_assert_cmpmem (g_bytes_get_data (printed, NULL), 3, "^XA", 3);
    }
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add ("/label-window/auto-print", Fixture, NULL, fixture_setup, test_auto_print, fixture_teardown);
  return g_test_run ();
}

/* Printing a label when a board passes (the "label-auto-print" preference):
 * the real window in this process, real simulated boards, and a real cupsd
 * started by the test (ds-test-cups.c) as the system's CUPS server. */
#include "config.h"

#include <string.h>

#include "ds-board-details-dialog.h"
#include "ds-db.h"
#include "ds-test-cups.h"
#include "test-gui-util.h"

static DsTestCups shared_cups;
static gboolean   shared_cups_started;
static gboolean   shared_cups_running;

typedef struct {
  DsTestTree     tree;
  DsTestCups    *cups;
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
  /* One scheduler for the whole process: libcups keeps the server it was
   * first given in each thread, and the printing threads are reused. */
  if (!shared_cups_started)
    {
      shared_cups_running = ds_test_cups_start (&shared_cups, printers);
      shared_cups_started = TRUE;
    }
  else if (!shared_cups_running)
    g_test_skip ("cupsd is not installed");
  f->cups = &shared_cups;
  f->running = shared_cups_running;
  if (!f->running)
    return;
  /* libcups' default server, as the GUI uses it. */
  g_setenv ("CUPS_SERVER", f->cups->server, TRUE);
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
  g_autofree char *out = ds_test_cups_output (f->cups, "thermal", 1);

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
  g_autoptr(GBytes) printed = NULL;

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
  g_assert_cmpstr (error, ==, NULL);
  printed = ds_test_cups_wait_output (f->cups, "thermal", 1);
  g_assert_cmpmem (g_bytes_get_data (printed, NULL), 3, "^XA", 3);
}

static gboolean
card_already_provisioned (gpointer data)
{
  return ds_board_card_get_status (data) == DS_CARD_STATUS_ALREADY_PROVISIONED;
}

static gboolean
card_has_qr (gpointer data)
{
  return ds_board_card_get_qr (data) != NULL;
}

static gboolean
print_enabled (gpointer data)
{
  return g_action_group_get_action_enabled (gtk_widget_get_action_group (GTK_WIDGET (data), "details"),
                                            "print-label");
}

/* A board provisioned earlier comes back: its card shows the QR code the
 * records hold for it, its details print that label again, and the
 * reprint is logged as a "label-reprinted" event. */
static void
test_reprint_provisioned (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  g_autoptr(GBytes) printed = NULL;
  g_autofree char *qr = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *db_path = NULL;
  g_autofree char *expected = NULL;
  GSettings *settings;
  DsBoardCard *card;
  DsBoardDetailsDialog *dialog;
  const DsLabelInfo *info;
  const char *status;
  int print_job;

  if (!f->running)
    return;
  settings = ds_application_get_settings (f->app);
  g_settings_set_string (settings, "label-printer", "thermal");
  g_settings_set_string (settings, "label-format", "zpl");
  ds_test_tree_start_sim (&f->tree, 1, NULL);
  test_wait_cards (f->window, 1, 30);
  card = ds_window_find_card (f->window, "sim-0");
  provision (f, "sim-0");
  g_assert_true (test_wait_until (card_passed, card, 90));
  g_assert_true (test_wait_until (station_idle, f->window, 10));
  info = ds_job_get_label_info (ds_board_card_get_job (card));
  g_assert_nonnull (info);
  qr = g_strdup (info->qr);
  serial = g_strdup (info->serial_number);

  /* The station started again: the board is new to its window. */
  test_app_close (f->app);
  g_clear_object (&f->app);
  f->app = test_app_new (f->tree.data_dir, f->tree.announce_dir, "op-label", "LOT-LABEL", FALSE);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
  settings = ds_application_get_settings (f->app);
  test_wait_cards (f->window, 1, 30);
  card = ds_window_find_card (f->window, "sim-0");
  g_assert_nonnull (card);
  g_assert_null (ds_board_card_get_qr (card));
  provision (f, "sim-0");
  g_assert_true (test_wait_until (card_already_provisioned, card, 90));
  g_assert_true (test_wait_until (station_idle, f->window, 10));
  g_assert_nonnull (ds_job_get_label_info (ds_board_card_get_job (card)));
  g_assert_true (test_wait_until (card_has_qr, card, 10));
  g_assert_cmpstr (ds_board_card_get_qr (card), ==, qr);

  dialog = ds_board_details_dialog_new (GTK_WINDOW (f->window), ds_board_card_get_job (card));
  g_assert_true (print_enabled (dialog));
  g_action_group_activate_action (gtk_widget_get_action_group (GTK_WIDGET (dialog), "details"), "print-label", NULL);
  g_assert_true (test_wait_until (print_enabled, dialog, 90));
  status = ds_board_details_dialog_get_print_status (dialog);
  g_assert_true (g_str_has_prefix (status, "Sent to the printer as job "));
  print_job = (int) g_ascii_strtoll (status + strlen ("Sent to the printer as job "), NULL, 10);
  g_assert_cmpint (print_job, >, 0);
  printed = ds_test_cups_wait_output (f->cups, "thermal", print_job);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (printed, NULL), g_bytes_get_size (printed), serial));
  gtk_widget_destroy (GTK_WIDGET (dialog));

  db_path = g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
  db = ds_db_open (db_path, TRUE, &error);
  g_assert_no_error (error);
  rows = ds_db_query (db, "SELECT message FROM events WHERE kind = 'label-reprinted'", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_db_rows_count (rows), ==, 1);
  expected = g_strdup_printf ("serial %s to printer thermal, job %d", serial, print_job);
  g_assert_cmpstr (ds_db_rows_text (rows, 0, 0), ==, expected);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add ("/label-window/auto-print", Fixture, NULL, fixture_setup, test_auto_print, fixture_teardown);
  g_test_add ("/label-window/reprint-provisioned", Fixture, NULL, fixture_setup, test_reprint_provisioned,
              fixture_teardown);
  status = g_test_run ();
  if (shared_cups_running)
    ds_test_cups_stop (&shared_cups);
  return status;
}

/* The operator's day (issue 14): quitting from any dialog, closing mid-run,
 * repeated failures and the causes on the cards.  The real window in this
 * process, real simulated boards on pseudo-terminals, a real record store. */
#include "config.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>
#include <signal.h>
#include <string.h>

#include "ds-board-details-dialog.h"
#include "ds-db.h"
#include "ds-login-dialog.h"
#include "ds-preferences-dialog.h"
#include "test-gui-util.h"

typedef struct {
  DsTestTree     tree;  /* the temporary tree and its simulator */
  DsApplication *app;
  DsWindow      *window;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  ds_test_tree_setup (&f->tree, data);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->app != NULL)
    {
      g_settings_reset (ds_application_get_settings (f->app), "max-jobs");
      g_settings_reset (ds_application_get_settings (f->app), "sound");
      test_app_close (f->app);
    }
  ds_test_tree_stop_sim (&f->tree);
  g_clear_object (&f->app);
  ds_test_tree_teardown (&f->tree, data);
}

static void
start_app (Fixture    *f,
           const char *operator_id,
           const char *lot,
           gboolean    auto_start)
{
  f->app = test_app_new (f->tree.data_dir, f->tree.announce_dir, operator_id, lot, auto_start);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
}

/* ---- conditions --------------------------------------------------------- */

typedef struct {
  DsWindow *window;
  guint     n;
} CardCount;

/* @n cards run a job that has already read the board's UID. */
static gboolean
n_running_identified (gpointer data)
{
  CardCount *c = data;
  g_autoptr(GList) cards = ds_window_get_cards (c->window);
  guint n = 0;

  for (GList *l = cards; l != NULL; l = l->next)
    {
      DsJob *job = ds_board_card_get_job (l->data);

      if (ds_board_card_get_status (l->data) == DS_CARD_STATUS_RUNNING && job != NULL &&
          ds_job_get_uid (job) != NULL && ds_job_get_step (job) >= DS_STEP_CSR)
        n++;
    }
  return n == c->n;
}

static gboolean
no_window (gpointer data)
{
  return test_app_get_window (data) == NULL;
}

static gboolean
login_shown (gpointer data)
{
  GtkWidget *dialog = test_find_toplevel (DS_TYPE_LOGIN_DIALOG);

  return dialog != NULL && gtk_widget_get_mapped (dialog);
}

static gboolean
no_toplevel_of (gpointer data)
{
  return test_find_toplevel (GPOINTER_TO_SIZE (data)) == NULL;
}

/* Delivers a key press and release to @toplevel as the X server would. */
static void
send_key (GtkWidget       *toplevel,
          guint            keyval,
          GdkModifierType  state)
{
  GdkDisplay *display = gtk_widget_get_display (toplevel);
  GdkKeymap *keymap = gdk_keymap_get_for_display (display);
  g_autofree GdkKeymapKey *keys = NULL;
  int n_keys = 0;

  g_autoptr(GtkWidget) alive = g_object_ref (toplevel);

  g_assert_true (gdk_keymap_get_entries_for_keyval (keymap, keyval, &keys, &n_keys));
  for (int i = 0; i < 2; i++)
    {
      /* The press may have closed it (Ctrl+Q). */
      if (gtk_widget_get_window (toplevel) == NULL)
        break;
      GdkEvent *event = gdk_event_new (i == 0 ? GDK_KEY_PRESS : GDK_KEY_RELEASE);

      event->key.window = g_object_ref (gtk_widget_get_window (toplevel));
      event->key.send_event = TRUE;
      event->key.time = GDK_CURRENT_TIME;
      event->key.state = state;
      event->key.keyval = keyval;
      event->key.hardware_keycode = keys[0].keycode;
      event->key.group = keys[0].group;
      gdk_event_set_device (event, gdk_seat_get_keyboard (gdk_display_get_default_seat (display)));
      gtk_main_do_event (event);
      gdk_event_free (event);
    }
}

/* One integer from the record store, read after the window is gone. */
static gint64
query_int (Fixture    *f,
           const char *sql)
{
  g_autofree char *path = g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (path, TRUE, &error);
  g_autoptr(DsDbRows) rows = NULL;

  g_assert_no_error (error);
  rows = ds_db_query (db, sql, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_db_rows_count (rows), ==, 1);
  return ds_db_rows_int (rows, 0, 0);
}

/* ---- 1: the station ends, whatever dialog is open ------------------------ */

typedef enum {
  QUIT_SIGTERM,
  QUIT_SIGINT,
  QUIT_CTRL_Q,
  QUIT_CLOSE_BUTTON,
} QuitHow;

static void
quit_with_sign_in_shown (Fixture *f,
                         QuitHow  how)
{
  GtkWidget *login;
  gint64 start;

  start_app (f, NULL, NULL, FALSE);
  g_assert_true (test_wait_until (login_shown, NULL, 10));
  login = test_find_toplevel (DS_TYPE_LOGIN_DIALOG);

  start = g_get_monotonic_time ();
  switch (how)
    {
    case QUIT_SIGTERM: raise (SIGTERM); break;
    case QUIT_SIGINT: raise (SIGINT); break;
    case QUIT_CTRL_Q: send_key (login, GDK_KEY_q, GDK_CONTROL_MASK); break;
    case QUIT_CLOSE_BUTTON: gtk_window_close (GTK_WINDOW (f->window)); break;
    }
  g_assert_true (test_wait_until (no_window, f->app, 5));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_true (test_wait_until (no_toplevel_of, GSIZE_TO_POINTER (DS_TYPE_LOGIN_DIALOG), 5));
}

static void
test_sigterm_sign_in (Fixture *f, gconstpointer data)
{
  quit_with_sign_in_shown (f, QUIT_SIGTERM);
}

static void
test_sigint_sign_in (Fixture *f, gconstpointer data)
{
  quit_with_sign_in_shown (f, QUIT_SIGINT);
}

static void
test_ctrl_q_sign_in (Fixture *f, gconstpointer data)
{
  quit_with_sign_in_shown (f, QUIT_CTRL_Q);
}

static void
test_close_sign_in (Fixture *f, gconstpointer data)
{
  quit_with_sign_in_shown (f, QUIT_CLOSE_BUTTON);
}

/* The application's SIGINT and SIGTERM sources go when it shuts down: a
 * later signal (to the next application of the process, as in these tests)
 * never reaches one that is gone. */
static gboolean
quit_cb (gpointer data)
{
  g_action_group_activate_action (G_ACTION_GROUP (data), "quit", NULL);
  return G_SOURCE_REMOVE;
}

static void
activated_cb (GApplication *app,
              gboolean     *had_sources)
{
  /* The sources the test looks for, while the application runs. */
  *had_sources = g_main_context_find_source_by_user_data (NULL, app) != NULL;
  g_idle_add (quit_cb, app);
}

static void
test_signal_sources_go (Fixture *f, gconstpointer data)
{
  char *argv[] = { (char *) "dac-station", NULL };
  gboolean had_sources = FALSE;

  /* Run as main() runs it, and quit once it is up. */
  f->app = g_object_new (DS_TYPE_APPLICATION,
                         "application-id", DS_APP_ID,
                         "flags", G_APPLICATION_NON_UNIQUE,
                         "data-dir", f->tree.data_dir,
                         "sim-dir", f->tree.announce_dir,
                         "simulated-only", TRUE,
                         "operator", "op-day",
                         "lot", "LOT-DAY",
                         NULL);
  g_signal_connect_after (f->app, "activate", G_CALLBACK (activated_cb), &had_sources);
  g_assert_cmpint (g_application_run (G_APPLICATION (f->app), 1, argv), ==, 0);
  g_assert_true (had_sources);
  g_assert_null (g_main_context_find_source_by_user_data (NULL, f->app));
}

/* Four slow boards, two at a time: two run (past CONNECT, so their UID is
 * known), two wait. */
static void
start_two_of_four (Fixture *f)
{
  CardCount two = { NULL, 2 };

  start_app (f, "op-day", "LOT-DAY", FALSE);
  g_settings_set_uint (ds_application_get_settings (f->app), "max-jobs", 2);
  ds_test_tree_start_sim_with_faults (&f->tree, 4, 2400, NULL);
  test_wait_cards (f->window, 4, 30);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  two.window = f->window;
  g_assert_true (test_wait_until (n_running_identified, &two, 30));
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_QUEUED), ==, 2);
}

/* The jobs that ran are recorded as cancelled, with their board; the
 * boards that waited were never started, so have no record at all. */
static void
assert_two_cancelled_recorded (Fixture *f)
{
  g_assert_cmpint (query_int (f, "SELECT COUNT(*) FROM jobs"), ==, 2);
  g_assert_cmpint (query_int (f, "SELECT COUNT(*) FROM jobs WHERE outcome = 'cancelled'"), ==, 2);
  g_assert_cmpint (query_int (f, "SELECT COUNT(*) FROM jobs WHERE board_uid IS NULL OR board_uid = ''"), ==, 0);
}

/* SIGTERM mid-run, with the board details and Preferences open on top. */
static void
test_sigterm_mid_run (Fixture *f, gconstpointer data)
{
  GtkWidget *details;
  gint64 start;

  start_two_of_four (f);
  details = test_find_button (GTK_WIDGET (ds_window_find_card (f->window, "sim-0")), "win.board-details");
  gtk_button_clicked (GTK_BUTTON (details));
  g_assert_nonnull (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "preferences", NULL);
  g_assert_nonnull (test_find_toplevel (DS_TYPE_PREFERENCES_DIALOG));
  test_spin (100);

  start = g_get_monotonic_time ();
  raise (SIGTERM);
  g_assert_true (test_wait_until (no_window, f->app, 5));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  g_assert_null (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_null (test_find_toplevel (DS_TYPE_PREFERENCES_DIALOG));
  assert_two_cancelled_recorded (f);
}

/* ---- 2: closing mid-run asks, and says how many ------------------------- */

static gboolean
confirmation_shown (gpointer data)
{
  GtkWidget *dialog = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);

  return dialog != NULL && gtk_widget_get_mapped (dialog);
}

static const char *
stop_button_label (GtkWidget *dialog)
{
  GtkWidget *button = gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);

  g_assert_nonnull (button);
  return gtk_button_get_label (GTK_BUTTON (button));
}

/* One board running: the question and its button speak of one board. */
static void
test_close_one_board (Fixture *f, gconstpointer data)
{
  CardCount one = { NULL, 1 };
  GtkWidget *dialog;
  g_autofree char *text = NULL;
  g_autofree char *secondary = NULL;

  start_app (f, "op-day", "LOT-DAY", FALSE);
  ds_test_tree_start_sim_with_faults (&f->tree, 1, 2400, NULL);
  test_wait_cards (f->window, 1, 30);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  one.window = f->window;
  g_assert_true (test_wait_until (n_running_identified, &one, 30));

  gtk_window_close (GTK_WINDOW (f->window));
  g_assert_true (test_wait_until (confirmation_shown, NULL, 5));
  dialog = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_object_get (dialog, "text", &text, "secondary-text", &secondary, NULL);
  g_test_message ("asked: %s / %s / %s", text, secondary, stop_button_label (dialog));
  g_assert_cmpstr (text, ==, "1 board is being provisioned. Stop it and close?");
  g_assert_cmpstr (secondary, ==, "It stops at its current step and is recorded as cancelled.");
  g_assert_cmpstr (stop_button_label (dialog), ==, "_Stop Board and Close");
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_assert_true (test_wait_until (no_window, f->app, 5));
}

static void
test_close_mid_run_asks (Fixture *f, gconstpointer data)
{
  GtkWidget *dialog;
  g_autofree char *text = NULL;
  g_autofree char *secondary = NULL;

  start_two_of_four (f);

  /* The close button asks; "Keep Running" keeps everything as it was. */
  gtk_window_close (GTK_WINDOW (f->window));
  g_assert_true (test_wait_until (confirmation_shown, NULL, 5));
  dialog = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_object_get (dialog, "text", &text, "secondary-text", &secondary, NULL);
  g_test_message ("asked: %s / %s", text, secondary);
  g_assert_nonnull (strstr (text, "2 boards are being provisioned"));
  g_assert_nonnull (strstr (secondary, "2 waiting boards are not started"));
  g_assert_cmpstr (stop_button_label (dialog), ==, "_Stop Boards and Close");
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  test_spin (300);
  g_assert_nonnull (test_app_get_window (f->app));
  g_assert_null (test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG));
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_RUNNING), ==, 2);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_QUEUED), ==, 2);

  /* Asked again and confirmed: the running boards stop, the waiting ones
   * are never started, the window goes. */
  gtk_window_close (GTK_WINDOW (f->window));
  g_assert_true (test_wait_until (confirmation_shown, NULL, 5));
  dialog = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  gtk_dialog_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT);
  g_assert_true (test_wait_until (no_window, f->app, 5));
  assert_two_cancelled_recorded (f);
}

/* Cancel on a waiting board takes it off the queue: it is never started. */
static void
test_cancel_queued (Fixture *f, gconstpointer data)
{
  DsBoardCard *waiting = NULL;
  g_autoptr(GList) cards = NULL;
  GtkWidget *cancel;

  start_two_of_four (f);
  cards = ds_window_get_cards (f->window);
  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_status (l->data) == DS_CARD_STATUS_QUEUED)
      waiting = l->data;
  g_assert_nonnull (waiting);
  cancel = test_find_button (GTK_WIDGET (waiting), "win.cancel-board");
  gtk_button_clicked (GTK_BUTTON (cancel));
  /* At once, not when a slot frees. */
  g_assert_cmpint (ds_board_card_get_status (waiting), ==, DS_CARD_STATUS_CANCELLED);
  g_assert_cmpint (ds_job_get_state (ds_board_card_get_job (waiting)), ==, DS_JOB_STATE_CANCELLED);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_QUEUED), ==, 1);
  g_assert_nonnull (strstr (ds_board_card_get_message (waiting), "before it started"));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "cancel-all", NULL);
  test_wait_finished (f->window, 4, 90);
  test_app_close (f->app);
  assert_two_cancelled_recorded (f);
}


/* ---- 3: a repeated failure, and the counters ----------------------------- */

/* Jobs started and not finished yet.  (The window has the station release
 * finished jobs as they end, but that may come a moment after the card
 * shows the verdict, so finished ones are not counted.) */
static guint
n_jobs (Fixture *f)
{
  GListModel *model = G_LIST_MODEL (ds_window_get_station (f->window));
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(DsJob) job = g_list_model_get_item (model, i);
      DsJobState state = ds_job_get_state (job);

      if (state == DS_JOB_STATE_QUEUED || state == DS_JOB_STATE_RUNNING)
        n++;
    }
  return n;
}

static gboolean
yield_shows (gpointer data)
{
  Fixture *f = data;
  DsYieldPanel *panel = ds_window_get_yield_panel (f->window);

  return !ds_yield_panel_is_busy (panel) &&
         g_strcmp0 (ds_yield_panel_get_attempts_text (panel), "3") == 0;
}

/* A board the board refuses every time: "Attempt 1 of 2", then "Attempt 2
 * of 2" and set aside; Start All leaves it alone; the tiles count boards. */
static void
test_attempts_set_aside (Fixture *f, gconstpointer data)
{
  const char *faults[] = { "1:refuse-install", NULL };
  DsYieldPanel *panel;
  DsBoardCard *card;
  GtkWidget *retry;

  start_app (f, "op-day", "LOT-DAY", FALSE);
  ds_test_tree_start_sim_with_faults (&f->tree, 2, 0, faults);
  test_wait_cards (f->window, 2, 30);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 2, 90);
  card = ds_window_find_card (f->window, "sim-1");
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
  g_assert_cmpstr (ds_board_card_get_attempt_text (card), ==, "Attempt 1 of 2");
  /* The failure pulses until acknowledged (here: its details looked at). */
  g_assert_true (ds_board_card_get_alarm (card));
  g_assert_true (gtk_style_context_has_class (gtk_widget_get_style_context (GTK_WIDGET (card)), "alarm"));
  g_assert_false (ds_board_card_get_alarm (ds_window_find_card (f->window, "sim-0")));
  gtk_button_clicked (GTK_BUTTON (test_find_button (GTK_WIDGET (card), "win.board-details")));
  g_assert_false (ds_board_card_get_alarm (card));
  gtk_widget_destroy (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_false (ds_board_card_is_set_aside (card));
  retry = test_find_button (GTK_WIDGET (card), "win.provision");
  g_assert_true (gtk_widget_get_visible (retry));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "start-all"));

  /* Start All retries the failed board once more (not the passed one). */
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  g_assert_cmpuint (n_jobs (f), ==, 1);
  test_wait_finished (f->window, 2, 90);
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
  g_assert_cmpstr (ds_board_card_get_attempt_text (card), ==, "Attempt 2 of 2");
  g_assert_true (ds_board_card_is_set_aside (card));
  g_test_message ("hint: %s", ds_board_card_get_hint (card));
  g_assert_nonnull (strstr (ds_board_card_get_hint (card), "set the board aside"));
  g_assert_false (gtk_widget_get_visible (retry));
  /* The header bar's alarm counts boards, as the red cards: one, failed twice. */
  g_assert_cmpstr (gtk_button_get_label (GTK_BUTTON (test_find_button (gtk_window_get_titlebar (GTK_WINDOW (f->window)),
                                                                       "win.acknowledge-failures"))),
                   ==, "1 failed — see the red card");

  /* Now nothing is left to start: Start All is off, and does nothing. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "start-all"));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "retry-selected", NULL);
  test_spin (200);
  g_assert_cmpuint (n_jobs (f), ==, 0);

  /* One board passed, one failed, in three attempts. */
  panel = ds_window_get_yield_panel (f->window);
  g_assert_true (test_wait_until (yield_shows, f, 10));
  g_assert_cmpstr (ds_yield_panel_get_passed_text (panel), ==, "1");
  g_assert_cmpstr (ds_yield_panel_get_failed_text (panel), ==, "1");
  g_assert_cmpstr (ds_yield_panel_get_attempts_text (panel), ==, "3");
}

/* ---- 4: causes read whole, hints that follow the failure ------------------ */

static GtkLabel *
find_label_with_text (GtkWidget  *root,
                      const char *text)
{
  g_autoptr(GList) children = NULL;

  if (GTK_IS_LABEL (root) && g_strcmp0 (gtk_label_get_text (GTK_LABEL (root)), text) == 0)
    return GTK_LABEL (root);
  if (!GTK_IS_CONTAINER (root))
    return NULL;
  children = gtk_container_get_children (GTK_CONTAINER (root));
  for (GList *l = children; l != NULL; l = l->next)
    {
      GtkLabel *found = find_label_with_text (l->data, text);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A path ("/dev/pts/2") or a hyphenated word ("Test-CA") of @label stays
 * on one line.  Returns how many it checked. */
static guint
assert_words_whole (GtkLabel *label)
{
  const char *text = gtk_label_get_text (label);
  PangoLayout *layout = gtk_label_get_layout (label);
  g_auto(GStrv) words = g_strsplit_set (text, " \n", -1);
  const char *at = text;
  guint n = 0;

  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = strstr (at, words[i]);
      gsize len = strlen (words[i]);
      int first, last;

      at = word + len;
      if (len < 3 || g_utf8_strlen (words[i], -1) > 24 || strpbrk (words[i] + 1, "/-") == NULL)
        continue;
      pango_layout_index_to_line_x (layout, word - text, FALSE, &first, NULL);
      pango_layout_index_to_line_x (layout, word - text + len - 1, FALSE, &last, NULL);
      g_test_message ("kept whole? %s: lines %d-%d", words[i], first, last);
      g_assert_cmpint (first, ==, last);
      n++;
    }
  return n;
}

/* Every label on a card shows its whole text. */
static guint
assert_card_not_cut (DsBoardCard *card)
{
  const char *message = ds_board_card_get_message (card);
  GtkLabel *label = find_label_with_text (GTK_WIDGET (card), message);
  guint n;

  g_assert_nonnull (label);
  g_assert_true (gtk_widget_get_mapped (GTK_WIDGET (label)));
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (label)));
  n = assert_words_whole (label);
  label = find_label_with_text (GTK_WIDGET (card), ds_board_card_get_hint (card));
  g_assert_nonnull (label);
  g_assert_false (pango_layout_is_ellipsized (gtk_label_get_layout (label)));
  return n + assert_words_whole (label);
}

typedef struct {
  const char *board;
  const char *in_message;
  const char *in_hint;
  const char *not_in_hint;
  const char *in_hint_de;     /* the same, when run in German */
} Expect;

/* Line noise, a board that never answers, one that stops after good
 * answers, one that refuses: four causes, four different hints, each
 * shown whole. */
static void
test_causes_and_hints (Fixture *f, gconstpointer data)
{
  const char *faults[] = { "0:corrupt:0.01", "1:stall:INFO", "2:stall:INSTALL", "3:refuse-install", NULL };
  const Expect expect[] = {
    { "sim-0", "damaged on the line", "garbles", "firmware", "verfälscht" },
    { "sim-1", "did not answer INFO", "provisioning firmware", "garbles", "Provisionierungs-Firmware" },
    { "sim-2", "stopped responding", "stopped answering", "firmware", "antwortet mitten im Auftrag nicht mehr" },
    { "sim-3", "refused INSTALL", "refused the request", "firmware", "abgelehnt" },
  };
  /* The same run in German (meson test gui-day-de): longer words, longer
   * causes, and still nothing cut. */
  gboolean german = g_str_has_prefix (g_getenv ("LANGUAGE") != NULL ? g_getenv ("LANGUAGE") : "", "de");
  guint n_whole = 0;

  start_app (f, "op-day", "LOT-DAY", FALSE);
  g_object_set (f->app, "timeout-ms", 400, NULL);
  ds_test_tree_start_sim_with_faults (&f->tree, 4, 0, faults);
  test_wait_cards (f->window, 4, 30);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 4, 90);
  test_spin (200);

  for (gsize i = 0; i < G_N_ELEMENTS (expect); i++)
    {
      DsBoardCard *card = ds_window_find_card (f->window, expect[i].board);

      g_test_message ("%s: %s / %s", expect[i].board, ds_board_card_get_message (card),
                      ds_board_card_get_hint (card));
      g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
      if (german)
        g_assert_nonnull (strstr (ds_board_card_get_hint (card), expect[i].in_hint_de));
      else
        {
          g_assert_nonnull (strstr (ds_board_card_get_message (card), expect[i].in_message));
          g_assert_nonnull (strstr (ds_board_card_get_hint (card), expect[i].in_hint));
          g_assert_null (strstr (ds_board_card_get_hint (card), expect[i].not_in_hint));
        }
      n_whole += assert_card_not_cut (card);
    }
  /* The causes name the port ("/dev/pts/1") or hyphenated words. */
  g_assert_cmpuint (n_whole, >, 0);

  /* The header bar's alarm counts the failures until the operator
   * acknowledges them by clicking it. */
  {
    GtkWidget *alarm = test_find_button (gtk_window_get_titlebar (GTK_WINDOW (f->window)),
                                         "win.acknowledge-failures");

    g_assert_nonnull (alarm);
    g_assert_true (gtk_widget_get_mapped (alarm));
    g_test_message ("alarm: %s", gtk_button_get_label (GTK_BUTTON (alarm)));
    g_assert_true (g_str_has_prefix (gtk_button_get_label (GTK_BUTTON (alarm)),
                                     german ? "4 fehlgeschlagen – " : "4 failed — see the red cards"));
    gtk_button_clicked (GTK_BUTTON (alarm));
    test_spin (50);
    g_assert_false (gtk_widget_get_visible (alarm));
  }

  /* The Details log speaks the operator's language too: the board that
   * refused INSTALL checked its CSR and then failed installing. */
  {
    GPtrArray *log = ds_job_get_log (ds_board_card_get_job (ds_window_find_card (f->window, "sim-3")));
    g_autoptr(GString) text = g_string_new (NULL);

    for (guint i = 0; i < log->len; i++)
      g_string_append_printf (text, "%s\n", (const char *) log->pdata[i]);
    g_test_message ("sim-3's log:\n%s", text->str);
    if (german)
      {
        g_assert_nonnull (strstr (text->str, "CSR geprüft: Besitznachweis"));
        g_assert_nonnull (strstr (text->str, "Installieren fehlgeschlagen: "));
        g_assert_null (strstr (text->str, "checked"));
        g_assert_null (strstr (text->str, " failed: "));
      }
    else
      {
        g_assert_nonnull (strstr (text->str, "CSR checked: proof of possession"));
        g_assert_nonnull (strstr (text->str, "Install failed: "));
      }
  }
}

/* ---- 8: sound on by default, and a failure raises the alarm -------------- */

typedef struct {
  DsWindow *window;
  guint     n;
} Beeps;

static gboolean
n_beeps_reached (gpointer data)
{
  Beeps *b = data;

  return ds_window_get_n_beeps (b->window) >= b->n;
}

/* The station has handled every job's end (the window hears of it after
 * the station counted it). */
static gboolean
station_idle (gpointer data)
{
  DsStation *station = ds_window_get_station (data);

  return station != NULL && ds_station_get_n_active (station) == 0;
}

static gboolean
widget_visible (gpointer data)
{
  return gtk_widget_get_visible (data);
}

static void
test_sound_alarm (Fixture *f, gconstpointer data)
{
  const char *faults[] = { "1:refuse-install", NULL };
  GSettings *settings;
  g_autoptr(GVariant) default_value = NULL;
  g_autoptr(GVariant) user_value = NULL;
  Beeps three;
  GtkWidget *alarm;

  start_app (f, "op-day", "LOT-DAY", FALSE);
  settings = ds_application_get_settings (f->app);
  /* On in the schema, and on in a run where nobody set it. */
  default_value = g_settings_get_default_value (settings, "sound");
  g_assert_true (g_variant_get_boolean (default_value));
  user_value = g_settings_get_user_value (settings, "sound");
  g_assert_null (user_value);
  g_assert_true (g_settings_get_boolean (settings, "sound"));

  ds_test_tree_start_sim_with_faults (&f->tree, 2, 0, faults);
  test_wait_cards (f->window, 2, 30);
  g_assert_cmpuint (ds_window_get_n_beeps (f->window), ==, 0);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 2, 90);

  /* One beep for the pass, two for the failure (the second a moment
   * later), and the failure's visual alarm on its card and in the header. */
  three = (Beeps) { f->window, 3 };
  g_assert_true (test_wait_until (n_beeps_reached, &three, 10));
  g_assert_true (test_wait_until (station_idle, f->window, 10));
  g_assert_cmpuint (ds_window_get_n_beeps (f->window), ==, 3);
  g_assert_true (ds_board_card_get_alarm (ds_window_find_card (f->window, "sim-1")));
  g_assert_false (ds_board_card_get_alarm (ds_window_find_card (f->window, "sim-0")));
  alarm = test_find_button (gtk_window_get_titlebar (GTK_WINDOW (f->window)), "win.acknowledge-failures");
  g_assert_nonnull (alarm);
  g_assert_true (gtk_widget_get_visible (alarm));
  gtk_button_clicked (GTK_BUTTON (alarm));
  g_assert_false (gtk_widget_get_visible (alarm));

  /* Sound off: the retry fails silently, but the alarm is raised again. */
  g_settings_set_boolean (settings, "sound", FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  /* Only the failed board is retried (finished jobs are released). */
  g_assert_cmpuint (n_jobs (f), ==, 1);
  test_wait_finished (f->window, 2, 90);
  /* The window beeps (or not) as it raises the alarm, in one handler. */
  g_assert_true (test_wait_until (widget_visible, alarm, 10));
  g_assert_cmpuint (n_jobs (f), ==, 0);
  g_assert_cmpint (ds_board_card_get_status (ds_window_find_card (f->window, "sim-1")), ==, DS_CARD_STATUS_FAILED);
  g_assert_cmpuint (ds_window_get_n_beeps (f->window), ==, 3);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  /* The translations compiled in the build tree (LANGUAGE=de runs them);
   * gtk_test_init() set a locale of its own. */
  setlocale (LC_ALL, "");
  {
    g_autofree char *po = g_test_build_filename (G_TEST_BUILT, "..", "po", NULL);

    bindtextdomain (GETTEXT_PACKAGE, po);
    bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
    textdomain (GETTEXT_PACKAGE);
  }

  g_test_add ("/day/quit/sigterm-sign-in", Fixture, NULL, fixture_setup, test_sigterm_sign_in, fixture_teardown);
  g_test_add ("/day/quit/sigint-sign-in", Fixture, NULL, fixture_setup, test_sigint_sign_in, fixture_teardown);
  g_test_add ("/day/quit/ctrl-q-sign-in", Fixture, NULL, fixture_setup, test_ctrl_q_sign_in, fixture_teardown);
  g_test_add ("/day/quit/close-sign-in", Fixture, NULL, fixture_setup, test_close_sign_in, fixture_teardown);
  g_test_add ("/day/quit/signal-sources-go", Fixture, NULL, fixture_setup, test_signal_sources_go, fixture_teardown);
  g_test_add ("/day/quit/sigterm-mid-run", Fixture, NULL, fixture_setup, test_sigterm_mid_run, fixture_teardown);
  g_test_add ("/day/close/mid-run-asks", Fixture, NULL, fixture_setup, test_close_mid_run_asks, fixture_teardown);
  g_test_add ("/day/close/one-board", Fixture, NULL, fixture_setup, test_close_one_board, fixture_teardown);
  g_test_add ("/day/close/cancel-queued", Fixture, NULL, fixture_setup, test_cancel_queued, fixture_teardown);
  g_test_add ("/day/attempts/set-aside", Fixture, NULL, fixture_setup, test_attempts_set_aside, fixture_teardown);
  g_test_add ("/day/sound/alarm", Fixture, NULL, fixture_setup, test_sound_alarm, fixture_teardown);
  g_test_add ("/day/causes/hints", Fixture, NULL, fixture_setup, test_causes_and_hints, fixture_teardown);
  return g_test_run ();
}

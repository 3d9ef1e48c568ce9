/* The GTK station, end to end: the real window in this process, real
 * simulated boards on pseudo-terminals, a real record store. */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "ds-board-details-dialog.h"
#include "ds-login-dialog.h"
#include "ds-preferences-dialog.h"
#include "ds-stats.h"
#include "ds-store.h"
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
    test_app_close (f->app);
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
}

/* ---- conditions --------------------------------------------------------- */

static gboolean
yield_settled (gpointer data)
{
  DsWindow *window = data;

  return (ds_window_get_station (window) == NULL ||
          ds_station_get_n_active (ds_window_get_station (window)) == 0) &&
         !ds_yield_panel_is_busy (ds_window_get_yield_panel (window));
}

/* The yield panel shows what the record store says. */
static void
assert_yield_matches_store (DsWindow *window,
                            gint64    expect_passed,
                            gint64    expect_failed,
                            double    expect_fpy)
{
  DsYieldPanel *panel = ds_window_get_yield_panel (window);
  DsStoreCounts counts = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *passed = NULL;
  g_autofree char *failed = NULL;
  g_autofree char *fpy = NULL;
  DsStatsSummary summary;

  g_assert_true (test_wait_until (yield_settled, window, 30));
  g_assert_true (ds_store_get_counts (ds_window_get_store (window), &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.passed, ==, expect_passed);
  g_assert_cmpint (counts.failed, ==, expect_failed);

  fpy = g_strdup_printf ("%.1f %%", expect_fpy * 100.0);
  g_assert_true (ds_yield_panel_get_summary (panel, &summary));
  g_assert_cmpint (summary.passed, ==, counts.passed);
  g_assert_cmpint (summary.failed, ==, counts.failed);
  /* The tiles count boards; the attempts count the jobs. */
  passed = g_strdup_printf ("%" G_GINT64_FORMAT, summary.boards_passed);
  failed = g_strdup_printf ("%" G_GINT64_FORMAT, summary.boards - summary.boards_passed);
  g_assert_cmpstr (ds_yield_panel_get_passed_text (panel), ==, passed);
  g_assert_cmpstr (ds_yield_panel_get_failed_text (panel), ==, failed);
  g_free (passed);
  passed = g_strdup_printf ("%" G_GINT64_FORMAT, counts.passed + counts.failed);
  g_assert_cmpstr (ds_yield_panel_get_attempts_text (panel), ==, passed);
  g_assert_cmpstr (ds_yield_panel_get_first_pass_text (panel), ==, fpy);
  /* Units per hour: a number, and more than none once a board passed. */
  g_assert_cmpfloat (g_ascii_strtod (ds_yield_panel_get_rate_text (panel), NULL), >, 0.0);
}

/* ---- keyboard ----------------------------------------------------------- */

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

  g_assert_true (gdk_keymap_get_entries_for_keyval (keymap, keyval, &keys, &n_keys));
  for (int i = 0; i < 2; i++)
    {
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

/* Types @text and Enter, as a barcode scanner does. */
static void
scan (GtkWidget  *toplevel,
      const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    send_key (toplevel, gdk_unicode_to_keyval (g_utf8_get_char (p)), 0);
  send_key (toplevel, GDK_KEY_Return, 0);
  test_flush ();
}

static gboolean
login_shown (gpointer data)
{
  GtkWidget *dialog = test_find_toplevel (DS_TYPE_LOGIN_DIALOG);

  return dialog != NULL && gtk_widget_get_mapped (dialog);
}

static gboolean
signed_in (gpointer data)
{
  return ds_window_is_signed_in (data);
}

static gboolean
login_gone (gpointer data)
{
  return test_find_toplevel (DS_TYPE_LOGIN_DIALOG) == NULL;
}

/* A line operator signs in with a scanner and provisions with the keyboard
 * alone: badge, Enter, work order, Enter, Ctrl+Return. */
static void
test_keyboard_only (Fixture       *f,
                    gconstpointer  data)
{
  GtkWidget *login;
  GList *cards;

  ds_test_tree_start_sim_with_faults (&f->tree, 2, 0, NULL);
  start_app (f, NULL, NULL, FALSE);
  gtk_widget_show (GTK_WIDGET (f->window));
  g_assert_true (test_wait_until (login_shown, NULL, 10));
  g_assert_false (ds_window_is_signed_in (f->window));
  test_wait_cards (f->window, 2, 30);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_IDLE), ==, 2);

  login = test_find_toplevel (DS_TYPE_LOGIN_DIALOG);
  scan (login, "op-17");
  scan (login, "WO-2024-117");
  g_assert_true (test_wait_until (signed_in, f->window, 10));
  g_assert_true (test_wait_until (login_gone, NULL, 10));

  send_key (GTK_WIDGET (f->window), GDK_KEY_Return, GDK_CONTROL_MASK);
  test_wait_finished (f->window, 2, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 2);

  /* The operator and lot went into the records with the jobs. */
  cards = ds_window_get_cards (f->window);
  for (GList *l = cards; l != NULL; l = l->next)
    g_assert_cmpstr (ds_board_card_get_headline (l->data), ==, "PASS");
  g_list_free (cards);
  {
    g_autofree char *db = g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(DsStats) stats = ds_stats_open (db, &error);
    DsStatsFilter filter = { .operator_id = "op-17", .lot = "WO-2024-117" };
    DsStatsFilter other_lot = { .operator_id = "op-17", .lot = "WO-2024-118" };
    DsStatsSummary summary;

    g_assert_no_error (error);
    g_assert_true (ds_stats_query_summary (stats, &filter, &summary, &error));
    g_assert_no_error (error);
    g_assert_cmpint (summary.passed, ==, 2);
    g_assert_cmpint (summary.failed, ==, 0);
    g_assert_cmpint (summary.boards_passed, ==, 2);
    g_assert_true (ds_stats_query_summary (stats, &other_lot, &summary, &error));
    g_assert_no_error (error);
    g_assert_cmpint (summary.passed, ==, 0);
  }
}

/* ---- provisioning ------------------------------------------------------- */

static gboolean
chain_loaded (gpointer data)
{
  return ds_board_details_dialog_get_verdict (data) != NULL;
}

/* Eight boards plugged in with auto-start: every card reaches PASS, the
 * yield panel agrees with the store, and the details show a valid chain. */
static void
test_eight_boards_pass (Fixture       *f,
                        gconstpointer  data)
{
  DsBoardCard *card;
  GtkWidget *details_button;
  DsBoardDetailsDialog *dialog;

  start_app (f, "op-1", "LOT-A", TRUE);
  ds_test_tree_start_sim_with_faults (&f->tree, 8, 0, NULL);
  test_wait_cards (f->window, 8, 30);
  test_wait_finished (f->window, 8, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 8);
  assert_yield_matches_store (f->window, 8, 0, 1.0);

  /* The board details: log and a chain the validator accepts. */
  card = ds_window_find_card (f->window, "sim-0");
  g_assert_nonnull (card);
  details_button = test_find_button (GTK_WIDGET (card), "win.board-details");
  g_assert_nonnull (details_button);
  gtk_button_clicked (GTK_BUTTON (details_button));
  dialog = DS_BOARD_DETAILS_DIALOG (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_nonnull (dialog);
  g_assert_true (test_wait_until (chain_loaded, dialog, 10));
  g_assert_true (ds_board_details_dialog_get_valid (dialog));
  g_assert_nonnull (strstr (ds_board_details_dialog_get_verdict (dialog), "Valid"));
  g_assert_cmpuint (ds_job_get_log (ds_board_details_dialog_get_job (dialog))->len, >, 0);
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

/* Boards that appear together get their cards one every other frame, so
 * that no frame builds, styles and lays out many new cards at once, and
 * the frame that draws a new card is not the one that lays it out. */
typedef struct {
  DsWindow *window;
  guint     shown;       /* cards at the end of the last frame */
  guint     most_added;  /* the most cards one frame added */
  guint     frames;
  gint64    added_at;    /* the frame counter of the last frame that added one */
  gint64    least_apart; /* the fewest frames between two that added cards */
  gboolean  drew;        /* the window drew in this frame */
  guint     drew_adding; /* frames that added a card and drew */
} CardsPerFrame;

static gboolean
window_draw_cb (GtkWidget     *window,
                cairo_t       *cr,
                CardsPerFrame *c)
{
  c->drew = TRUE;
  return GDK_EVENT_PROPAGATE;
}

static void
after_paint_cb (GdkFrameClock *clock,
                CardsPerFrame *c)
{
  g_autoptr(GList) cards = ds_window_get_cards (c->window);
  guint n = g_list_length (cards);
  gint64 frame = gdk_frame_clock_get_frame_counter (clock);

  if (n > c->shown)
    {
      c->most_added = MAX (c->most_added, n - c->shown);
      if (c->added_at > 0)
        c->least_apart = MIN (c->least_apart, frame - c->added_at);
      c->added_at = frame;
      c->drew_adding += c->drew;
    }
  c->shown = n;
  c->frames++;
  c->drew = FALSE;
}

static gboolean widget_mapped (gpointer data);

static void
test_cards_every_other_frame (Fixture       *f,
                        gconstpointer  data)
{
  CardsPerFrame c = { .least_apart = G_MAXINT64 };
  GdkFrameClock *clock;
  gulong id;

  start_app (f, "op-1", "LOT-A", TRUE);
  g_assert_true (test_wait_until (widget_mapped, f->window, 10));
  c.window = f->window;
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (f->window));
  id = g_signal_connect (clock, "after-paint", G_CALLBACK (after_paint_cb), &c);
  g_signal_connect (f->window, "draw", G_CALLBACK (window_draw_cb), &c);
  ds_test_tree_start_sim_with_faults (&f->tree, 8, 0, NULL);
  test_wait_cards (f->window, 8, 30);
  test_wait_finished (f->window, 8, 60);
  g_signal_handler_disconnect (clock, id);
  g_signal_handlers_disconnect_by_data (f->window, &c);
  g_test_message ("%u frames, at most %u cards added in one, at least %" G_GINT64_FORMAT " frames apart; "
                  "%u frames that added one drew", c.frames, c.most_added, c.least_apart, c.drew_adding);
  g_assert_cmpuint (c.shown, ==, 8);
  g_assert_cmpuint (c.most_added, ==, 1);
  g_assert_cmpint (c.least_apart, >=, 2);
  g_assert_cmpint (c.least_apart, <, G_MAXINT64);
  /* Drawn in the frame after (/gui/cards-drawn-alone waits for it). */
  g_assert_cmpuint (c.drew_adding, ==, 0);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 8);
}

/* A card is made and measured before the frame that shows it: it joins
 * the grid hidden, between frames, and a frame only shows it.  And the
 * frame that brings the grid in instead of the empty page shows no card
 * yet: each of these took a frame of its own 12-17 ms (BENCHMARKS.md). */
typedef struct {
  DsWindow *window;
  GtkStack *stack;
  gboolean  in_frame;
  guint     added;          /* cards that joined the grid */
  guint     added_shown;    /* ...already shown */
  guint     added_in_frame; /* ...within a frame */
  gboolean  grid_shown;     /* the grid, not the empty page, at the last frame's end */
  guint     cards_with_grid; /* cards shown in the frame that brought the grid in */
} CardsAhead;

static GtkWidget *
find_by_type (GtkWidget *root,
              GType      type)
{
  g_autoptr(GList) children = NULL;

  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  if (!GTK_IS_CONTAINER (root))
    return NULL;
  children = gtk_container_get_children (GTK_CONTAINER (root));
  for (GList *l = children; l != NULL; l = l->next)
    {
      GtkWidget *found = find_by_type (l->data, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* The window's board grid, with @added_cb called for each card that joins it. */
static GtkWidget *
watch_grid (Fixture   *f,
            GCallback  added_cb,
            gpointer   data)
{
  GtkWidget *flowbox = find_by_type (GTK_WIDGET (f->window), GTK_TYPE_FLOW_BOX);

  g_assert_nonnull (flowbox);
  g_signal_connect (flowbox, "add", added_cb, data);
  return flowbox;
}

static void
ahead_before_paint_cb (GdkFrameClock *clock,
                       CardsAhead    *c)
{
  c->in_frame = TRUE;
}

static void
ahead_after_paint_cb (GdkFrameClock *clock,
                      CardsAhead    *c)
{
  gboolean grid = g_strcmp0 (gtk_stack_get_visible_child_name (c->stack), "boards") == 0;

  if (grid && !c->grid_shown)
    {
      g_autoptr(GList) cards = ds_window_get_cards (c->window);

      c->cards_with_grid = g_list_length (cards);
    }
  c->grid_shown = grid;
  c->in_frame = FALSE;
}

static void
ahead_added_cb (GtkContainer *container,
                GtkWidget    *child,
                CardsAhead   *c)
{
  /* Not the card made to warm up, for no board (warm_up_cb()). */
  if (!DS_IS_BOARD_CARD (child) || *ds_board_get_port (ds_board_card_get_board (DS_BOARD_CARD (child))) == '\0')
    return;
  c->added++;
  c->added_shown += gtk_widget_get_visible (child);
  c->added_in_frame += c->in_frame;
}

static void
test_cards_made_ahead (Fixture       *f,
                       gconstpointer  data)
{
  CardsAhead c = { 0 };
  GtkWidget *flowbox;
  GdkFrameClock *clock;
  gulong before_id, after_id;

  start_app (f, "op-1", "LOT-A", TRUE);
  g_assert_true (test_wait_until (widget_mapped, f->window, 10));
  c.window = f->window;
  c.stack = GTK_STACK (find_by_type (GTK_WIDGET (f->window), GTK_TYPE_STACK));
  g_assert_nonnull (c.stack);
  g_assert_cmpstr (gtk_stack_get_visible_child_name (c.stack), ==, "empty");
  flowbox = watch_grid (f, G_CALLBACK (ahead_added_cb), &c);
  clock = gtk_widget_get_frame_clock (GTK_WIDGET (f->window));
  before_id = g_signal_connect (clock, "before-paint", G_CALLBACK (ahead_before_paint_cb), &c);
  after_id = g_signal_connect (clock, "after-paint", G_CALLBACK (ahead_after_paint_cb), &c);
  ds_test_tree_start_sim_with_faults (&f->tree, 6, 0, NULL);
  test_wait_cards (f->window, 6, 30);
  test_wait_finished (f->window, 6, 60);
  g_signal_handler_disconnect (clock, before_id);
  g_signal_handler_disconnect (clock, after_id);
  g_signal_handlers_disconnect_by_data (flowbox, &c);

  g_test_message ("%u cards joined the grid, %u shown, %u within a frame; %u cards with the grid",
                  c.added, c.added_shown, c.added_in_frame, c.cards_with_grid);
  g_assert_cmpuint (c.added, ==, 6);
  g_assert_cmpuint (c.added_shown, ==, 0);
  g_assert_cmpuint (c.added_in_frame, ==, 0);
  g_assert_true (c.grid_shown);
  g_assert_cmpuint (c.cards_with_grid, ==, 0);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 6);
}

/* A card that joins the grid draws only itself: GTK 3 would draw every
 * card of the grid again for each one that comes (a child shown in a
 * container on screen redraws all of it), 6-7 ms of a frame for 16 cards
 * (BENCHMARKS.md).  Boards that wait for Start change nothing on screen,
 * so the first card, once drawn, is not drawn again while the others of
 * its row come. */
static gboolean
count_draw_cb (GtkWidget *card,
               cairo_t   *cr,
               gpointer   data)
{
  guint n = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (card), "test-draws"));

  g_object_set_data (G_OBJECT (card), "test-draws", GUINT_TO_POINTER (n + 1));
  return GDK_EVENT_PROPAGATE;
}

/* What the card draws: its content (a card just shown draws nothing in
 * its first frame, see ds_board_card_defer_paint()). */
static void
grid_added_cb (GtkContainer *container,
               GtkWidget    *child,
               gpointer      data)
{
  g_signal_connect (gtk_bin_get_child (GTK_BIN (child)), "draw", G_CALLBACK (count_draw_cb), data);
}

static guint
draws_of (gpointer card)
{
  return GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (gtk_bin_get_child (GTK_BIN (card))), "test-draws"));
}

static gboolean
all_drawn (gpointer data)
{
  g_autoptr(GList) cards = ds_window_get_cards (data);

  if (g_list_length (cards) < 4)
    return FALSE;
  for (GList *l = cards; l != NULL; l = l->next)
    if (draws_of (l->data) == 0)
      return FALSE;
  return TRUE;
}

static void
test_cards_drawn_alone (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GList) cards = NULL;
  GtkWidget *flowbox;
  guint total = 0;

  /* Not signed in: the boards wait, and nothing on their cards moves. */
  start_app (f, NULL, NULL, FALSE);
  g_assert_true (test_wait_until (widget_mapped, f->window, 10));
  flowbox = watch_grid (f, G_CALLBACK (grid_added_cb), f);
  ds_test_tree_start_sim_with_faults (&f->tree, 4, 0, NULL);
  g_assert_true (test_wait_until (all_drawn, f->window, 30));
  /* A few frames more. */
  test_spin (300);
  g_signal_handlers_disconnect_by_data (flowbox, f);
  cards = ds_window_get_cards (f->window);
  for (GList *l = cards; l != NULL; l = l->next)
    {
      g_signal_handlers_disconnect_by_data (gtk_bin_get_child (l->data), f);
      g_test_message ("%s drawn %u times", ds_board_get_name (ds_board_card_get_board (l->data)), draws_of (l->data));
      total += draws_of (l->data);
    }
  /* Each card drawn when it came (and perhaps once more, when it
   * rendered its board's state in a later frame); not again for each
   * card that came after it: without show_card() the first card was
   * drawn 4 times, the second 3... */
  g_assert_cmpuint (draws_of (cards->data), <=, 2);
  g_assert_cmpuint (total, <=, 4 + 2);
}

/* A card keeps its height from its first step to its PASS: the grid's
 * cards are all as tall as the tallest, and a card that grew (the big
 * PASS, the QR code) moved every card of the grid and had them all drawn
 * again when the first board passed.  And Start All stays off while the
 * boards just found start on their own: it went on and off again for each
 * board that came, and was drawn again each time. */
typedef struct {
  int min;
  int max;
} Heights;

static void
height_cb (GtkWidget     *card,
           GtkAllocation *allocation,
           gpointer       data)
{
  Heights *h = g_object_get_data (G_OBJECT (card), "test-heights");

  h->min = MIN (h->min, allocation->height);
  h->max = MAX (h->max, allocation->height);
}

static void
measure_added_cb (GtkContainer *container,
                  GtkWidget    *child,
                  gpointer      data)
{
  Heights *h = g_new (Heights, 1);

  h->min = G_MAXINT;
  h->max = 0;
  g_object_set_data_full (G_OBJECT (child), "test-heights", h, g_free);
  g_signal_connect (child, "size-allocate", G_CALLBACK (height_cb), data);
}

static void
enabled_changed_cb (GActionGroup *group,
                    const char   *name,
                    gboolean      enabled,
                    gpointer      data)
{
  (*(guint *) data)++;
}

static void
test_cards_keep_height (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GList) cards = NULL;
  GtkWidget *flowbox;
  guint start_all_changes = 0;

  start_app (f, "op-1", "LOT-A", TRUE);
  g_assert_true (test_wait_until (widget_mapped, f->window, 10));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "start-all"));
  flowbox = watch_grid (f, G_CALLBACK (measure_added_cb), f);
  g_signal_connect (f->window, "action-enabled-changed::start-all", G_CALLBACK (enabled_changed_cb),
                    &start_all_changes);
  ds_test_tree_start_sim_with_faults (&f->tree, 4, 0, NULL);
  test_wait_cards (f->window, 4, 30);
  test_wait_finished (f->window, 4, 60);
  /* The last verdict drawn. */
  test_spin (300);
  g_signal_handlers_disconnect_by_data (f->window, &start_all_changes);
  g_signal_handlers_disconnect_by_data (flowbox, f);
  cards = ds_window_get_cards (f->window);
  for (GList *l = cards; l != NULL; l = l->next)
    {
      Heights *h = g_object_get_data (l->data, "test-heights");

      g_signal_handlers_disconnect_by_data (l->data, f);
      g_test_message ("%s: %d to %d px tall", ds_board_get_name (ds_board_card_get_board (l->data)), h->min, h->max);
      g_assert_cmpint (ds_board_card_get_status (l->data), ==, DS_CARD_STATUS_PASSED);
      g_assert_cmpint (h->min, >, 0);
      g_assert_cmpint (h->max, ==, h->min);
    }
  g_test_message ("Start All went on or off %u times", start_all_changes);
  g_assert_cmpuint (start_all_changes, ==, 0);
}

/* The station, and with it the test PKI, is built in a thread when the
 * operator signs in, never on the main thread: Start All pressed at once
 * starts nothing until it is built, then the boards start, as one batch. */
static void
test_station_built_in_thread (Fixture       *f,
                              gconstpointer  data)
{
  g_autofree char *pki = g_build_filename (f->tree.data_dir, "pki", NULL);

  start_app (f, NULL, NULL, FALSE);
  ds_test_tree_start_sim_with_faults (&f->tree, 2, 0, NULL);
  test_wait_cards (f->window, 2, 30);
  g_assert_false (ds_window_is_preparing_station (f->window));

  ds_window_sign_in (f->window, "op-3", "LOT-C");
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  g_assert_true (ds_window_is_preparing_station (f->window));
  g_assert_null (ds_window_get_station (f->window));
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_IDLE), ==, 2);

  test_wait_station (f->window, 30);
  g_assert_nonnull (ds_window_get_station (f->window));
  g_assert_true (g_file_test (pki, G_FILE_TEST_IS_DIR));
  test_wait_finished (f->window, 2, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 2);
  g_assert_cmpstr (ds_window_get_batch_summary (f->window), ==, "2 passed");
}

/* Unplugged, the boards that passed go; the failed one keeps its card. */
static gboolean
only_failed_card_left (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);
  DsBoardCard *card = ds_window_find_card (f->window, "sim-2");

  return g_list_length (cards) == 1 && card != NULL && !ds_board_card_get_connected (card);
}

static gboolean
card_connected (gpointer data)
{
  return ds_board_card_get_connected (data);
}

/* A board with an injected fault fails with its cause; once the fault is
 * cleared (the simulator restarted without it), Retry makes it pass. */
static void
test_fault_then_retry (Fixture       *f,
                       gconstpointer  data)
{
  const char *faults[] = { "2:refuse-install", NULL };
  DsBoardCard *card;
  GtkWidget *retry;

  start_app (f, "op-2", "LOT-B", TRUE);
  ds_test_tree_start_sim_with_faults (&f->tree, 8, 0, faults);
  test_wait_cards (f->window, 8, 30);
  test_wait_finished (f->window, 8, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 7);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_FAILED), ==, 1);

  card = ds_window_find_card (f->window, "sim-2");
  g_assert_nonnull (card);
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
  g_assert_cmpstr (ds_board_card_get_headline (card), ==, "FAIL");
  /* The cause in plain words, and what to do about it. */
  g_assert_nonnull (strstr (ds_board_card_get_message (card), "Install"));
  g_assert_nonnull (strstr (ds_board_card_get_message (card), "refused"));
  g_assert_nonnull (strstr (ds_board_card_get_hint (card), "Retry"));
  assert_yield_matches_store (f->window, 7, 1, 7.0 / 8.0);

  /* Clear the fault: the boards go away with the simulator and come back,
   * healthy, on new ports.  No auto-start now: the operator retries. */
  g_object_set (f->app, "auto-start", FALSE, NULL);
  ds_test_tree_stop_sim (&f->tree);
  g_assert_true (test_wait_until (only_failed_card_left, f, 30));
  g_assert_nonnull (strstr (ds_board_card_get_hint (card), "Plug it in again"));
  ds_test_tree_start_sim_with_faults (&f->tree, 8, 0, NULL);
  /* Eight cards, sim-2's kept one among them before sim-2 is back. */
  test_wait_cards (f->window, 8, 30);
  g_assert_true (test_wait_until (card_connected, card, 30));

  /* The board comes back (known by its UID) to its card, with its last
   * verdict and a Retry button. */
  g_assert_true (ds_window_find_card (f->window, "sim-2") == card);
  g_assert_true (ds_board_card_get_connected (card));
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
  retry = test_find_button (GTK_WIDGET (card), "win.provision");
  g_assert_nonnull (retry);
  g_assert_true (gtk_widget_get_visible (retry));
  g_assert_true (gtk_widget_is_sensitive (retry));
  gtk_button_clicked (GTK_BUTTON (retry));
  test_wait_finished (f->window, 8, 60);
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_PASSED);
  g_assert_cmpstr (ds_board_card_get_headline (card), ==, "PASS");
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 8);
  /* First-pass yield still counts sim-2's first attempt as a failure; the
   * tiles count boards (8 passed, none failed) and 9 attempts. */
  assert_yield_matches_store (f->window, 8, 1, 7.0 / 8.0);
  g_assert_cmpstr (ds_yield_panel_get_passed_text (ds_window_get_yield_panel (f->window)), ==, "8");
  g_assert_cmpstr (ds_yield_panel_get_failed_text (ds_window_get_yield_panel (f->window)), ==, "0");
  g_assert_cmpstr (ds_yield_panel_get_attempts_text (ds_window_get_yield_panel (f->window)), ==, "9");
}

static gboolean
two_passed_one_gone (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);
  DsBoardCard *gone = ds_window_find_card (f->window, "sim-1");

  return g_list_length (cards) == 3 &&
         test_count_cards (f->window, DS_CARD_STATUS_PASSED) == 2 &&
         gone != NULL && !ds_board_card_get_connected (gone) &&
         ds_board_card_get_status (gone) == DS_CARD_STATUS_FAILED && ds_board_card_is_rendered (gone);
}

static gboolean
only_sim1_left (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 1 && cards->data == ds_window_find_card (f->window, "sim-1");
}

/* A board that is unplugged in the middle of its job keeps its card, with
 * its failure and "plug it in again"; the others carry on.  Stopping the
 * simulator unplugs every board: the ones that passed go. */
static void
test_unplug (Fixture       *f,
             gconstpointer  data)
{
  const char *faults[] = { "1:disconnect:INFO", NULL };
  DsBoardCard *gone;

  start_app (f, "op-3", "LOT-C", TRUE);
  ds_test_tree_start_sim_with_faults (&f->tree, 3, 0, faults);
  g_assert_true (test_wait_until (two_passed_one_gone, f, 30));
  gone = ds_window_find_card (f->window, "sim-1");
  g_assert_nonnull (strstr (ds_board_card_get_hint (gone), "Plug it in again"));
  g_assert_nonnull (ds_window_find_card (f->window, "sim-0"));
  g_assert_nonnull (ds_window_find_card (f->window, "sim-2"));

  ds_test_tree_stop_sim (&f->tree);
  g_assert_true (test_wait_until (only_sim1_left, f, 30));
}

/* The engineer's demo: "Add Simulated Boards", then Start All. */
static void
test_demo (Fixture       *f,
           gconstpointer  data)
{
  GSettings *settings;
  GtkWidget *add;

  g_setenv ("DAC_STATION_SIM", g_getenv ("DS_SIM"), TRUE);
  start_app (f, "engineer", "DEMO", FALSE);
  settings = ds_application_get_settings (f->app);
  g_settings_set_uint (settings, "demo-boards", 3);
  g_settings_set_uint (settings, "demo-baud", 0);

  /* The empty page offers the demo. */
  add = test_find_button (GTK_WIDGET (f->window), "win.add-simulated-boards");
  g_assert_nonnull (add);
  gtk_button_clicked (GTK_BUTTON (add));
  test_wait_cards (f->window, 3, 30);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_IDLE), ==, 3);

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 3, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 3);
  assert_yield_matches_store (f->window, 3, 0, 1.0);

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "remove-simulated-boards", NULL);
  test_wait_cards (f->window, 0, 30);
  g_settings_reset (settings, "demo-boards");
  g_settings_reset (settings, "demo-baud");
}

/* ---- GNOME conventions --------------------------------------------------- */

/* Every accelerator is listed in the shortcuts window, and every action a
 * shortcut names exists. */
static gboolean
widget_mapped (gpointer data)
{
  return gtk_widget_get_mapped (data);
}

/* Preferences open (their template builds) and write through to GSettings;
 * a trust store that cannot be used is said when provisioning starts. */
static void
test_preferences (Fixture       *f,
                  gconstpointer  data)
{
  GtkWidget *prefs;
  g_autoptr(GSettings) settings = NULL;
  g_autofree char *bogus = NULL;
  g_autofree char *value = NULL;

  start_app (f, "op", "lot", FALSE);
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "preferences", NULL);
  prefs = test_find_toplevel (DS_TYPE_PREFERENCES_DIALOG);
  g_assert_nonnull (prefs);
  g_assert_true (test_wait_until (widget_mapped, prefs, 10));

  settings = g_object_ref (ds_application_get_settings (f->app));
  bogus = g_build_filename (f->tree.tmp, "no-such-trust-store", NULL);
  g_settings_set_string (settings, "trust-store", bogus);
  value = g_settings_get_string (settings, "trust-store");
  g_assert_cmpstr (value, ==, bogus);
  gtk_widget_destroy (prefs);
  g_assert_null (test_find_toplevel (DS_TYPE_PREFERENCES_DIALOG));
  g_settings_set_string (settings, "trust-store", "");
}

static void
test_shortcuts (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GBytes) ui = NULL;
  g_auto(GStrv) actions = NULL;
  const char *text;
  g_autoptr(GError) error = NULL;

  start_app (f, "op", "lot", FALSE);
  ui = g_resources_lookup_data ("/org/dacstation/Station/gtk/help-overlay.ui", 0, &error);
  g_assert_no_error (error);
  text = g_bytes_get_data (ui, NULL);

  actions = gtk_application_list_action_descriptions (GTK_APPLICATION (f->app));
  g_assert_cmpuint (g_strv_length (actions), >, 10);
  for (guint i = 0; actions[i] != NULL; i++)
    {
      g_auto(GStrv) accels = gtk_application_get_accels_for_action (GTK_APPLICATION (f->app), actions[i]);
      g_autofree char *name = NULL;
      const char *dot = strchr (actions[i], '.');
      GActionGroup *group;

      g_assert_nonnull (dot);
      name = g_strdup (dot + 1);
      group = g_str_has_prefix (actions[i], "app.") ? G_ACTION_GROUP (f->app) : G_ACTION_GROUP (f->window);
      g_assert_true (g_action_group_has_action (group, name));
      for (guint k = 0; accels[k] != NULL; k++)
        {
          g_autofree char *escaped = g_markup_escape_text (accels[k], -1);

          g_test_message ("%s: %s", actions[i], accels[k]);
          g_assert_nonnull (strstr (text, escaped));
        }
    }
}

static void
record_numbers_cb (GApplication *app,
                   gint64       *numbers)
{
  numbers[0] = ds_application_get_demo_boards (DS_APPLICATION (app));
  numbers[1] = ds_application_get_demo_baud (DS_APPLICATION (app));
  numbers[2] = ds_application_get_timeout_ms (DS_APPLICATION (app));
  /* Only the options are under test: no window. */
  g_signal_stop_emission_by_name (app, "activate");
}

/* The number options of the command line, run through GApplication as
 * dac-station runs them: 0 is a value ("no limit", "the per-command
 * defaults"), not the option left out, and out of range is refused. */
static void
test_number_options (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-options-XXXXXX", NULL);
  const struct {
    const char *args[3];
    int         status;      /* -1: runs */
    gint64      numbers[3];  /* demo boards, demo baud, timeout */
  } cases[] = {
    { { "--demo-baud=0", "--timeout=0", "--demo-boards=2" }, -1, { 2, 0, 0 } },
    { { "--demo-baud=9600", "--timeout=250", NULL }, -1, { 0, 9600, 250 } },
    { { NULL }, -1, { 0, -1, -1 } },
    { { "--demo-boards=0", NULL }, 2, { 0 } },
    { { "--demo-boards=65", NULL }, 2, { 0 } },
    { { "--demo-baud=-1", NULL }, 2, { 0 } },
    { { "--demo-baud=fast", NULL }, 2, { 0 } },
    { { "--timeout=1.5", NULL }, 2, { 0 } },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(DsApplication) app = g_object_new (DS_TYPE_APPLICATION, "application-id", DS_APP_ID,
                                                   "flags", G_APPLICATION_NON_UNIQUE, NULL);
      g_autoptr(GPtrArray) argv = g_ptr_array_new ();
      gint64 numbers[3] = { -2, -2, -2 };
      int status;

      g_ptr_array_add (argv, (char *) "dac-station");
      g_ptr_array_add (argv, (char *) "--data-dir");
      g_ptr_array_add (argv, tmp);
      for (guint a = 0; a < 3 && cases[i].args[a] != NULL; a++)
        g_ptr_array_add (argv, (char *) cases[i].args[a]);
      g_ptr_array_add (argv, NULL);
      g_signal_connect (app, "activate", G_CALLBACK (record_numbers_cb), numbers);
      status = g_application_run (G_APPLICATION (app), (int) argv->len - 1, (char **) argv->pdata);
      g_test_message ("case %zu: exit %d", i, status);
      if (cases[i].status >= 0)
        {
          g_assert_cmpint (status, ==, cases[i].status);
          /* Refused before any window. */
          g_assert_cmpint (numbers[0], ==, -2);
          continue;
        }
      g_assert_cmpint (status, ==, 0);
      g_assert_cmpint (numbers[0], ==, cases[i].numbers[0]);
      g_assert_cmpint (numbers[1], ==, cases[i].numbers[1]);
      g_assert_cmpint (numbers[2], ==, cases[i].numbers[2]);
    }
  g_rmdir (tmp);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/gui/number-options", test_number_options);
  g_test_add ("/gui/shortcuts", Fixture, NULL, fixture_setup, test_shortcuts, fixture_teardown);
  g_test_add ("/gui/preferences", Fixture, NULL, fixture_setup, test_preferences, fixture_teardown);
  g_test_add ("/gui/keyboard-only", Fixture, NULL, fixture_setup, test_keyboard_only, fixture_teardown);
  g_test_add ("/gui/eight-boards-pass", Fixture, NULL, fixture_setup, test_eight_boards_pass, fixture_teardown);
  g_test_add ("/gui/cards-every-other-frame", Fixture, NULL, fixture_setup, test_cards_every_other_frame, fixture_teardown);
  g_test_add ("/gui/cards-made-ahead", Fixture, NULL, fixture_setup, test_cards_made_ahead, fixture_teardown);
  g_test_add ("/gui/cards-drawn-alone", Fixture, NULL, fixture_setup, test_cards_drawn_alone, fixture_teardown);
  g_test_add ("/gui/cards-keep-height", Fixture, NULL, fixture_setup, test_cards_keep_height, fixture_teardown);
  g_test_add ("/gui/station-built-in-thread", Fixture, NULL, fixture_setup, test_station_built_in_thread, fixture_teardown);
  g_test_add ("/gui/fault-then-retry", Fixture, NULL, fixture_setup, test_fault_then_retry, fixture_teardown);
  g_test_add ("/gui/unplug", Fixture, NULL, fixture_setup, test_unplug, fixture_teardown);
  g_test_add ("/gui/demo", Fixture, NULL, fixture_setup, test_demo, fixture_teardown);
  return g_test_run ();
}

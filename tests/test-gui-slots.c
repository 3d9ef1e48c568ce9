/* The window laid out as the fixture (issue 19): cards at their slots'
 * rows and columns with the empty slots shown, duplicate serials and UIDs
 * blocked, a board that goes keeping its card, a moved board known by its
 * UID, ports outside the fixture, the compact view (16 slots at 1280x800,
 * 48 at 1920x1080), the batch summary and a window that fits the screen.  The real window in this process, real
 * simulated boards on pseudo-terminals with emulated USB paths. */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "ds-board-details-dialog.h"
#include "ds-identify-ui.h"
#include "ds-slot-placeholder.h"
#include "ds-statistics-window.h"
#include "test-gui-util.h"

typedef struct {
  char          *tmp;
  char          *data_dir;
  char          *sim_dir;
  char          *state_dir;
  char          *fixture;
  DsApplication *app;
  DsWindow      *window;
  TestSim       *sim;
  guint          kept;  /* cards a_slot_gone() waits for */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("dac-station-slots-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->tmp, "data", NULL);
  f->sim_dir = g_build_filename (f->tmp, "announce", NULL);
  f->state_dir = g_build_filename (f->tmp, "boards", NULL);
  f->fixture = g_build_filename (f->tmp, "bed.fixture", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->sim_dir, 0700), ==, 0);
}

/* No job queued or running: a card may show its verdict before its job
 * is recorded, and closing then would ask first. */
static gboolean
station_idle (gpointer data)
{
  Fixture *f = data;
  DsStation *station = ds_window_get_station (f->window);

  return station == NULL || ds_station_get_n_active (station) == 0;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->app != NULL)
    {
      GSettings *settings = ds_application_get_settings (f->app);

      g_assert_true (test_wait_until (station_idle, f, 60));

      g_settings_reset (settings, "fixture");
      g_settings_reset (settings, "compact-view");
      g_settings_reset (settings, "window-width");
      g_settings_reset (settings, "window-height");
      test_app_close (f->app);
    }
  g_clear_pointer (&f->sim, test_sim_stop);
  g_clear_object (&f->app);
  test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->data_dir);
  g_free (f->sim_dir);
  g_free (f->state_dir);
  g_free (f->fixture);
}

/* The simulator's default USB path of board @index. */
static char *
sim_path (guint index)
{
  return g_strdup_printf ("platform-dac-station-sim-usb-0:1.%u:1.0", index + 1);
}

/* A fixture of @rows x @columns, slots "A1", "A2"... row by row (rows
 * lettered, columns numbered); slot i holds board @boards[i] (NULL: board
 * i).  A board index past the simulated ones leaves its slot empty. */
static void
write_fixture_map (Fixture     *f,
                   guint        rows,
                   guint        columns,
                   const guint *boards)
{
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  g_string_append_printf (text, "[fixture]\nname=Test bed\nrows=%u\ncolumns=%u\nunknown-ports=skip\n", rows, columns);
  for (guint r = 0; r < rows; r++)
    for (guint c = 0; c < columns; c++)
      {
        guint i = r * columns + c;
        g_autofree char *path = sim_path (boards != NULL ? boards[i] : i);

        g_string_append_printf (text, "\n[slot %c%u]\npath=%s\nrow=%u\ncolumn=%u\n",
                                'A' + r, c + 1, path, r + 1, c + 1);
      }
  g_file_set_contents (f->fixture, text->str, -1, &error);
  g_assert_no_error (error);
}

static void
write_fixture (Fixture *f,
               guint    rows,
               guint    columns)
{
  write_fixture_map (f, rows, columns, NULL);
}

static void
start_app (Fixture    *f,
           gboolean    auto_start,
           gboolean    compact)
{
  g_autoptr(GSettings) settings = g_settings_new (DS_APP_ID);

  /* Before the window opens, as a station configured for its fixture. */
  g_settings_set_string (settings, "fixture", f->fixture);
  g_settings_set_boolean (settings, "compact-view", compact);
  f->app = test_app_new (f->data_dir, f->sim_dir, "op-slots", "LOT-S", auto_start);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
}

/* Where a child of the grid is drawn, in the grid's coordinates. */
static GdkRectangle
grid_place_of (Fixture   *f,
               GtkWidget *child)
{
  GdkRectangle r = { 0 };

  gtk_widget_translate_coordinates (child, GTK_WIDGET (ds_window_get_flow_box (f->window)), 0, 0, &r.x, &r.y);
  r.width = gtk_widget_get_allocated_width (child);
  r.height = gtk_widget_get_allocated_height (child);
  return r;
}

/* Where a child of the grid is drawn, in window coordinates. */
static GdkRectangle
place_of (Fixture   *f,
          GtkWidget *child)
{
  GdkRectangle r = { 0 };

  gtk_widget_translate_coordinates (child, GTK_WIDGET (f->window), 0, 0, &r.x, &r.y);
  r.width = gtk_widget_get_allocated_width (child);
  r.height = gtk_widget_get_allocated_height (child);
  return r;
}

static GtkWidget *
placeholder_for (Fixture    *f,
                 const char *label)
{
  g_autoptr(GList) placeholders = ds_window_get_placeholders (f->window);

  for (GList *l = placeholders; l != NULL; l = l->next)
    if (g_strcmp0 (ds_slot_placeholder_get_label (l->data), label) == 0)
      return l->data;
  return NULL;
}

static GtkWidget *
slot_widget (Fixture    *f,
             const char *label)
{
  DsBoardCard *card = ds_window_find_card (f->window, label);

  return card != NULL ? GTK_WIDGET (card) : placeholder_for (f, label);
}

/* A1 A2 / B1 B2 in their rows and columns. */
static gboolean
laid_out_2x2 (gpointer data)
{
  Fixture *f = data;
  GtkWidget *w[4] = { slot_widget (f, "A1"), slot_widget (f, "A2"), slot_widget (f, "B1"), slot_widget (f, "B2") };
  GdkRectangle r[4];

  for (guint i = 0; i < 4; i++)
    {
      if (w[i] == NULL || !gtk_widget_get_mapped (w[i]) || gtk_widget_get_allocated_width (w[i]) <= 1)
        return FALSE;
      r[i] = place_of (f, w[i]);
    }
  return r[0].y == r[1].y && r[2].y == r[3].y && r[0].y < r[2].y &&
         r[0].x == r[2].x && r[1].x == r[3].x && r[0].x < r[1].x;
}

static gboolean
has_three_cards_and_b1_empty (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 3 && placeholder_for (f, "B1") != NULL;
}

static gboolean
summary_shown (gpointer data)
{
  Fixture *f = data;

  return ds_window_get_batch_summary (f->window) != NULL;
}

/* Three boards in a 2x2 fixture, cabled in no particular order (A1: board
 * 2, A2: board 0, B1: nothing, B2: board 1): three cards and one empty
 * slot where the fixture has them; Start All moves none of them and ends
 * with a summary naming the failed slot. */
static void
test_layout (Fixture       *f,
             gconstpointer  data)
{
  const char *faults[] = { "1:refuse-install", NULL };
  const guint boards[] = { 2, 0, 7, 1 };
  const char *order[] = { "A1", "A2", "B2" };
  const char *names[] = { "sim-2", "sim-0", "sim-1" };
  GdkRectangle before[4];
  g_autoptr(GList) cards = NULL;
  guint i = 0;

  write_fixture_map (f, 2, 2, boards);
  start_app (f, FALSE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 3, 0, faults);
  g_assert_true (test_wait_until (has_three_cards_and_b1_empty, f, 30));
  /* Only the empty slot has a placeholder, and activating it (a double
   * click) does nothing. */
  g_signal_emit_by_name (ds_window_get_flow_box (f->window), "child-activated", placeholder_for (f, "B1"));
  g_assert_null (test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG));
  g_assert_null (placeholder_for (f, "A1"));
  g_assert_null (placeholder_for (f, "A2"));
  g_assert_null (placeholder_for (f, "B2"));
  cards = ds_window_get_cards (f->window);
  for (GList *l = cards; l != NULL; l = l->next, i++)
    {
      g_assert_cmpstr (ds_board_get_slot (ds_board_card_get_board (l->data)), ==, order[i]);
      g_assert_cmpstr (ds_board_get_name (ds_board_card_get_board (l->data)), ==, names[i]);
    }
  g_assert_true (test_wait_until (laid_out_2x2, f, 30));
  g_assert_true (laid_out_2x2 (f));
  for (i = 0; i < 4; i++)
    before[i] = grid_place_of (f, slot_widget (f, (const char *[]) { "A1", "A2", "B1", "B2" }[i]));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 3, 120);
  g_assert_true (test_wait_until (summary_shown, f, 30));
  g_assert_cmpstr (ds_window_get_batch_summary (f->window), ==, "2 passed · 1 to set aside (B2)");

  /* Nothing moved to another row or column during the run. */
  g_assert_true (test_wait_until (laid_out_2x2, f, 30));
  for (i = 0; i < 4; i++)
    {
      GdkRectangle after = grid_place_of (f, slot_widget (f, (const char *[]) { "A1", "A2", "B1", "B2" }[i]));

      /* The same columns; a row grows with a failure's cause in the full
       * view (the compact view keeps every place, see below). */
      g_assert_cmpint (after.x, ==, before[i].x);
    }
}

static gboolean
conflict_raised (gpointer data)
{
  Fixture *f = data;
  DsBoardCard *a1 = ds_window_find_card (f->window, "A1");
  DsBoardCard *b1 = ds_window_find_card (f->window, "B1");

  return a1 != NULL && b1 != NULL && ds_board_card_get_conflict (a1) != NULL &&
         ds_board_card_get_conflict (b1) != NULL && ds_window_get_error (f->window) != NULL;
}

static gboolean
a2_passed (gpointer data)
{
  Fixture *f = data;
  DsBoardCard *a2 = ds_window_find_card (f->window, "A2");

  return a2 != NULL && ds_board_card_get_status (a2) == DS_CARD_STATUS_PASSED;
}

/* Boards 0 and 2 share a probe serial: the alarm names both slots, neither
 * board starts (not automatically, not by Start All, not by its button),
 * the third one passes. */
static void
test_duplicate_serial (Fixture       *f,
                       gconstpointer  data)
{
  const char *args[] = { "--probe-serial", "0:53494d53544c30303030",
                         "--probe-serial", "2:53494d53544c30303030", NULL };
  const char *error;

  write_fixture (f, 2, 2);
  start_app (f, TRUE, FALSE);
  f->sim = test_sim_start_args (f->state_dir, f->sim_dir, 3, 0, NULL, args);
  test_wait_cards (f->window, 3, 30);
  g_assert_true (test_wait_until (conflict_raised, f, 30));
  error = ds_window_get_error (f->window);
  g_assert_nonnull (strstr (error, "A1"));
  g_assert_nonnull (strstr (error, "B1"));
  g_assert_true (test_wait_until (a2_passed, f, 60));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "provision",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (ds_window_find_card (f->window, "B1")))));
  for (guint i = 0; i < 2; i++)
    {
      DsBoardCard *card = ds_window_find_card (f->window, i == 0 ? "A1" : "B1");
      GtkWidget *start = test_find_button (GTK_WIDGET (card), "win.provision");

      g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_IDLE);
      g_assert_null (ds_board_card_get_job (card));
      g_assert_false (gtk_widget_get_visible (start));
    }
  g_assert_nonnull (ds_station_get_jobs (ds_window_get_station (f->window)));
}

static gboolean
a2_gone_with_its_card (gpointer data)
{
  Fixture *f = data;
  DsBoardCard *a2 = ds_window_find_card (f->window, "A2");

  return a2 != NULL && !ds_board_card_get_connected (a2) && ds_board_card_is_rendered (a2) &&
         ds_board_card_get_status (a2) == DS_CARD_STATUS_FAILED;
}

/* Unplugged: the boards that passed go (their slots show empty), the one
 * that failed keeps its card. */
static gboolean
all_gone (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 1 && !ds_board_card_get_connected (cards->data) &&
         placeholder_for (f, "A1") != NULL && placeholder_for (f, "B1") != NULL;
}

static gboolean
all_back (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  for (GList *l = cards; l != NULL; l = l->next)
    if (!ds_board_card_get_connected (l->data))
      return FALSE;
  return g_list_length (cards) == 3;
}

/* A board unplugged mid-job keeps its card, with its failure and "plug it
 * in again", where it was; plugged in again, it takes its card back. */
static void
test_unplug_keeps_card (Fixture       *f,
                        gconstpointer  data)
{
  const char *faults[] = { "1:disconnect:INFO", NULL };
  DsBoardCard *a2;

  write_fixture (f, 2, 2);
  start_app (f, TRUE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 3, 0, faults);
  test_wait_cards (f->window, 3, 30);
  g_assert_true (test_wait_until (a2_gone_with_its_card, f, 60));
  a2 = ds_window_find_card (f->window, "A2");
  g_assert_nonnull (strstr (ds_board_card_get_hint (a2), "Plug it in again"));
  g_assert_cmpstr (ds_board_card_get_headline (a2), ==, "FAIL");
  /* No placeholder took its place. */
  g_assert_null (placeholder_for (f, "A2"));
  g_assert_true (test_wait_until (laid_out_2x2, f, 30));
  /* It cannot be started while it is away; its Details still open. */
  g_assert_false (gtk_widget_get_visible (test_find_button (GTK_WIDGET (a2), "win.provision")));
  gtk_button_clicked (GTK_BUTTON (test_find_button (GTK_WIDGET (a2), "win.board-details")));
  {
    GtkWidget *dialog = test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG);

    g_assert_nonnull (dialog);
    gtk_widget_destroy (dialog);
  }
  /* The others pass, then every board is unplugged. */
  test_wait_finished (f->window, 3, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 2);

  g_clear_pointer (&f->sim, test_sim_stop);
  g_assert_true (test_wait_until (all_gone, f, 30));
  g_assert_true (ds_window_find_card (f->window, "A2") == a2);

  f->sim = test_sim_start (f->state_dir, f->sim_dir, 3, 0, NULL);
  g_assert_true (test_wait_until (all_back, f, 30));
  /* The board back in A2 took its card, with its last verdict. */
  g_assert_true (ds_window_find_card (f->window, "A2") == a2);
  g_assert_cmpint (ds_board_card_get_status (a2), ==, DS_CARD_STATUS_FAILED);
  a2 = ds_window_find_card (f->window, "A2");
  g_assert_null (strstr (ds_board_card_get_hint (a2), "Plug it in again"));
  g_assert_true (gtk_widget_get_visible (test_find_button (GTK_WIDGET (a2), "win.provision")));
}

typedef struct {
  Fixture *f;
  guint    n;
} Fit;

static GtkScrolledWindow *
scroller (Fixture *f)
{
  return GTK_SCROLLED_WINDOW (gtk_widget_get_ancestor (GTK_WIDGET (ds_window_get_flow_box (f->window)),
                                                       GTK_TYPE_SCROLLED_WINDOW));
}

/* Every card drawn inside the window, and nothing to scroll. */
static gboolean
all_cards_fit (gpointer data)
{
  Fit *fit = data;
  Fixture *f = fit->f;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (scroller (f));
  GtkAdjustment *h = gtk_scrolled_window_get_hadjustment (scroller (f));
  int width = gtk_widget_get_allocated_width (GTK_WIDGET (f->window));
  int height = gtk_widget_get_allocated_height (GTK_WIDGET (f->window));
  GdkRectangle area;

  if (g_list_length (cards) != fit->n)
    return FALSE;
  /* The window itself no wider or taller than the screen. */
  gdk_monitor_get_workarea (gdk_display_get_monitor (gdk_display_get_default (), 0), &area);
  if (g_test_verbose ())
    g_printerr ("window %dx%d, workarea %dx%d\n", width, height, area.width, area.height);
  if (width > area.width || height > area.height)
    return FALSE;
  for (GList *l = cards; l != NULL; l = l->next)
    {
      GdkRectangle r;

      if (!gtk_widget_get_mapped (l->data) || !ds_board_card_is_rendered (l->data))
        return FALSE;
      r = place_of (f, l->data);
      if (r.width <= 1 || r.x < 0 || r.y < 0 || r.x + r.width > width || r.y + r.height > height)
        return FALSE;
    }
  return gtk_adjustment_get_upper (v) <= gtk_adjustment_get_page_size (v) &&
         gtk_adjustment_get_upper (h) <= gtk_adjustment_get_page_size (h);
}

/* The whole screen, as "import -window root" would take it, into
 * $DS_SLOTS_SCREENSHOTS (for data/screenshots; nothing without it). */
static void
screenshot (const char *name)
{
  const char *dir = g_getenv ("DS_SLOTS_SCREENSHOTS");
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  GdkWindow *root;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, name, NULL);
  test_spin (500);
  root = gdk_get_default_root_window ();
  pixbuf = gdk_pixbuf_get_from_window (root, 0, 0, gdk_window_get_width (root), gdk_window_get_height (root));
  g_assert_nonnull (pixbuf);
  gdk_pixbuf_save (pixbuf, path, "png", &error, NULL);
  g_assert_no_error (error);
  g_print ("%s\n", path);
}

/* 16 slots in the compact view fit a 1280x800 screen without scrolling,
 * before and after the run. */
static void
test_compact_fits (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *state = NULL;
  Fit fit = { f, 16 };
  GdkRectangle before[16];
  GVariant *compact;

  write_fixture (f, 2, 8);
  start_app (f, FALSE, TRUE);
  compact = g_action_group_get_action_state (G_ACTION_GROUP (f->window), "compact-view");
  g_assert_true (g_variant_get_boolean (compact));
  g_variant_unref (compact);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 16, 0, NULL);
  test_wait_cards (f->window, 16, 60);
  g_assert_true (test_wait_until (all_cards_fit, &fit, 30));
  g_assert_true (all_cards_fit (&fit));
  {
    g_autoptr(GList) cards = ds_window_get_cards (f->window);
    guint i = 0;

    for (GList *l = cards; l != NULL; l = l->next, i++)
      before[i] = place_of (f, l->data);
  }
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 16, 300);
  g_assert_true (test_wait_until (all_cards_fit, &fit, 30));
  g_assert_true (all_cards_fit (&fit));
  /* No card moved during the run. */
  {
    g_autoptr(GList) cards = ds_window_get_cards (f->window);
    guint i = 0;

    for (GList *l = cards; l != NULL; l = l->next, i++)
      {
        GdkRectangle after = place_of (f, l->data);

        if (g_test_verbose ())
          g_printerr ("%s: %d,%d %dx%d -> %d,%d %dx%d\n", ds_board_get_slot (ds_board_card_get_board (l->data)),
                      before[i].x, before[i].y, before[i].width, before[i].height, after.x, after.y, after.width, after.height);

        g_assert_cmpint (after.x, ==, before[i].x);
        g_assert_cmpint (after.y, ==, before[i].y);
        g_assert_cmpint (after.height, ==, before[i].height);
      }
  }
  g_assert_true (test_wait_until (summary_shown, f, 30));
  g_assert_cmpstr (ds_window_get_batch_summary (f->window), ==, "16 passed");
  screenshot ("compact-view.png");
}

/* Boards 0 and 2 share a chip UID: the alarm names both slots, neither
 * board starts (not by Start All, not by its own button), the third one
 * passes. */
static void
test_duplicate_uid (Fixture       *f,
                    gconstpointer  data)
{
  const char *args[] = { "--uid", "0:0028003C3235510F20353836",
                         "--uid", "2:0028003c3235510f20353836", NULL };
  const char *error;

  write_fixture (f, 2, 2);
  start_app (f, FALSE, FALSE);
  f->sim = test_sim_start_args (f->state_dir, f->sim_dir, 3, 0, NULL, args);
  test_wait_cards (f->window, 3, 30);
  g_assert_true (test_wait_until (conflict_raised, f, 30));
  error = ds_window_get_error (f->window);
  g_assert_nonnull (strstr (error, "A1"));
  g_assert_nonnull (strstr (error, "B1"));
  g_assert_nonnull (strstr (ds_board_card_get_conflict (ds_window_find_card (f->window, "A1")), "B1"));
  g_assert_nonnull (strstr (ds_board_card_get_conflict (ds_window_find_card (f->window, "B1")), "A1"));
  g_assert_null (ds_board_card_get_conflict (ds_window_find_card (f->window, "A2")));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  for (guint i = 0; i < 2; i++)
    {
      DsBoardCard *card = ds_window_find_card (f->window, i == 0 ? "A1" : "B1");
      GtkWidget *start = test_find_button (GTK_WIDGET (card), "win.provision");

      g_assert_false (gtk_widget_get_visible (start));
      /* Its own button's action, as a click on a stale button would. */
      g_action_group_activate_action (G_ACTION_GROUP (f->window), "provision",
                                      g_variant_new_string (ds_board_get_port (ds_board_card_get_board (card))));
    }
  g_assert_true (test_wait_until (a2_passed, f, 60));
  for (guint i = 0; i < 2; i++)
    {
      DsBoardCard *card = ds_window_find_card (f->window, i == 0 ? "A1" : "B1");

      g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_IDLE);
      g_assert_null (ds_board_card_get_job (card));
    }
}

static gboolean
moved_back (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 2 && ds_window_find_card (f->window, "A1") != NULL &&
         ds_window_find_card (f->window, "B1") != NULL;
}

/* The boards unplugged: f->kept cards of gone boards left, B1 empty. */
static gboolean
a_slot_gone (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_connected (l->data))
      return FALSE;
  return g_list_length (cards) == f->kept && placeholder_for (f, "B1") != NULL;
}

/* Board 0's failed card kept in B1, A1 empty. */
static gboolean
b1_kept (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 1 && !ds_board_card_get_connected (cards->data) &&
         g_strcmp0 (ds_board_get_slot (ds_board_card_get_board (cards->data)), "B1") == 0 &&
         placeholder_for (f, "A1") != NULL;
}

/* Board 0 back in A1 and its only card, B1 empty. */
static gboolean
back_in_a1 (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);

  return g_list_length (cards) == 1 && ds_board_card_get_connected (cards->data) &&
         g_strcmp0 (ds_board_get_slot (ds_board_card_get_board (cards->data)), "A1") == 0 &&
         placeholder_for (f, "B1") != NULL;
}

/* Board 0 is provisioned in slot A1 (or fails there, @data), then comes
 * back on slot B1's port with another board in A1: the card in B1 is board
 * 0's, known by its UID, with its history (its job, its DAC; "already
 * provisioned" to a station started afresh), and A1 shows the new board,
 * with none of board 0's history.  A failed board 0 put back in A1 takes
 * its history with it, leaving B1 empty. */
static void
test_moved_board (Fixture       *f,
                  gconstpointer  data)
{
  gboolean fail = GPOINTER_TO_INT (data);
  const char *faults[] = { "0:refuse-install", NULL };
  g_autofree char *a1 = sim_path (0);
  g_autofree char *b1 = sim_path (2);
  g_autofree char *to_b1 = g_strconcat ("0:", b1, NULL);
  g_autofree char *to_a1 = g_strconcat ("1:", a1, NULL);
  const char *moved[] = { "--usb-path", to_b1, "--usb-path", to_a1, NULL };
  g_autofree char *uid = NULL;
  g_autofree char *dac = NULL;
  DsBoardCard *card;
  DsJob *job;

  write_fixture (f, 2, 2);
  start_app (f, FALSE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 1, 0, fail ? faults : NULL);
  test_wait_cards (f->window, 1, 30);
  card = ds_window_find_card (f->window, "A1");
  g_assert_nonnull (card);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 1, 120);
  job = ds_board_card_get_job (card);
  g_assert_nonnull (job);
  g_assert_cmpint (ds_board_card_get_status (card), ==, fail ? DS_CARD_STATUS_FAILED : DS_CARD_STATUS_PASSED);
  uid = g_strdup (ds_job_get_uid (job));
  g_assert_nonnull (uid);
  if (!fail)
    {
      dac = g_strdup (ds_job_get_dac_serial (job));
      g_assert_nonnull (dac);
    }

  /* Unplugged: a passed board just goes, a failed one keeps its card. */
  g_clear_pointer (&f->sim, test_sim_stop);
  f->kept = fail ? 1 : 0;
  g_assert_true (test_wait_until (a_slot_gone, f, 30));

  f->sim = test_sim_start_args (f->state_dir, f->sim_dir, 2, 0, NULL, moved);
  g_assert_true (test_wait_until (moved_back, f, 30));
  g_assert_true (test_wait_until (laid_out_2x2, f, 30));

  /* B1: board 0, with its history. */
  card = ds_window_find_card (f->window, "B1");
  {
    g_autofree char *b1_uid = ds_board_dup_uid (ds_board_card_get_board (card));

    g_assert_cmpstr (ds_board_get_name (ds_board_card_get_board (card)), ==, "sim-0");
    g_assert_cmpstr (b1_uid, ==, uid);
  }
  g_assert_true (ds_board_card_get_connected (card));
  g_assert_true (ds_board_card_get_job (card) == job);
  g_assert_cmpint (ds_board_card_get_status (card), ==, fail ? DS_CARD_STATUS_FAILED : DS_CARD_STATUS_PASSED);
  if (!fail)
    g_assert_cmpstr (ds_job_get_dac_serial (ds_board_card_get_job (card)), ==, dac);

  /* A1: the new board, none of board 0's history. */
  card = ds_window_find_card (f->window, "A1");
  {
    g_autofree char *a1_uid = ds_board_dup_uid (ds_board_card_get_board (card));

    g_assert_cmpstr (ds_board_get_name (ds_board_card_get_board (card)), ==, "sim-1");
    g_assert_cmpstr (a1_uid, !=, uid);
  }
  g_assert_true (ds_board_card_get_connected (card));
  g_assert_null (ds_board_card_get_job (card));
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_IDLE);
  g_assert_true (gtk_widget_get_visible (test_find_button (GTK_WIDGET (card), "win.provision")));
  g_assert_cmpuint (g_list_length (ds_window_get_placeholders (f->window)), ==, 2);

  if (fail)
    {
      /* Unplugged again and board 0 alone back in A1: its history comes
       * with it, and B1's card of it goes. */
      g_clear_pointer (&f->sim, test_sim_stop);
      f->kept = 1;
      g_assert_true (test_wait_until (b1_kept, f, 30));
      f->sim = test_sim_start (f->state_dir, f->sim_dir, 1, 0, NULL);
      g_assert_true (test_wait_until (back_in_a1, f, 30));
      card = ds_window_find_card (f->window, "A1");
      g_assert_cmpstr (ds_board_get_name (ds_board_card_get_board (card)), ==, "sim-0");
      g_assert_true (ds_board_card_get_job (card) == job);
      g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_FAILED);
      return;
    }
  /* A station started afresh knows board 0 by its UID from its records:
   * Start All finds it provisioned, and provisions the new board. */
  g_assert_true (test_wait_until (station_idle, f, 60));
  test_app_close (f->app);
  g_clear_object (&f->app);
  start_app (f, FALSE, FALSE);
  g_assert_true (test_wait_until (moved_back, f, 30));
  card = ds_window_find_card (f->window, "B1");
  g_assert_null (ds_board_card_get_job (card));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 2, 120);
  g_assert_cmpstr (ds_board_get_name (ds_board_card_get_board (card)), ==, "sim-0");
  g_assert_cmpint (ds_board_card_get_status (card), ==, DS_CARD_STATUS_ALREADY_PROVISIONED);
  g_assert_cmpint (ds_board_card_get_status (ds_window_find_card (f->window, "A1")), ==, DS_CARD_STATUS_PASSED);
}

/* A1, the place without a slot and A3 drawn in one row. */
static gboolean
laid_out_1x3 (gpointer data)
{
  Fixture *f = data;
  DsBoardCard *a1 = ds_window_find_card (f->window, "A1");
  GtkWidget *w[3] = { a1 != NULL ? GTK_WIDGET (a1) : NULL, placeholder_for (f, NULL), placeholder_for (f, "A3") };

  for (guint i = 0; i < 3; i++)
    if (w[i] == NULL || !gtk_widget_get_mapped (w[i]) || gtk_widget_get_allocated_width (w[i]) <= 1)
      return FALSE;
  return TRUE;
}

static gboolean
n_cards_and_placeholders (gpointer data)
{
  Fit *fit = data;
  g_autoptr(GList) cards = ds_window_get_cards (fit->f->window);
  g_autoptr(GList) placeholders = ds_window_get_placeholders (fit->f->window);

  return g_list_length (cards) == fit->n && g_list_length (placeholders) == 2;
}

/* A 1x3 fixture with slots A1 (board 0's port) and A3 (an unused port)
 * and no slot in between; boards 1 and 2 sit on ports outside it.  With
 * unknown-ports=skip they get no card and are neither started nor failed;
 * with unknown-ports=allow (@data) they get cards after the fixture's row,
 * which keeps its places. */
static void
test_unknown_ports (Fixture       *f,
                    gconstpointer  data)
{
  gboolean allow = GPOINTER_TO_INT (data);
  g_autofree char *a1 = sim_path (0);
  g_autofree char *a3 = sim_path (3);
  g_autofree char *text = g_strdup_printf ("[fixture]\nname=Test bed\nrows=1\ncolumns=3\nunknown-ports=%s\n\n"
                                           "[slot A1]\npath=%s\nrow=1\ncolumn=1\n\n"
                                           "[slot A3]\npath=%s\nrow=1\ncolumn=3\n",
                                           allow ? "allow" : "skip", a1, a3);
  g_autoptr(GError) error = NULL;
  Fit fit = { f, allow ? 3 : 1 };
  GdkRectangle a1_place, e, a3_place;

  g_assert_true (g_file_set_contents (f->fixture, text, -1, &error));
  g_assert_no_error (error);
  start_app (f, TRUE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 3, 0, NULL);
  g_assert_true (test_wait_until (n_cards_and_placeholders, &fit, 30));
  test_wait_finished (f->window, fit.n, 120);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_FAILED), ==, 0);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, fit.n);
  g_assert_nonnull (ds_window_find_card (f->window, "A1"));
  g_assert_true (allow == (ds_window_find_card (f->window, "sim-1") != NULL));
  g_assert_true (allow == (ds_window_find_card (f->window, "sim-2") != NULL));
  g_assert_null (ds_window_find_card (f->window, "A3"));

  /* The fixture's row keeps its places: A1, the place without a slot and
   * A3's placeholder side by side; the boards outside come after. */
  g_assert_true (test_wait_until (laid_out_1x3, f, 30));
  a1_place = place_of (f, GTK_WIDGET (ds_window_find_card (f->window, "A1")));
  e = place_of (f, placeholder_for (f, NULL));
  a3_place = place_of (f, placeholder_for (f, "A3"));
  g_assert_cmpint (a1_place.y, ==, e.y);
  g_assert_cmpint (a3_place.y, ==, e.y);
  g_assert_cmpint (a1_place.x, <, e.x);
  g_assert_cmpint (e.x, <, a3_place.x);
  if (allow)
    for (guint i = 1; i <= 2; i++)
      {
        g_autofree char *name = g_strdup_printf ("sim-%u", i);
        DsBoardCard *card = ds_window_find_card (f->window, name);
        GdkRectangle r = place_of (f, GTK_WIDGET (card));

        g_assert_null (ds_board_get_slot (ds_board_card_get_board (card)));
        g_assert_cmpint (r.y, >, a1_place.y);
      }
}

/* Every one of the fixture's @n slots, card or placeholder, drawn inside
 * the window, and nothing to scroll. */
static gboolean
all_slots_fit (gpointer data)
{
  Fit *fit = data;
  Fixture *f = fit->f;
  g_autoptr(GList) cards = ds_window_get_cards (f->window);
  g_autoptr(GList) placeholders = ds_window_get_placeholders (f->window);
  GtkAdjustment *v = gtk_scrolled_window_get_vadjustment (scroller (f));
  GtkAdjustment *h = gtk_scrolled_window_get_hadjustment (scroller (f));
  int width = gtk_widget_get_allocated_width (GTK_WIDGET (f->window));
  int height = gtk_widget_get_allocated_height (GTK_WIDGET (f->window));
  GdkRectangle area;
  GList *all;

  if (g_list_length (cards) + g_list_length (placeholders) != fit->n)
    return FALSE;
  gdk_monitor_get_workarea (gdk_display_get_monitor (gdk_display_get_default (), 0), &area);
  if (g_test_verbose ())
    g_printerr ("window %dx%d, workarea %dx%d, scroll %g/%g %g/%g\n", width, height, area.width, area.height,
                gtk_adjustment_get_upper (v), gtk_adjustment_get_page_size (v),
                gtk_adjustment_get_upper (h), gtk_adjustment_get_page_size (h));
  if (width > area.width || height > area.height)
    return FALSE;
  all = g_list_concat (g_list_copy (cards), g_list_copy (placeholders));
  for (GList *l = all; l != NULL; l = l->next)
    {
      GdkRectangle r;

      if (!gtk_widget_get_mapped (l->data) ||
          (DS_IS_BOARD_CARD (l->data) && !ds_board_card_is_rendered (l->data)))
        {
          g_list_free (all);
          return FALSE;
        }
      r = place_of (f, l->data);
      if (r.width <= 1 || r.x < 0 || r.y < 0 || r.x + r.width > width || r.y + r.height > height)
        {
          g_list_free (all);
          return FALSE;
        }
    }
  g_list_free (all);
  return gtk_adjustment_get_upper (v) <= gtk_adjustment_get_page_size (v) &&
         gtk_adjustment_get_upper (h) <= gtk_adjustment_get_page_size (h);
}

/* 48 slots (6 x 8) with 48 boards in the compact view fit a 1920x1080
 * screen without scrolling, before and after a run (every card or empty
 * slot counted), and no card moves during the run. */
static void
test_compact_48 (Fixture       *f,
                 gconstpointer  data)
{
  Fit fit = { f, 48 };
  GdkRectangle before[48];
  const char *faults[] = { "9:refuse-install", NULL };

  write_fixture (f, 6, 8);
  start_app (f, FALSE, TRUE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 48, 0, faults);
  test_wait_cards (f->window, 48, 60);
  g_assert_true (test_wait_until (all_slots_fit, &fit, 30));
  g_assert_true (all_slots_fit (&fit));
  {
    g_autoptr(GList) cards = ds_window_get_cards (f->window);
    guint i = 0;

    for (GList *l = cards; l != NULL; l = l->next, i++)
      before[i] = place_of (f, l->data);
  }
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 48, 300);
  g_assert_true (test_wait_until (summary_shown, f, 30));
  g_assert_cmpstr (ds_window_get_batch_summary (f->window), ==, "47 passed · 1 to set aside (B2)");
  g_assert_true (test_wait_until (all_slots_fit, &fit, 30));
  g_assert_true (all_slots_fit (&fit));
  /* No card moved during the run. */
  {
    g_autoptr(GList) cards = ds_window_get_cards (f->window);
    guint i = 0;

    for (GList *l = cards; l != NULL; l = l->next, i++)
      {
        GdkRectangle after = place_of (f, l->data);

        g_assert_cmpint (after.x, ==, before[i].x);
        g_assert_cmpint (after.y, ==, before[i].y);
        g_assert_cmpint (after.width, ==, before[i].width);
        g_assert_cmpint (after.height, ==, before[i].height);
      }
  }
  screenshot ("compact-view-48.png");
}

/* The fixture view as a screenshot (only with DS_SLOTS_SCREENSHOTS). */
static void
test_fixture_screenshot (Fixture       *f,
                         gconstpointer  data)
{
  const char *faults[] = { "1:refuse-install", NULL };

  /* Three columns of full cards fit 1280 pixels; slot B3 is empty. */
  write_fixture (f, 2, 3);
  start_app (f, FALSE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 5, 0, faults);
  test_wait_cards (f->window, 5, 30);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 5, 120);
  g_assert_true (test_wait_until (summary_shown, f, 30));
  screenshot ("fixture-view.png");
}

static gboolean
on_screen_within_workarea (gpointer data)
{
  GtkWidget *window = data;
  GdkMonitor *monitor = gdk_display_get_monitor (gdk_display_get_default (), 0);
  GdkRectangle area;

  if (!gtk_widget_get_mapped (window))
    return FALSE;
  gdk_monitor_get_workarea (monitor, &area);
  return gdk_window_get_width (gtk_widget_get_window (window)) <= area.width &&
         gdk_window_get_height (gtk_widget_get_window (window)) <= area.height;
}

/* The main window (1280x860 by default) and Statistics (1180x820) open no
 * larger than the screen's workarea. */
static void
test_window_fits (Fixture       *f,
                  gconstpointer  data)
{
  GdkMonitor *monitor = gdk_display_get_monitor (gdk_display_get_default (), 0);
  GtkWidget *stats;
  GdkRectangle area;
  int width, height;

  gdk_monitor_get_workarea (monitor, &area);
  write_fixture (f, 2, 2);
  start_app (f, FALSE, FALSE);
  test_wait_until (on_screen_within_workarea, f->window, 10);
  /* The window as it is on screen, title bar and frame included. */
  width = gdk_window_get_width (gtk_widget_get_window (GTK_WIDGET (f->window)));
  height = gdk_window_get_height (gtk_widget_get_window (GTK_WIDGET (f->window)));
  g_assert_cmpint (width, <=, area.width);
  g_assert_cmpint (height, <=, area.height);

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "statistics", NULL);
  stats = GTK_WIDGET (ds_window_get_statistics (f->window));
  g_assert_nonnull (stats);
  test_wait_until (on_screen_within_workarea, stats, 10);
  width = gdk_window_get_width (gtk_widget_get_window (stats));
  height = gdk_window_get_height (gtk_widget_get_window (stats));
  g_assert_cmpint (width, <=, area.width);
  g_assert_cmpint (height, <=, area.height);
}

static gboolean
bad_fixture_said (gpointer data)
{
  Fixture *f = data;

  return ds_window_get_error (f->window) != NULL && strstr (ds_window_get_error (f->window), "fixture") != NULL;
}

/* A bad fixture file is said in the error bar, and boards are shown by
 * port, without empty slots. */
static void
test_bad_fixture (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GList) placeholders = NULL;

  g_file_set_contents (f->fixture, "[fixture]\nrows=2\ncolumns=2\n\n[slot A1]\nrow=9\ncolumn=1\n", -1, &error);
  g_assert_no_error (error);
  start_app (f, FALSE, FALSE);
  g_assert_true (test_wait_until (bad_fixture_said, f, 10));
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 2, 0, NULL);
  test_wait_cards (f->window, 2, 30);
  placeholders = ds_window_get_placeholders (f->window);
  g_assert_null (placeholders);
  g_assert_null (ds_board_get_slot (ds_board_card_get_board (ds_window_find_card (f->window, "sim-0"))));
}

/* ---- Identify ------------------------------------------------------------ */

/* The Identify button under @root (it has no action while it may not be
 * pressed, so it is found by its label). */
static GtkWidget *
identify_button (GtkWidget *root)
{
  if (GTK_IS_BUTTON (root) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (root)), "_Identify") == 0)
    return root;
  /* A dialog's header bar is not among its children. */
  if (GTK_IS_WINDOW (root) && gtk_window_get_titlebar (GTK_WINDOW (root)) != NULL)
    {
      GtkWidget *found = identify_button (gtk_window_get_titlebar (GTK_WINDOW (root)));

      if (found != NULL)
        return found;
    }
  if (GTK_IS_CONTAINER (root))
    {
      g_autoptr(GList) children = gtk_container_get_children (GTK_CONTAINER (root));

      for (GList *l = children; l != NULL; l = l->next)
        {
          GtkWidget *found = identify_button (l->data);

          if (found != NULL)
            return found;
        }
    }
  return NULL;
}

static gboolean
just_plugged (GtkWidget *widget)
{
  return gtk_style_context_has_class (gtk_widget_get_style_context (widget), DS_JUST_PLUGGED_CLASS);
}

typedef struct {
  Fixture    *f;
  const char *slot;
  const char *text;   /* led.log's whole text; the window's error's part */
  gboolean    want;
} Cond;

static gboolean
highlight_is (gpointer data)
{
  Cond *c = data;
  DsBoardCard *card = ds_window_find_card (c->f->window, c->slot);

  return card != NULL && ds_board_card_get_connected (card) && just_plugged (GTK_WIDGET (card)) == c->want;
}

/* led.log of simulated board @slot (its name here) reads @text. */
static gboolean
led_log_is (gpointer data)
{
  Cond *c = data;
  g_autofree char *path = g_build_filename (c->f->state_dir, c->slot, "led.log", NULL);
  g_autofree char *text = NULL;

  return g_file_get_contents (path, &text, NULL, NULL) && g_strcmp0 (text, c->text) == 0;
}

static gboolean
error_says (gpointer data)
{
  Cond *c = data;
  const char *error = ds_window_get_error (c->f->window);

  return error != NULL && strstr (error, c->text) != NULL;
}

/* The card of @slot is running its job and its Identify button says so. */
static gboolean
identify_busy (gpointer data)
{
  Cond *c = data;
  DsBoardCard *card = ds_window_find_card (c->f->window, c->slot);
  GtkWidget *button = card != NULL ? identify_button (GTK_WIDGET (card)) : NULL;

  return button != NULL && ds_board_card_get_status (card) == DS_CARD_STATUS_RUNNING &&
         ds_board_card_is_rendered (card) && !gtk_widget_get_sensitive (button) &&
         strstr (gtk_widget_get_tooltip_text (button), "being provisioned") != NULL;
}

static gboolean
a1_empty (gpointer data)
{
  return placeholder_for (data, "A1") != NULL;
}

static gboolean
dialog_identify_ready (gpointer data)
{
  GtkWidget *dialog = test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG);
  GtkWidget *button = dialog != NULL ? identify_button (dialog) : NULL;

  return button != NULL && gtk_widget_get_sensitive (button) &&
         g_strcmp0 (gtk_actionable_get_action_name (GTK_ACTIONABLE (button)), "win.identify") == 0;
}

/* A card glows when its board is plugged into its slot; Identify on the
 * card blinks that board's LED (the simulator's led.log); firmware
 * without IDENTIFY is named; a board whose job runs cannot be identified
 * (the button is greyed with the reason, the action refuses) until the
 * job ends, and then its details dialog identifies it. */
static void
test_identify (Fixture       *f,
               gconstpointer  data)
{
  const char *faults[] = { "1:protocol-v1", "2:stall:GENERATE_CSR", NULL };
  Cond a1_lit = { f, "A1", NULL, TRUE }, a1_dark = { f, "A1", NULL, FALSE }, a4_lit = { f, "A4", NULL, TRUE };
  Cond sim0_blinked = { f, "sim-0", "blink 10\n", TRUE };
  Cond sim2_blinked = { f, "sim-2", "blink 10\n", TRUE };
  Cond v1 = { f, NULL, "cannot identify itself", TRUE };
  Cond busy = { f, NULL, "being provisioned", TRUE };
  Cond a3_busy = { f, "A3", NULL, TRUE };
  Cond no_answer = { f, NULL, "did not answer IDENTIFY", TRUE };
  const char *hangs[] = { "0:stall:IDENTIFY", NULL };
  DsBoardCard *a1, *a3;
  GtkWidget *dialog;

  write_fixture (f, 1, 4);
  start_app (f, FALSE, FALSE);
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 3, 0, faults);
  /* Plugged in: the card glows, then no longer. */
  g_assert_true (test_wait_until (highlight_is, &a1_lit, 30));
  if (g_getenv ("DS_SLOTS_SCREENSHOTS") != NULL)
    {
      test_wait_cards (f->window, 3, 30);
      screenshot ("just-plugged.png");
    }
  g_assert_true (test_wait_until (highlight_is, &a1_dark, 30));
  test_wait_cards (f->window, 3, 30);

  gtk_button_clicked (GTK_BUTTON (identify_button (GTK_WIDGET (ds_window_find_card (f->window, "A1")))));
  g_assert_true (test_wait_until (led_log_is, &sim0_blinked, 30));

  gtk_button_clicked (GTK_BUTTON (identify_button (GTK_WIDGET (ds_window_find_card (f->window, "A2")))));
  g_assert_true (test_wait_until (error_says, &v1, 30));

  /* A3's job hangs at GENERATE_CSR: Identify waits. */
  a3 = ds_window_find_card (f->window, "A3");
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "provision",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (a3))));
  g_assert_true (test_wait_until (identify_busy, &a3_busy, 60));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "identify",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (a3))));
  g_assert_true (test_wait_until (error_says, &busy, 30));
  gtk_button_clicked (GTK_BUTTON (test_find_button (GTK_WIDGET (a3), "win.board-details")));
  dialog = test_find_toplevel (DS_TYPE_BOARD_DETAILS_DIALOG);
  g_assert_nonnull (dialog);
  g_assert_nonnull (identify_button (dialog));
  g_assert_false (gtk_widget_get_sensitive (identify_button (dialog)));

  /* Its job cancelled, the details dialog identifies it. */
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "cancel-board",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (a3))));
  g_assert_true (test_wait_until (dialog_identify_ready, NULL, 60));
  {
    g_autofree char *path = g_build_filename (f->state_dir, "sim-2", "led.log", NULL);

    g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  }
  gtk_button_clicked (GTK_BUTTON (identify_button (dialog)));
  g_assert_true (test_wait_until (led_log_is, &sim2_blinked, 30));
  gtk_widget_destroy (dialog);
  g_assert_true (test_wait_until (station_idle, f, 60));

  /* A fourth board plugged into the empty slot A4: its card glows. */
  g_clear_pointer (&f->sim, test_sim_stop);
  g_assert_true (test_wait_until (a1_empty, f, 30));
  f->sim = test_sim_start (f->state_dir, f->sim_dir, 4, 0, hangs);
  g_assert_true (test_wait_until (highlight_is, &a4_lit, 30));
  /* A4 can show before A1's board is back in its slot. */
  test_wait_cards (f->window, 4, 30);

  /* While Identify waits for a board that does not answer it, the board
   * is not started (its job would find the port in use); then Identify
   * fails alone. */
  a1 = ds_window_find_card (f->window, "A1");
  g_assert_nonnull (identify_button (GTK_WIDGET (a1)));
  gtk_button_clicked (GTK_BUTTON (identify_button (GTK_WIDGET (a1))));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "provision",
                                  g_variant_new_string (ds_board_get_port (ds_board_card_get_board (a1))));
  g_assert_nonnull (strstr (ds_window_get_error (f->window), "Identify is still talking"));
  g_assert_null (ds_board_card_get_job (a1));
  g_assert_true (test_wait_until (error_says, &no_answer, 60));
  g_assert_null (ds_board_card_get_job (a1));
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add ("/slots/bed/layout", Fixture, NULL, fixture_setup, test_layout, fixture_teardown);
  g_test_add ("/slots/bed/duplicate-serial", Fixture, NULL, fixture_setup, test_duplicate_serial, fixture_teardown);
  g_test_add ("/slots/bed/unplug-keeps-card", Fixture, NULL, fixture_setup, test_unplug_keeps_card, fixture_teardown);
  g_test_add ("/slots/bed/bad-fixture", Fixture, NULL, fixture_setup, test_bad_fixture, fixture_teardown);
  g_test_add ("/slots/bed/identify", Fixture, NULL, fixture_setup, test_identify, fixture_teardown);
  g_test_add ("/slots/small-screen/compact-fits", Fixture, NULL, fixture_setup, test_compact_fits, fixture_teardown);
  g_test_add ("/slots/small-screen/window-fits", Fixture, NULL, fixture_setup, test_window_fits, fixture_teardown);
  g_test_add ("/slots/identity/duplicate-uid", Fixture, NULL, fixture_setup, test_duplicate_uid, fixture_teardown);
  g_test_add ("/slots/identity/moved-board", Fixture, GINT_TO_POINTER (FALSE), fixture_setup, test_moved_board, fixture_teardown);
  g_test_add ("/slots/identity/moved-failed-board", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_moved_board, fixture_teardown);
  g_test_add ("/slots/identity/unknown-ports-skip", Fixture, GINT_TO_POINTER (FALSE), fixture_setup, test_unknown_ports, fixture_teardown);
  g_test_add ("/slots/identity/unknown-ports-allow", Fixture, GINT_TO_POINTER (TRUE), fixture_setup, test_unknown_ports, fixture_teardown);
  g_test_add ("/slots/full-hd/compact-48", Fixture, NULL, fixture_setup, test_compact_48, fixture_teardown);
  /* Only when screenshots are wanted (data/screenshots), so that a normal
   * run has no skipped test. */
  if (g_getenv ("DS_SLOTS_SCREENSHOTS") != NULL)
    g_test_add ("/slots/bed/fixture-screenshot", Fixture, NULL, fixture_setup, test_fixture_screenshot, fixture_teardown);
  return g_test_run ();
}

/* The statistics window against a real record store: boards provisioned
 * through the real station window in two lots, then the window's figures,
 * charts, filters and CSV export checked against ds-report and the store. */
#include "config.h"

#include <glib/gstdio.h>
#include <locale.h>
#include <string.h>

#include "ds-statistics-window.h"
#include "test-gui-util.h"

typedef struct {
  DsTestTree     tree;  /* the temporary tree and its simulator */
  DsApplication *app;
  DsWindow      *window;
  TestSim       *sim;
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
  g_clear_pointer (&f->sim, test_sim_stop);
  g_clear_object (&f->app);
  ds_test_tree_teardown (&f->tree, data);
}

/* ---- conditions --------------------------------------------------------- */

typedef struct {
  DsWindow *window;
  guint     n;
} CardCount;

static gboolean
all_finished (gpointer data)
{
  CardCount *c = data;
  g_autoptr(GList) cards = ds_window_get_cards (c->window);
  DsStation *station = ds_window_get_station (c->window);
  guint n = 0;

  /* The boards plugged in: a failed board of an earlier batch keeps its
   * card after it was unplugged. */
  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_connected (l->data))
      n++;
  if (n != c->n || station == NULL || ds_station_get_n_active (station) > 0)
    return FALSE;
  for (GList *l = cards; l != NULL; l = l->next)
    {
      DsCardStatus status = ds_board_card_get_status (l->data);

      if (!ds_board_card_get_connected (l->data))
        continue;

      if (status == DS_CARD_STATUS_IDLE || status == DS_CARD_STATUS_QUEUED ||
          status == DS_CARD_STATUS_RUNNING || !ds_board_card_is_rendered (l->data))
        return FALSE;
    }
  return TRUE;
}

/* Every board unplugged (failed ones keep their cards). */
static gboolean
no_cards (gpointer data)
{
  g_autoptr(GList) cards = ds_window_get_cards (data);

  for (GList *l = cards; l != NULL; l = l->next)
    if (ds_board_card_get_connected (l->data))
      return FALSE;
  return TRUE;
}

static gboolean
stats_settled (gpointer data)
{
  DsStatisticsWindow *stats = data;

  return !ds_statistics_window_is_busy (stats) && ds_statistics_window_get_report (stats) != NULL;
}

/* Provisions @n fresh simulated boards (@faults injected) under the
 * operator and lot signed in, and unplugs them. */
static void
run_batch (Fixture            *f,
           const char         *name,
           guint               n,
           const char * const *faults)
{
  g_autofree char *state_dir = g_build_filename (f->tree.tmp, name, NULL);
  CardCount c = { f->window, n };

  f->sim = test_sim_start (state_dir, f->tree.announce_dir, n, 0, faults);
  g_assert_true (test_wait_until (all_finished, &c, 60));
  g_clear_pointer (&f->sim, test_sim_stop);
  g_assert_true (test_wait_until (no_cards, f->window, 30));
}

/* ---- checks ------------------------------------------------------------- */

static char *
db_path (Fixture *f)
{
  return g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
}

/* The window shows what ds-report computes from the store for the same
 * filter, figure by figure and bar by bar; returns that report. */
static DsReport *
assert_shows_store (Fixture            *f,
                    DsStatisticsWindow *stats)
{
  g_autofree char *db = db_path (f);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsReport) r = NULL;
  DsReportFilter filter;
  g_autofree char *boards = NULL, *passed = NULL, *failed = NULL, *fpy = NULL, *rate = NULL;
  DsBarChart *chart;
  gint64 trend_passed = 0;

  g_assert_true (test_wait_until (stats_settled, stats, 30));
  ds_statistics_window_get_filter (stats, &filter);
  r = ds_report_compute (db, &filter, &error);
  g_assert_no_error (error);

  boards = g_strdup_printf ("%" G_GINT64_FORMAT, r->boards);
  passed = g_strdup_printf ("%" G_GINT64_FORMAT, r->boards_passed);
  failed = g_strdup_printf ("%" G_GINT64_FORMAT, r->boards_failed);
  fpy = r->boards > 0 ? g_strdup_printf ("%.1f %%", r->first_pass_yield * 100.0) : g_strdup ("–");
  rate = g_strdup_printf ("%.0f", r->units_per_hour);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_BOARDS), ==, boards);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_PASSED), ==, passed);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_FAILED), ==, failed);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_FIRST_PASS_YIELD), ==, fpy);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_UNITS_PER_HOUR), ==, rate);
  if (r->boards_passed > 0)
    {
      g_autofree char *median = g_strdup_printf ("%.1f s", r->cycle_median_s);
      g_autofree char *p95 = g_strdup_printf ("%.1f s", r->cycle_p95_s);
      g_autofree char *final = g_strdup_printf ("%.1f %%", r->final_yield * 100.0);

      g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_FINAL_YIELD), ==, final);
      g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_CYCLE_MEDIAN), ==, median);
      g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_CYCLE_P95), ==, p95);
    }

  chart = ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_STEP);
  g_assert_cmpuint (ds_bar_chart_get_n_bars (chart), ==, r->failures_by_step->len);
  for (guint i = 0; i < r->failures_by_step->len; i++)
    g_assert_cmpfloat (ds_bar_chart_get_value (chart, i), ==,
                       ((DsReportCount *) g_ptr_array_index (r->failures_by_step, i))->count);
  chart = ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_CAUSE);
  g_assert_cmpuint (ds_bar_chart_get_n_bars (chart), ==, r->failures_by_cause->len);
  for (guint i = 0; i < r->failures_by_cause->len; i++)
    g_assert_cmpfloat (ds_bar_chart_get_value (chart, i), ==,
                       ((DsReportCount *) g_ptr_array_index (r->failures_by_cause, i))->count);

  /* The trend's buckets hold every board that passed. */
  chart = ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_TREND);
  g_assert_cmpuint (ds_bar_chart_get_n_bars (chart), ==, r->trend->len);
  for (guint i = 0; i < r->trend->len; i++)
    {
      const DsReportBucket *b = &g_array_index (r->trend, DsReportBucket, i);

      g_assert_cmpfloat_with_epsilon (ds_bar_chart_get_value (chart, i), b->units_per_hour, 1e-9);
      trend_passed += b->passed;
    }
  g_assert_cmpint (trend_passed, ==, r->boards_passed);
  return g_steal_pointer (&r);
}

/* The combo boxes of the filter bar, in order: lot, operator, day. */
static void
find_combos (GtkWidget  *root,
             GPtrArray  *out)
{
  g_autoptr(GList) children = NULL;

  if (GTK_IS_COMBO_BOX_TEXT (root))
    {
      g_ptr_array_add (out, root);
      return;
    }
  if (!GTK_IS_CONTAINER (root))
    return;
  children = gtk_container_get_children (GTK_CONTAINER (root));
  for (GList *l = children; l != NULL; l = l->next)
    find_combos (l->data, out);
}

static gboolean
exported (gpointer data)
{
  return *(GAsyncResult **) data != NULL;
}

static void
export_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Exports through the window and returns the file's lines. */
static char **
export_lines (Fixture            *f,
              DsStatisticsWindow *stats,
              guint64            *n_rows)
{
  g_autofree char *path = g_build_filename (f->tree.tmp, "export.csv", NULL);
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;

  ds_statistics_window_export_async (stats, file, NULL, export_done_cb, &result);
  g_assert_true (test_wait_until (exported, &result, 30));
  g_assert_true (ds_statistics_window_export_finish (stats, result, n_rows, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (contents, "\r\n"));
  contents[strlen (contents) - 2] = '\0';
  return g_strsplit (contents, "\r\n", -1);
}

static guint
column_of (const char *header,
           const char *name)
{
  g_auto(GStrv) columns = g_strsplit (header, ",", -1);

  for (guint i = 0; columns[i] != NULL; i++)
    if (g_str_equal (columns[i], name))
      return i;
  g_assert_not_reached ();
  return 0;
}

/* ---- the test ----------------------------------------------------------- */

static void
test_statistics (Fixture       *f,
                 gconstpointer  data)
{
  const char *faults[] = { "2:refuse-install", NULL };
  g_autoptr(GPtrArray) combos = g_ptr_array_new ();
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d");
  g_autoptr(DsReport) all = NULL;
  g_autoptr(DsReport) lot_a = NULL;
  g_autoptr(DsReport) op_2 = NULL;
  g_autoptr(DsReport) day = NULL;
  g_auto(GStrv) lots = NULL;
  g_auto(GStrv) lines = NULL;
  DsStatisticsWindow *stats;
  guint64 rows = 0;
  guint lot_col;

  /* Lot A: four boards, one refuses its DAC.  Lot B: two more that pass. */
  f->app = test_app_new (f->tree.data_dir, f->tree.announce_dir, "op-1", "LOT-A", TRUE);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
  run_batch (f, "batch-a", 4, faults);
  ds_window_sign_in (f->window, "op-2", "LOT-B");
  run_batch (f, "batch-b", 2, NULL);

  /* Ctrl+Y's action opens the window; it reads the store by itself. */
  g_assert_null (ds_window_get_statistics (f->window));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "statistics", NULL);
  stats = ds_window_get_statistics (f->window);
  g_assert_nonnull (stats);
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (stats)));
  all = assert_shows_store (f, stats);
  g_assert_cmpint (all->boards, ==, 6);
  g_assert_cmpint (all->boards_passed, ==, 5);
  g_assert_cmpint (all->boards_failed, ==, 1);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_FIRST_PASS_YIELD), ==, "83.3 %");
  g_assert_cmpuint (ds_bar_chart_get_n_bars (ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_STEP)), ==, 1);
  g_assert_cmpstr (ds_bar_chart_get_label (ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_STEP), 0),
                   ==, "Install");
  g_assert_cmpstr (ds_bar_chart_get_label (ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_CAUSE), 0),
                   ==, "Refused by the board or the CA");
  /* A screen reader hears the chart's heading and its figures. */
  {
    AtkObject *a11y = gtk_widget_get_accessible (GTK_WIDGET (ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_STEP)));

    g_assert_cmpstr (atk_object_get_name (a11y), ==, "Failures by Step");
    g_assert_cmpstr (atk_object_get_description (a11y), ==, "Install: 1");
    g_assert_cmpint (atk_object_get_role (a11y), ==, ATK_ROLE_CHART);
  }

  /* The filters offer what the records hold. */
  lots = ds_statistics_window_dup_choices (stats, "lot");
  g_assert_cmpuint (g_strv_length (lots), ==, 3);
  g_assert_cmpstr (lots[0], ==, "");
  g_assert_true (g_strv_contains ((const char * const *) lots, "LOT-A"));
  g_assert_true (g_strv_contains ((const char * const *) lots, "LOT-B"));

  /* Lot A through its combo box, as the supervisor picks it. */
  find_combos (GTK_WIDGET (stats), combos);
  g_assert_cmpuint (combos->len, ==, 3);
  g_assert_true (gtk_combo_box_set_active_id (g_ptr_array_index (combos, 0), "LOT-A"));
  lot_a = assert_shows_store (f, stats);
  g_assert_cmpint (lot_a->boards, ==, 4);
  g_assert_cmpint (lot_a->boards_passed, ==, 3);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_FIRST_PASS_YIELD), ==, "75.0 %");

  /* The export holds Lot A's jobs only: a header and one line per job. */
  lines = export_lines (f, stats, &rows);
  g_assert_cmpuint (rows, ==, 4);
  g_assert_cmpuint (g_strv_length (lines), ==, 1 + 4);
  g_assert_true (g_str_has_prefix (lines[0], "id,board_uid,"));
  lot_col = column_of (lines[0], "lot");
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], ",", -1);

      g_assert_cmpstr (fields[lot_col], ==, "LOT-A");
    }
  g_clear_pointer (&lines, g_strfreev);

  /* A file that cannot be written is an error, not a crash or a lie. */
  {
    g_autofree char *bad = g_build_filename (f->tree.tmp, "no-such-dir", "x.csv", NULL);
    g_autoptr(GFile) file = g_file_new_for_path (bad);
    g_autoptr(GAsyncResult) result = NULL;
    g_autoptr(GError) error = NULL;

    ds_statistics_window_export_async (stats, file, NULL, export_done_cb, &result);
    g_assert_true (test_wait_until (exported, &result, 30));
    g_assert_false (ds_statistics_window_export_finish (stats, result, NULL, &error));
    g_assert_nonnull (error);
    g_assert_false (g_file_test (bad, G_FILE_TEST_EXISTS));
  }

  /* Operator op-2, every lot: Lot B's two boards, no failure. */
  g_assert_true (gtk_combo_box_set_active_id (g_ptr_array_index (combos, 0), ""));
  g_assert_true (gtk_combo_box_set_active_id (g_ptr_array_index (combos, 1), "op-2"));
  op_2 = assert_shows_store (f, stats);
  g_assert_cmpint (op_2->boards, ==, 2);
  g_assert_cmpuint (ds_bar_chart_get_n_bars (ds_statistics_window_get_chart (stats, DS_STATISTICS_CHART_BY_STEP)), ==, 0);
  lines = export_lines (f, stats, &rows);
  g_assert_cmpuint (rows, ==, 2);
  g_clear_pointer (&lines, g_strfreev);

  /* Today, everybody: everything again; a day without jobs: nothing. */
  ds_statistics_window_set_filter (stats, NULL, NULL, today);
  day = assert_shows_store (f, stats);
  g_assert_cmpint (day->boards, ==, 6);
  g_assert_cmpstr (gtk_combo_box_get_active_id (g_ptr_array_index (combos, 2)), ==, today);
  g_assert_cmpstr (gtk_combo_box_get_active_id (g_ptr_array_index (combos, 1)), ==, "");
  ds_statistics_window_set_filter (stats, NULL, NULL, "2001-01-01");
  g_clear_pointer (&day, ds_report_free);
  day = assert_shows_store (f, stats);
  g_assert_cmpint (day->boards, ==, 0);
  lines = export_lines (f, stats, &rows);
  g_assert_cmpuint (rows, ==, 0);
  g_assert_cmpuint (g_strv_length (lines), ==, 1);
  g_assert_true (g_str_has_prefix (lines[0], "id,board_uid,"));

  /* The window follows the station: one more board, and it is counted. */
  ds_statistics_window_set_filter (stats, NULL, NULL, NULL);
  g_clear_pointer (&all, ds_report_free);
  all = assert_shows_store (f, stats);
  run_batch (f, "batch-c", 1, NULL);
  g_clear_pointer (&all, ds_report_free);
  all = assert_shows_store (f, stats);
  g_assert_cmpint (all->boards, ==, 7);
  g_assert_cmpstr (ds_statistics_window_get_figure_text (stats, DS_STATISTICS_FIGURE_BOARDS), ==, "7");

  /* Closing the station closes its statistics too. */
  g_object_add_weak_pointer (G_OBJECT (stats), (gpointer *) &stats);
  test_app_close (f->app);
  g_assert_null (stats);
}

static gboolean
no_windows (gpointer data)
{
  return gtk_application_get_windows (data) == NULL;
}

/* Quit with the statistics open, the station first in the list of windows:
 * both go, and the application with them. */
static void
test_quit (Fixture       *f,
           gconstpointer  data)
{
  DsStatisticsWindow *stats;

  f->app = test_app_new (f->tree.data_dir, f->tree.announce_dir, "op-1", "LOT-A", FALSE);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "statistics", NULL);
  stats = ds_window_get_statistics (f->window);
  g_assert_nonnull (stats);
  g_assert_true (test_wait_until (stats_settled, stats, 30));
  /* No jobs yet: nothing to count. */
  g_assert_cmpint (ds_statistics_window_get_report (stats)->boards, ==, 0);
  g_object_add_weak_pointer (G_OBJECT (stats), (gpointer *) &stats);
  gtk_application_remove_window (GTK_APPLICATION (f->app), GTK_WINDOW (f->window));
  gtk_application_add_window (GTK_APPLICATION (f->app), GTK_WINDOW (f->window));
  g_assert_true (gtk_application_get_windows (GTK_APPLICATION (f->app))->data == (gpointer) f->window);
  g_action_group_activate_action (G_ACTION_GROUP (f->app), "quit", NULL);
  g_assert_true (test_wait_until (no_windows, f->app, 30));
  g_assert_null (stats);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);

  g_test_add ("/gui/statistics", Fixture, NULL, fixture_setup, test_statistics, fixture_teardown);
  g_test_add ("/gui/statistics-quit", Fixture, NULL, fixture_setup, test_quit, fixture_teardown);
  return g_test_run ();
}

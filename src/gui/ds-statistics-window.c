/* The statistics window.  The record store is read in a worker thread
 * (ds_report_compute on its own read-only connection) and the CSV export
 * is written in another; the main loop only renders. */
#include "config.h"

#include "ds-statistics-window.h"

#include <glib/gi18n.h>

#include "ds-error.h"
#include "ds-export.h"
#include "ds-job.h"
#include "ds-window-fit.h"

struct _DsStatisticsWindow
{
  GtkApplicationWindow parent_instance;

  /* template */
  GtkHeaderBar   *header_bar;
  GtkWidget      *refresh_button;
  GtkSpinner     *spinner;
  GtkInfoBar     *message_bar;
  GtkLabel       *message_label;
  GtkComboBoxText *lot_combo;
  GtkComboBoxText *operator_combo;
  GtkComboBoxText *day_combo;
  GtkStack       *content_stack;
  GtkWidget      *tiles[DS_STATISTICS_N_FIGURES];
  GtkLabel       *values[DS_STATISTICS_N_FIGURES];
  GtkLabel       *chart_titles[DS_STATISTICS_N_CHARTS];
  DsBarChart     *charts[DS_STATISTICS_N_CHARTS];
  GtkLabel       *trend_subtitle;

  char           *db_path;
  char           *lot;           /* the filter; NULL: all */
  char           *operator_id;
  char           *day;           /* YYYY-MM-DD, local */
  DsReport       *report;
  GCancellable   *cancellable;
  GtkFileChooserNative *chooser;
  guint           filling;       /* the combo boxes are being refilled */
  gboolean        busy;
  gboolean        pending;
  gboolean        exporting;
};

G_DEFINE_FINAL_TYPE (DsStatisticsWindow, ds_statistics_window, GTK_TYPE_APPLICATION_WINDOW)

enum {
  UPDATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void update_actions (DsStatisticsWindow *self);

/* ---- filters ------------------------------------------------------------ */

/* The filter of a query, owned by the query. */
typedef struct {
  char *lot;
  char *operator_id;
  char *day;
} Filter;

static void
filter_clear (Filter *f)
{
  g_clear_pointer (&f->lot, g_free);
  g_clear_pointer (&f->operator_id, g_free);
  g_clear_pointer (&f->day, g_free);
}

/* The report filter of @f: a day runs from local midnight to the next. */
static void
filter_to_report (const Filter   *f,
                  DsReportFilter *out)
{
  gint64 since = 0;

  *out = (DsReportFilter) { 0 };
  out->lot = f->lot;
  out->operator_id = f->operator_id;
  if (f->day != NULL && ds_report_parse_time (f->day, &since))
    {
      g_autoptr(GDateTime) start = g_date_time_new_from_unix_local (since / G_USEC_PER_SEC);
      g_autoptr(GDateTime) end = g_date_time_add_days (start, 1);

      out->since_us = since;
      out->until_us = g_date_time_to_unix (end) * G_USEC_PER_SEC;
    }
}

static void
current_filter (DsStatisticsWindow *self,
                Filter             *f)
{
  f->lot = g_strdup (self->lot);
  f->operator_id = g_strdup (self->operator_id);
  f->day = g_strdup (self->day);
}

/* ---- rendering ---------------------------------------------------------- */

static void
set_figure (DsStatisticsWindow *self,
            DsStatisticsFigure  figure,
            const char         *text)
{
  g_autofree char *a11y = NULL;
  GtkWidget *caption;
  g_autoptr(GList) children = gtk_container_get_children (GTK_CONTAINER (self->tiles[figure]));

  gtk_label_set_text (self->values[figure], text);
  caption = g_list_nth_data (children, 1);
  /* TRANSLATORS: a figure for screen readers, its caption and its value,
   * e.g. "Final yield: 87.5 %" */
  a11y = g_strdup_printf (_("%s: %s"), gtk_label_get_text (GTK_LABEL (caption)), text);
  atk_object_set_name (gtk_widget_get_accessible (self->tiles[figure]), a11y);
}

static char *
format_count (gint64 n)
{
  return g_strdup_printf ("%" G_GINT64_FORMAT, n);
}

static char *
format_percent (double fraction,
                gboolean known)
{
  if (!known)
    return g_strdup ("–");
  /* TRANSLATORS: a percentage, e.g. "87.5 %" */
  return g_strdup_printf (_("%.1f %%"), fraction * 100.0);
}

static char *
format_seconds (double seconds,
                gboolean known)
{
  if (!known)
    return g_strdup ("–");
  if (seconds >= 600)
    /* TRANSLATORS: a duration in minutes, e.g. "12.5 min" */
    return g_strdup_printf (_("%.1f min"), seconds / 60.0);
  /* TRANSLATORS: a duration in seconds, e.g. "8.2 s" */
  return g_strdup_printf (_("%.1f s"), seconds);
}

/* The step's name as the cards show it. */
static const char *
step_label (const char *key)
{
  for (int step = 0; step < DS_N_STEPS; step++)
    if (g_strcmp0 (ds_step_to_string (step), key) == 0)
      return ds_step_get_label (step);
  return key;
}

/* The error code's meaning for people; other codes (the validator's rule
 * names) are shown as they are recorded. */
static const char *
cause_label (const char *code)
{
  static const struct {
    DsError     code;
    const char *label;
  } labels[] = {
    { DS_ERROR_FAILED, N_("Other error") },
    { DS_ERROR_NOT_FOUND, N_("Not found") },
    { DS_ERROR_INVALID_DATA, N_("Invalid data") },
    { DS_ERROR_TIMED_OUT, N_("Timed out") },
    { DS_ERROR_PROTOCOL, N_("Protocol error") },
    { DS_ERROR_REJECTED, N_("Refused by the board or the CA") },
    { DS_ERROR_IO, N_("Input/output error") },
    { DS_ERROR_CANCELLED, N_("Cancelled") },
    { DS_ERROR_DISCONNECTED, N_("Board disconnected") },
    { DS_ERROR_ALREADY_PROVISIONED, N_("Already provisioned") },
    { DS_ERROR_CONFIG, N_("Station configuration") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    if (g_strcmp0 (ds_error_code_to_string (labels[i].code), code) == 0)
      return _(labels[i].label);
  return code;
}

static void
fill_counts (DsBarChart *chart,
             GPtrArray  *counts,
             const char *(*label_for) (const char *key))
{
  ds_bar_chart_clear (chart);
  for (guint i = 0; i < counts->len; i++)
    {
      const DsReportCount *c = g_ptr_array_index (counts, i);

      ds_bar_chart_append (chart, label_for (c->key), (double) c->count, NULL);
    }
}

static char *
bucket_width_text (gint64 width_us)
{
  gint64 minutes = width_us / (60 * G_USEC_PER_SEC);

  if (minutes % (7 * 1440) == 0)
    return g_strdup_printf (ngettext ("Passes per hour, by %d week", "Passes per hour, by %d weeks",
                                         minutes / (7 * 1440)), (int) (minutes / (7 * 1440)));
  if (minutes % 1440 == 0)
    return g_strdup_printf (ngettext ("Passes per hour, by %d day", "Passes per hour, by %d days",
                                         minutes / 1440), (int) (minutes / 1440));
  if (minutes % 60 == 0)
    return g_strdup_printf (ngettext ("Passes per hour, by %d hour", "Passes per hour, by %d hours",
                                         minutes / 60), (int) (minutes / 60));
  return g_strdup_printf (ngettext ("Passes per hour, by %d minute", "Passes per hour, by %d minutes",
                                       minutes), (int) minutes);
}

static void
fill_trend (DsStatisticsWindow *self)
{
  DsBarChart *chart = self->charts[DS_STATISTICS_CHART_TREND];
  GArray *trend = self->report->trend;
  gboolean days = self->report->trend_bucket_us >= (gint64) 24 * 3600 * G_USEC_PER_SEC;
  g_autofree char *subtitle = NULL;

  ds_bar_chart_clear (chart);
  for (guint i = 0; i < trend->len; i++)
    {
      const DsReportBucket *b = &g_array_index (trend, DsReportBucket, i);
      g_autoptr(GDateTime) t = g_date_time_new_from_unix_local (b->start_us / G_USEC_PER_SEC);
      /* A bucket is named by its start: a time of day, or a date. */
      g_autofree char *label = g_date_time_format (t, days ? "%m-%d" : "%H:%M");
      g_autofree char *value = g_strdup_printf ("%.0f", b->units_per_hour);

      ds_bar_chart_append (chart, label, b->units_per_hour, value);
    }
  if (trend->len > 0)
    subtitle = bucket_width_text (self->report->trend_bucket_us);
  gtk_label_set_text (self->trend_subtitle, subtitle != NULL ? subtitle : "");
}

static void
render (DsStatisticsWindow *self)
{
  const DsReport *r = self->report;
  gboolean any = r != NULL && (r->boards > 0 || r->already_provisioned > 0);
  g_autofree char *boards = NULL, *passed = NULL, *failed = NULL, *fpy = NULL, *final = NULL;
  g_autofree char *rate = NULL, *median = NULL, *p95 = NULL;

  gtk_stack_set_visible_child_name (self->content_stack, any ? "figures" : "empty");
  if (r == NULL)
    return;
  boards = format_count (r->boards);
  passed = format_count (r->boards_passed);
  failed = format_count (r->boards_failed);
  fpy = format_percent (r->first_pass_yield, r->boards > 0);
  final = format_percent (r->final_yield, r->boards > 0);
  rate = g_strdup_printf ("%.0f", r->units_per_hour);
  median = format_seconds (r->cycle_median_s, r->boards_passed > 0);
  p95 = format_seconds (r->cycle_p95_s, r->boards_passed > 0);
  set_figure (self, DS_STATISTICS_FIGURE_BOARDS, boards);
  set_figure (self, DS_STATISTICS_FIGURE_PASSED, passed);
  set_figure (self, DS_STATISTICS_FIGURE_FAILED, failed);
  set_figure (self, DS_STATISTICS_FIGURE_FIRST_PASS_YIELD, fpy);
  set_figure (self, DS_STATISTICS_FIGURE_FINAL_YIELD, final);
  set_figure (self, DS_STATISTICS_FIGURE_UNITS_PER_HOUR, rate);
  set_figure (self, DS_STATISTICS_FIGURE_CYCLE_MEDIAN, median);
  set_figure (self, DS_STATISTICS_FIGURE_CYCLE_P95, p95);

  fill_counts (self->charts[DS_STATISTICS_CHART_BY_STEP], r->failures_by_step, step_label);
  fill_counts (self->charts[DS_STATISTICS_CHART_BY_CAUSE], r->failures_by_cause, cause_label);
  fill_trend (self);
}

static void
update_subtitle (DsStatisticsWindow *self)
{
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *subtitle = NULL;

  if (self->lot != NULL)
    /* TRANSLATORS: the statistics window's subtitle names the filters */
    g_ptr_array_add (parts, g_strdup_printf (_("Lot %s"), self->lot));
  if (self->operator_id != NULL)
    g_ptr_array_add (parts, g_strdup_printf (_("Operator %s"), self->operator_id));
  if (self->day != NULL)
    g_ptr_array_add (parts, g_strdup (self->day));
  g_ptr_array_add (parts, NULL);
  subtitle = parts->len > 1 ? g_strjoinv (" · ", (char **) parts->pdata) : g_strdup (_("All records"));
  gtk_header_bar_set_subtitle (self->header_bar, subtitle);
}

static char **
combo_ids (GtkComboBox *combo)
{
  GtkTreeModel *model = gtk_combo_box_get_model (combo);
  int id_column = gtk_combo_box_get_id_column (combo);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GtkTreeIter iter;

  if (gtk_tree_model_get_iter_first (model, &iter))
    do
      {
        g_autofree char *id = NULL;

        gtk_tree_model_get (model, &iter, id_column, &id, -1);
        g_strv_builder_add (builder, id);
      }
    while (gtk_tree_model_iter_next (model, &iter));
  return g_strv_builder_end (builder);
}

/* Offers the keys of @groups (a report's) in @combo, keeping the choice. */
static void
fill_combo (DsStatisticsWindow *self,
            GtkComboBoxText    *combo,
            const char         *all_label,
            GPtrArray          *groups,
            gboolean            newest_first,
            const char         *active)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) ids = NULL;
  g_auto(GStrv) shown = combo_ids (GTK_COMBO_BOX (combo));
  gboolean found = FALSE;

  g_strv_builder_add (builder, "");
  for (guint k = 0; k < groups->len; k++)
    {
      guint i = newest_first ? groups->len - 1 - k : k;
      const DsReportGroup *g = g_ptr_array_index (groups, i);

      /* "-": jobs recorded without one; they cannot be chosen alone. */
      if (g_str_equal (g->key, "-"))
        continue;
      g_strv_builder_add (builder, g->key);
      if (g_strcmp0 (g->key, active) == 0)
        found = TRUE;
    }
  /* A choice the records no longer hold stays offered. */
  if (active != NULL && !found)
    g_strv_builder_add (builder, active);
  ids = g_strv_builder_end (builder);
  /* The same choices: leave the combo box (and an open pop-up) alone. */
  if (g_strv_equal ((const char * const *) ids, (const char * const *) shown))
    return;

  self->filling++;
  gtk_combo_box_text_remove_all (combo);
  for (guint i = 0; ids[i] != NULL; i++)
    gtk_combo_box_text_append (combo, ids[i], i == 0 ? all_label : ids[i]);
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (combo), active != NULL ? active : "");
  self->filling--;
}

static void
fill_filters (DsStatisticsWindow *self,
              const DsReport     *all)
{
  fill_combo (self, self->lot_combo, _("All lots"), all->by_lot, FALSE, self->lot);
  fill_combo (self, self->operator_combo, _("All operators"), all->by_operator, FALSE, self->operator_id);
  fill_combo (self, self->day_combo, _("All days"), all->by_day, TRUE, self->day);
}

/* ---- reading the store -------------------------------------------------- */

typedef struct {
  char     *db_path;
  Filter    filter;
  DsReport *report;   /* of the filter */
  DsReport *all;      /* of every job: the choices of the filters */
} Query;

static void
query_free (Query *q)
{
  g_free (q->db_path);
  filter_clear (&q->filter);
  g_clear_pointer (&q->report, ds_report_free);
  g_clear_pointer (&q->all, ds_report_free);
  g_free (q);
}

static void
query_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Query *q = task_data;
  DsReportFilter filter;
  GError *error = NULL;

  filter_to_report (&q->filter, &filter);
  q->all = ds_report_compute (q->db_path, NULL, &error);
  if (q->all != NULL)
    q->report = ds_report_compute (q->db_path, &filter, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
show_message (DsStatisticsWindow *self,
              GtkMessageType      type,
              const char         *text)
{
  gtk_info_bar_set_message_type (self->message_bar, type);
  gtk_label_set_text (self->message_label, text);
  gtk_info_bar_set_revealed (self->message_bar, TRUE);
}

static void
message_bar_response_cb (DsStatisticsWindow *self)
{
  gtk_info_bar_set_revealed (self->message_bar, FALSE);
}

static gboolean
same_filter (DsStatisticsWindow *self,
             const Filter       *f)
{
  return g_strcmp0 (f->lot, self->lot) == 0 && g_strcmp0 (f->operator_id, self->operator_id) == 0 &&
         g_strcmp0 (f->day, self->day) == 0;
}

static void
query_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  DsStatisticsWindow *self = DS_STATISTICS_WINDOW (object);
  Query *q = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  self->busy = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_autofree char *text = g_strdup_printf (_("The records cannot be read: %s"), error->message);

      g_warning ("%s", text);
      show_message (self, GTK_MESSAGE_ERROR, text);
    }
  else if (same_filter (self, &q->filter))
    {
      g_clear_pointer (&self->report, ds_report_free);
      self->report = g_steal_pointer (&q->report);
      fill_filters (self, q->all);
      render (self);
    }
  /* A filter chosen or a job finished meanwhile: read again. */
  if (self->pending || !same_filter (self, &q->filter))
    {
      self->pending = FALSE;
      ds_statistics_window_refresh (self);
      return;
    }
  gtk_spinner_stop (self->spinner);
  update_actions (self);
  g_signal_emit (self, signals[UPDATED], 0);
}

void
ds_statistics_window_refresh (DsStatisticsWindow *self)
{
  g_autoptr(GTask) task = NULL;
  Query *q;

  g_return_if_fail (DS_IS_STATISTICS_WINDOW (self));

  if (self->busy)
    {
      self->pending = TRUE;
      return;
    }
  self->busy = TRUE;
  gtk_spinner_start (self->spinner);
  update_actions (self);
  q = g_new0 (Query, 1);
  q->db_path = g_strdup (self->db_path);
  current_filter (self, &q->filter);
  task = g_task_new (self, self->cancellable, query_done_cb, NULL);
  g_task_set_source_tag (task, ds_statistics_window_refresh);
  g_task_set_task_data (task, q, (GDestroyNotify) query_free);
  g_task_run_in_thread (task, query_thread);
}

static char *
dup_active_id (GtkComboBoxText *combo)
{
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (combo));

  return id != NULL && *id != '\0' ? g_strdup (id) : NULL;
}

static void
filter_changed_cb (DsStatisticsWindow *self)
{
  if (self->filling > 0)
    return;
  g_free (self->lot);
  self->lot = dup_active_id (self->lot_combo);
  g_free (self->operator_id);
  self->operator_id = dup_active_id (self->operator_combo);
  g_free (self->day);
  self->day = dup_active_id (self->day_combo);
  update_subtitle (self);
  ds_statistics_window_refresh (self);
}

static void
clear_filters_cb (DsStatisticsWindow *self)
{
  ds_statistics_window_set_filter (self, NULL, NULL, NULL);
}

/* ---- export ------------------------------------------------------------- */

typedef struct {
  char    *db_path;
  Filter   filter;
  GFile   *file;
  guint64  rows;
} Export;

static void
export_free (Export *e)
{
  g_free (e->db_path);
  filter_clear (&e->filter);
  g_clear_object (&e->file);
  g_free (e);
}

static void
export_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  Export *e = task_data;
  g_autoptr(GFileOutputStream) out = NULL;
  DsReportFilter filter;
  GError *error = NULL;

  filter_to_report (&e->filter, &filter);
  out = g_file_replace (e->file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION, cancellable, &error);
  if (out == NULL ||
      !ds_export_table_csv (e->db_path, "jobs", &filter, G_OUTPUT_STREAM (out), &e->rows, cancellable, &error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (out), cancellable, &error))
    {
      /* Closing a replacing stream with a cancelled cancellable drops what
       * was written and keeps the file that was there. */
      if (out != NULL)
        {
          g_autoptr(GCancellable) abandon = g_cancellable_new ();

          g_cancellable_cancel (abandon);
          g_output_stream_close (G_OUTPUT_STREAM (out), abandon, NULL);
        }
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

void
ds_statistics_window_export_async (DsStatisticsWindow  *self,
                                   GFile               *file,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Export *e;

  g_return_if_fail (DS_IS_STATISTICS_WINDOW (self));
  g_return_if_fail (G_IS_FILE (file));

  e = g_new0 (Export, 1);
  e->db_path = g_strdup (self->db_path);
  e->file = g_object_ref (file);
  current_filter (self, &e->filter);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ds_statistics_window_export_async);
  g_task_set_task_data (task, e, (GDestroyNotify) export_free);
  g_task_run_in_thread (task, export_thread);
}

gboolean
ds_statistics_window_export_finish (DsStatisticsWindow  *self,
                                    GAsyncResult        *result,
                                    guint64             *n_rows,
                                    GError             **error)
{
  Export *e;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  e = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (n_rows != NULL)
    *n_rows = e->rows;
  return TRUE;
}

static void
exported_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(DsStatisticsWindow) self = user_data;
  Export *e = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_parse_name (e->file);
  g_autofree char *text = NULL;
  g_autofree char *count = NULL;
  guint64 rows = 0;

  /* The window went while the file was written. */
  if (g_cancellable_is_cancelled (self->cancellable))
    return;
  self->exporting = FALSE;
  update_actions (self);
  if (!ds_statistics_window_export_finish (self, result, &rows, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      text = g_strdup_printf (_("The CSV file %s cannot be written: %s"), name, error->message);
      show_message (self, GTK_MESSAGE_ERROR, text);
      return;
    }
  count = g_strdup_printf ("%" G_GUINT64_FORMAT, rows);
  /* TRANSLATORS: the first %s is a number of jobs, the second a file */
  text = g_strdup_printf (ngettext ("%s job exported to %s", "%s jobs exported to %s", rows), count, name);
  show_message (self, GTK_MESSAGE_INFO, text);
}

static void
chooser_response_cb (GtkNativeDialog    *chooser,
                     int                 response,
                     DsStatisticsWindow *self)
{
  g_autoptr(GFile) file = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
  g_clear_object (&self->chooser);
  if (file == NULL)
    return;
  self->exporting = TRUE;
  update_actions (self);
  ds_statistics_window_export_async (self, file, self->cancellable, exported_cb, g_object_ref (self));
}

/* A file name that says what is in it: dac-station-jobs-LOT-DAY.csv. */
static char *
suggested_name (DsStatisticsWindow *self)
{
  g_autoptr(GString) name = g_string_new ("dac-station-jobs");
  const char *parts[] = { self->lot, self->operator_id, self->day };

  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i] != NULL)
      {
        g_string_append_c (name, '-');
        /* Lots come from scanners: keep the name safe on any file system. */
        for (const char *c = parts[i]; *c != '\0'; c++)
          g_string_append_c (name, g_ascii_isalnum (*c) || *c == '-' || *c == '_' || *c == '.' ? *c : '_');
      }
  g_string_append (name, ".csv");
  return g_string_free (g_steal_pointer (&name), FALSE);
}

static void
export_activated (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  DsStatisticsWindow *self = DS_STATISTICS_WINDOW (user_data);
  g_autoptr(GtkFileFilter) csv = gtk_file_filter_new ();
  g_autofree char *name = suggested_name (self);

  if (self->chooser != NULL || self->exporting)
    return;
  self->chooser = gtk_file_chooser_native_new (_("Export Jobs as CSV"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"), _("_Cancel"));
  gtk_file_chooser_set_do_overwrite_confirmation (GTK_FILE_CHOOSER (self->chooser), TRUE);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  gtk_file_filter_set_name (csv, _("CSV files"));
  gtk_file_filter_add_mime_type (csv, "text/csv");
  gtk_file_filter_add_pattern (csv, "*.csv");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), g_object_ref_sink (csv));
  g_signal_connect (self->chooser, "response", G_CALLBACK (chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- actions and the window --------------------------------------------- */

static void
refresh_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  ds_statistics_window_refresh (DS_STATISTICS_WINDOW (user_data));
}

static void
close_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
}

static const GActionEntry win_actions[] = {
  { "export", export_activated, NULL, NULL, NULL, { 0 } },
  { "refresh", refresh_activated, NULL, NULL, NULL, { 0 } },
  { "close", close_activated, NULL, NULL, NULL, { 0 } },
};

static void
update_actions (DsStatisticsWindow *self)
{
  GAction *export = g_action_map_lookup_action (G_ACTION_MAP (self), "export");
  GAction *refresh = g_action_map_lookup_action (G_ACTION_MAP (self), "refresh");

  if (export != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (export), !self->exporting && self->chooser == NULL);
  if (refresh != NULL)
    g_simple_action_set_enabled (G_SIMPLE_ACTION (refresh), !self->busy);
}

static void
ds_statistics_window_dispose (GObject *object)
{
  DsStatisticsWindow *self = DS_STATISTICS_WINDOW (object);

  g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->chooser, self);
      gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
      g_clear_object (&self->chooser);
    }
  G_OBJECT_CLASS (ds_statistics_window_parent_class)->dispose (object);
}

static void
ds_statistics_window_finalize (GObject *object)
{
  DsStatisticsWindow *self = DS_STATISTICS_WINDOW (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->report, ds_report_free);
  g_free (self->db_path);
  g_free (self->lot);
  g_free (self->operator_id);
  g_free (self->day);
  G_OBJECT_CLASS (ds_statistics_window_parent_class)->finalize (object);
}

static void
ds_statistics_window_class_init (DsStatisticsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_statistics_window_dispose;
  object_class->finalize = ds_statistics_window_finalize;

  /* Emitted on the main context once what the store says is shown. */
  signals[UPDATED] =
    g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  g_type_ensure (DS_TYPE_BAR_CHART);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-statistics-window.ui");
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, refresh_button);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, message_bar);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, message_label);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, lot_combo);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, operator_combo);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, day_combo);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, DsStatisticsWindow, trend_subtitle);
#define BIND_FIGURE(fig, name) \
  gtk_widget_class_bind_template_child_full (widget_class, name "_tile", FALSE, \
                                             G_STRUCT_OFFSET (DsStatisticsWindow, tiles[fig])); \
  gtk_widget_class_bind_template_child_full (widget_class, name "_value", FALSE, \
                                             G_STRUCT_OFFSET (DsStatisticsWindow, values[fig]))
  BIND_FIGURE (DS_STATISTICS_FIGURE_BOARDS, "boards");
  BIND_FIGURE (DS_STATISTICS_FIGURE_PASSED, "passed");
  BIND_FIGURE (DS_STATISTICS_FIGURE_FAILED, "failed");
  BIND_FIGURE (DS_STATISTICS_FIGURE_FIRST_PASS_YIELD, "first_pass");
  BIND_FIGURE (DS_STATISTICS_FIGURE_FINAL_YIELD, "final");
  BIND_FIGURE (DS_STATISTICS_FIGURE_UNITS_PER_HOUR, "rate");
  BIND_FIGURE (DS_STATISTICS_FIGURE_CYCLE_MEDIAN, "cycle_median");
  BIND_FIGURE (DS_STATISTICS_FIGURE_CYCLE_P95, "cycle_p95");
#undef BIND_FIGURE
#define BIND_CHART(chart, name) \
  gtk_widget_class_bind_template_child_full (widget_class, name "_chart", FALSE, \
                                             G_STRUCT_OFFSET (DsStatisticsWindow, charts[chart])); \
  gtk_widget_class_bind_template_child_full (widget_class, name "_title", FALSE, \
                                             G_STRUCT_OFFSET (DsStatisticsWindow, chart_titles[chart]))
  BIND_CHART (DS_STATISTICS_CHART_BY_STEP, "by_step");
  BIND_CHART (DS_STATISTICS_CHART_BY_CAUSE, "by_cause");
  BIND_CHART (DS_STATISTICS_CHART_TREND, "trend");
#undef BIND_CHART
  gtk_widget_class_bind_template_callback (widget_class, filter_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, clear_filters_cb);
  gtk_widget_class_bind_template_callback (widget_class, message_bar_response_cb);
}

static void
ds_statistics_window_init (DsStatisticsWindow *self)
{
  self->cancellable = g_cancellable_new ();
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_container_add (GTK_CONTAINER (gtk_info_bar_get_content_area (self->message_bar)),
                     GTK_WIDGET (self->message_label));
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);

  /* The charts are named by their headings, and the icon-only button by
   * what it does (GTK 3 templates cannot set these). */
  for (guint i = 0; i < DS_STATISTICS_N_CHARTS; i++)
    atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self->charts[i])),
                         gtk_label_get_text (self->chart_titles[i]));
  atk_object_set_name (gtk_widget_get_accessible (self->refresh_button), _("Refresh"));
  update_subtitle (self);
  update_actions (self);
}

DsStatisticsWindow *
ds_statistics_window_new (GtkWindow  *parent,
                          const char *db_path)
{
  DsStatisticsWindow *self;

  g_return_val_if_fail (db_path != NULL, NULL);

  self = g_object_new (DS_TYPE_STATISTICS_WINDOW,
                       "transient-for", parent,
                       "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                       NULL);
  self->db_path = g_strdup (db_path);
  /* The template's 1180x820, no larger than the screen it opens on. */
  ds_window_fit_default_size (GTK_WINDOW (self), 1180, 820);
  ds_statistics_window_refresh (self);
  return self;
}

gboolean
ds_statistics_window_is_busy (DsStatisticsWindow *self)
{
  g_return_val_if_fail (DS_IS_STATISTICS_WINDOW (self), FALSE);

  return self->busy || self->pending;
}

void
ds_statistics_window_set_filter (DsStatisticsWindow *self,
                                 const char         *lot,
                                 const char         *operator_id,
                                 const char         *day)
{
  GtkComboBoxText *combos[] = { self->lot_combo, self->operator_combo, self->day_combo };
  const char *ids[] = { lot, operator_id, day };

  g_return_if_fail (DS_IS_STATISTICS_WINDOW (self));

  /* The combo boxes show what is chosen; one read for the three changes. */
  self->filling++;
  for (guint i = 0; i < G_N_ELEMENTS (combos); i++)
    if (!gtk_combo_box_set_active_id (GTK_COMBO_BOX (combos[i]), ids[i] != NULL ? ids[i] : "") &&
        ids[i] != NULL)
      {
        gtk_combo_box_text_append (combos[i], ids[i], ids[i]);
        gtk_combo_box_set_active_id (GTK_COMBO_BOX (combos[i]), ids[i]);
      }
  self->filling--;
  g_free (self->lot);
  self->lot = g_strdup (lot);
  g_free (self->operator_id);
  self->operator_id = g_strdup (operator_id);
  g_free (self->day);
  self->day = g_strdup (day);
  update_subtitle (self);
  ds_statistics_window_refresh (self);
}

void
ds_statistics_window_get_filter (DsStatisticsWindow *self,
                                 DsReportFilter     *filter)
{
  Filter f = { self->lot, self->operator_id, self->day };

  g_return_if_fail (DS_IS_STATISTICS_WINDOW (self));

  filter_to_report (&f, filter);
}

const DsReport *
ds_statistics_window_get_report (DsStatisticsWindow *self)
{
  g_return_val_if_fail (DS_IS_STATISTICS_WINDOW (self), NULL);

  return self->report;
}

const char *
ds_statistics_window_get_figure_text (DsStatisticsWindow *self,
                                      DsStatisticsFigure  figure)
{
  g_return_val_if_fail (DS_IS_STATISTICS_WINDOW (self), NULL);
  g_return_val_if_fail (figure < DS_STATISTICS_N_FIGURES, NULL);

  return gtk_label_get_text (self->values[figure]);
}

DsBarChart *
ds_statistics_window_get_chart (DsStatisticsWindow *self,
                                DsStatisticsChart   chart)
{
  g_return_val_if_fail (DS_IS_STATISTICS_WINDOW (self), NULL);
  g_return_val_if_fail (chart < DS_STATISTICS_N_CHARTS, NULL);

  return self->charts[chart];
}

char **
ds_statistics_window_dup_choices (DsStatisticsWindow *self,
                                  const char         *which)
{
  g_return_val_if_fail (DS_IS_STATISTICS_WINDOW (self), NULL);

  if (g_str_equal (which, "lot"))
    return combo_ids (GTK_COMBO_BOX (self->lot_combo));
  if (g_str_equal (which, "operator"))
    return combo_ids (GTK_COMBO_BOX (self->operator_combo));
  return combo_ids (GTK_COMBO_BOX (self->day_combo));
}

/* The yield panel.  The record store is read in a worker thread on a
 * read-only connection of its own; the main loop only renders. */
#include "config.h"

#include "ds-yield-panel.h"
#include "ds-tooltip.h"

#include <glib/gi18n.h>

#define RATE_REFRESH_SECONDS 10

struct _DsYieldPanel
{
  GtkBox          parent_instance;

  GtkLabel       *passed_value;
  GtkLabel       *failed_value;
  GtkLabel       *attempts_value;
  GtkLabel       *first_pass_value;
  GtkLabel       *rate_value;
  GtkWidget      *passed_tile;
  GtkWidget      *failed_tile;
  GtkWidget      *attempts_tile;
  GtkWidget      *first_pass_tile;
  GtkWidget      *rate_tile;
  GtkLabel       *window_label;

  char           *db_path;
  char           *station;
  gint64          since_us;
  DsStats        *stats;        /* used by one query at a time */
  GCancellable   *cancellable;
  gboolean        busy;
  gboolean        pending;
  gboolean        have_summary;
  DsStatsSummary  summary;
  guint           rate_timer;
};

G_DEFINE_FINAL_TYPE (DsYieldPanel, ds_yield_panel, GTK_TYPE_BOX)

enum {
  UPDATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

typedef struct {
  char          *db_path;
  char          *station;
  gint64         since_us;
  DsStats       *stats;
  DsStatsSummary summary;
} Query;

static void
query_free (Query *q)
{
  g_free (q->db_path);
  g_free (q->station);
  g_clear_object (&q->stats);
  g_free (q);
}

static void
ds_yield_panel_dispose (GObject *object)
{
  DsYieldPanel *self = DS_YIELD_PANEL (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->rate_timer, g_source_remove);
  G_OBJECT_CLASS (ds_yield_panel_parent_class)->dispose (object);
}

static void
ds_yield_panel_finalize (GObject *object)
{
  DsYieldPanel *self = DS_YIELD_PANEL (object);

  g_clear_object (&self->cancellable);
  g_clear_object (&self->stats);
  g_free (self->db_path);
  g_free (self->station);
  G_OBJECT_CLASS (ds_yield_panel_parent_class)->finalize (object);
}

static void
ds_yield_panel_class_init (DsYieldPanelClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_yield_panel_dispose;
  object_class->finalize = ds_yield_panel_finalize;

  /* Emitted on the main context after each read of the store. */
  signals[UPDATED] =
    g_signal_new ("updated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-yield-panel.ui");
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, passed_value);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, failed_value);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, attempts_value);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, first_pass_value);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, rate_value);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, passed_tile);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, failed_tile);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, attempts_tile);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, first_pass_tile);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, rate_tile);
  gtk_widget_class_bind_template_child (widget_class, DsYieldPanel, window_label);
}

static void
set_tile (GtkWidget  *tile,
          GtkLabel   *value,
          const char *text,
          const char *accessible_name)
{
  gtk_label_set_text (value, text);
  atk_object_set_name (gtk_widget_get_accessible (tile), accessible_name);
}

static void
render (DsYieldPanel *self)
{
  g_autofree char *passed = NULL;
  g_autofree char *failed = NULL;
  g_autofree char *attempts = NULL;
  g_autofree char *fpy = NULL;
  g_autofree char *rate = NULL;
  g_autofree char *a11y = NULL;
  double y;

  if (!self->have_summary)
    return;
  /* Boards, not jobs: a board that failed twice and then passed is one
   * passed board; the attempts say how much work that took. */
  passed = g_strdup_printf ("%" G_GINT64_FORMAT, self->summary.boards_passed);
  failed = g_strdup_printf ("%" G_GINT64_FORMAT, self->summary.boards - self->summary.boards_passed);
  attempts = g_strdup_printf ("%" G_GINT64_FORMAT, self->summary.passed + self->summary.failed);
  y = ds_stats_summary_first_pass_yield (&self->summary);
  /* TRANSLATORS: a percentage, e.g. "87.5 %" */
  fpy = y < 0 ? g_strdup ("–") : g_strdup_printf (_("%.1f %%"), y * 100.0);
  rate = g_strdup_printf ("%.0f", ds_stats_summary_units_per_hour (&self->summary, self->since_us,
                                                                   g_get_real_time ()));

  a11y = g_strdup_printf (_("Boards passed: %s"), passed);
  set_tile (self->passed_tile, self->passed_value, passed, a11y);
  g_free (a11y);
  a11y = g_strdup_printf (_("Boards failed: %s"), failed);
  set_tile (self->failed_tile, self->failed_value, failed, a11y);
  g_free (a11y);
  a11y = g_strdup_printf (_("Attempts: %s"), attempts);
  set_tile (self->attempts_tile, self->attempts_value, attempts, a11y);
  g_free (a11y);
  a11y = g_strdup_printf (_("First-pass yield: %s"), fpy);
  set_tile (self->first_pass_tile, self->first_pass_value, fpy, a11y);
  g_free (a11y);
  a11y = g_strdup_printf (_("Units per hour: %s"), rate);
  set_tile (self->rate_tile, self->rate_value, rate, a11y);
}

static gboolean
rate_timer_cb (gpointer user_data)
{
  render (DS_YIELD_PANEL (user_data));
  return G_SOURCE_CONTINUE;
}

static void
ds_yield_panel_init (DsYieldPanel *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->cancellable = g_cancellable_new ();
  /* Units per hour fall while the line stands still: redraw them. */
  self->rate_timer = g_timeout_add_seconds (RATE_REFRESH_SECONDS, rate_timer_cb, self);
}

static void
query_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  Query *q = task_data;
  GError *error = NULL;
  DsStatsFilter filter = { 0 };

  if (q->stats == NULL)
    {
      q->stats = ds_stats_open (q->db_path, &error);
      if (q->stats == NULL)
        {
          g_task_return_error (task, error);
          return;
        }
    }
  filter.since_us = q->since_us;
  filter.station = q->station;
  if (!ds_stats_query_summary (q->stats, &filter, &q->summary, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
query_done_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  DsYieldPanel *self = DS_YIELD_PANEL (object);
  Query *q = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (g_task_get_cancellable (G_TASK (result))))
    return;
  self->busy = FALSE;
  if (q->stats != NULL && self->stats == NULL && g_strcmp0 (q->db_path, self->db_path) == 0)
    self->stats = g_object_ref (q->stats);
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_warning ("Cannot read the yield figures: %s", error->message);
      ds_tooltip_set_text (GTK_WIDGET (self), error->message);
    }
  else if (q->since_us == self->since_us && g_strcmp0 (q->db_path, self->db_path) == 0)
    {
      self->summary = q->summary;
      self->have_summary = TRUE;
      ds_tooltip_set_text (GTK_WIDGET (self), NULL);
      render (self);
    }
  if (self->pending)
    {
      self->pending = FALSE;
      ds_yield_panel_refresh (self);
      return;
    }
  g_signal_emit (self, signals[UPDATED], 0);
}

void
ds_yield_panel_refresh (DsYieldPanel *self)
{
  g_autoptr(GTask) task = NULL;
  Query *q;

  g_return_if_fail (DS_IS_YIELD_PANEL (self));

  if (self->db_path == NULL)
    return;
  if (self->busy)
    {
      self->pending = TRUE;
      return;
    }
  self->busy = TRUE;
  q = g_new0 (Query, 1);
  q->db_path = g_strdup (self->db_path);
  q->station = g_strdup (self->station);
  q->since_us = self->since_us;
  q->stats = self->stats != NULL ? g_object_ref (self->stats) : NULL;
  task = g_task_new (self, self->cancellable, query_done_cb, NULL);
  g_task_set_source_tag (task, ds_yield_panel_refresh);
  g_task_set_task_data (task, q, (GDestroyNotify) query_free);
  g_task_run_in_thread (task, query_thread);
}

void
ds_yield_panel_set_source (DsYieldPanel *self,
                           const char   *db_path,
                           const char   *station,
                           gint64        since_us)
{
  g_autoptr(GDateTime) since = g_date_time_new_from_unix_local (since_us / G_USEC_PER_SEC);
  g_autofree char *time = g_date_time_format (since, "%H:%M");
  g_autofree char *text = NULL;

  g_return_if_fail (DS_IS_YIELD_PANEL (self));

  if (g_strcmp0 (db_path, self->db_path) != 0)
    {
      g_clear_object (&self->stats);
      g_free (self->db_path);
      self->db_path = g_strdup (db_path);
    }
  g_free (self->station);
  self->station = g_strdup (station);
  self->since_us = since_us;
  self->have_summary = FALSE;
  /* TRANSLATORS: under the yield figures: they count from the operator's
   * sign-in at this time of day */
  text = g_strdup_printf (_("This shift, since %s"), time);
  gtk_label_set_text (self->window_label, text);
  ds_yield_panel_refresh (self);
}

gboolean
ds_yield_panel_get_summary (DsYieldPanel   *self,
                            DsStatsSummary *summary)
{
  if (!self->have_summary)
    return FALSE;
  *summary = self->summary;
  return TRUE;
}

const char *
ds_yield_panel_get_passed_text (DsYieldPanel *self)
{
  return gtk_label_get_text (self->passed_value);
}

const char *
ds_yield_panel_get_failed_text (DsYieldPanel *self)
{
  return gtk_label_get_text (self->failed_value);
}

const char *
ds_yield_panel_get_attempts_text (DsYieldPanel *self)
{
  return gtk_label_get_text (self->attempts_value);
}

const char *
ds_yield_panel_get_first_pass_text (DsYieldPanel *self)
{
  return gtk_label_get_text (self->first_pass_value);
}

const char *
ds_yield_panel_get_rate_text (DsYieldPanel *self)
{
  return gtk_label_get_text (self->rate_value);
}

gboolean
ds_yield_panel_is_busy (DsYieldPanel *self)
{
  return self->busy || self->pending;
}

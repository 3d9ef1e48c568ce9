/* Job scheduling for one station. */
#include "config.h"

#include "ds-station.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"

struct _DsStation
{
  GObject       parent_instance;

  DsJobOptions *options;
  guint         max_jobs;
  guint         n_running;
  GQueue        queued;        /* DsJob, owned by jobs */
  GPtrArray    *jobs;          /* every job not released, in order */
  GCancellable *cancellable;
  DsEstimator  *estimator;
};

static void ds_station_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsStation, ds_station, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, ds_station_list_model_init))

static GType
ds_station_get_item_type (GListModel *model)
{
  return DS_TYPE_JOB;
}

static guint
ds_station_get_n_items (GListModel *model)
{
  return DS_STATION (model)->jobs->len;
}

static gpointer
ds_station_get_item (GListModel *model,
                     guint       position)
{
  DsStation *self = DS_STATION (model);

  if (position >= self->jobs->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (self->jobs, position));
}

static void
ds_station_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = ds_station_get_item_type;
  iface->get_n_items = ds_station_get_n_items;
  iface->get_item = ds_station_get_item;
}

enum {
  JOB_ADDED,
  JOB_FINISHED,
  IDLE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ds_station_finalize (GObject *object)
{
  DsStation *self = DS_STATION (object);

  g_queue_clear (&self->queued);
  g_ptr_array_unref (self->jobs);
  g_clear_pointer (&self->options, ds_job_options_free);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->estimator, ds_estimator_unref);
  G_OBJECT_CLASS (ds_station_parent_class)->finalize (object);
}

static void
ds_station_class_init (DsStationClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_station_finalize;

  signals[JOB_ADDED] =
    g_signal_new ("job-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, DS_TYPE_JOB);
  signals[JOB_FINISHED] =
    g_signal_new ("job-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, DS_TYPE_JOB);
  /* Emitted when the last queued or running job has finished. */
  signals[IDLE] =
    g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ds_station_init (DsStation *self)
{
  g_queue_init (&self->queued);
  self->jobs = g_ptr_array_new_with_free_func (g_object_unref);
  self->cancellable = g_cancellable_new ();
}

DsStation *
ds_station_new (const DsJobOptions *options,
                guint               max_jobs)
{
  DsStation *self = g_object_new (DS_TYPE_STATION, NULL);

  self->options = ds_job_options_copy (options);
  self->max_jobs = MAX (max_jobs, 1);
  self->estimator = ds_job_estimator_new (options);
  /* A change of configuration goes into the audit trail. */
  if (options->store != NULL)
    {
      g_autofree char *config = ds_job_options_describe (options, self->max_jobs);
      g_autoptr(GError) error = NULL;
      gboolean changed = FALSE;

      if (!ds_store_log_config (options->store, options->station_name, config, &changed, &error))
        g_warning ("Cannot record the station's configuration: %s", error->message);
      else if (changed)
        g_debug ("configuration recorded:\n%s", config);
    }
  return self;
}

const DsJobOptions *
ds_station_get_options (DsStation *self)
{
  return self->options;
}

static void start_queued (DsStation *self);

static void
job_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(DsStation) self = user_data;
  DsJob *job = DS_JOB (object);
  g_autoptr(GError) error = NULL;

  /* The outcome is on the job itself; the error needs no handling here. */
  ds_job_run_finish (job, result, &error);
  self->n_running--;
  /* What the steps of a board that went all the way took is what the
   * next boards are expected to take. */
  if (ds_job_get_state (job) == DS_JOB_STATE_PASSED)
    for (DsStep step = 0; step < DS_N_STEPS; step++)
      if (ds_job_get_step_duration (job, step) >= 0)
        ds_estimator_add_sample (self->estimator, step, ds_job_get_step_duration (job, step));
  g_signal_emit (self, signals[JOB_FINISHED], 0, job);
  start_queued (self);
  if (self->n_running == 0 && g_queue_is_empty (&self->queued))
    g_signal_emit (self, signals[IDLE], 0);
}

static void
start_queued (DsStation *self)
{
  while (self->n_running < self->max_jobs && !g_queue_is_empty (&self->queued))
    {
      DsJob *job = g_queue_pop_head (&self->queued);

      self->n_running++;
      ds_job_run_async (job, self->cancellable, job_done_cb, g_object_ref (self));
    }
}

DsJob *
ds_station_find_job (DsStation  *self,
                     const char *port)
{
  for (guint i = self->jobs->len; i > 0; i--)
    {
      DsJob *job = g_ptr_array_index (self->jobs, i - 1);

      if (g_strcmp0 (ds_board_get_port (ds_job_get_board (job)), port) == 0)
        return job;
    }
  return NULL;
}

DsJob *
ds_station_provision (DsStation *self,
                      DsBoard   *board,
                      GError   **error)
{
  DsJob *previous = ds_station_find_job (self, ds_board_get_port (board));
  DsJob *job;

  if (previous != NULL &&
      (ds_job_get_state (previous) == DS_JOB_STATE_QUEUED ||
       ds_job_get_state (previous) == DS_JOB_STATE_RUNNING))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("Board %s is already being provisioned"), ds_board_get_name (board));
      return NULL;
    }

  /* Production DACs go on real boards only; a simulated one is refused
   * before its job starts, in every front end. */
  if (self->options->production && ds_board_get_kind (board) == DS_BOARD_KIND_SIMULATED)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("Production mode refuses the simulated board %s: production DACs go on real boards only"),
                   ds_board_get_name (board));
      return NULL;
    }

  job = ds_job_new (board, self->options);
  ds_job_set_estimator (job, self->estimator);
  g_ptr_array_add (self->jobs, job);
  g_list_model_items_changed (G_LIST_MODEL (self), self->jobs->len - 1, 0, 1);
  g_queue_push_tail (&self->queued, job);
  g_signal_emit (self, signals[JOB_ADDED], 0, job);
  start_queued (self);
  return job;
}

/* A queued job never started: it ends as cancelled without ever being run,
 * so that no record of a board that was never spoken to is written. */
static void
drop_queued (DsStation *self,
             DsJob     *job)
{
  g_autoptr(DsJob) ref = g_object_ref (job);

  g_queue_remove (&self->queued, job);
  ds_job_cancel_queued (job);
  g_signal_emit (self, signals[JOB_FINISHED], 0, job);
}

void
ds_station_cancel_job (DsStation *self,
                       DsJob     *job)
{
  g_return_if_fail (DS_IS_STATION (self));
  g_return_if_fail (DS_IS_JOB (job));

  if (g_queue_find (&self->queued, job) != NULL)
    {
      drop_queued (self, job);
      if (self->n_running == 0 && g_queue_is_empty (&self->queued))
        g_signal_emit (self, signals[IDLE], 0);
    }
  else
    ds_job_cancel (job);
}

void
ds_station_cancel_all (DsStation *self)
{
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  if (g_queue_is_empty (&self->queued))
    return;
  while (!g_queue_is_empty (&self->queued))
    drop_queued (self, g_queue_peek_head (&self->queued));
  if (self->n_running == 0)
    g_signal_emit (self, signals[IDLE], 0);
}

guint
ds_station_get_n_active (DsStation *self)
{
  return self->n_running + g_queue_get_length (&self->queued);
}

GPtrArray *
ds_station_get_jobs (DsStation *self)
{
  return self->jobs;
}

DsEstimator *
ds_station_get_estimator (DsStation *self)
{
  return self->estimator;
}

static gboolean
is_finished (DsJob *job)
{
  DsJobState state = ds_job_get_state (job);

  return state != DS_JOB_STATE_QUEUED && state != DS_JOB_STATE_RUNNING;
}

guint
ds_station_release_finished (DsStation *self)
{
  guint released = 0;

  g_return_val_if_fail (DS_IS_STATION (self), 0);

  /* Runs of finished jobs go at once, one items-changed each. */
  for (guint i = self->jobs->len; i > 0;)
    {
      guint end, start;

      while (i > 0 && !is_finished (g_ptr_array_index (self->jobs, i - 1)))
        i--;
      end = i;
      while (i > 0 && is_finished (g_ptr_array_index (self->jobs, i - 1)))
        i--;
      start = i;
      if (end > start)
        {
          g_ptr_array_remove_range (self->jobs, start, end - start);
          g_list_model_items_changed (G_LIST_MODEL (self), start, end - start, 0);
          released += end - start;
        }
    }
  return released;
}

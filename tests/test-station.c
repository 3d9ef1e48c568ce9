/* DsStation in process: its list model of jobs, the estimator it feeds,
 * cancelling and releasing finished jobs, with simulated boards served in
 * this process. */
#include "config.h"

#include "ds-frame.h"
#include "ds-station.h"
#include "ds-test-board.h"

typedef struct {
  DsTestBoards boards;
  DsStation   *station;
  guint        n_added;
  guint        n_removed;
  gboolean     idle;
} Fixture;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  Fixture    *f)
{
  f->n_added += added;
  f->n_removed += removed;
}

static void
idle_cb (DsStation *station,
         Fixture   *f)
{
  f->idle = TRUE;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  ds_test_boards_setup (&f->boards, 2, data);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->station);
  ds_test_boards_teardown (&f->boards);
}

static void
start (Fixture *f,
       guint    max_jobs)
{
  f->station = ds_station_new (&f->boards.options, max_jobs);
  g_signal_connect (f->station, "items-changed", G_CALLBACK (items_changed_cb), f);
  g_signal_connect (f->station, "idle", G_CALLBACK (idle_cb), f);
  for (guint i = 0; i < f->boards.boards->len; i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_nonnull (ds_station_provision (f->station, g_ptr_array_index (f->boards.boards, i), &error));
      g_assert_no_error (error);
    }
}

static void
wait_idle (Fixture *f)
{
  while (!f->idle)
    g_main_context_iteration (NULL, TRUE);
}

/* Two boards one after the other: both in the model, both measured, then
 * released while a caller still holds one. */
static void
test_model_and_release (Fixture       *f,
                        gconstpointer  data)
{
  GListModel *model;
  g_autoptr(DsJob) first = NULL;
  DsEstimator *estimator;

  start (f, 1);
  model = G_LIST_MODEL (f->station);
  g_assert_cmpuint (g_list_model_get_item_type (model), ==, DS_TYPE_JOB);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 2);
  g_assert_cmpuint (f->n_added, ==, 2);
  first = g_list_model_get_item (model, 0);
  g_assert_cmpstr (ds_board_get_port (ds_job_get_board (first)), ==, "fake:0");
  g_assert_null (g_list_model_get_item (model, 2));
  /* Nothing finished yet: nothing to release. */
  g_assert_cmpuint (ds_station_release_finished (f->station), ==, 0);

  wait_idle (f);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(DsJob) job = g_list_model_get_item (model, i);
      g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);
    }
  /* Both boards' steps are what the next board is expected to take. */
  estimator = ds_station_get_estimator (f->station);
  g_assert_cmpuint (ds_estimator_get_n_samples (estimator, DS_STEP_CONNECT), ==, 2);
  g_assert_cmpuint (ds_estimator_get_n_samples (estimator, DS_STEP_LOCK), ==, 2);

  g_assert_cmpuint (ds_station_release_finished (f->station), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_cmpuint (f->n_removed, ==, 2);
  g_assert_null (ds_station_find_job (f->station, "fake:0"));
  /* A released job is the caller's as long as it holds it. */
  g_assert_cmpint (ds_job_get_state (first), ==, DS_JOB_STATE_PASSED);
  g_assert_nonnull (ds_job_get_step_message (first, DS_STEP_CONNECT));
}

/* Boards that do not answer CSR, one slot: cancel all ends the running
 * one cancelled and the queued one unstarted; release keeps none. */
static void
test_cancel_all (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(DsJob) running = NULL;
  g_autoptr(DsJob) queued = NULL;

  f->boards.options.timeout_ms = 60000;
  f->boards.options.retries = 1;
  start (f, 1);
  running = g_list_model_get_item (G_LIST_MODEL (f->station), 0);
  queued = g_list_model_get_item (G_LIST_MODEL (f->station), 1);
  while (ds_job_get_step (running) != DS_STEP_CSR)
    g_main_context_iteration (NULL, TRUE);
  /* Only finished jobs go. */
  g_assert_cmpuint (ds_station_release_finished (f->station), ==, 0);
  g_assert_cmpint (ds_job_get_state (queued), ==, DS_JOB_STATE_QUEUED);

  ds_station_cancel_all (f->station);
  wait_idle (f);
  g_assert_cmpint (ds_job_get_state (running), ==, DS_JOB_STATE_CANCELLED);
  g_assert_cmpint (ds_job_get_state (queued), ==, DS_JOB_STATE_CANCELLED);
  g_assert_null (ds_job_get_step_outcome (queued, DS_STEP_FLASH));
  g_assert_cmpuint (ds_station_get_n_active (f->station), ==, 0);
  g_assert_cmpuint (ds_station_release_finished (f->station), ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->station)), ==, 0);
}

static const DsSimFault stall_csr = { DS_SIM_FAULT_STALL, 0, DS_CMD_GENERATE_CSR, 0 };

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/station/model-and-release", Fixture, NULL, setup, test_model_and_release, teardown);
  g_test_add ("/station/cancel-all", Fixture, &stall_csr, setup, test_cancel_all, teardown);
  return g_test_run ();
}

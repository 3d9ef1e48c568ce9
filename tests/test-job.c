/* DsJob in process: simulated boards served in this process reached
 * through the transport seam, the test CA and a SQLite store. */
#include "config.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "ds-error.h"
#include "ds-frame.h"
#include "ds-job.h"
#include "ds-test-board.h"

typedef struct {
  DsTestBoards  boards;
  DsJob        *job;
  GCancellable *cancellable;
  gboolean      done;
  GError       *error;
  GArray       *states;     /* DsJobState, as notified */
  GArray       *fractions;  /* double, as notified */
  GArray       *ends;       /* gint64, as notified */
  GArray       *ends_step;  /* DsStep at each notify of expected-end */
  guint         n_attempt_ends; /* expected-end notifies after a retry */
  DsStep        cancel_at;  /* DS_N_STEPS: never */
  int           open_at_end; /* the board's port, open in this process when the job ended */
} Fixture;

/* How many of this process's files are the board's port (the simulated
 * board's terminal, opened by the job). */
static int
port_opened (Fixture *f)
{
  const char *port = ds_sim_board_get_port (g_ptr_array_index (f->boards.sims, 0));
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  int n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      n += g_strcmp0 (target, port) == 0;
    }
  return n;
}

static void
state_cb (DsJob      *job,
          GParamSpec *pspec,
          Fixture    *f)
{
  DsJobState state = DS_JOB_STATE_QUEUED;

  g_object_get (job, "state", &state, NULL);
  g_array_append_val (f->states, state);
  if (state != DS_JOB_STATE_QUEUED && state != DS_JOB_STATE_RUNNING)
    f->open_at_end = port_opened (f);
}

static void
fraction_cb (DsJob      *job,
             GParamSpec *pspec,
             Fixture    *f)
{
  double fraction = ds_job_get_fraction (job);

  g_array_append_val (f->fractions, fraction);
}

static void
end_cb (DsJob      *job,
        GParamSpec *pspec,
        Fixture    *f)
{
  gint64 end = ds_job_get_expected_end (job);
  DsStep step = ds_job_get_step (job);

  g_array_append_val (f->ends, end);
  g_array_append_val (f->ends_step, step);
}

static void
step_started_cb (DsJob   *job,
                 DsStep   step,
                 Fixture *f)
{
  if (step == f->cancel_at)
    g_cancellable_cancel (f->cancellable);
}

static void
done_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Fixture *f = user_data;

  ds_job_run_finish (DS_JOB (object), result, &f->error);
  f->done = TRUE;
}

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  const DsSimFault *fault = data;

  ds_test_boards_setup (&f->boards, 1, fault != NULL && fault->kind != DS_SIM_FAULT_NONE ? fault : NULL);
  f->cancellable = g_cancellable_new ();
  f->states = g_array_new (FALSE, FALSE, sizeof (DsJobState));
  f->fractions = g_array_new (FALSE, FALSE, sizeof (double));
  f->ends = g_array_new (FALSE, FALSE, sizeof (gint64));
  f->ends_step = g_array_new (FALSE, FALSE, sizeof (DsStep));
  f->cancel_at = DS_N_STEPS;
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->job);
  g_clear_object (&f->cancellable);
  g_clear_error (&f->error);
  g_array_unref (f->states);
  g_array_unref (f->fractions);
  g_array_unref (f->ends);
  g_array_unref (f->ends_step);
  ds_test_boards_teardown (&f->boards);
}

/* Runs a job for board 0 with the fixture's options until it is done,
 * its worker joined and its result delivered. */
static void
run_job (Fixture *f)
{
  f->job = ds_job_new (g_ptr_array_index (f->boards.boards, 0), &f->boards.options);
  g_signal_connect (f->job, "notify::state", G_CALLBACK (state_cb), f);
  g_signal_connect (f->job, "notify::fraction", G_CALLBACK (fraction_cb), f);
  g_signal_connect (f->job, "notify::expected-end", G_CALLBACK (end_cb), f);
  g_signal_connect (f->job, "step-started", G_CALLBACK (step_started_cb), f);
  ds_job_run_async (f->job, f->cancellable, done_cb, f);
  while (!f->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
assert_fractions_monotonic (Fixture *f)
{
  for (guint i = 1; i < f->fractions->len; i++)
    g_assert_cmpfloat (g_array_index (f->fractions, double, i), >=, g_array_index (f->fractions, double, i - 1));
}

static void
test_success (Fixture       *f,
              gconstpointer  data)
{
  guint cancelled_id = g_signal_lookup ("cancelled", G_TYPE_CANCELLABLE);

  run_job (f);
  g_assert_no_error (f->error);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_PASSED);

  /* notify::state: running, then passed, nothing else. */
  g_assert_cmpuint (f->states->len, ==, 2);
  g_assert_cmpint (g_array_index (f->states, DsJobState, 0), ==, DS_JOB_STATE_RUNNING);
  g_assert_cmpint (g_array_index (f->states, DsJobState, 1), ==, DS_JOB_STATE_PASSED);

  /* Forwards only, to 1. */
  g_assert_cmpuint (f->fractions->len, >=, 2);
  assert_fractions_monotonic (f);
  g_assert_cmpfloat (ds_job_get_fraction (f->job), ==, 1.0);

  /* An end was expected while it ran, none once it ended. */
  g_assert_cmpuint (f->ends->len, >=, 2);
  g_assert_cmpint (g_array_index (f->ends, gint64, 0), >, 0);
  g_assert_cmpint (ds_job_get_expected_end (f->job), ==, 0);
  g_assert_cmpint (ds_job_get_time_left (f->job, g_get_monotonic_time ()), ==, -1);

  /* The step messages stay on the job, for a card that comes later. */
  g_assert_nonnull (ds_job_get_step_message (f->job, DS_STEP_CONNECT));
  g_assert_true (g_str_has_prefix (ds_job_get_step_message (f->job, DS_STEP_CONNECT), "Board "));
  g_assert_nonnull (strstr (ds_job_get_step_message (f->job, DS_STEP_FORWARD), "issued"));
  g_assert_nonnull (strstr (ds_job_get_step_message (f->job, DS_STEP_FLASH), "no firmware image"));
  for (DsStep step = 0; step < DS_N_STEPS; step++)
    g_assert_cmpint (ds_job_get_step_duration (f->job, step), >=, 0);

  /* Through the seam: connect opened the board's transport (flash was
   * skipped: no firmware). */
  g_assert_cmpint (g_atomic_int_get (&f->boards.n_transports), ==, 1);

  /* The caller's cancellable is let go of once the job is done. */
  g_assert_false (g_signal_has_handler_pending (f->cancellable, cancelled_id, 0, FALSE));
}

/* A step the board refuses: failed at that step, with its message, and
 * the bar stops where it was. */
static void
test_failing_step (Fixture       *f,
                   gconstpointer  data)
{
  run_job (f);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_FAILED);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_INSTALL);
  g_assert_cmpstr (ds_job_get_step_outcome (f->job, DS_STEP_INSTALL), ==, "fail");
  g_assert_null (ds_job_get_step_outcome (f->job, DS_STEP_ATTEST));
  g_assert_cmpstr (ds_job_get_step_message (f->job, DS_STEP_INSTALL), ==, ds_job_get_error (f->job)->message);
  g_assert_cmpuint (f->states->len, ==, 2);
  g_assert_cmpint (g_array_index (f->states, DsJobState, 1), ==, DS_JOB_STATE_FAILED);
  assert_fractions_monotonic (f);
  g_assert_cmpfloat (ds_job_get_fraction (f->job), <, 1.0);
  g_assert_cmpint (ds_job_get_expected_end (f->job), ==, 0);
}

/* A board that does not answer CSR: each retry pushes the expected end
 * later, then the step times out. */
static void
test_retries (Fixture       *f,
              gconstpointer  data)
{
  gint64 before_retry = 0;
  gboolean grew = FALSE;

  f->boards.options.timeout_ms = 300;
  f->boards.options.retries = 3;
  run_job (f);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_TIMED_OUT);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_STEP_CSR);
  for (guint i = 0; i < f->ends->len; i++)
    {
      gint64 end = g_array_index (f->ends, gint64, i);

      if (g_array_index (f->ends_step, DsStep, i) != DS_STEP_CSR || end == 0)
        continue;
      if (before_retry > 0 && end > before_retry)
        grew = TRUE;
      before_retry = end;
    }
  g_assert_true (grew);
}

/* Cancelled through the caller's cancellable while CSR waits on a board
 * that does not answer: DS_ERROR_CANCELLED, the state says so. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  f->boards.options.timeout_ms = 60000;
  f->boards.options.retries = 1;
  f->cancel_at = DS_STEP_CSR;
  run_job (f);
  g_assert_error (f->error, DS_ERROR, DS_ERROR_CANCELLED);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_CANCELLED);
  g_assert_cmpint (g_array_index (f->states, DsJobState, f->states->len - 1), ==, DS_JOB_STATE_CANCELLED);
  g_assert_cmpstr (ds_job_get_error_code (f->job), ==, "cancelled");
}

/* When a job says it has ended, it has let go of the board's port: the
 * window enables Identify, or starts another job, the moment it hears
 * (Identify once met the port still held by a cancelled job's thread). */
static void
test_port_closed_when_ended (Fixture       *f,
                             gconstpointer  data)
{
  f->boards.options.timeout_ms = 60000;
  f->cancel_at = DS_STEP_CSR;
  f->open_at_end = -1;
  run_job (f);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_CANCELLED);
  g_test_message ("port %s open %d times when the job ended, %d times after",
                  ds_sim_board_get_port (g_ptr_array_index (f->boards.sims, 0)), f->open_at_end, port_opened (f));
  g_assert_cmpint (f->open_at_end, ==, port_opened (f));
}

/* The job's record cannot be written: the station's fault, blamed on no
 * step, and the board is never spoken to. */
static void
test_record_fails (Fixture       *f,
                   gconstpointer  data)
{
  sqlite3 *db = NULL;
  char *errmsg = NULL;

  g_assert_cmpint (sqlite3_open (f->boards.db, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "CREATE TRIGGER no_jobs BEFORE INSERT ON jobs "
                                     "BEGIN SELECT RAISE(ABORT, 'no jobs today'); END;",
                                 NULL, NULL, &errmsg), ==, SQLITE_OK);
  sqlite3_close (db);

  run_job (f);
  g_assert_nonnull (f->error);
  g_test_message ("%s", f->error->message);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_FAILED);
  g_assert_cmpint (ds_job_get_failed_step (f->job), ==, DS_N_STEPS);
  g_assert_null (ds_job_get_step_outcome (f->job, DS_STEP_FLASH));
  g_assert_true (g_str_has_prefix (ds_job_get_message (f->job), "FAIL: Cannot record the job"));
  g_assert_cmpint (g_atomic_int_get (&f->boards.n_transports), ==, 0);
}

static DsFlasher *
counting_flasher (DsBoard  *board,
                  gpointer  user_data)
{
  gint *calls = user_data;

  g_atomic_int_inc (calls);
  return NULL;  /* the ROM bootloader over the transport */
}

/* A firmware image to flash: both seams are used for the flash step, and
 * a board that already runs the image's version is left as it is. */
static void
test_flash_seams (Fixture       *f,
                  gconstpointer  data)
{
  gint flasher_calls = 0;

  g_assert_nonnull (g_getenv ("DS_SIM_FW"));
  f->boards.options.firmware_path = (char *) g_getenv ("DS_SIM_FW");
  f->boards.options.firmware_address = DS_SIM_FLASH_BASE;
  f->boards.options.flasher_factory = counting_flasher;
  f->boards.options.flasher_factory_data = &flasher_calls;
  run_job (f);
  g_assert_no_error (f->error);
  g_assert_cmpint (ds_job_get_state (f->job), ==, DS_JOB_STATE_PASSED);
  g_assert_cmpint (flasher_calls, ==, 1);
  /* One transport to flash, one to provision. */
  g_assert_cmpint (g_atomic_int_get (&f->boards.n_transports), ==, 2);
  g_assert_cmpstr (ds_job_get_step_outcome (f->job, DS_STEP_FLASH), ==, "skipped");
  g_assert_nonnull (strstr (ds_job_get_step_message (f->job, DS_STEP_FLASH), "already runs firmware 1.0.0-sim"));
  assert_fractions_monotonic (f);
}

/* The nice values of this process's "ds-job" threads, as the kernel
 * reports them (/proc/self/task/TID/stat, field 19), into @nices. */
static void
collect_job_nices (GArray *nices)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *tid;

  g_assert_nonnull (dir);
  while ((tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", tid, "stat", NULL);
      g_autofree char *stat = NULL;
      g_auto(GStrv) fields = NULL;
      const char *close;
      int nice;

      if (!g_file_get_contents (path, &stat, NULL, NULL) || strstr (stat, "(ds-job)") == NULL)
        continue;
      close = strrchr (stat, ')');
      g_assert_nonnull (close);
      /* After "(comm)": state is field 3, so nice (19) is the 17th. */
      fields = g_strsplit (close + 2, " ", -1);
      g_assert_cmpuint (g_strv_length (fields), >, 16);
      nice = atoi (fields[16]);
      g_array_append_val (nices, nice);
    }
}

static void
nice_step_cb (DsJob   *job,
              DsStep   step,
              GArray  *nices)
{
  collect_job_nices (nices);
}

/* A background job's thread runs at nice 19, a job's by default at the
 * process's own priority; the caller's thread is left alone. */
static void
test_background (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GArray) nices = g_array_new (FALSE, FALSE, sizeof (int));

  for (int background = 0; background <= 1; background++)
    {
      f->boards.options.background = background;
      g_array_set_size (nices, 0);
      g_clear_object (&f->job);
      g_clear_error (&f->error);
      f->done = FALSE;
      f->job = ds_job_new (g_ptr_array_index (f->boards.boards, 0), &f->boards.options);
      g_signal_connect (f->job, "step-started", G_CALLBACK (nice_step_cb), nices);
      ds_job_run_async (f->job, f->cancellable, done_cb, f);
      while (!f->done)
        g_main_context_iteration (NULL, TRUE);
      g_assert_no_error (f->error);
      g_test_message ("background %d: %u samples of the job thread's nice value", background, nices->len);
      g_assert_cmpuint (nices->len, >, 0);
      for (guint i = 0; i < nices->len; i++)
        g_assert_cmpint (g_array_index (nices, int, i), ==, background ? 19 : 0);
    }
  g_assert_cmpint (getpriority (PRIO_PROCESS, 0), ==, 0);
}

static void
test_enums (void)
{
  g_autoptr(GEnumClass) steps = g_type_class_ref (DS_TYPE_STEP);
  g_autoptr(GEnumClass) states = g_type_class_ref (DS_TYPE_JOB_STATE);
  g_autoptr(GTypeClass) job_class = g_type_class_ref (DS_TYPE_JOB);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_CLASS (job_class), "state");

  g_assert_cmpstr (g_enum_get_value (steps, DS_STEP_INSTALL)->value_nick, ==, "install");
  g_assert_cmpstr (g_enum_get_value (states, DS_JOB_STATE_ALREADY_PROVISIONED)->value_nick, ==,
                   ds_job_state_to_string (DS_JOB_STATE_ALREADY_PROVISIONED));
  g_assert_nonnull (pspec);
  g_assert_cmpuint (G_PARAM_SPEC_VALUE_TYPE (pspec), ==, DS_TYPE_JOB_STATE);
}

static const DsSimFault no_fault = { DS_SIM_FAULT_NONE };
static const DsSimFault refuse_install = { DS_SIM_FAULT_REFUSE_INSTALL };
static const DsSimFault stall_csr = { DS_SIM_FAULT_STALL, 0, DS_CMD_GENERATE_CSR, 0 };

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_type_ensure (DS_TYPE_JOB);
  g_test_add_func ("/job/enums", test_enums);
  g_test_add ("/job/success", Fixture, &no_fault, setup, test_success, teardown);
  g_test_add ("/job/failing-step", Fixture, &refuse_install, setup, test_failing_step, teardown);
  g_test_add ("/job/retries", Fixture, &stall_csr, setup, test_retries, teardown);
  g_test_add ("/job/cancel", Fixture, &stall_csr, setup, test_cancel, teardown);
  g_test_add ("/job/port-closed-when-ended", Fixture, &stall_csr, setup, test_port_closed_when_ended, teardown);
  g_test_add ("/job/flash-seams", Fixture, &no_fault, setup, test_flash_seams, teardown);
  g_test_add ("/job/record-fails", Fixture, &no_fault, setup, test_record_fails, teardown);
  g_test_add ("/job/background", Fixture, &no_fault, setup, test_background, teardown);
  return g_test_run ();
}

/* The board simulator as a child process: the demo's, the benchmarks' and
 * the tests'. */
#include "config.h"

#include "ds-simulator.h"

#include <glib/gi18n.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-util.h"

struct _DsSimulator
{
  GObject           parent_instance;

  char             *announce_dir;
  char             *program;       /* NULL: ds_simulator_find_program () */
  char             *state_dir;     /* the caller's; kept after exit */
  GPtrArray        *extra_args;
  char             *tmp_dir;       /* the boards' state; removed after exit */
  GSubprocess      *process;
  GDataInputStream *stdout_lines;
  GCancellable     *cancellable;
  GTask            *start_task;    /* until "ready" */
};

G_DEFINE_FINAL_TYPE (DsSimulator, ds_simulator, G_TYPE_OBJECT)

enum {
  EXITED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
remove_tmp_dir (DsSimulator *self)
{
  if (self->tmp_dir != NULL)
    ds_util_remove_tree (self->tmp_dir);
  g_clear_pointer (&self->tmp_dir, g_free);
}

static void
ds_simulator_dispose (GObject *object)
{
  DsSimulator *self = DS_SIMULATOR (object);

  g_cancellable_cancel (self->cancellable);
  if (self->process != NULL)
    {
      /* Only at shutdown: the simulator removes its announcements on
       * SIGTERM and exits at once; wait so its state can be removed. */
      g_subprocess_send_signal (self->process, SIGTERM);
      g_subprocess_wait (self->process, NULL, NULL);
    }
  g_clear_object (&self->process);
  g_clear_object (&self->stdout_lines);
  remove_tmp_dir (self);
  G_OBJECT_CLASS (ds_simulator_parent_class)->dispose (object);
}

static void
ds_simulator_finalize (GObject *object)
{
  DsSimulator *self = DS_SIMULATOR (object);

  g_clear_object (&self->cancellable);
  g_free (self->announce_dir);
  g_free (self->program);
  g_free (self->state_dir);
  g_ptr_array_unref (self->extra_args);
  G_OBJECT_CLASS (ds_simulator_parent_class)->finalize (object);
}

static void
ds_simulator_class_init (DsSimulatorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ds_simulator_dispose;
  object_class->finalize = ds_simulator_finalize;

  signals[EXITED] =
    g_signal_new ("exited", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ds_simulator_init (DsSimulator *self)
{
  self->cancellable = g_cancellable_new ();
  self->extra_args = g_ptr_array_new_with_free_func (g_free);
}

DsSimulator *
ds_simulator_new (const char *announce_dir)
{
  DsSimulator *self = g_object_new (DS_TYPE_SIMULATOR, NULL);

  self->announce_dir = g_strdup (announce_dir);
  return self;
}

void
ds_simulator_set_program (DsSimulator *self,
                          const char  *program)
{
  g_return_if_fail (DS_IS_SIMULATOR (self));
  g_free (self->program);
  self->program = g_strdup (program);
}

void
ds_simulator_set_state_dir (DsSimulator *self,
                            const char  *state_dir)
{
  g_return_if_fail (DS_IS_SIMULATOR (self));
  g_free (self->state_dir);
  self->state_dir = g_strdup (state_dir);
}

void
ds_simulator_add_arguments (DsSimulator        *self,
                            const char * const *args)
{
  g_return_if_fail (DS_IS_SIMULATOR (self));
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (self->extra_args, g_strdup (args[i]));
}

char *
ds_simulator_find_program (void)
{
  const char *env = g_getenv ("DAC_STATION_SIM");
  g_autofree char *self_exe = NULL;
  g_autofree char *installed = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  self_exe = g_file_read_link ("/proc/self/exe", NULL);
  if (self_exe != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self_exe);
      g_autofree char *beside = g_build_filename (dir, "dac-station-sim", NULL);
      /* In the build tree the GUI lives one folder below the simulator. */
      g_autofree char *above = g_build_filename (dir, "..", "dac-station-sim", NULL);

      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
      if (g_file_test (above, G_FILE_TEST_IS_EXECUTABLE))
        return g_canonicalize_filename (above, NULL);
    }
  installed = g_build_filename (DS_BINDIR, "dac-station-sim", NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_EXECUTABLE))
    return g_steal_pointer (&installed);
  return g_find_program_in_path ("dac-station-sim");
}

/* Runs in the child between fork and exec: the simulator gets SIGTERM
 * when the thread that started it dies, and at once if its parent is
 * already gone. */
static void
die_with_parent (gpointer data)
{
  pid_t parent = (pid_t) GPOINTER_TO_INT (data);

  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    raise (SIGTERM);
}

GSubprocess *
ds_simulator_spawn (const char * const  *argv,
                    GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent,
                                         GINT_TO_POINTER ((int) getpid ()), NULL);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

gboolean
ds_simulator_wait_ready (GDataInputStream  *lines,
                         GCancellable      *cancellable,
                         GError           **error)
{
  for (;;)
    {
      g_autoptr(GError) local_error = NULL;
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, cancellable, &local_error);

      if (line == NULL)
        {
          if (local_error == NULL)
            local_error = g_error_new (DS_ERROR, DS_ERROR_IO,
                                       _("The board simulator exited before its boards were ready"));
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_strstrip (line);
      /* "ready", or "ready" and more words (a stand-in board's port). */
      if (g_str_has_prefix (line, "ready") && (line[5] == '\0' || line[5] == ' '))
        return TRUE;
      g_debug ("simulator: %s", line);
    }
}

static void
finish_start (DsSimulator *self,
              GError      *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->start_task);

  if (task == NULL)
    {
      g_clear_error (&error);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void read_next_line (DsSimulator *self);

static void
line_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object),
                                                                     result, NULL, &error);
  DsSimulator *self;

  /* Cancelled: the simulator object is being disposed, do not touch it. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = DS_SIMULATOR (user_data);
  if (line == NULL)
    {
      /* End of output: the simulator is going away.  The wait callback
       * reports the exit; here only a start still waiting is told. */
      if (error == NULL)
        error = g_error_new (DS_ERROR, DS_ERROR_IO, _("The board simulator exited before its boards were ready"));
      finish_start (self, g_steal_pointer (&error));
      return;
    }
  if (g_strcmp0 (g_strstrip (line), "ready") == 0)
    finish_start (self, NULL);
  else
    g_debug ("simulator: %s", line);
  read_next_line (self);
}

static void
read_next_line (DsSimulator *self)
{
  /* Keep reading to the end so that the simulator never writes into a
   * full or closed pipe.  No reference: dispose cancels the read. */
  g_data_input_stream_read_line_async (self->stdout_lines, G_PRIORITY_DEFAULT, self->cancellable,
                                       line_read_cb, self);
}

static void
wait_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GSubprocess *process = G_SUBPROCESS (object);
  g_autoptr(GError) error = NULL;
  DsSimulator *self;

  if (!g_subprocess_wait_finish (process, result, &error))
    return;   /* cancelled: the simulator object is being disposed */
  self = DS_SIMULATOR (user_data);
  if (process != self->process)
    return;
  if (self->start_task != NULL)
    finish_start (self, g_error_new (DS_ERROR, DS_ERROR_IO,
                                     _("The board simulator exited before its boards were ready")));
  g_clear_object (&self->process);
  g_clear_object (&self->stdout_lines);
  remove_tmp_dir (self);
  g_signal_emit (self, signals[EXITED], 0);
}

/* Starts the process; the caller waits for its "ready". */
static gboolean
launch (DsSimulator  *self,
        guint         n_boards,
        guint         baud,
        GError      **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *program = self->program != NULL ? g_strdup (self->program) : ds_simulator_find_program ();
  g_autofree char *state_dir = NULL;

  if (self->process != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED, _("Simulated boards are already running"));
      return FALSE;
    }
  if (program == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                   _("Cannot find dac-station-sim, the board simulator: is it installed?"));
      return FALSE;
    }
  if (self->state_dir != NULL)
    state_dir = g_strdup (self->state_dir);
  else
    {
      self->tmp_dir = g_dir_make_tmp ("dac-station-demo-XXXXXX", error);
      if (self->tmp_dir == NULL)
        return FALSE;
      state_dir = g_build_filename (self->tmp_dir, "boards", NULL);
    }

  g_ptr_array_add (argv, g_strdup (program));
  g_ptr_array_add (argv, g_strdup ("--boards"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", n_boards));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (state_dir));
  g_ptr_array_add (argv, g_strdup ("--baud"));
  g_ptr_array_add (argv, g_strdup_printf ("%u", baud));
  if (self->announce_dir != NULL)
    {
      g_ptr_array_add (argv, g_strdup ("--announce-dir"));
      g_ptr_array_add (argv, g_strdup (self->announce_dir));
    }
  for (guint i = 0; i < self->extra_args->len; i++)
    g_ptr_array_add (argv, g_strdup (g_ptr_array_index (self->extra_args, i)));
  g_ptr_array_add (argv, NULL);

  self->process = ds_simulator_spawn ((const char * const *) argv->pdata, error);
  if (self->process == NULL)
    {
      remove_tmp_dir (self);
      g_prefix_error (error, _("Cannot start the board simulator: "));
      return FALSE;
    }
  self->stdout_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  return TRUE;
}

void
ds_simulator_start_async (DsSimulator         *self,
                          guint                n_boards,
                          guint                baud,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  GError *error = NULL;

  g_task_set_source_tag (task, ds_simulator_start_async);
  if (!launch (self, n_boards, baud, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  self->start_task = g_steal_pointer (&task);
  g_subprocess_wait_async (self->process, self->cancellable, wait_cb, self);
  read_next_line (self);
}

gboolean
ds_simulator_start_sync (DsSimulator   *self,
                         guint          n_boards,
                         guint          baud,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_return_val_if_fail (DS_IS_SIMULATOR (self), FALSE);

  if (!launch (self, n_boards, baud, error))
    return FALSE;
  /* No reads after "ready": the pipe stays open (the simulator never
   * writes into a closed one) until the simulator is stopped. */
  if (!ds_simulator_wait_ready (self->stdout_lines, cancellable, error))
    {
      ds_simulator_stop_sync (self, SIGKILL);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_simulator_start_finish (DsSimulator   *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ds_simulator_stop (DsSimulator *self)
{
  if (self->process != NULL)
    g_subprocess_send_signal (self->process, SIGTERM);
}

void
ds_simulator_stop_sync (DsSimulator *self,
                        int          signal)
{
  g_autoptr(GSubprocess) process = NULL;

  g_return_if_fail (DS_IS_SIMULATOR (self));
  if (self->process == NULL)
    return;
  /* Cancelled first, so that an asynchronous wait or read that is still
   * pending never reports on this exit. */
  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  process = g_steal_pointer (&self->process);
  g_subprocess_send_signal (process, signal != 0 ? signal : SIGTERM);
  g_subprocess_wait (process, NULL, NULL);
  if (self->start_task != NULL)
    finish_start (self, g_error_new (DS_ERROR, DS_ERROR_IO,
                                     _("The board simulator exited before its boards were ready")));
  g_clear_object (&self->stdout_lines);
  remove_tmp_dir (self);
  g_signal_emit (self, signals[EXITED], 0);
}

gboolean
ds_simulator_is_running (DsSimulator *self)
{
  return self->process != NULL;
}

GPid
ds_simulator_get_pid (DsSimulator *self)
{
  const char *id;

  g_return_val_if_fail (DS_IS_SIMULATOR (self), 0);
  id = self->process != NULL ? g_subprocess_get_identifier (self->process) : NULL;
  return id != NULL ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

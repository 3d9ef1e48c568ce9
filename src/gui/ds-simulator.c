/* The demo's board simulator, as a child process. */
#include "config.h"

#include "ds-simulator.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <signal.h>

#include "ds-error.h"

struct _DsSimulator
{
  GObject           parent_instance;

  char             *announce_dir;
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
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *child = g_build_filename (path, name, NULL);

        if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
          remove_tree (child);
        else
          g_unlink (child);
      }
  g_rmdir (path);
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
  remove_tree (self->tmp_dir);
  g_clear_pointer (&self->tmp_dir, g_free);
  G_OBJECT_CLASS (ds_simulator_parent_class)->dispose (object);
}

static void
ds_simulator_finalize (GObject *object)
{
  DsSimulator *self = DS_SIMULATOR (object);

  g_clear_object (&self->cancellable);
  g_free (self->announce_dir);
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
}

DsSimulator *
ds_simulator_new (const char *announce_dir)
{
  DsSimulator *self = g_object_new (DS_TYPE_SIMULATOR, NULL);

  self->announce_dir = g_strdup (announce_dir);
  return self;
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
  remove_tree (self->tmp_dir);
  g_clear_pointer (&self->tmp_dir, g_free);
  g_signal_emit (self, signals[EXITED], 0);
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
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *program = ds_simulator_find_program ();
  g_autofree char *state_dir = NULL;
  GError *error = NULL;

  g_task_set_source_tag (task, ds_simulator_start_async);
  if (self->process != NULL)
    {
      g_task_return_new_error (task, DS_ERROR, DS_ERROR_REJECTED, _("Simulated boards are already running"));
      return;
    }
  if (program == NULL)
    {
      g_task_return_new_error (task, DS_ERROR, DS_ERROR_NOT_FOUND,
                               _("Cannot find dac-station-sim, the board simulator: is it installed?"));
      return;
    }
  self->tmp_dir = g_dir_make_tmp ("dac-station-demo-XXXXXX", &error);
  if (self->tmp_dir == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  state_dir = g_build_filename (self->tmp_dir, "boards", NULL);

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
  g_ptr_array_add (argv, NULL);

  self->process = g_subprocess_newv ((const char * const *) argv->pdata, G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error);
  if (self->process == NULL)
    {
      remove_tree (self->tmp_dir);
      g_clear_pointer (&self->tmp_dir, g_free);
      g_prefix_error (&error, _("Cannot start the board simulator: "));
      g_task_return_error (task, error);
      return;
    }
  self->stdout_lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  self->start_task = g_steal_pointer (&task);
  g_subprocess_wait_async (self->process, self->cancellable, wait_cb, self);
  read_next_line (self);
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

gboolean
ds_simulator_is_running (DsSimulator *self)
{
  return self->process != NULL;
}

/* OpenOCD as a subprocess: one `flash write_image erase` and one
 * `verify_image` per segment of the image, then `reset run`.  OpenOCD
 * prints no percentages; the phases are read from its "wrote" and
 * "verified" lines, and any "Error:" line is a failure. */
#include "config.h"

#include "ds-openocd-flasher.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ds-error.h"

struct _DsOpenocdFlasher
{
  GObject  parent_instance;

  char    *program;
  char    *probe_sn;
  char    *target_cfg;
};

static void ds_openocd_flasher_iface_init (DsFlasherInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsOpenocdFlasher, ds_openocd_flasher, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_FLASHER, ds_openocd_flasher_iface_init))

static void
ds_openocd_flasher_finalize (GObject *object)
{
  DsOpenocdFlasher *self = DS_OPENOCD_FLASHER (object);

  g_free (self->program);
  g_free (self->probe_sn);
  g_free (self->target_cfg);
  G_OBJECT_CLASS (ds_openocd_flasher_parent_class)->finalize (object);
}

static void
ds_openocd_flasher_class_init (DsOpenocdFlasherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_openocd_flasher_finalize;
}

static void
ds_openocd_flasher_init (DsOpenocdFlasher *self)
{
}

char *
ds_openocd_flasher_find_program (void)
{
  const char *env = g_getenv ("DS_OPENOCD");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_find_program_in_path ("openocd");
}

DsOpenocdFlasher *
ds_openocd_flasher_new (const char *program,
                        const char *probe_sn,
                        const char *target_cfg)
{
  DsOpenocdFlasher *self = g_object_new (DS_TYPE_OPENOCD_FLASHER, NULL);

  self->program = g_strdup (program);
  self->probe_sn = g_strdup (probe_sn);
  self->target_cfg = g_strdup (target_cfg != NULL ? target_cfg : DS_OPENOCD_DEFAULT_TARGET);
  return self;
}

/* A file name as one Tcl word: OpenOCD's commands are Tcl. */
static char *
tcl_word (const char *s)
{
  GString *w = g_string_new ("\"");

  for (const char *p = s; *p != '\0'; p++)
    {
      if (strchr ("\\\"$[]{}", *p) != NULL)
        g_string_append_c (w, '\\');
      g_string_append_c (w, *p);
    }
  g_string_append_c (w, '"');
  return g_string_free (w, FALSE);
}

GStrv
ds_openocd_build_argv (const char        *program,
                       const char        *probe_sn,
                       const char        *target_cfg,
                       const char *const *bins,
                       const guint32     *addresses,
                       guint              n)
{
  g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

  g_strv_builder_add_many (b, program, "-f", "interface/stlink.cfg", NULL);
  if (probe_sn != NULL)
    {
      g_autofree char *sn = tcl_word (probe_sn);
      g_autofree char *cmd = g_strdup_printf ("adapter serial %s", sn);

      g_strv_builder_add_many (b, "-c", cmd, NULL);
    }
  g_strv_builder_add_many (b, "-f", target_cfg != NULL ? target_cfg : DS_OPENOCD_DEFAULT_TARGET,
                           "-c", "init", "-c", "reset halt", NULL);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *file = tcl_word (bins[i]);
      g_autofree char *write = g_strdup_printf ("flash write_image erase %s 0x%08X bin", file, addresses[i]);

      g_strv_builder_add_many (b, "-c", write, NULL);
    }
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *file = tcl_word (bins[i]);
      g_autofree char *verify = g_strdup_printf ("verify_image %s 0x%08X bin", file, addresses[i]);

      g_strv_builder_add_many (b, "-c", verify, NULL);
    }
  g_strv_builder_add_many (b, "-c", "reset run", "-c", "shutdown", NULL);
  return g_strv_builder_end (b);
}

static const char *
ds_openocd_flasher_get_name (DsFlasher *flasher)
{
  return "openocd";
}

static void
remove_files (GPtrArray *paths)
{
  for (guint i = 0; i < paths->len; i++)
    g_unlink (g_ptr_array_index (paths, i));
}

static gboolean
ds_openocd_flasher_flash (DsFlasher        *flasher,
                          DsFirmwareImage  *image,
                          DsFlashProgress   progress,
                          gpointer          user_data,
                          GCancellable     *cancellable,
                          GError          **error)
{
  DsOpenocdFlasher *self = DS_OPENOCD_FLASHER (flasher);
  g_autoptr(GPtrArray) bins = g_ptr_array_new_with_free_func (g_free);
  g_autofree guint32 *addresses = g_new0 (guint32, image->segments->len + 1);
  g_auto(GStrv) argv = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autoptr(GString) errors = g_string_new (NULL);
  guint64 written = 0, verified = 0;
  gboolean ok;

  /* One raw file per segment, each at its own address. */
  for (guint i = 0; i < image->segments->len; i++)
    {
      DsImageSegment *s = g_ptr_array_index (image->segments, i);
      char *path = NULL;
      int fd = g_file_open_tmp ("ds-image-XXXXXX.bin", &path, error);
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (s->data, &len);

      if (fd < 0)
        {
          remove_files (bins);
          return FALSE;
        }
      close (fd);
      g_ptr_array_add (bins, path);
      addresses[i] = s->address;
      if (!g_file_set_contents (path, (const char *) data, len, error))
        {
          remove_files (bins);
          return FALSE;
        }
    }
  g_ptr_array_add (bins, NULL);
  argv = ds_openocd_build_argv (self->program, self->probe_sn, self->target_cfg,
                                (const char *const *) bins->pdata, addresses, image->segments->len);
  g_ptr_array_set_size (bins, bins->len - 1);
  proc = g_subprocess_newv ((const char *const *) argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                            error);
  if (proc == NULL)
    {
      remove_files (bins);
      g_prefix_error (error, _("Cannot run OpenOCD: "));
      return FALSE;
    }
  if (progress != NULL)
    progress ("write", 0, image->size, user_data);

  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (proc));
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (out, NULL, cancellable, NULL);
      const char *e;
      guint64 n;

      if (line == NULL)
        break;
      g_strstrip (line);
      g_debug ("openocd: %s", line);
      /* "Error: open failed", also after a script position:
       * "embedded:startup.tcl:28: Error: Can't find target/x.cfg". */
      if ((e = strstr (line, "Error:")) != NULL)
        g_string_append_printf (errors, "%s%s", errors->len > 0 ? "; " : "", g_strstrip ((char *) e + 6));
      /* "wrote 39580 bytes from file … in 1.2s (…)", "verified 39580 bytes in …" */
      else if (sscanf (line, "wrote %" G_GUINT64_FORMAT " bytes", &n) == 1)
        {
          written += n;
          if (progress != NULL)
            progress ("write", MIN (written, image->size), image->size, user_data);
        }
      else if (sscanf (line, "verified %" G_GUINT64_FORMAT " bytes", &n) == 1)
        {
          verified += n;
          if (progress != NULL)
            progress ("verify", MIN (verified, image->size), image->size, user_data);
        }
    }

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      remove_files (bins);
      ds_error_set_if_cancelled (cancellable, error);
      return FALSE;
    }
  ok = g_subprocess_wait (proc, cancellable, error);
  remove_files (bins);
  if (!ok)
    return FALSE;
  if (errors->len > 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED, _("OpenOCD reported: %s"), errors->str);
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("OpenOCD failed (exit status %d)"),
                   g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1);
      return FALSE;
    }
  if (verified < image->size)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("OpenOCD verified only %llu of %llu bytes"),
                   (unsigned long long) verified, (unsigned long long) image->size);
      return FALSE;
    }
  return TRUE;
}

static void
ds_openocd_flasher_iface_init (DsFlasherInterface *iface)
{
  iface->get_name = ds_openocd_flasher_get_name;
  iface->flash = ds_openocd_flasher_flash;
}

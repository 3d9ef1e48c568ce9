/* STM32CubeProgrammer as a subprocess: write with verify, then reset.  Its
 * progress bars end in "NN%" and are redrawn with carriage returns; a line
 * starting "Error:" is a failure even when the exit status says success. */
#include "config.h"

#include "ds-cube-flasher.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ds-error.h"

struct _DsCubeFlasher
{
  GObject  parent_instance;

  char    *program;
  char    *probe_sn;
};

static void ds_cube_flasher_iface_init (DsFlasherInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (DsCubeFlasher, ds_cube_flasher, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (DS_TYPE_FLASHER, ds_cube_flasher_iface_init))

static void
ds_cube_flasher_finalize (GObject *object)
{
  DsCubeFlasher *self = DS_CUBE_FLASHER (object);

  g_free (self->program);
  g_free (self->probe_sn);
  G_OBJECT_CLASS (ds_cube_flasher_parent_class)->finalize (object);
}

static void
ds_cube_flasher_class_init (DsCubeFlasherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_cube_flasher_finalize;
}

static void
ds_cube_flasher_init (DsCubeFlasher *self)
{
}

char *
ds_cube_flasher_find_program (void)
{
  const char *env = g_getenv ("DS_CUBE_PROGRAMMER");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_find_program_in_path ("STM32_Programmer_CLI");
}

DsCubeFlasher *
ds_cube_flasher_new (const char *program,
                     const char *probe_sn)
{
  DsCubeFlasher *self = g_object_new (DS_TYPE_CUBE_FLASHER, NULL);

  self->program = g_strdup (program);
  self->probe_sn = g_strdup (probe_sn);
  return self;
}

GPtrArray *
ds_cube_parse_probes (const char *output)
{
  GPtrArray *probes = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) lines = g_strsplit_set (output, "\r\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      const char *colon;

      if (!g_str_has_prefix (line, "ST-LINK SN") || (colon = strchr (line, ':')) == NULL)
        continue;
      colon++;
      while (*colon == ' ')
        colon++;
      if (*colon != '\0')
        g_ptr_array_add (probes, g_strdup (colon));
    }
  return probes;
}

GPtrArray *
ds_cube_flasher_list_probes (const char    *program,
                             GCancellable  *cancellable,
                             GError       **error)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, error,
                           program, "-l", NULL);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, cancellable, &out, NULL, error))
    return NULL;
  return ds_cube_parse_probes (out != NULL ? out : "");
}

/* Writes the image where the programmer can read it: Intel HEX keeps every
 * segment at its address. */
static char *
write_hex (DsFirmwareImage *image,
           GError         **error)
{
  g_autoptr(GString) hex = g_string_new (NULL);
  g_autofree char *path = NULL;
  int fd;

  for (guint i = 0; i < image->segments->len; i++)
    {
      DsImageSegment *s = g_ptr_array_index (image->segments, i);
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (s->data, &len);
      guint32 upper = G_MAXUINT32;

      for (gsize off = 0; off < len; off += 16)
        {
          guint32 addr = s->address + (guint32) off;
          gsize n = MIN (16, len - off);
          guint8 sum;

          if (addr >> 16 != upper)
            {
              upper = addr >> 16;
              sum = (guint8) (0x02 + 0x04 + (upper >> 8) + (upper & 0xFF));
              g_string_append_printf (hex, ":02000004%04X%02X\n", upper, (guint8) (0x100 - sum));
            }
          sum = (guint8) (n + ((addr >> 8) & 0xFF) + (addr & 0xFF));
          g_string_append_printf (hex, ":%02X%04X00", (guint) n, addr & 0xFFFF);
          for (gsize k = 0; k < n; k++)
            {
              g_string_append_printf (hex, "%02X", data[off + k]);
              sum += data[off + k];
            }
          g_string_append_printf (hex, "%02X\n", (guint8) (0x100 - sum));
        }
    }
  g_string_append (hex, ":00000001FF\n");
  fd = g_file_open_tmp ("ds-image-XXXXXX.hex", &path, error);
  if (fd < 0)
    return NULL;
  close (fd);
  if (!g_file_set_contents (path, hex->str, hex->len, error))
    return NULL;
  return g_steal_pointer (&path);
}

static const char *
ds_cube_flasher_get_name (DsFlasher *flasher)
{
  return "cubeprogrammer";
}

static gboolean
ds_cube_flasher_flash (DsFlasher        *flasher,
                       DsFirmwareImage  *image,
                       DsFlashProgress   progress,
                       gpointer          user_data,
                       GCancellable     *cancellable,
                       GError          **error)
{
  DsCubeFlasher *self = DS_CUBE_FLASHER (flasher);
  g_autofree char *hex = write_hex (image, error);
  g_autofree char *connect = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GString) errors = g_string_new (NULL);
  g_autoptr(GString) pending = g_string_new (NULL);
  const char *phase = "write";
  gboolean ok;

  if (hex == NULL)
    return FALSE;
  connect = self->probe_sn != NULL ? g_strdup_printf ("sn=%s", self->probe_sn) : g_strdup ("index=0");
  /* Never on a command line: nothing secret goes to the programmer. */
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE, error,
                           self->program, "-c", "port=SWD", connect, "-w", hex, "-v", "-rst", NULL);
  if (proc == NULL)
    {
      g_unlink (hex);
      g_prefix_error (error, _("Cannot run STM32CubeProgrammer: "));
      return FALSE;
    }

  /* Read byte by byte so that both \r (progress redraws) and \n end a line. */
  {
    GInputStream *in = g_subprocess_get_stdout_pipe (proc);
    guint8 c;
    gssize n;

    while ((n = g_input_stream_read (in, &c, 1, cancellable, NULL)) == 1)
      {
        if (c != '\r' && c != '\n')
          {
            g_string_append_c (pending, (char) c);
            continue;
          }
        if (strstr (pending->str, "Verifying") != NULL || strstr (pending->str, "Read progress") != NULL)
          phase = "verify";
        else if (strstr (pending->str, "Erasing") != NULL)
          phase = "erase";
        else if (strstr (pending->str, "Download in Progress") != NULL)
          phase = "write";
        if (g_str_has_prefix (g_strchug (pending->str), "Error:"))
          g_string_append_printf (errors, "%s%s", errors->len > 0 ? "; " : "", pending->str + 6);
        if (progress != NULL)
          {
            const char *pct = strrchr (pending->str, '%');

            if (pct != NULL && pct > pending->str)
              {
                const char *p = pct;
                while (p > pending->str && g_ascii_isdigit (p[-1]))
                  p--;
                if (p < pct)
                  {
                    guint64 v = g_ascii_strtoull (p, NULL, 10);
                    progress (phase, v * image->size / 100, image->size, user_data);
                  }
              }
          }
        g_string_truncate (pending, 0);
      }
  }

  if (g_cancellable_is_cancelled (cancellable))
    {
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      g_unlink (hex);
      ds_error_set_if_cancelled (cancellable, error);
      return FALSE;
    }
  ok = g_subprocess_wait (proc, cancellable, error);
  g_unlink (hex);
  if (!ok)
    return FALSE;
  if (errors->len > 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED, _("STM32CubeProgrammer reported: %s"), g_strstrip (errors->str));
      return FALSE;
    }
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("STM32CubeProgrammer failed (exit status %d)"),
                   g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : -1);
      return FALSE;
    }
  return TRUE;
}

static void
ds_cube_flasher_iface_init (DsFlasherInterface *iface)
{
  iface->get_name = ds_cube_flasher_get_name;
  iface->flash = ds_cube_flasher_flash;
}

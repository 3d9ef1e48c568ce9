/* Small file and text helpers. */
#include "config.h"

#include "ds-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds-error.h"

gboolean
ds_util_remove_tree (const char *path)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    return g_unlink (path) == 0;
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      ds_util_remove_tree (child);
    }
  return g_rmdir (path) == 0;
}

char *
ds_hex_encode (const guint8 *data,
               gsize         len)
{
  static const char digits[] = "0123456789ABCDEF";
  char *hex = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[data[i] >> 4];
      hex[2 * i + 1] = digits[data[i] & 0xf];
    }
  hex[len * 2] = '\0';
  return hex;
}

int
ds_util_compare_strings (gconstpointer a,
                         gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

gboolean
ds_util_read_file (const char  *path,
                   gsize        max_size,
                   char       **contents,
                   gsize       *length,
                   GError     **error)
{
  g_autofree char *buf = NULL;
  struct stat st;
  gsize got = 0;
  int fd;

  /* O_NONBLOCK: opening a FIFO does not wait for a writer; fstat() then
   * turns it away with everything else that is not a plain file. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, errsv == ENOENT ? DS_ERROR_NOT_FOUND : DS_ERROR_IO,
                   _("Cannot read %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   S_ISDIR (st.st_mode) ? _("Cannot read %s: it is a directory, not a file")
                                        : _("Cannot read %s: it is not a regular file (a FIFO, socket or device)"),
                   path);
      return FALSE;
    }
  if ((guint64) st.st_size > max_size)
    {
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("Cannot read %s: it holds %llu bytes, more than the %llu allowed"),
                   path, (unsigned long long) st.st_size, (unsigned long long) max_size);
      return FALSE;
    }
  /* One byte more than allowed: a file that grows while it is read is
   * caught as well. */
  buf = g_malloc ((gsize) st.st_size + 2);
  for (;;)
    {
      gsize want = MIN ((gsize) st.st_size + 1, max_size + 1) - got;
      gssize n;

      if (want == 0)
        break;
      n = read (fd, buf + got, want);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          close (fd);
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read %s: %s"), path, g_strerror (errsv));
          return FALSE;
        }
      if (n == 0)
        break;
      got += (gsize) n;
    }
  close (fd);
  if (got > max_size || got > (gsize) st.st_size)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("Cannot read %s: it grew while it was read"), path);
      return FALSE;
    }
  buf[got] = '\0';
  *contents = g_steal_pointer (&buf);
  if (length != NULL)
    *length = got;
  return TRUE;
}

GBytes *
ds_util_read_bytes (const char  *path,
                    gsize        max_size,
                    GError     **error)
{
  char *contents = NULL;
  gsize len = 0;

  if (!ds_util_read_file (path, max_size, &contents, &len, error))
    return NULL;
  return g_bytes_new_take (contents, len);
}

/* Characters that move the cursor, change the terminal or the direction of
 * text, or break a line, without being seen. */
static gboolean
is_hidden (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_LINE_SEPARATOR:
    case G_UNICODE_PARAGRAPH_SEPARATOR:
    case G_UNICODE_SURROGATE:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
      return TRUE;
    default:
      return FALSE;
    }
}

char *
ds_util_sanitize_text (const char *text,
                       gssize      len,
                       gsize       max_bytes)
{
  static const char ellipsis[] = "…";
  g_autoptr(GString) s = NULL;
  gsize n, i = 0, cut = 0;

  if (text == NULL)
    return NULL;
  n = len < 0 ? strlen (text) : (gsize) len;
  s = g_string_sized_new (MIN (n, 1024) + 1);
  while (i < n)
    {
      guchar b = (guchar) text[i];
      char piece[32];
      gsize step = 1;

      if (b >= 0x20 && b < 0x7f)
        {
          if (b == '\\')
            g_strlcpy (piece, "\\\\", sizeof piece);
          else
            {
              piece[0] = (char) b;
              piece[1] = '\0';
            }
        }
      else if (b < 0x80)
        g_snprintf (piece, sizeof piece, "\\x%02X", b);
      else
        {
          gunichar c = g_utf8_get_char_validated (text + i, (gssize) (n - i));

          if (c == (gunichar) -1 || c == (gunichar) -2)
            g_snprintf (piece, sizeof piece, "\\x%02X", b);
          else
            {
              step = (gsize) (g_utf8_next_char (text + i) - (text + i));
              if (is_hidden (c))
                {
                  piece[0] = '\0';
                  for (gsize k = 0; k < step; k++)
                    g_snprintf (piece + strlen (piece), sizeof piece - strlen (piece), "\\x%02X",
                                (guchar) text[i + k]);
                }
              else
                {
                  memcpy (piece, text + i, step);
                  piece[step] = '\0';
                }
            }
        }
      /* Where to cut, should the text not fit: after the last piece that
       * leaves room for the ellipsis. */
      if (s->len + strlen (ellipsis) <= max_bytes)
        cut = s->len;
      g_string_append (s, piece);
      i += step;
      if (max_bytes > 0 && s->len > max_bytes)
        {
          g_string_truncate (s, cut);
          g_string_append (s, ellipsis);
          break;
        }
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

char *
ds_util_read_secret_file (const char  *path,
                          GError     **error)
{
  g_autofree char *buf = NULL;
  struct stat st;
  gssize n;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the secret file %s: %s"), path,
                   g_strerror (errsv));
      return NULL;
    }
  /* The mode of the file opened, not of whatever is at the path later. */
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (st.st_mode & 0077) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The secret file %s can be read by other users or is not a plain file (mode %04o); make it a file of mode 0600 and try again"),
                   path, (unsigned) (st.st_mode & 07777));
      close (fd);
      return NULL;
    }
  if (st.st_size > DS_UTIL_MAX_SECRET_FILE)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The secret file %s is larger than %d bytes; it should hold one line"), path,
                   DS_UTIL_MAX_SECRET_FILE);
      close (fd);
      return NULL;
    }
  buf = g_malloc0 (DS_UTIL_MAX_SECRET_FILE + 1);
  n = read (fd, buf, DS_UTIL_MAX_SECRET_FILE);
  close (fd);
  if (n < 0)
    {
      int errsv = errno;
      explicit_bzero (buf, DS_UTIL_MAX_SECRET_FILE);
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the secret file %s: %s"), path,
                   g_strerror (errsv));
      return NULL;
    }
  /* The first line; what follows it (and the line end) is wiped. */
  buf[strcspn (buf, "\r\n")] = '\0';
  explicit_bzero (buf + strlen (buf), DS_UTIL_MAX_SECRET_FILE - strlen (buf));
  if (*buf == '\0')
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The secret file %s is empty"), path);
      return NULL;
    }
  return g_steal_pointer (&buf);
}

/* Pseudo-terminal transport: open, raw mode, close. */
#include "config.h"

#include "ds-pty-transport.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <termios.h>
#include <unistd.h>

#include "ds-error.h"

struct _DsPtyTransport
{
  DsTransport parent_instance;
};

G_DEFINE_FINAL_TYPE (DsPtyTransport, ds_pty_transport, DS_TYPE_TRANSPORT)

static int
ds_pty_transport_open_fd (DsTransport *transport,
                          GError     **error)
{
  const char *path = ds_transport_get_port (transport);
  struct termios tio;
  int fd;

  fd = open (path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, errsv == ENOENT ? DS_ERROR_DISCONNECTED : DS_ERROR_IO,
                   _("Cannot open %s: %s"), path, g_strerror (errsv));
      return -1;
    }
  if (!isatty (fd) || tcgetattr (fd, &tio) != 0)
    {
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("%s is not a terminal"), path);
      return -1;
    }
  cfmakeraw (&tio);
  tio.c_cc[VMIN] = 0;
  tio.c_cc[VTIME] = 0;
  if (tcsetattr (fd, TCSANOW, &tio) != 0)
    {
      int errsv = errno;
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot set raw mode on %s: %s"),
                   path, g_strerror (errsv));
      return -1;
    }
  return fd;
}

static void
ds_pty_transport_close_fd (DsTransport *transport,
                           int          fd)
{
  close (fd);
}

static void
ds_pty_transport_class_init (DsPtyTransportClass *klass)
{
  DsTransportClass *transport_class = DS_TRANSPORT_CLASS (klass);

  transport_class->open_fd = ds_pty_transport_open_fd;
  transport_class->close_fd = ds_pty_transport_close_fd;
}

static void
ds_pty_transport_init (DsPtyTransport *self)
{
}

DsPtyTransport *
ds_pty_transport_new (const char *path)
{
  return g_object_new (DS_TYPE_PTY_TRANSPORT, "port", path, NULL);
}

/* The transport base class: poll()-based reads and writes with timeouts and
 * cancellation over the descriptor a subclass opens. */
#include "config.h"

#include "ds-transport.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <termios.h>
#include <unistd.h>

#include "ds-error.h"

typedef struct {
  char  *port;
  guint  baud;
  int    fd;
} DsTransportPrivate;

G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (DsTransport, ds_transport, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_PORT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
ds_transport_finalize (GObject *object)
{
  DsTransport *self = DS_TRANSPORT (object);
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  ds_transport_close (self);
  g_free (priv->port);
  G_OBJECT_CLASS (ds_transport_parent_class)->finalize (object);
}

static void
ds_transport_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  DsTransport *self = DS_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_PORT:
      g_value_set_string (value, ds_transport_get_port (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_transport_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  DsTransport *self = DS_TRANSPORT (object);
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_PORT:
      priv->port = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_transport_class_init (DsTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ds_transport_finalize;
  object_class->get_property = ds_transport_get_property;
  object_class->set_property = ds_transport_set_property;

  properties[PROP_PORT] =
    g_param_spec_string ("port", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
ds_transport_init (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  priv->fd = -1;
}

const char *
ds_transport_get_port (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  return priv->port;
}

guint
ds_transport_get_baud (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  return priv->baud;
}

void
ds_transport_set_baud (DsTransport *self,
                       guint        baud)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  priv->baud = baud;
}

gboolean
ds_transport_open (DsTransport *self,
                   GError     **error)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);
  int fd;

  g_return_val_if_fail (DS_IS_TRANSPORT (self), FALSE);

  if (priv->fd >= 0)
    return TRUE;
  fd = DS_TRANSPORT_GET_CLASS (self)->open_fd (self, error);
  if (fd < 0)
    return FALSE;

  /* Two processes talking to one board at once would corrupt both
   * conversations: take an advisory exclusive lock for as long as we hold
   * the port. */
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      DS_TRANSPORT_GET_CLASS (self)->close_fd (self, fd);
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("Port %s is in use by another program; close it and try again"),
                   priv->port);
      return FALSE;
    }
  priv->fd = fd;
  ds_transport_flush_input (self);
  return TRUE;
}

gboolean
ds_transport_is_open (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  return priv->fd >= 0;
}

void
ds_transport_close (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  if (priv->fd < 0)
    return;
  flock (priv->fd, LOCK_UN);
  DS_TRANSPORT_GET_CLASS (self)->close_fd (self, priv->fd);
  priv->fd = -1;
}

static gboolean
not_open (DsTransport *self,
          GError     **error)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  if (priv->fd >= 0)
    return FALSE;
  g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Port %s is not open"), priv->port);
  return TRUE;
}

static void
set_disconnected (DsTransport *self,
                  GError     **error)
{
  g_set_error (error, DS_ERROR, DS_ERROR_DISCONNECTED,
               _("The board on %s was disconnected; check the cable and plug it in again"),
               ds_transport_get_port (self));
}

/* Waits for @events on the port or for cancellation.  Returns 1 when ready,
 * 0 on timeout, -1 with @error set. */
static int
wait_fd (DsTransport  *self,
         short         events,
         guint         timeout_ms,
         GCancellable *cancellable,
         GError      **error)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);
  struct pollfd fds[2] = { { .fd = priv->fd, .events = events } };
  nfds_t nfds = 1;
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GPollFD cancel_fd;
  gboolean have_cancel_fd = FALSE;
  int ret;

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &cancel_fd))
    {
      fds[1].fd = cancel_fd.fd;
      fds[1].events = POLLIN;
      nfds = 2;
      have_cancel_fd = TRUE;
    }

  for (;;)
    {
      gint64 left = deadline - g_get_monotonic_time ();

      if (ds_error_set_if_cancelled (cancellable, error))
        {
          ret = -1;
          break;
        }
      if (left <= 0)
        {
          ret = 0;
          break;
        }
      fds[0].revents = 0;
      fds[1].revents = 0;
      ret = poll (fds, nfds, (int) ((left + 999) / 1000));
      if (ret < 0)
        {
          int errsv = errno;
          if (errsv == EINTR)
            continue;
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Waiting for %s failed: %s"),
                       priv->port, g_strerror (errsv));
          ret = -1;
          break;
        }
      if (nfds == 2 && fds[1].revents != 0)
        continue; /* the cancellation check at the top reports it */
      if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL))
        {
          /* Let a last read drain pending bytes before reporting the hang-up. */
          if ((events & POLLIN) && (fds[0].revents & POLLIN))
            {
              ret = 1;
              break;
            }
          set_disconnected (self, error);
          ret = -1;
          break;
        }
      if (fds[0].revents & events)
        {
          ret = 1;
          break;
        }
    }

  if (have_cancel_fd)
    g_cancellable_release_fd (cancellable);
  return ret;
}

gssize
ds_transport_read (DsTransport  *self,
                   guint8       *buf,
                   gsize         len,
                   guint         timeout_ms,
                   GCancellable *cancellable,
                   GError      **error)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  if (not_open (self, error))
    return -1;

  for (;;)
    {
      int w = wait_fd (self, POLLIN, timeout_ms, cancellable, error);
      gssize n;

      if (w <= 0)
        return w;
      n = read (priv->fd, buf, len);
      if (n > 0)
        return n;
      if (n == 0)
        {
          set_disconnected (self, error);
          return -1;
        }
      if (errno == EAGAIN || errno == EINTR)
        continue;
      if (errno == EIO || errno == ENXIO || errno == ENODEV)
        {
          set_disconnected (self, error);
          return -1;
        }
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Reading from %s failed: %s"),
                   priv->port, g_strerror (errno));
      return -1;
    }
}

gboolean
ds_transport_write_all (DsTransport  *self,
                        const guint8 *buf,
                        gsize         len,
                        guint         timeout_ms,
                        GCancellable *cancellable,
                        GError      **error)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);
  gsize done = 0;

  if (not_open (self, error))
    return FALSE;

  while (done < len)
    {
      int w = wait_fd (self, POLLOUT, timeout_ms, cancellable, error);
      gssize n;

      if (w < 0)
        return FALSE;
      if (w == 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                       _("Writing to %s timed out: the port does not take data"), priv->port);
          return FALSE;
        }
      n = write (priv->fd, buf + done, len - done);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EINTR)
            continue;
          if (errno == EIO || errno == ENXIO || errno == ENODEV)
            {
              set_disconnected (self, error);
              return FALSE;
            }
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Writing to %s failed: %s"),
                       priv->port, g_strerror (errno));
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

gboolean
ds_transport_set_even_parity (DsTransport *self,
                              gboolean     even,
                              GError     **error)
{
  DsTransportClass *klass = DS_TRANSPORT_GET_CLASS (self);

  if (klass->set_even_parity == NULL)
    return TRUE;
  return klass->set_even_parity (self, even, error);
}

void
ds_transport_flush_input (DsTransport *self)
{
  DsTransportPrivate *priv = ds_transport_get_instance_private (self);

  if (priv->fd >= 0)
    tcflush (priv->fd, TCIFLUSH);
}

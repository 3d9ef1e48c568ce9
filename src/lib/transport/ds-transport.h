/* A byte pipe to one board: a real serial port or a pseudo-terminal.
 * Blocking, with per-call timeouts and cancellation; used from job threads. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define DS_TYPE_TRANSPORT (ds_transport_get_type ())
G_DECLARE_DERIVABLE_TYPE (DsTransport, ds_transport, DS, TRANSPORT, GObject)

struct _DsTransportClass
{
  GObjectClass parent_class;

  /* Opens the port and returns a file descriptor in non-blocking mode, or -1. */
  int      (*open_fd)  (DsTransport *self,
                        GError     **error);
  void     (*close_fd) (DsTransport *self,
                        int          fd);
  /* Even parity on or off; a pseudo-terminal carries no parity. */
  gboolean (*set_even_parity) (DsTransport *self,
                               gboolean     even,
                               GError     **error);
};

const char *ds_transport_get_port     (DsTransport  *self);
/* Bits per second on the wire, 0 when unknown (a pseudo-terminal). */
guint       ds_transport_get_baud     (DsTransport  *self);
void        ds_transport_set_baud     (DsTransport  *self,
                                       guint         baud);
gboolean    ds_transport_open         (DsTransport  *self,
                                       GError      **error);
gboolean    ds_transport_is_open      (DsTransport  *self);
void        ds_transport_close        (DsTransport  *self);
/* Reads what is available, waiting up to @timeout_ms for the first byte.
 * Returns the count (0 on timeout) or -1 with DS_ERROR_DISCONNECTED,
 * DS_ERROR_IO or DS_ERROR_CANCELLED. */
gssize      ds_transport_read         (DsTransport  *self,
                                       guint8       *buf,
                                       gsize         len,
                                       guint         timeout_ms,
                                       GCancellable *cancellable,
                                       GError      **error);
gboolean    ds_transport_write_all    (DsTransport  *self,
                                       const guint8 *buf,
                                       gsize         len,
                                       guint         timeout_ms,
                                       GCancellable *cancellable,
                                       GError      **error);
/* The STM32 ROM bootloader speaks 8E1, the provisioning firmware 8N1. */
gboolean    ds_transport_set_even_parity (DsTransport *self,
                                       gboolean      even,
                                       GError      **error);
/* Drops whatever the board sent that nobody read. */
void        ds_transport_flush_input  (DsTransport  *self);


G_END_DECLS

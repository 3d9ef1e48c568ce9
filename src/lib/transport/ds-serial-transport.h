/* A transport over a real serial port (ST-LINK virtual COM port) through
 * libserialport, and the enumeration of the ports that are boards. */
#pragma once

#include "ds-transport.h"

G_BEGIN_DECLS

#define DS_TYPE_SERIAL_TRANSPORT (ds_serial_transport_get_type ())
G_DECLARE_FINAL_TYPE (DsSerialTransport, ds_serial_transport, DS, SERIAL_TRANSPORT, DsTransport)

DsSerialTransport *ds_serial_transport_new (const char *port,
                                            guint       baud);

/* A serial port that looks like a board. */
typedef struct {
  char    *port;          /* /dev/ttyACM0 */
  char    *description;
  char    *usb_serial;    /* the ST-LINK's serial number */
  guint16  usb_vid;
  guint16  usb_pid;
} DsSerialPortInfo;

void       ds_serial_port_info_free (DsSerialPortInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsSerialPortInfo, ds_serial_port_info_free)

/* TRUE for the USB IDs of ST-LINK virtual COM ports (DESIGN.md). */
gboolean   ds_serial_is_stlink_id   (guint16 vid,
                                     guint16 pid);
/* The ST-LINK virtual COM ports present now, as DsSerialPortInfo. */
GPtrArray *ds_serial_list_boards    (GError **error);

G_END_DECLS

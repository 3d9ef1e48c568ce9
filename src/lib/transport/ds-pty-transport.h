/* A transport over a pseudo-terminal (simulated boards), through termios:
 * libserialport 0.1.1 cannot open a pty (it wants sysfs and modem lines). */
#pragma once

#include "ds-transport.h"

G_BEGIN_DECLS

#define DS_TYPE_PTY_TRANSPORT (ds_pty_transport_get_type ())
G_DECLARE_FINAL_TYPE (DsPtyTransport, ds_pty_transport, DS, PTY_TRANSPORT, DsTransport)

DsPtyTransport *ds_pty_transport_new (const char *path);

G_END_DECLS

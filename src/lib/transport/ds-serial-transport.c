/* Serial port transport and ST-LINK enumeration on libserialport. */
#include "config.h"

#include "ds-serial-transport.h"

#include <glib/gi18n-lib.h>
#include <libserialport.h>

#include "ds-error.h"

struct _DsSerialTransport
{
  DsTransport       parent_instance;
  struct sp_port   *sp;
};

G_DEFINE_FINAL_TYPE (DsSerialTransport, ds_serial_transport, DS_TYPE_TRANSPORT)

static const struct { guint16 vid, pid; } stlink_ids[] = {
  { 0x0483, 0x374B }, { 0x0483, 0x374E }, { 0x0483, 0x374F },
  { 0x0483, 0x3752 }, { 0x0483, 0x3753 }, { 0x0483, 0x3754 },
};

gboolean
ds_serial_is_stlink_id (guint16 vid,
                        guint16 pid)
{
  for (gsize i = 0; i < G_N_ELEMENTS (stlink_ids); i++)
    if (stlink_ids[i].vid == vid && stlink_ids[i].pid == pid)
      return TRUE;
  return FALSE;
}

static char *
sp_error_message (void)
{
  char *msg = sp_last_error_message ();
  char *copy = g_strdup (msg != NULL ? msg : "unknown error");

  sp_free_error_message (msg);
  return copy;
}

static int
ds_serial_transport_open_fd (DsTransport *transport,
                             GError     **error)
{
  DsSerialTransport *self = DS_SERIAL_TRANSPORT (transport);
  const char *name = ds_transport_get_port (transport);
  struct sp_port *sp = NULL;
  int fd = -1;

  if (sp_get_port_by_name (name, &sp) != SP_OK)
    {
      g_autofree char *msg = sp_error_message ();
      g_set_error (error, DS_ERROR, DS_ERROR_DISCONNECTED, _("No serial port %s: %s"), name, msg);
      return -1;
    }
  if (sp_open (sp, SP_MODE_READ_WRITE) != SP_OK)
    {
      g_autofree char *msg = sp_error_message ();
      sp_free_port (sp);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot open %s: %s"), name, msg);
      return -1;
    }
  /* The provisioning firmware speaks 8N1 without flow control. */
  if (sp_set_baudrate (sp, (int) ds_transport_get_baud (transport)) != SP_OK ||
      sp_set_bits (sp, 8) != SP_OK ||
      sp_set_parity (sp, SP_PARITY_NONE) != SP_OK ||
      sp_set_stopbits (sp, 1) != SP_OK ||
      sp_set_flowcontrol (sp, SP_FLOWCONTROL_NONE) != SP_OK ||
      sp_get_port_handle (sp, &fd) != SP_OK)
    {
      g_autofree char *msg = sp_error_message ();
      sp_close (sp);
      sp_free_port (sp);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot configure %s: %s"), name, msg);
      return -1;
    }
  self->sp = sp;
  return fd;
}

static void
ds_serial_transport_close_fd (DsTransport *transport,
                              int          fd)
{
  DsSerialTransport *self = DS_SERIAL_TRANSPORT (transport);

  if (self->sp != NULL)
    {
      sp_close (self->sp);
      sp_free_port (self->sp);
      self->sp = NULL;
    }
}

static gboolean
ds_serial_transport_set_even_parity (DsTransport *transport,
                                     gboolean     even,
                                     GError     **error)
{
  DsSerialTransport *self = DS_SERIAL_TRANSPORT (transport);

  if (self->sp == NULL)
    return TRUE;
  if (sp_set_parity (self->sp, even ? SP_PARITY_EVEN : SP_PARITY_NONE) != SP_OK)
    {
      g_autofree char *msg = sp_error_message ();
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot set the parity of %s: %s"),
                   ds_transport_get_port (transport), msg);
      return FALSE;
    }
  return TRUE;
}

static void
ds_serial_transport_class_init (DsSerialTransportClass *klass)
{
  DsTransportClass *transport_class = DS_TRANSPORT_CLASS (klass);

  transport_class->set_even_parity = ds_serial_transport_set_even_parity;
  transport_class->open_fd = ds_serial_transport_open_fd;
  transport_class->close_fd = ds_serial_transport_close_fd;
}

static void
ds_serial_transport_init (DsSerialTransport *self)
{
}

DsSerialTransport *
ds_serial_transport_new (const char *port,
                         guint       baud)
{
  DsSerialTransport *self = g_object_new (DS_TYPE_SERIAL_TRANSPORT, "port", port, NULL);

  ds_transport_set_baud (DS_TRANSPORT (self), baud);
  return self;
}

void
ds_serial_port_info_free (DsSerialPortInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->port);
  g_free (info->description);
  g_free (info->usb_serial);
  g_free (info);
}

GPtrArray *
ds_serial_list_boards (GError **error)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_serial_port_info_free);
  struct sp_port **ports = NULL;

  if (sp_list_ports (&ports) != SP_OK)
    {
      g_autofree char *msg = sp_error_message ();
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot list serial ports: %s"), msg);
      return NULL;
    }
  for (gsize i = 0; ports[i] != NULL; i++)
    {
      struct sp_port *p = ports[i];
      int vid = 0, pid = 0;
      DsSerialPortInfo *info;
      const char *serial;

      if (sp_get_port_transport (p) != SP_TRANSPORT_USB)
        continue;
      if (sp_get_port_usb_vid_pid (p, &vid, &pid) != SP_OK)
        continue;
      if (!ds_serial_is_stlink_id ((guint16) vid, (guint16) pid))
        continue;
      info = g_new0 (DsSerialPortInfo, 1);
      info->port = g_strdup (sp_get_port_name (p));
      info->description = g_strdup (sp_get_port_description (p));
      serial = sp_get_port_usb_serial (p);
      info->usb_serial = g_strdup (serial);
      info->usb_vid = (guint16) vid;
      info->usb_pid = (guint16) pid;
      g_ptr_array_add (result, info);
    }
  sp_free_port_list (ports);
  return g_steal_pointer (&result);
}

/* A detected board. */
#include "config.h"

#include "ds-board.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "ds-board-identity.h"
#include "ds-frame.h"
#include "ds-pty-transport.h"
#include "ds-serial-transport.h"

/* Linux's UNIX98 pseudo-terminal slaves (Documentation/admin-guide/devices.txt). */
#define PTY_SLAVE_MAJOR_FIRST 136
#define PTY_SLAVE_MAJOR_LAST  143

struct _DsBoard
{
  GObject      parent_instance;

  DsBoardKind  kind;
  char        *port;
  char        *name;
  char        *description;
  char        *usb_path;
  GBytes      *probe_serial;
  char        *slot;
  GMutex       lock; /* uid is learned from a job thread */
  char        *uid;
};

G_DEFINE_FINAL_TYPE (DsBoard, ds_board, G_TYPE_OBJECT)

static void
ds_board_finalize (GObject *object)
{
  DsBoard *self = DS_BOARD (object);

  g_free (self->port);
  g_free (self->name);
  g_free (self->description);
  g_free (self->usb_path);
  g_clear_pointer (&self->probe_serial, g_bytes_unref);
  g_free (self->slot);
  g_free (self->uid);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_board_parent_class)->finalize (object);
}

static void
ds_board_class_init (DsBoardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_board_finalize;
}

static void
ds_board_init (DsBoard *self)
{
  g_mutex_init (&self->lock);
}

DsBoard *
ds_board_new (DsBoardKind  kind,
              const char  *port,
              const char  *name)
{
  DsBoard *self = g_object_new (DS_TYPE_BOARD, NULL);

  self->kind = kind;
  self->port = g_strdup (port);
  self->name = name != NULL ? g_strdup (name) : g_path_get_basename (port);
  return self;
}

DsBoard *
ds_board_new_for_port (const char *port)
{
  struct stat st;
  DsBoardKind kind = DS_BOARD_KIND_SERIAL;

  if (stat (port, &st) == 0 && S_ISCHR (st.st_mode) &&
      major (st.st_rdev) >= PTY_SLAVE_MAJOR_FIRST && major (st.st_rdev) <= PTY_SLAVE_MAJOR_LAST)
    kind = DS_BOARD_KIND_SIMULATED;
  return ds_board_new (kind, port, NULL);
}

DsBoardKind
ds_board_get_kind (DsBoard *self)
{
  return self->kind;
}

const char *
ds_board_get_kind_string (DsBoard *self)
{
  return self->kind == DS_BOARD_KIND_SIMULATED ? "simulated" : "serial";
}

const char *
ds_board_get_port (DsBoard *self)
{
  return self->port;
}

const char *
ds_board_get_name (DsBoard *self)
{
  return self->name;
}

char *
ds_board_dup_uid (DsBoard *self)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);

  return g_strdup (self->uid);
}

void
ds_board_set_uid (DsBoard    *self,
                  const char *uid)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);

  g_free (self->uid);
  self->uid = g_strdup (uid);
}

const char *
ds_board_get_description (DsBoard *self)
{
  return self->description;
}

void
ds_board_set_description (DsBoard    *self,
                          const char *description)
{
  g_free (self->description);
  self->description = g_strdup (description);
}

DsTransport *
ds_board_new_transport (DsBoard *self)
{
  switch (self->kind)
    {
    case DS_BOARD_KIND_SIMULATED:
      return DS_TRANSPORT (ds_pty_transport_new (self->port));
    case DS_BOARD_KIND_SERIAL:
    default:
      return DS_TRANSPORT (ds_serial_transport_new (self->port, 115200));
    }
}

void
ds_board_set_usb (DsBoard    *self,
                  const char *usb_path,
                  GBytes     *probe_serial)
{
  g_return_if_fail (DS_IS_BOARD (self));

  g_free (self->usb_path);
  self->usb_path = g_strdup (usb_path);
  g_clear_pointer (&self->probe_serial, g_bytes_unref);
  if (probe_serial != NULL)
    self->probe_serial = g_bytes_ref (probe_serial);
}

const char *
ds_board_get_usb_path (DsBoard *self)
{
  g_return_val_if_fail (DS_IS_BOARD (self), NULL);
  return self->usb_path;
}

GBytes *
ds_board_get_probe_serial (DsBoard *self)
{
  g_return_val_if_fail (DS_IS_BOARD (self), NULL);
  return self->probe_serial;
}

char *
ds_board_dup_probe_serial_text (DsBoard *self)
{
  gsize len = 0;
  const guint8 *data;

  g_return_val_if_fail (DS_IS_BOARD (self), NULL);
  if (self->probe_serial == NULL)
    return NULL;
  data = g_bytes_get_data (self->probe_serial, &len);
  return ds_board_identity_format_serial (data, len);
}

const char *
ds_board_get_slot (DsBoard *self)
{
  g_return_val_if_fail (DS_IS_BOARD (self), NULL);
  return self->slot;
}

void
ds_board_set_slot (DsBoard    *self,
                   const char *slot)
{
  g_return_if_fail (DS_IS_BOARD (self));
  g_free (self->slot);
  self->slot = g_strdup (slot);
}

const char *
ds_board_get_label (DsBoard *self)
{
  g_return_val_if_fail (DS_IS_BOARD (self), NULL);
  return self->slot != NULL ? self->slot : self->name;
}

gboolean
ds_board_uid_is_valid (const char *uid)
{
  if (uid == NULL || strlen (uid) != DS_UID_LEN * 2)
    return FALSE;
  for (const char *p = uid; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* Puts a firmware image on a board.  Two backends behind one interface:
 * the STM32 ROM bootloader over the serial port (AN3155) and the
 * STM32CubeProgrammer command line over SWD. */
#pragma once

#include <gio/gio.h>

#include "ds-firmware-image.h"

G_BEGIN_DECLS

/* @phase: "erase", "write" or "verify"; bytes done of total in that phase. */
typedef void (*DsFlashProgress) (const char *phase,
                                 guint64     done,
                                 guint64     total,
                                 gpointer    user_data);

#define DS_TYPE_FLASHER (ds_flasher_get_type ())
G_DECLARE_INTERFACE (DsFlasher, ds_flasher, DS, FLASHER, GObject)

struct _DsFlasherInterface
{
  GTypeInterface parent_iface;

  const char *(*get_name) (DsFlasher *self);
  /* Blocking: erase what the image covers, write, verify, start it. */
  gboolean    (*flash)    (DsFlasher        *self,
                           DsFirmwareImage  *image,
                           DsFlashProgress   progress,
                           gpointer          user_data,
                           GCancellable     *cancellable,
                           GError          **error);
};

const char *ds_flasher_get_name (DsFlasher        *self);
gboolean    ds_flasher_flash    (DsFlasher        *self,
                                 DsFirmwareImage  *image,
                                 DsFlashProgress   progress,
                                 gpointer          user_data,
                                 GCancellable     *cancellable,
                                 GError          **error);

G_END_DECLS

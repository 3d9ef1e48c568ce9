/* The flasher interface. */
#include "ds-flasher.h"

#include "ds-error.h"

G_DEFINE_INTERFACE (DsFlasher, ds_flasher, G_TYPE_OBJECT)

static void
ds_flasher_default_init (DsFlasherInterface *iface)
{
}

const char *
ds_flasher_get_name (DsFlasher *self)
{
  g_return_val_if_fail (DS_IS_FLASHER (self), NULL);
  return DS_FLASHER_GET_IFACE (self)->get_name (self);
}

gboolean
ds_flasher_flash (DsFlasher        *self,
                  DsFirmwareImage  *image,
                  DsFlashProgress   progress,
                  gpointer          user_data,
                  GCancellable     *cancellable,
                  GError          **error)
{
  g_return_val_if_fail (DS_IS_FLASHER (self), FALSE);
  if (ds_error_set_if_cancelled (cancellable, error))
    return FALSE;
  return DS_FLASHER_GET_IFACE (self)->flash (self, image, progress, user_data, cancellable, error);
}

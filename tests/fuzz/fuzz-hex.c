/* Fuzz target: a firmware image file as Intel HEX, and the provisioning
 * firmware header. */
#include <stdint.h>

#include "ds-firmware-image.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(DsFirmwareImage) image = ds_firmware_image_parse_hex ((const char *) data, size, NULL);
  g_autofree char *version = ds_fw_image_get_version (data, size);

  if (image != NULL)
    {
      DsImageSegment *first = g_ptr_array_index (image->segments, 0);
      ds_firmware_image_byte_at (image, first->address);
    }
  return 0;
}

/* Firmware images to flash: raw .bin at a base address, or Intel HEX; and
 * the header by which a provisioning-firmware image names its version. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the STM32's main flash starts: the provisioning firmware's place,
 * and where a raw .bin goes unless told otherwise. */
#define DS_FIRMWARE_ADDRESS 0x08000000u

/* One contiguous run of bytes at an address. */
typedef struct {
  guint32  address;
  GBytes  *data;
} DsImageSegment;

typedef struct {
  GPtrArray *segments;   /* DsImageSegment, sorted by address, not overlapping */
  gsize      size;       /* bytes in all segments */
} DsFirmwareImage;

void             ds_firmware_image_free       (DsFirmwareImage *image);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsFirmwareImage, ds_firmware_image_free)

/* A raw image placed at @address. */
DsFirmwareImage *ds_firmware_image_new_bin    (GBytes       *contents,
                                               guint32       address,
                                               GError      **error);
/* Intel HEX: data (00), end of file (01), extended segment (02) and linear
 * (04) address records, start addresses (03, 05) ignored; every record's
 * checksum is checked and overlapping data is refused. */
DsFirmwareImage *ds_firmware_image_parse_hex  (const char   *text,
                                               gsize         len,
                                               GError      **error);
/* By file name: .hex is Intel HEX, anything else raw at @address. */
DsFirmwareImage *ds_firmware_image_load       (const char   *path,
                                               guint32       address,
                                               GError      **error);
/* The byte at @address, or -1 outside the image. */
int              ds_firmware_image_byte_at    (DsFirmwareImage *image,
                                               guint32          address);

/* The provisioning firmware header at the start of an image:
 * "DSPF", a 16-byte NUL-padded version, the body length and the body's
 * CRC-32 (little-endian), then the body. */
#define DS_FW_MAGIC        "DSPF"
#define DS_FW_HEADER_LEN   28
#define DS_FW_VERSION_LEN  16

/* Makes a provisioning-firmware image of @size bytes in all. */
GBytes          *ds_fw_image_make             (const char   *version,
                                               gsize         size);
/* The version of a valid provisioning-firmware image in @data, or NULL. */
char            *ds_fw_image_get_version      (const guint8 *data,
                                               gsize         len);
/* The provisioning firmware version an image carries at its lowest address,
 * or NULL. */
char            *ds_firmware_image_dup_fw_version (DsFirmwareImage *image);

G_END_DECLS

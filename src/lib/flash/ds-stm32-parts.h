/* The STM32 parts the station knows, by the product ID the ROM bootloader
 * reports (AN3155 Get ID). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  guint16     product_id;
  const char *name;
  guint32     flash_base;
  guint32     flash_size;
  guint32     page_size;
} DsStm32Part;

/* NULL for a product ID the table does not hold. */
const DsStm32Part *ds_stm32_part_lookup (guint16 product_id);

G_END_DECLS

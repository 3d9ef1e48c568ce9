/* A small table of STM32 parts: flash layout by bootloader product ID. */
#include "ds-stm32-parts.h"

static const DsStm32Part parts[] = {
  { 0x495, "STM32WB5x", 0x08000000, 1024 * 1024, 4096 },
  { 0x410, "STM32F10x medium density", 0x08000000, 128 * 1024, 1024 },
  { 0x496, "STM32WB3x", 0x08000000, 512 * 1024, 4096 },
  { 0x497, "STM32WLEx", 0x08000000, 256 * 1024, 2048 },
};

const DsStm32Part *
ds_stm32_part_lookup (guint16 product_id)
{
  for (gsize i = 0; i < G_N_ELEMENTS (parts); i++)
    if (parts[i].product_id == product_id)
      return &parts[i];
  return NULL;
}

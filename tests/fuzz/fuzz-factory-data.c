/* Fuzz target: factory data in ST's layout as a board reads it back, and
 * the description of every record --check prints. */
#include <stdint.h>

#include "ds-factory-data.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) blob = g_bytes_new (data, size);
  g_autoptr(GPtrArray) records = ds_factory_data_parse (blob, DS_FACTORY_DATA_REGION_STM32WB5MM_DK, NULL);

  for (guint i = 0; records != NULL && i < records->len; i++)
    g_free (ds_factory_record_describe (records->pdata[i]));
  return 0;
}

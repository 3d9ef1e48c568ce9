/* Fuzz target: a station's CA settings file ([ca] key-file group). */
#include <stdint.h>

#include "ds-ca-config.h"
#include "ds-error.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCaConfig) config = ds_ca_config_parse ((const char *) data, size, "fuzz.conf", "/etc/dac-station", &error);

  /* Parsed, or refused with a configuration error; never a password kept. */
  g_assert_true (config != NULL || g_error_matches (error, DS_ERROR, DS_ERROR_CONFIG));
  return 0;
}

/* Fuzz target: a CFSSL server's answer to /api/v1/cfssl/sign or /info, as
 * the station reads it: JSON, success, errors, the result's certificate. */
#include <stdint.h>

#include "ds-cfssl-ca.h"
#include "ds-crypto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) body = g_bytes_new (data, size);
  g_autoptr(JsonNode) result = NULL;
  g_autoptr(GError) error = NULL;

  result = ds_cfssl_parse_answer ("/api/v1/cfssl/sign", 200, "application/json", body, &error);
  if (result != NULL)
    {
      g_autoptr(X509) cert = ds_cfssl_result_certificate (result, "certificate", NULL);
    }
  else
    g_assert_nonnull (error);
  return 0;
}

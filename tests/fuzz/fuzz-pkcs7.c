/* Fuzz target: an EST certs-only answer from a CA, base64 or binary, and
 * its content type. */
#include <stdint.h>
#include <string.h>

#include "ds-pkcs7.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GPtrArray) b64 = ds_pkcs7_decode_certs_only (data, size, NULL, NULL);
  g_autoptr(GPtrArray) der = ds_pkcs7_decode_certs_only (data, size, "binary", NULL);
  g_autofree char *ctype = g_strndup ((const char *) data, MIN (size, 256));

  ds_pkcs7_check_content_type (ctype, NULL);
  if (b64 != NULL)
    {
      /* What decodes encodes again and decodes to as many certificates. */
      g_autofree char *again = ds_pkcs7_encode_certs_only ((X509 *const *) b64->pdata, b64->len, TRUE);
      g_autoptr(GPtrArray) round = again != NULL ? ds_pkcs7_decode_certs_only ((const guint8 *) again, strlen (again), NULL, NULL) : NULL;

      g_assert_true (round != NULL && round->len == b64->len);
    }
  return 0;
}

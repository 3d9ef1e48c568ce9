/* Fuzz target: a board's CSR, parsed and checked as the station does. */
#include <stdint.h>

#include "ds-crypto.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) der = g_bytes_new (data, size);
  g_autoptr(X509_REQ) req = ds_csr_parse (der, NULL);
  const DsCsrSubject expected = { "DAC 00112233445566778899AABB", 0xFFF1, 0x8000 };

  if (req != NULL)
    {
      g_autoptr(EVP_PKEY) key = ds_csr_get_pubkey (req);
      g_autofree char *fp = key != NULL ? ds_pubkey_fingerprint (key) : NULL;

      ds_csr_check (req, &expected, NULL);
    }
  return 0;
}

/* Fuzz target: the attestation elements a board returns to ATTESTATION
 * (Matter TLV), parsed as the station parses them. */
#include <stdint.h>

#include "ds-attestation.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) tlv = g_bytes_new (data, size);
  g_auto(DsAttestationElements) e = { 0 };

  if (ds_attestation_elements_parse (tlv, &e, NULL))
    g_assert_true (e.cd != NULL && e.nonce != NULL);
  return 0;
}

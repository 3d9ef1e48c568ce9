/* Fuzz target: a Certification Declaration (CMS envelope and Matter TLV
 * payload) as a product profile or a CA hands it to the station. */
#include <stdint.h>

#include "ds-cd.h"
#include "ds-matter-validator.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  g_autoptr(DsCd) cd = ds_cd_parse (bytes, NULL, verdict);

  if (cd != NULL)
    {
      /* What the validator reads of a decoded CD. */
      g_assert_cmpuint (cd->product_ids->len, <=, 65535);
      ds_cd_has_product (cd, 0x8000);
      g_assert_true (cd->authorized_paas == NULL || cd->authorized_paas->len < 65536);
    }
  return 0;
}

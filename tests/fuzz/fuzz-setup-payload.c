/* Fuzz target: a QR payload or manual pairing code as an operator or a
 * scanner types it; what parses is encoded again and must come back the
 * same. */
#include <stdint.h>
#include <string.h>

#include "ds-onboarding.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *text = g_strndup ((const char *) data, size);
  DsSetupPayload p;

  if (ds_setup_payload_parse (text, &p, NULL) && !p.short_discriminator)
    {
      g_autofree char *qr = ds_setup_payload_to_qr (&p, NULL);
      DsSetupPayload back;

      /* A QR payload with TLV data or several payloads encodes shorter. */
      if (qr == NULL || !ds_setup_payload_parse (qr, &back, NULL) || back.passcode != p.passcode
          || back.discriminator != p.discriminator || back.vid != p.vid || back.pid != p.pid)
        abort ();
    }
  return 0;
}

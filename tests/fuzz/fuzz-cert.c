/* Fuzz target: a certificate from a CA or a board, parsed and examined as
 * the station does (DER or PEM). */
#include <stdint.h>

#include "ds-crypto.h"
#include "ds-matter-validator.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);
  g_autoptr(X509) cert = ds_cert_parse (bytes, NULL);

  if (cert != NULL)
    {
      g_autofree char *fp = ds_cert_fingerprint (cert);
      g_autofree char *serial = ds_cert_serial_hex (cert);
      g_autofree char *subject = ds_cert_subject (cert);
      g_autofree char *pem = ds_cert_to_pem (cert);
      gboolean hv, hp;
      guint16 v, p;

      ds_cert_get_vid_pid (cert, &hv, &v, &hp, &p);
      /* As DAC, PAI and PAA at once: the profile and chain checks must fail
       * cleanly on anything. */
      ds_matter_verify_chain (cert, cert, cert, 0xFFF1, 0x8000, NULL);
    }
  return 0;
}

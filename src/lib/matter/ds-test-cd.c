/* The built-in test Certification Declaration. */
#include "config.h"

#include "ds-test-cd.h"

#include <glib/gi18n-lib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-verdict.h"

/* Chip-Test-CD-Signing-Key.pem from the Matter SDK (project-chip/
 * connectedhomeip, credentials/test/certification-declaration/): the
 * CSA's published test key, whose certificate Chip-Test-CD-Signing-Cert
 * has the SKID ds_cd_test_kid and the public key every commissioner
 * accepts for test CDs (ds-cd.c's test_cd_pubkey; tests/test-test-cd.c proves
 * they are one pair).  It is public by design and signs only test
 * material, so it is no secret and may live in the source. */
static const char test_cd_signing_key_pem[] =
  "-----BEGIN EC PRIVATE KEY-----\n"
  "MHcCAQEEIK7zSEEW6UgexXvgRy30G/SZBk5QJK2GnspeiJgC1IB1oAoGCCqGSM49\n"
  "AwEHoUQDQgAEPDmJIkUrVcrzicJb0bykZWlSzLkOiGkkmthHRlMBTL+V1oeWXgNr\n"
  "UhxRA35rjO3vyh60QEZpT6CIgu7WUZ3sug==\n"
  "-----END EC PRIVATE KEY-----\n";

EVP_PKEY *
ds_test_cd_dup_signing_key (void)
{
  BIO *bio = BIO_new_mem_buf (test_cd_signing_key_pem, sizeof test_cd_signing_key_pem - 1);
  EVP_PKEY *key = NULL;

  if (bio == NULL)
    return NULL;
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  BIO_free (bio);
  if (key == NULL)
    ERR_clear_error ();
  return key;
}

GBytes *
ds_test_cd_build (guint16  vid,
                  guint16  pid,
                  GError **error)
{
  g_autoptr(EVP_PKEY) key = ds_test_cd_dup_signing_key ();
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(DsCd) parsed = NULL;
  g_autoptr(GBytes) der = NULL;
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();

  if (key == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED, _("Cannot load the Matter test CD-signing key"));
      return NULL;
    }
  cd->format_version = 1;
  cd->vendor_id = vid;
  g_array_append_val (cd->product_ids, pid);
  cd->device_type_id = DS_TEST_CD_DEVICE_TYPE;
  cd->certificate_id = g_strdup (DS_TEST_CD_CERTIFICATE_ID);
  cd->security_level = 0;
  cd->security_information = 0;
  cd->version_number = 1;
  cd->certification_type = DS_CD_TYPE_DEVELOPMENT;
  der = ds_cd_encode (cd, key, ds_cd_test_kid, error);
  if (der == NULL)
    return NULL;

  /* What the boards will present goes through the validator the gate and
   * the attest step use, the test key recognised by its KID. */
  parsed = ds_cd_parse (der, NULL, verdict);
  if (parsed == NULL || !ds_verdict_is_valid (verdict) || !parsed->signed_by_test_key ||
      parsed->vendor_id != vid || !ds_cd_has_product (parsed, pid))
    {
      const DsViolation *v = verdict->violations->len > 0 ? verdict->violations->pdata[0] : NULL;

      g_set_error (error, DS_ERROR, DS_ERROR_FAILED,
                   _("The built-in test Certification Declaration does not pass the station's own check: %s"),
                   v != NULL ? v->message : _("its content is not what was signed"));
      return NULL;
    }
  return g_steal_pointer (&der);
}

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
#include "ds-util.h"
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

/* Is @der a test CD for @vid:@pid that the station's own validator
 * accepts, signed with the Matter test key?  The reason when not. */
static gboolean
check_test_cd (GBytes  *der,
               guint16  vid,
               guint16  pid,
               char   **reason)
{
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  g_autoptr(DsCd) parsed = ds_cd_parse (der, NULL, verdict);

  if (parsed == NULL || !ds_verdict_is_valid (verdict))
    {
      const DsViolation *v = verdict->violations->len > 0 ? verdict->violations->pdata[0] : NULL;

      *reason = g_strdup (v != NULL ? v->message : _("it does not decode"));
      return FALSE;
    }
  if (!parsed->signed_by_test_key || parsed->vendor_id != vid || !ds_cd_has_product (parsed, pid) ||
      parsed->certification_type != DS_CD_TYPE_DEVELOPMENT)
    {
      /* TRANSLATORS: %04X:%04X is the vendor and product ID. */
      *reason = g_strdup_printf (_("it is not a test CD for %04X:%04X signed with the Matter test key"), vid, pid);
      return FALSE;
    }
  return TRUE;
}

GBytes *
ds_test_cd_build (guint16  vid,
                  guint16  pid,
                  GError **error)
{
  g_autoptr(EVP_PKEY) key = ds_test_cd_dup_signing_key ();
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(GBytes) der = NULL;
  g_autofree char *reason = NULL;

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
  if (!check_test_cd (der, vid, pid, &reason))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_FAILED,
                   _("The built-in test Certification Declaration does not pass the station's own check: %s"), reason);
      return NULL;
    }
  return g_steal_pointer (&der);
}

GBytes *
ds_test_cd_load_or_build (const char *dir,
                          guint16     vid,
                          guint16     pid,
                          GError    **error)
{
  g_autofree char *name = g_strdup_printf ("test-cd-%04X-%04X.der", vid, pid);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *reason = NULL;
  g_autoptr(GBytes) der = NULL;

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      der = ds_util_read_bytes (path, DS_UTIL_MAX_CERT_FILE, error);
      if (der == NULL)
        return NULL;
      if (!check_test_cd (der, vid, pid, &reason))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("Cannot use the test Certification Declaration %s: %s; remove it to have a new one made"),
                       path, reason);
          return NULL;
        }
      return g_steal_pointer (&der);
    }
  der = ds_test_cd_build (vid, pid, error);
  if (der == NULL)
    return NULL;
  if (!ds_write_file_atomic (path, g_bytes_get_data (der, NULL), g_bytes_get_size (der), 0644, error))
    {
      g_prefix_error (error, _("Cannot keep the test Certification Declaration: "));
      return NULL;
    }
  return g_steal_pointer (&der);
}

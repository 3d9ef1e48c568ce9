/* The built-in test Certification Declaration: its signing key is the
 * Matter test CD signer ds_cd_parse() knows, and what it builds passes the
 * station's own validator for the product asked for. */
#include "config.h"

#include <openssl/evp.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-error.h"
#include "ds-test-cd.h"
#include "ds-verdict.h"

/* The embedded private key (Chip-Test-CD-Signing-Key) belongs to the
 * public key ds-cd.c checks test CDs with (the SDK's gTestCdPubkeyBytes):
 * same public point, and a signature by one verifies with the other. */
static void
test_signing_key (void)
{
  g_autoptr(EVP_PKEY) private_key = ds_test_cd_dup_signing_key ();
  g_autoptr(EVP_PKEY) public_key = ds_cd_dup_test_signer_key ();
  g_autoptr(EVP_MD_CTX) sign = EVP_MD_CTX_new ();
  g_autoptr(EVP_MD_CTX) verify = EVP_MD_CTX_new ();
  guint8 point_a[65], point_b[65], sig[80];
  size_t len_a = 0, len_b = 0, sig_len = sizeof sig;
  static const guint8 message[] = "a test CD payload";

  g_assert_nonnull (private_key);
  g_assert_nonnull (public_key);
  g_assert_cmpint (EVP_PKEY_eq (private_key, public_key), ==, 1);

  g_assert_cmpint (EVP_PKEY_get_octet_string_param (private_key, "pub", point_a, sizeof point_a, &len_a), ==, 1);
  g_assert_cmpint (EVP_PKEY_get_octet_string_param (public_key, "pub", point_b, sizeof point_b, &len_b), ==, 1);
  g_assert_cmpmem (point_a, len_a, point_b, len_b);

  g_assert_cmpint (EVP_DigestSignInit (sign, NULL, EVP_sha256 (), NULL, private_key), ==, 1);
  g_assert_cmpint (EVP_DigestSign (sign, sig, &sig_len, message, sizeof message), ==, 1);
  g_assert_cmpint (EVP_DigestVerifyInit (verify, NULL, EVP_sha256 (), NULL, public_key), ==, 1);
  g_assert_cmpint (EVP_DigestVerify (verify, sig, sig_len, message, sizeof message), ==, 1);
}

static void
check_cd (guint16 vid,
          guint16 pid)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) der = ds_test_cd_build (vid, pid, &error);
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  g_autoptr(DsCd) cd = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (der);
  cd = ds_cd_parse (der, NULL, verdict);
  g_assert_nonnull (cd);
  for (guint i = 0; i < verdict->violations->len; i++)
    g_test_message ("%s", ((DsViolation *) verdict->violations->pdata[i])->message);
  g_assert_true (ds_verdict_is_valid (verdict));
  g_assert_true (cd->signed_by_test_key);
  g_assert_cmpmem (cd->signer_kid, DS_CD_KID_LEN, ds_cd_test_kid, DS_CD_KID_LEN);
  g_assert_cmpuint (cd->format_version, ==, 1);
  g_assert_cmpuint (cd->vendor_id, ==, vid);
  g_assert_cmpuint (cd->product_ids->len, ==, 1);
  g_assert_cmpuint (g_array_index (cd->product_ids, guint16, 0), ==, pid);
  /* Certification type 0: development and test. */
  g_assert_cmpuint (cd->certification_type, ==, DS_CD_TYPE_DEVELOPMENT);
  g_assert_cmpstr (cd->certificate_id, ==, DS_TEST_CD_CERTIFICATE_ID);
  g_assert_cmpuint (cd->device_type_id, ==, DS_TEST_CD_DEVICE_TYPE);
  g_assert_false (cd->has_dac_origin);
  g_assert_null (cd->authorized_paas);
}

static void
test_build (void)
{
  check_cd (0xFFF1, 0x8000);
  check_cd (0xFFF2, 0x8001);
  check_cd (0x1234, 0x0001);
}

/* The same product gives the same bytes on every call (and so on every
 * station): a board locked with its CD is proven by reading back exactly
 * that CD.  Another product gives another CD, and the signature is a
 * valid one (ds_cd_parse() verifies it with the test signer's public key,
 * in test_build). */
static void
test_deterministic (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) first = ds_test_cd_build (0xFFF1, 0x8000, &error);
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GBytes) other = NULL;

  g_assert_no_error (error);
  second = ds_test_cd_build (0xFFF1, 0x8000, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (first, second));
  other = ds_test_cd_build (0xFFF1, 0x8001, &error);
  g_assert_no_error (error);
  g_assert_false (g_bytes_equal (first, other));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/test-cd/signing-key", test_signing_key);
  g_test_add_func ("/test-cd/build", test_build);
  g_test_add_func ("/test-cd/deterministic", test_deterministic);
  return g_test_run ();
}

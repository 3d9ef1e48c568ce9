/* The built-in test Certification Declaration. */
#include "config.h"

#include "ds-test-cd.h"

#include <glib/gi18n-lib.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
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

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_GROUP, EC_GROUP_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_POINT, EC_POINT_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ECDSA_SIG, ECDSA_SIG_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BN_CTX, BN_CTX_free)

/* r and s of an ECDSA P-256 signature with private scalar @d over the
 * SHA-256 @digest, with the nonce k = HMAC-SHA256(d, digest || counter)
 * mod n (a counter skips the astronomically rare k, r or s of zero). */
static gboolean
ecdsa_sign_derived (const BIGNUM *d,
                    const guint8  digest[SHA256_DIGEST_LENGTH],
                    BIGNUM       *r,
                    BIGNUM       *s)
{
  g_autoptr(EC_GROUP) group = EC_GROUP_new_by_curve_name (NID_X9_62_prime256v1);
  g_autoptr(BN_CTX) ctx = BN_CTX_new ();
  g_autoptr(EC_POINT) point = group != NULL ? EC_POINT_new (group) : NULL;
  g_autoptr(BIGNUM) z = BN_bin2bn (digest, SHA256_DIGEST_LENGTH, NULL);
  g_autoptr(BIGNUM) k = BN_new ();
  g_autoptr(BIGNUM) x = BN_new ();
  g_autoptr(BIGNUM) t = BN_new ();
  g_autoptr(BIGNUM) kinv = BN_new ();
  guint8 secret[32], block[SHA256_DIGEST_LENGTH + 1], mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  const BIGNUM *n;
  gboolean ok = FALSE;

  if (point == NULL || ctx == NULL || z == NULL || k == NULL || x == NULL || t == NULL || kinv == NULL ||
      BN_bn2binpad (d, secret, sizeof secret) != sizeof secret)
    return FALSE;
  n = EC_GROUP_get0_order (group);
  memcpy (block, digest, SHA256_DIGEST_LENGTH);
  for (guint counter = 0; counter < 256 && !ok; counter++)
    {
      block[SHA256_DIGEST_LENGTH] = (guint8) counter;
      if (HMAC (EVP_sha256 (), secret, sizeof secret, block, sizeof block, mac, &mac_len) == NULL ||
          BN_bin2bn (mac, (int) mac_len, k) == NULL || BN_nnmod (k, k, n, ctx) != 1)
        break;
      if (BN_is_zero (k))
        continue;
      /* r = (k·G).x mod n, s = k⁻¹ (z + r·d) mod n */
      if (EC_POINT_mul (group, point, k, NULL, NULL, ctx) != 1 ||
          EC_POINT_get_affine_coordinates (group, point, x, NULL, ctx) != 1 ||
          BN_nnmod (r, x, n, ctx) != 1 ||
          BN_mod_mul (t, r, d, n, ctx) != 1 || BN_mod_add (t, t, z, n, ctx) != 1 ||
          BN_mod_inverse (kinv, k, n, ctx) == NULL || BN_mod_mul (s, t, kinv, n, ctx) != 1)
        break;
      ok = !BN_is_zero (r) && !BN_is_zero (s);
    }
  OPENSSL_cleanse (secret, sizeof secret);
  BN_clear (k);
  BN_clear (kinv);
  return ok;
}

/* ECDSA P-256 with SHA-256 over @msg (a DER ECDSA-Sig-Value) whose nonce
 * is derived from the key and the message, so that the same payload always
 * gives the same signature: every station then makes the very same test CD
 * for a product, and a board locked with it is proven by reading it back
 * wherever it goes.  OpenSSL 3.0 has no deterministic ECDSA; a derived
 * nonce is no weakness for a key that is published anyway. */
static GBytes *
sign_deterministic (EVP_PKEY     *key,
                    const guint8 *msg,
                    gsize         len,
                    GError      **error)
{
  BIGNUM *d = NULL;
  BIGNUM *r = BN_new ();
  BIGNUM *s = BN_new ();
  g_autoptr(ECDSA_SIG) sig = ECDSA_SIG_new ();
  guint8 digest[SHA256_DIGEST_LENGTH];
  unsigned char *der = NULL;
  int der_len = 0;
  gboolean ok;
  GBytes *out;

  SHA256 (msg, len, digest);
  ok = r != NULL && s != NULL && sig != NULL && EVP_PKEY_get_bn_param (key, "priv", &d) == 1 &&
       ecdsa_sign_derived (d, digest, r, s);
  BN_clear_free (d);
  /* The signature owns r and s from here. */
  if (ok && ECDSA_SIG_set0 (sig, r, s) == 1)
    r = s = NULL;
  else
    ok = FALSE;
  BN_free (r);
  BN_free (s);
  if (!ok || (der_len = i2d_ECDSA_SIG (sig, &der)) <= 0)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Cannot sign the test Certification Declaration"));
      return NULL;
    }
  out = g_bytes_new (der, der_len);
  OPENSSL_free (der);
  return out;
}

GBytes *
ds_test_cd_build (guint16  vid,
                  guint16  pid,
                  GError **error)
{
  g_autoptr(EVP_PKEY) key = ds_test_cd_dup_signing_key ();
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) signature = NULL;
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
  payload = ds_cd_encode_payload (cd);
  signature = sign_deterministic (key, g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), error);
  if (signature == NULL)
    return NULL;
  der = ds_cd_wrap (payload, signature, ds_cd_test_kid);

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

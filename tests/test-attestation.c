/* The commissioner's attestation check as pure logic (ds-attestation):
 * the attestation-elements TLV built and parsed strictly, and the
 * signature over elements || challenge against the DAC. */
#include "config.h"

#include <openssl/ecdsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-attestation-check.h"
#include "ds-attestation.h"
#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-test-ca.h"
#include "ds-test-util.h"
#include "ds-trust-store.h"

typedef struct {
  EVP_PKEY *key;
  GBytes   *dac;
  GBytes   *cd;
  guint8    nonce[32];
  guint8    challenge[16];
} Fixture;

static GBytes *
sign (EVP_PKEY *key, GBytes *elements, const guint8 *challenge)
{
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  g_autoptr(GByteArray) msg = g_byte_array_new ();
  guint8 sig[80];
  size_t sig_len = sizeof sig;

  g_byte_array_append (msg, g_bytes_get_data (elements, NULL), g_bytes_get_size (elements));
  g_byte_array_append (msg, challenge, 16);
  g_assert_cmpint (EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, key), ==, 1);
  g_assert_cmpint (EVP_DigestSign (ctx, sig, &sig_len, msg->data, msg->len), ==, 1);
  return g_bytes_new (sig, sig_len);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  guint8 cd[300];

  f->key = EVP_EC_gen ("P-256");
  f->dac = ds_test_make_cert (f->key, f->key, "DAC", 1);
  memset (cd, 0x5A, sizeof cd);
  memcpy (cd, "\x30\x82\x01\x28", 4);
  f->cd = g_bytes_new (cd, sizeof cd);
  for (guint i = 0; i < 32; i++)
    f->nonce[i] = (guint8) i;
  memset (f->challenge, 0xC7, sizeof f->challenge);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  EVP_PKEY_free (f->key);
  g_bytes_unref (f->dac);
  g_bytes_unref (f->cd);
}

/* The TLV byte for byte (Matter core appendix A), and back. */
static void
test_build_parse (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) fw = g_bytes_new_static ("\x01\x02\x03", 3);
  g_autoptr(GBytes) tlv = ds_attestation_elements_build (f->cd, f->nonce, 32, 0x12345678, fw, &error);
  g_auto(DsAttestationElements) e = { 0 };
  const guint8 *p;
  gsize len = 0;

  g_assert_no_error (error);
  p = g_bytes_get_data (tlv, &len);
  g_assert_cmpuint (len, ==, 1 + 4 + 300 + 3 + 32 + 6 + 3 + 3 + 1);
  g_assert_cmpmem (p, 5, "\x15\x31\x01\x2C\x01", 5);             /* struct, CD: 2-byte length 300 */
  g_assert_cmpmem (p + 305, 3, "\x30\x02\x20", 3);               /* nonce */
  g_assert_cmpmem (p + 340, 6, "\x26\x03\x78\x56\x34\x12", 6);   /* timestamp */
  g_assert_cmpmem (p + 346, 6, "\x30\x04\x03\x01\x02\x03", 6);   /* firmware information */
  g_assert_cmphex (p[len - 1], ==, 0x18);
  g_assert_true (ds_attestation_elements_parse (tlv, &e, &error));
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (e.cd, f->cd));
  g_assert_cmpmem (g_bytes_get_data (e.nonce, NULL), g_bytes_get_size (e.nonce), f->nonce, 32);
  g_assert_cmphex (e.timestamp, ==, 0x12345678);
  g_assert_true (g_bytes_equal (e.firmware_info, fw));
}

static void
expect_malformed (const guint8 *bytes, gsize len)
{
  g_autoptr(GBytes) tlv = g_bytes_new (bytes, len);
  g_autoptr(GError) error = NULL;

  g_assert_false (ds_attestation_elements_parse (tlv, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

/* Elements a commissioner would refuse, and one it accepts. */
static void
test_parse_strict (Fixture *f, gconstpointer data)
{
  g_autoptr(GByteArray) ok = g_byte_array_new ();
  g_autoptr(GBytes) ok_bytes = NULL;
  guint8 nonce_el[35] = { 0x30, 0x02, 0x20 };
  const guint8 cd_el[] = { 0x30, 0x01, 0x02, 0x30, 0x00 };
  const guint8 ts_el[] = { 0x24, 0x03, 0x00 };       /* 1-byte unsigned is fine */
  const guint8 vendor[] = { 0xC4, 0xF1, 0xFF, 0x01, 0x00, 0x05, 0x00, 0x07 };  /* FQ tag, u8 */

  g_byte_array_append (ok, (const guint8 *) "\x15", 1);
  g_byte_array_append (ok, cd_el, sizeof cd_el);
  g_byte_array_append (ok, nonce_el, sizeof nonce_el);
  g_byte_array_append (ok, ts_el, sizeof ts_el);
  g_byte_array_append (ok, vendor, sizeof vendor);
  g_byte_array_append (ok, (const guint8 *) "\x18", 1);
  ok_bytes = g_bytes_new (ok->data, ok->len);
  g_assert_true (ds_attestation_elements_parse (ok_bytes, NULL, NULL));

  /* Not a structure; not closed; bytes after it. */
  expect_malformed ((const guint8 *) "\x16\x18", 2);
  expect_malformed (ok->data, ok->len - 1);
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, ok->data, ok->len);
    g_byte_array_append (b, (const guint8 *) "\x00", 1);
    expect_malformed (b->data, b->len);
  }
  /* The nonce one byte short (its length says 31). */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, ok->data, ok->len);
    b->data[1 + sizeof cd_el + 2] = 31;
    g_byte_array_remove_index (b, 1 + sizeof cd_el + 3);
    expect_malformed (b->data, b->len);
  }
  /* Tags out of order: the nonce before the CD. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, (const guint8 *) "\x15", 1);
    g_byte_array_append (b, nonce_el, sizeof nonce_el);
    g_byte_array_append (b, cd_el, sizeof cd_el);
    g_byte_array_append (b, ts_el, sizeof ts_el);
    g_byte_array_append (b, (const guint8 *) "\x18", 1);
    expect_malformed (b->data, b->len);
  }
  /* No timestamp. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, (const guint8 *) "\x15", 1);
    g_byte_array_append (b, cd_el, sizeof cd_el);
    g_byte_array_append (b, nonce_el, sizeof nonce_el);
    g_byte_array_append (b, (const guint8 *) "\x18", 1);
    expect_malformed (b->data, b->len);
  }
  /* A timestamp wider than 32 bits. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, (const guint8 *) "\x15", 1);
    g_byte_array_append (b, cd_el, sizeof cd_el);
    g_byte_array_append (b, nonce_el, sizeof nonce_el);
    g_byte_array_append (b, (const guint8 *) "\x27\x03\x00\x00\x00\x00\x01\x00\x00\x00\x18", 11);
    expect_malformed (b->data, b->len);
  }
  /* An unknown context tag, and a nested container. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, ok->data, ok->len - 1 - sizeof vendor);
    g_byte_array_append (b, (const guint8 *) "\x24\x05\x00\x18", 4);
    expect_malformed (b->data, b->len);
  }
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    g_byte_array_append (b, ok->data, ok->len - 1 - sizeof vendor);
    g_byte_array_append (b, (const guint8 *) "\xD5\xF1\xFF\x01\x00\x05\x00\x18\x18", 9);
    expect_malformed (b->data, b->len);
  }
  /* A string whose length runs past the end. */
  expect_malformed ((const guint8 *) "\x15\x31\x01\xFF\xFF\x00\x18", 7);
  expect_malformed ((const guint8 *) "\x15\x33\x01\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x18", 12);
}

/* A response signed by the DAC's key over elements || challenge verifies;
 * another nonce, CD, challenge, key, or one changed byte does not. */
static void
test_verify (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tlv = ds_attestation_elements_build (f->cd, f->nonce, 32, 0, NULL, &error);
  g_autoptr(GBytes) sig = sign (f->key, tlv, f->challenge);
  g_autoptr(EVP_PKEY) other_key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) other_dac = ds_test_make_cert (other_key, other_key, "DAC", 1);
  g_autoptr(GBytes) other_cd = g_bytes_new_static ("\x30\x00", 2);
  guint8 other_nonce[32], other_challenge[16];
  g_auto(DsAttestationElements) e = { 0 };

  g_assert_no_error (error);
  g_assert_true (ds_attestation_verify (tlv, sig, f->nonce, f->challenge, f->dac, f->cd, &e, &error));
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (e.cd, f->cd));
  g_assert_true (ds_attestation_verify (tlv, sig, f->nonce, f->challenge, f->dac, NULL, NULL, &error));
  g_assert_no_error (error);

  memcpy (other_nonce, f->nonce, 32);
  other_nonce[31] ^= 1;
  g_assert_false (ds_attestation_verify (tlv, sig, other_nonce, f->challenge, f->dac, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "nonce"));
  g_clear_error (&error);

  memcpy (other_challenge, f->challenge, 16);
  other_challenge[0] ^= 1;
  g_assert_false (ds_attestation_verify (tlv, sig, f->nonce, other_challenge, f->dac, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);

  g_assert_false (ds_attestation_verify (tlv, sig, f->nonce, f->challenge, other_dac, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);

  g_assert_false (ds_attestation_verify (tlv, sig, f->nonce, f->challenge, f->dac, other_cd, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* One byte of the CD inside the elements changed. */
  {
    gsize len = 0;
    guint8 *copy = g_memdup2 (g_bytes_get_data (tlv, &len), g_bytes_get_size (tlv));
    g_autoptr(GBytes) tampered = NULL;

    copy[100] ^= 0x01;
    tampered = g_bytes_new_take (copy, len);
    g_assert_false (ds_attestation_verify (tampered, sig, f->nonce, f->challenge, f->dac, NULL, NULL, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }
}

/* A CD-signing certificate (self-signed, with a SKID) in @signers, and a
 * development CD for vendor FFF1 product 8000 signed by it. */
static GBytes *
make_signed_cd (GPtrArray *signers)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(GError) error = NULL;
  guint16 pid = 0x8000;
  GBytes *der;

  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 9);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "Test CD Signer", -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600 * 24 * 365);
  X509_set_pubkey (cert, key);
  g_assert_true (ds_cert_add_ext (cert, NULL, NID_subject_key_identifier, "hash"));
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  cd->format_version = 1;
  cd->vendor_id = 0xFFF1;
  g_array_append_val (cd->product_ids, pid);
  cd->device_type_id = 0x0100;
  cd->certificate_id = g_strdup ("ZIG20141ZB330001-24");
  cd->certification_type = DS_CD_TYPE_DEVELOPMENT;
  der = ds_cd_encode (cd, key, ASN1_STRING_get0_data (X509_get0_subject_key_id (cert)), &error);
  g_assert_no_error (error);
  g_ptr_array_add (signers, g_steal_pointer (&cert));
  return der;
}

/* The whole check of the attest step: a good response from a board with a
 * DAC of the test CA passes; the CD or chain the gate refuses, or a
 * signature over other elements, fails it with the cause. */
static void
test_check_response (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-attestation-XXXXXX", &error);
  g_autofree char *pki = g_build_filename (tmp, "pki", NULL);
  g_autoptr(DsTestCa) ca = ds_test_ca_new (pki, &error);
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  g_autoptr(GPtrArray) signers = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  g_autoptr(GBytes) cd = make_signed_cd (signers);
  g_autoptr(DsTrustStore) store = ds_trust_store_new ();
  g_autoptr(DsTrustStore) empty = ds_trust_store_new ();
  g_autoptr(DsIssued) issued = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(GBytes) tlv = NULL;
  g_autoptr(GBytes) sig = NULL;
  g_autoptr(GBytes) other_tlv = NULL;
  DsVerifyRequest gate = { 0 };
  DsVerifyRequest bad;
  unsigned char *der = NULL;
  int len;

  g_assert_no_error (error);
  X509_REQ_set_pubkey (req, key);
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  len = i2d_X509_REQ (req, &der);
  g_assert_cmpint (len, >, 0);
  csr = g_bytes_new (der, len);
  OPENSSL_free (der);
  {
    DsIssueRequest ir = { csr, "00112233445566778899AABB", 0xFFF1, 0x8000 };

    issued = ds_ca_issue (DS_CA (ca), &ir, NULL, &error);
  }
  g_assert_no_error (error);
  g_assert_true (ds_trust_store_add_der (store, issued->paa_der, "test", &error));
  g_assert_no_error (error);

  tlv = ds_attestation_elements_build (cd, f->nonce, 32, 0, NULL, &error);
  g_assert_no_error (error);
  sig = sign (key, tlv, f->challenge);
  gate.dac = issued->dac_der;
  gate.pai = issued->pai_der;
  gate.cd = cd;
  gate.cd_signers = signers;
  gate.trust_store = store;
  gate.has_product = TRUE;
  gate.product_vid = 0xFFF1;
  gate.product_pid = 0x8000;
  g_assert_true (ds_attestation_check_response (&gate, tlv, sig, f->nonce, f->challenge, &error));
  g_assert_no_error (error);

  /* The chain to no trusted PAA. */
  bad = gate;
  bad.trust_store = empty;
  g_assert_false (ds_attestation_check_response (&bad, tlv, sig, f->nonce, f->challenge, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "commissioner's check ("));
  g_clear_error (&error);

  /* A CD signed by no trusted CD signer. */
  bad = gate;
  bad.cd_signers = NULL;
  g_assert_false (ds_attestation_check_response (&bad, tlv, sig, f->nonce, f->challenge, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "(cd."));
  g_clear_error (&error);

  /* A product the CD does not list. */
  bad = gate;
  bad.product_pid = 0x8001;
  g_assert_false (ds_attestation_check_response (&bad, tlv, sig, f->nonce, f->challenge, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);

  /* The signature made over other elements (another timestamp). */
  other_tlv = ds_attestation_elements_build (cd, f->nonce, 32, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (ds_attestation_check_response (&gate, other_tlv, sig, f->nonce, f->challenge, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "signature"));
  g_clear_error (&error);

  g_clear_object (&ca);
  ds_test_rm_rf (tmp);
}

/* DER to Matter's raw r || s, which still verifies once turned back. */
static void
test_signature_raw (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) tlv = ds_attestation_elements_build (f->cd, f->nonce, 32, 0, NULL, &error);
  g_autoptr(GBytes) sig = sign (f->key, tlv, f->challenge);
  g_autoptr(GBytes) raw = ds_attestation_signature_to_raw (sig, &error);
  g_autoptr(GBytes) junk = g_bytes_new_static ("\x30\x03\x02\x01", 4);
  ECDSA_SIG *s = ECDSA_SIG_new ();
  const guint8 *r;
  unsigned char *der = NULL;
  int der_len;

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (raw), ==, 64);
  r = g_bytes_get_data (raw, NULL);
  ECDSA_SIG_set0 (s, BN_bin2bn (r, 32, NULL), BN_bin2bn (r + 32, 32, NULL));
  der_len = i2d_ECDSA_SIG (s, &der);
  g_assert_cmpmem (der, der_len, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig));
  OPENSSL_free (der);
  ECDSA_SIG_free (s);

  g_assert_null (ds_attestation_signature_to_raw (junk, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

/* What build refuses: no CD, a CD over 600 bytes, a short nonce. */
static void
test_build_refuses (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autofree guint8 *big = g_malloc0 (601);
  g_autoptr(GBytes) big_cd = g_bytes_new (big, 601);

  g_assert_null (ds_attestation_elements_build (empty, f->nonce, 32, 0, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (ds_attestation_elements_build (big_cd, f->nonce, 32, 0, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (ds_attestation_elements_build (f->cd, f->nonce, 31, 0, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/attestation/build-parse", test_build_parse);
  ADD ("/attestation/parse-strict", test_parse_strict);
  ADD ("/attestation/verify", test_verify);
  ADD ("/attestation/signature-raw", test_signature_raw);
  ADD ("/attestation/build-refuses", test_build_refuses);
  ADD ("/attestation/check-response", test_check_response);
  return g_test_run ();
}

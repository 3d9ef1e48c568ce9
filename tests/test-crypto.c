/* Unit tests of the CSR checks and certificate helpers; every key is made
 * at run time. */
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-test-util.h"

static GBytes *
csr_for (EVP_PKEY   *key,
         const char *cn,
         const char *vid,
         const char *pid,
         const EVP_MD *md)
{
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  X509_NAME *name = X509_NAME_new ();
  int nid_vid, nid_pid;
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  ds_crypto_init (&nid_vid, &nid_pid);
  if (cn != NULL)
    X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  /* "FFF1,FFF2": one attribute each. */
  for (int k = 0; k < 2; k++)
    {
      g_auto(GStrv) ids = g_strsplit (k == 0 ? (vid != NULL ? vid : "") : (pid != NULL ? pid : ""), ",", -1);

      for (guint j = 0; ids[j] != NULL; j++)
        if (*ids[j] != '\0')
          X509_NAME_add_entry_by_NID (name, k == 0 ? nid_vid : nid_pid, MBSTRING_UTF8,
                                      (const unsigned char *) ids[j], -1, -1, 0);
    }
  X509_REQ_set_subject_name (req, name);
  X509_NAME_free (name);
  X509_REQ_set_pubkey (req, key);
  g_assert_cmpint (X509_REQ_sign (req, key, md), >, 0);
  len = i2d_X509_REQ (req, &der);
  g_assert_cmpint (len, >, 0);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

static gboolean
check (GBytes              *der,
       const DsCsrSubject  *expected,
       GError             **error)
{
  g_autoptr(X509_REQ) req = ds_csr_parse (der, error);

  if (req == NULL)
    return FALSE;
  return ds_csr_check (req, expected, error);
}

static const DsCsrSubject expected = { "DAC 0011", 0xFFF1, 0x8000 };

static void
test_csr_good (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) der = csr_for (key, "DAC 0011", "FFF1", "8000", EVP_sha256 ());
  g_autoptr(GError) error = NULL;
  g_autoptr(X509_REQ) req = ds_csr_parse (der, &error);
  g_autoptr(EVP_PKEY) pub = NULL;

  g_assert_no_error (error);
  g_assert_true (ds_csr_check (req, &expected, &error));
  g_assert_no_error (error);
  pub = ds_csr_get_pubkey (req);
  g_assert_true (ds_pubkey_equal (pub, key));
}

static void
test_csr_bad_signature (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) der = csr_for (key, "DAC 0011", "FFF1", "8000", EVP_sha256 ());
  g_autoptr(GError) error = NULL;
  gsize len = g_bytes_get_size (der);
  g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (der, NULL), len);
  g_autoptr(GBytes) bad = NULL;

  /* The signature's last byte is the last byte of the DER. */
  copy[len - 1] ^= 0x01;
  bad = g_bytes_new (copy, len);
  g_assert_false (check (bad, &expected, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "proof of possession"));
}

static void
test_csr_wrong_curve (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-384");
  g_autoptr(GBytes) der = csr_for (key, "DAC 0011", "FFF1", "8000", EVP_sha256 ());
  g_autoptr(GError) error = NULL;

  g_assert_false (check (der, &expected, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "P-256"));
  g_assert_nonnull (strstr (error->message, "secp384r1"));
}

static void
test_csr_wrong_hash (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) der = csr_for (key, "DAC 0011", "FFF1", "8000", EVP_sha384 ());
  g_autoptr(GError) error = NULL;

  g_assert_false (check (der, &expected, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "ecdsa-with-SHA256"));
}

static void
test_csr_wrong_subject (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  struct {
    const char *cn, *vid, *pid, *needle;
  } cases[] = {
    { "DAC 9999", "FFF1", "8000", "DAC 9999" },
    { "DAC 0011", "FFF2", "8000", "VID FFF2" },
    { "DAC 0011", "FFF1", "8001", "PID 8001" },
    { "DAC 0011", NULL, "8000", "no vendor ID" },
    { "DAC 0011", "FFF1", NULL, "no product ID" },
    { "DAC 0011", "fff1", "8000", "vendor ID is not four upper-case hex digits" },  /* lower case is not a Matter ID */
    { "DAC 0011", "FFF1,FFF1", "8000", "two vendor IDs" },
    { "DAC 0011", "FFF1,FFF2", "8000", "two vendor IDs" },
    { "DAC 0011", "FFF1", "8000,8000", "two product IDs" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) der = csr_for (key, cases[i].cn, cases[i].vid, cases[i].pid, EVP_sha256 ());
      g_autoptr(GError) error = NULL;

      g_assert_false (check (der, &expected, &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, cases[i].needle));
    }
}

static void
test_csr_garbage (void)
{
  const guint8 junk[] = { 0x30, 0x82, 0x01, 0x00, 0xFF, 0xFF };
  g_autoptr(GBytes) der = g_bytes_new (junk, sizeof junk);
  g_autoptr(GBytes) empty = g_bytes_new (NULL, 0);
  g_autoptr(GError) error = NULL;
  g_autoptr(X509_REQ) a = ds_csr_parse (der, &error);

  g_assert_null (a);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_null (ds_csr_parse (empty, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

/* A self-signed certificate with @subject_cn and optional Matter IDs. */
static X509 *
self_signed (EVP_PKEY   *key,
             const char *cn,
             const char *vid,
             const char *pid)
{
  X509 *cert = X509_new ();
  X509_NAME *name = X509_NAME_new ();
  int nid_vid, nid_pid;

  ds_crypto_init (&nid_vid, &nid_pid);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  if (vid != NULL)
    X509_NAME_add_entry_by_NID (name, nid_vid, MBSTRING_UTF8, (const unsigned char *) vid, -1, -1, 0);
  if (pid != NULL)
    X509_NAME_add_entry_by_NID (name, nid_pid, MBSTRING_UTF8, (const unsigned char *) pid, -1, -1, 0);
  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 0x1234);
  X509_set_subject_name (cert, name);
  X509_set_issuer_name (cert, name);
  X509_NAME_free (name);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_set_pubkey (cert, key);
  X509_sign (cert, key, EVP_sha256 ());
  return cert;
}

static void
test_vid_pid_forms (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) attrs = self_signed (key, "x", "FFF1", "8000");
  g_autoptr(X509) legacy = self_signed (key, "ACME Mvid:FFF2 Mpid:00B1", NULL, NULL);
  g_autoptr(X509) both = self_signed (key, "Mvid:FFF3 Mpid:0001", "FFF1", NULL);
  g_autoptr(X509) none = self_signed (key, "plain", NULL, NULL);
  gboolean hv, hp;
  guint16 v = 0, p = 0;

  g_assert_true (ds_cert_get_vid_pid (attrs, &hv, &v, &hp, &p));
  g_assert_true (hv && hp);
  g_assert_cmphex (v, ==, 0xFFF1);
  g_assert_cmphex (p, ==, 0x8000);

  g_assert_true (ds_cert_get_vid_pid (legacy, &hv, &v, &hp, &p));
  g_assert_cmphex (v, ==, 0xFFF2);
  g_assert_cmphex (p, ==, 0x00B1);

  /* Any attribute wins over the CN entirely, as in the Matter SDK: no
   * mixing, so the CN's PID does not fill in the missing attribute. */
  g_assert_true (ds_cert_get_vid_pid (both, &hv, &v, &hp, &p));
  g_assert_true (hv);
  g_assert_cmphex (v, ==, 0xFFF1);
  g_assert_false (hp);

  g_assert_false (ds_cert_get_vid_pid (none, &hv, &v, &hp, &p));
  g_assert_false (hv);
  g_assert_false (hp);
}

static void
test_fingerprints_and_serial (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(EVP_PKEY) other = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = self_signed (key, "x", NULL, NULL);
  g_autoptr(GBytes) der = ds_cert_to_der (cert);
  g_autofree char *pem = ds_cert_to_pem (cert);
  g_autoptr(GBytes) pem_bytes = g_bytes_new (pem, strlen (pem));
  g_autoptr(GError) error = NULL;
  g_autoptr(X509) from_pem = ds_cert_parse (pem_bytes, &error);
  g_autofree char *fp = ds_cert_fingerprint (cert);
  g_autofree char *fp2 = NULL;
  g_autofree char *expected_fp = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, der);
  g_autofree char *serial = ds_cert_serial_hex (cert);
  g_autofree char *kfp = ds_pubkey_fingerprint (key);

  g_assert_no_error (error);
  fp2 = ds_cert_fingerprint (from_pem);
  g_assert_cmpstr (fp, ==, expected_fp);
  g_assert_cmpstr (fp, ==, fp2);
  g_assert_cmpuint (strlen (fp), ==, 64);
  g_assert_cmpstr (serial, ==, "1234");
  g_assert_cmpuint (strlen (kfp), ==, 64);
  g_assert_true (ds_pubkey_equal (key, key));
  g_assert_false (ds_pubkey_equal (key, other));
}

/* The SPKI shortcut gives the same fingerprint as encoding the key, for
 * the canonical P-256 form it hashes as it stands and for the forms it
 * hands to the encoder: a compressed point, another curve. */
static void
test_spki_fingerprint (void)
{
  const char *curves[] = { "P-256", "P-256", "P-384" };
  const char *formats[] = { "uncompressed", "compressed", "uncompressed" };

  for (gsize i = 0; i < G_N_ELEMENTS (curves); i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen (curves[i]);
      g_autoptr(X509) cert = NULL;
      g_autoptr(GBytes) der = NULL;
      g_autoptr(X509) parsed = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *by_key = NULL;
      g_autofree char *by_spki = NULL;
      unsigned char *spki = NULL;
      int spki_len;

      g_assert_cmpint (EVP_PKEY_set_utf8_string_param (key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                                       formats[i]), ==, 1);
      cert = self_signed (key, "x", NULL, NULL);
      der = ds_cert_to_der (cert);
      parsed = ds_cert_parse (der, &error);
      g_assert_no_error (error);
      spki_len = i2d_X509_PUBKEY (X509_get_X509_PUBKEY (parsed), &spki);
      /* 91 bytes: the hashed-as-is form; 59 or 120: through the encoder. */
      g_assert_cmpint (spki_len, ==, i == 0 ? 91 : i == 1 ? 59 : 120);
      OPENSSL_free (spki);
      by_key = ds_pubkey_fingerprint (X509_get0_pubkey (parsed));
      by_spki = ds_spki_fingerprint (X509_get_X509_PUBKEY (parsed));
      g_assert_nonnull (by_key);
      g_assert_cmpstr (by_spki, ==, by_key);
    }
}

static void
test_signature (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(EVP_PKEY) other = EVP_EC_gen ("P-256");
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  const guint8 msg[32] = { 1, 2, 3 };
  guint8 sig[80];
  size_t sig_len = sizeof sig;
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (EVP_DigestSignInit (ctx, NULL, EVP_sha256 (), NULL, key), ==, 1);
  g_assert_cmpint (EVP_DigestSign (ctx, sig, &sig_len, msg, sizeof msg), ==, 1);
  g_assert_true (ds_verify_signature (key, msg, sizeof msg, sig, sig_len, &error));
  g_assert_no_error (error);
  g_assert_false (ds_verify_signature (other, msg, sizeof msg, sig, sig_len, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  g_assert_false (ds_verify_signature (key, (const guint8 *) "other", 5, sig, sig_len, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

static void
test_write_file_atomic (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-crypto-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (tmp, "a", "b", NULL);
  g_autofree char *path = g_build_filename (dir, "secret", NULL);
  g_autofree char *contents = NULL;
  GStatBuf st;

  g_assert_no_error (error);
  g_assert_true (ds_write_file_atomic (path, "hello", 5, 0600, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "hello");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);

  /* The unsynced variant replaces the file whole, with its mode, and
   * leaves no temporary file behind. */
  g_free (g_steal_pointer (&contents));
  g_assert_true (ds_write_file_replace (path, "bye", 3, 0644, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "bye");
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0644);
  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    guint n = 0;

    while (g_dir_read_name (d) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
  g_unlink (path);
  g_rmdir (dir);
  g_free (g_steal_pointer (&dir));
  dir = g_build_filename (tmp, "a", NULL);
  g_rmdir (dir);
  g_rmdir (tmp);
}

/* Names a board or a CA wrote reach messages and records made safe. */
static void
test_hostile_names (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = self_signed (key, "ACME \302\233" "2J\033[31m PAI", "FFF1", NULL);
  g_autofree char *subject = ds_cert_subject (cert);
  g_autoptr(GBytes) der = csr_for (key, "DAC \033[2J\302\233" "31m", "FFF1", "8000", EVP_sha256 ());
  g_autoptr(GError) error = NULL;

  g_assert_null (strstr (subject, "\302\233"));
  g_assert_null (strchr (subject, '\033'));
  g_assert_nonnull (strstr (subject, "ACME \\xC2\\x9B2J\\x1B[31m PAI"));
  g_assert_false (check (der, &expected, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_null (strchr (error->message, '\033'));
  g_assert_null (strstr (error->message, "\302\233"));
  g_assert_nonnull (strstr (error->message, "DAC \\x1B[2J\\xC2\\x9B31m"));
}

/* A subject reads as people write it: a comma in a value is a comma, not
 * RFC 2253's "\\,"; controls beside it are still made visible. */
static void
test_subject_comma (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) plain = self_signed (key, "Matter Test PAA (Acme, Inc.)", "FFF1", NULL);
  g_autoptr(X509) hostile = self_signed (key, "Acme, Inc.\033[2J\\", NULL, NULL);
  g_autofree char *subject = ds_cert_subject (plain);
  g_autofree char *hostile_subject = ds_cert_subject (hostile);

  g_assert_nonnull (strstr (subject, "CN=Matter Test PAA (Acme, Inc.)"));
  g_assert_true (g_str_has_suffix (subject, ",CN=Matter Test PAA (Acme, Inc.)"));
  g_assert_null (strchr (subject, '\\'));
  g_assert_cmpstr (hostile_subject, ==, "CN=Acme, Inc.\\x1B[2J\\\\");
}

/* ---- strict DER -------------------------------------------------------- */

static void
test_der_check (void)
{
  const struct {
    const char   *name;
    const guint8  bytes[16];
    gsize         len;
    const char   *problem;  /* NULL: DER */
  } cases[] = {
    { "short", { 0x30, 0x03, 0x02, 0x01, 0x05 }, 5, NULL },
    { "empty sequence", { 0x30, 0x00 }, 2, NULL },
    { "indefinite", { 0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00 }, 7, "indefinite" },
    { "the issue's", { 0x30, 0x83, 0x00, 0x00, 0x01, 0xAB }, 6, "not minimal" },
    { "long form for 1", { 0x30, 0x81, 0x01, 0xAB }, 4, "not minimal" },
    { "leading zero", { 0x04, 0x82, 0x00, 0x01, 0xAB }, 5, "not minimal" },
    { "nested", { 0x30, 0x04, 0x04, 0x81, 0x01, 0xAB }, 6, "not minimal" },
    { "nested indefinite", { 0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00 }, 8, "indefinite" },
    { "trailing", { 0x30, 0x00, 0x00 }, 3, "trailing" },
    { "cut", { 0x30, 0x05, 0x02, 0x01 }, 4, "longer than the data" },
    { "high tag, minimal", { 0x9F, 0x1F, 0x01, 0x00 }, 4, NULL },
    { "high tag, low number", { 0x9F, 0x05, 0x01, 0x00 }, 4, "tag number is not minimal" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *problem = ds_der_check (cases[i].bytes, cases[i].len);

      g_test_message ("%s", cases[i].name);
      if (cases[i].problem == NULL)
        g_assert_null (problem);
      else
        {
          g_assert_nonnull (problem);
          g_assert_nonnull (strstr (problem, cases[i].problem));
        }
    }
  g_assert_nonnull (ds_der_check (NULL, 0));
}

/* A certificate and a CSR in BER (indefinite or non-minimal lengths, outside
 * or inside) are refused; OpenSSL alone takes them. */
static void
test_der_strict_cert_and_csr (void)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = self_signed (key, "x", "FFF1", NULL);
  g_autoptr(GBytes) cert_der = ds_cert_to_der (cert);
  g_autoptr(GBytes) csr_der = csr_for (key, "DAC 0011", "FFF1", "8000", EVP_sha256 ());
  g_autoptr(GError) error = NULL;
  g_autoptr(X509) again = ds_cert_parse (cert_der, &error);
  g_autoptr(X509_REQ) req = ds_csr_parse (csr_der, &error);

  g_assert_no_error (error);
  g_assert_nonnull (again);
  g_assert_nonnull (req);

  for (int inner = 0; inner < 2; inner++)
    for (int form = DS_TEST_DER_LONG_LENGTH; form <= DS_TEST_DER_INDEFINITE; form++)
      {
        g_autoptr(GBytes) bad_cert = ds_test_der_reencode (cert_der, inner, form);
        g_autoptr(GBytes) bad_csr = ds_test_der_reencode (csr_der, inner, form);
        g_autoptr(X509) c = NULL;
        g_autoptr(X509_REQ) r = NULL;
        g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
        g_autoptr(X509) from_pem = NULL;
        g_autoptr(GBytes) pem = NULL;
        char *pem_data = NULL;
        long pem_len;

        g_test_message ("inner %d form %d", inner, form);
        c = ds_cert_parse (bad_cert, &error);
        g_assert_null (c);
        g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
        g_assert_nonnull (strstr (error->message, "not DER"));
        g_assert_nonnull (ds_cert_der_problem (bad_cert));
        g_clear_error (&error);

        /* The same bytes in PEM armour. */
        PEM_write_bio (bio, "CERTIFICATE", "", g_bytes_get_data (bad_cert, NULL), (long) g_bytes_get_size (bad_cert));
        pem_len = BIO_get_mem_data (bio, &pem_data);
        pem = g_bytes_new (pem_data, (gsize) pem_len);
        from_pem = ds_cert_parse (pem, &error);
        g_assert_null (from_pem);
        g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
        g_assert_nonnull (strstr (error->message, "not DER"));
        g_clear_error (&error);

        r = ds_csr_parse (bad_csr, &error);
        g_assert_null (r);
        g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
        g_clear_error (&error);
      }
  /* DER re-encoded minimally is the same DER, and parses. */
  {
    g_autoptr(GBytes) same = ds_test_der_reencode (cert_der, TRUE, DS_TEST_DER_MINIMAL);
    g_autoptr(X509) c = ds_cert_parse (same, &error);

    g_assert_true (g_bytes_equal (same, cert_der));
    g_assert_no_error (error);
    g_assert_nonnull (c);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/csr/good", test_csr_good);
  g_test_add_func ("/csr/bad-signature", test_csr_bad_signature);
  g_test_add_func ("/csr/wrong-curve", test_csr_wrong_curve);
  g_test_add_func ("/csr/wrong-hash", test_csr_wrong_hash);
  g_test_add_func ("/csr/wrong-subject", test_csr_wrong_subject);
  g_test_add_func ("/csr/garbage", test_csr_garbage);
  g_test_add_func ("/cert/vid-pid", test_vid_pid_forms);
  g_test_add_func ("/crypto/hostile-names", test_hostile_names);
  g_test_add_func ("/crypto/subject-comma", test_subject_comma);
  g_test_add_func ("/der/check", test_der_check);
  g_test_add_func ("/der/strict-cert-and-csr", test_der_strict_cert_and_csr);
  g_test_add_func ("/cert/fingerprints", test_fingerprints_and_serial);
  g_test_add_func ("/cert/spki-fingerprint", test_spki_fingerprint);
  g_test_add_func ("/crypto/signature", test_signature);
  g_test_add_func ("/crypto/write-atomic", test_write_file_atomic);
  return g_test_run ();
}

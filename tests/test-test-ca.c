/* Unit tests of the built-in test CA: its files, its certificate profile,
 * and what it refuses. */
#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-error.h"
#include "ds-test-ca.h"
#include "ds-test-util.h"

typedef struct {
  char     *tmp;
  char     *pki;
  DsTestCa *ca;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-ca-XXXXXX", &error);
  g_assert_no_error (error);
  f->pki = g_build_filename (f->tmp, "data", "pki", NULL);
  f->ca = ds_test_ca_new (f->pki, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->ca);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_clear_object (&f->ca);
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->pki);
}

static GBytes *
make_csr (EVP_PKEY *key)
{
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  X509_REQ_set_pubkey (req, key);
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  len = i2d_X509_REQ (req, &der);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

static DsIssued *
issue (Fixture  *f,
       EVP_PKEY *key,
       guint16   vid,
       guint16   pid,
       GError  **error)
{
  g_autoptr(GBytes) csr = make_csr (key);
  DsIssueRequest req = { csr, "00112233445566778899AABB", vid, pid };

  return ds_ca_issue (DS_CA (f->ca), &req, NULL, error);
}

static void
test_files_and_modes (Fixture       *f,
                      gconstpointer  data)
{
  const char *files[] = { "paa.pem", "pai.pem", "paa-key.pem", "pai-key.pem" };
  GStatBuf st;

  g_assert_cmpint (g_stat (f->pki, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (f->pki, files[i], NULL);

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      if (strstr (files[i], "key") != NULL)
        g_assert_cmpint (st.st_mode & 0777, ==, 0600);
    }
  g_assert_true (ds_ca_is_test (DS_CA (f->ca)));
  g_assert_cmpstr (ds_ca_get_name (DS_CA (f->ca)), ==, "test");
  g_assert_cmpuint (ds_test_ca_get_vid (f->ca), ==, 0xFFF1);
}

static void
test_reload_same_pki (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsTestCa) again = ds_test_ca_new (f->pki, &error);
  g_autoptr(GBytes) a = ds_ca_dup_paa (DS_CA (f->ca));
  g_autoptr(GBytes) b = NULL;

  g_assert_no_error (error);
  b = ds_ca_dup_paa (DS_CA (again));
  g_assert_true (g_bytes_equal (a, b));
}

static void
test_loose_key_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *key = g_build_filename (f->pki, "pai-key.pem", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsTestCa) again = NULL;

  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  again = ds_test_ca_new (f->pki, &error);
  g_assert_null (again);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "0600"));
}

static void
test_dac_profile (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GError) error = NULL;
  g_autoptr(DsIssued) issued = issue (f, key, 0xFFF1, 0x8000, &error);
  g_autoptr(X509) dac = NULL;
  g_autoptr(X509) pai = NULL;
  g_autoptr(X509) paa = NULL;
  g_autoptr(EVP_PKEY) pub = NULL;
  BASIC_CONSTRAINTS *bc;
  int crit = -1;
  const ASN1_INTEGER *serial;
  const ASN1_TIME *not_after;
  gboolean hv, hp;
  guint16 v = 0, p = 0;

  g_assert_no_error (error);
  dac = ds_cert_parse (issued->dac_der, &error);
  g_assert_no_error (error);
  pai = ds_cert_parse (issued->pai_der, &error);
  g_assert_no_error (error);
  paa = ds_cert_parse (issued->paa_der, &error);
  g_assert_no_error (error);

  g_assert_cmpint (X509_get_version (dac), ==, X509_VERSION_3);
  g_assert_cmpint (X509_get_signature_nid (dac), ==, NID_ecdsa_with_SHA256);
  pub = X509_get_pubkey (dac);
  g_assert_true (ds_pubkey_equal (pub, key));

  bc = X509_get_ext_d2i (dac, NID_basic_constraints, &crit, NULL);
  g_assert_nonnull (bc);
  g_assert_cmpint (crit, ==, 1);
  g_assert_false (bc->ca);
  BASIC_CONSTRAINTS_free (bc);
  g_assert_cmphex (X509_get_key_usage (dac), ==, KU_DIGITAL_SIGNATURE);
  ASN1_BIT_STRING_free (X509_get_ext_d2i (dac, NID_key_usage, &crit, NULL));
  g_assert_cmpint (crit, ==, 1);
  g_assert_nonnull (X509_get0_subject_key_id (dac));
  g_assert_nonnull (X509_get0_authority_key_id (dac));
  g_assert_cmpint (ASN1_OCTET_STRING_cmp (X509_get0_authority_key_id (dac), X509_get0_subject_key_id (pai)), ==, 0);

  serial = X509_get0_serialNumber (dac);
  g_assert_cmpint (ASN1_STRING_length (serial), <=, 20);
  g_assert_cmpint (ASN1_STRING_type (serial), ==, V_ASN1_INTEGER);  /* positive */

  not_after = X509_get0_notAfter (dac);
  g_assert_cmpint (ASN1_STRING_type (not_after), ==, V_ASN1_GENERALIZEDTIME);
  g_assert_cmpstr ((const char *) ASN1_STRING_get0_data (not_after), ==, "99991231235959Z");

  g_assert_true (ds_cert_get_vid_pid (dac, &hv, &v, &hp, &p));
  g_assert_cmphex (v, ==, 0xFFF1);
  g_assert_cmphex (p, ==, 0x8000);
  g_assert_true (ds_cert_get_vid_pid (pai, &hv, &v, &hp, &p));
  g_assert_true (hv);
  g_assert_false (hp);

  /* The PAI: CA with path length 0, certificate and CRL signing. */
  bc = X509_get_ext_d2i (pai, NID_basic_constraints, &crit, NULL);
  g_assert_true (bc->ca);
  g_assert_cmpint (ASN1_INTEGER_get (bc->pathlen), ==, 0);
  BASIC_CONSTRAINTS_free (bc);
  g_assert_cmphex (X509_get_key_usage (pai), ==, KU_KEY_CERT_SIGN | KU_CRL_SIGN);

  /* And the station's own check accepts it. */
  g_assert_true (ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error));
  g_assert_no_error (error);
}

static void
test_openssl_verifies (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GError) error = NULL;
  g_autoptr(DsIssued) issued = issue (f, key, 0xFFF1, 0x8001, &error);
  g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, NULL);
  g_autofree char *pem = ds_cert_to_pem (dac);
  g_autofree char *dac_path = g_build_filename (f->tmp, "dac.pem", NULL);
  const char *argv[] = { "openssl", "verify", "-x509_strict", "-CAfile", ds_test_ca_get_paa_path (f->ca),
                         "-untrusted", ds_test_ca_get_pai_path (f->ca), dac_path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  int status = 0;

  if (openssl == NULL)
    {
      g_test_skip ("the openssl command is not installed");
      return;
    }
  g_assert_true (g_file_set_contents (dac_path, pem, -1, NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, ": OK"));
}

static void
test_distinct_serials (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GHashTable) serials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autoptr(GError) error = NULL;
      g_autoptr(DsIssued) issued = issue (f, key, 0xFFF1, 0x8000, &error);
      g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, NULL);
      char *serial = ds_cert_serial_hex (dac);

      g_assert_false (g_hash_table_contains (serials, serial));
      g_hash_table_add (serials, serial);
    }
}

static void
test_refusals (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = make_csr (key);
  g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (csr, NULL), g_bytes_get_size (csr));
  g_autoptr(GBytes) bad_csr = NULL;
  DsIssueRequest req = { NULL, "00112233445566778899AABB", 0xFFF1, 0x8000 };
  DsIssued *issued;

  /* A CSR whose signature does not verify: no proof of possession. */
  bad[g_bytes_get_size (csr) - 1] ^= 0x01;
  bad_csr = g_bytes_new (bad, g_bytes_get_size (csr));
  req.csr_der = bad_csr;
  issued = ds_ca_issue (DS_CA (f->ca), &req, NULL, &error);
  g_assert_null (issued);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* Another vendor: the test CA's PAI is scoped to 0xFFF1. */
  req.csr_der = csr;
  req.vid = 0x1234;
  issued = ds_ca_issue (DS_CA (f->ca), &req, NULL, &error);
  g_assert_null (issued);
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
}

static void
test_dac_check_rejects (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GError) error = NULL;
  g_autoptr(DsIssued) issued = issue (f, key, 0xFFF1, 0x8000, &error);
  g_autofree char *other_dir = g_build_filename (f->tmp, "other-pki", NULL);
  g_autoptr(DsTestCa) other = ds_test_ca_new (other_dir, &error);
  g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, NULL);
  g_autoptr(X509) pai = ds_cert_parse (issued->pai_der, NULL);
  g_autoptr(X509) paa = ds_cert_parse (issued->paa_der, NULL);
  g_autoptr(GBytes) other_paa_der = NULL;
  g_autoptr(X509) other_paa = NULL;

  g_assert_no_error (error);
  g_assert_false (ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8001, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "product.pid"));
  g_clear_error (&error);

  other_paa_der = ds_ca_dup_paa (DS_CA (other));
  other_paa = ds_cert_parse (other_paa_der, NULL);
  g_assert_false (ds_matter_verify_chain (dac, pai, other_paa, 0xFFF1, 0x8000, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "PAA"));
  g_clear_error (&error);

  /* A PAI passed as the DAC: a CA certificate is never a DAC. */
  g_assert_false (ds_matter_verify_chain (pai, pai, paa, 0xFFF1, 0x8000, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

static gpointer
issue_many (gpointer data)
{
  Fixture *f = data;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
      g_autoptr(GError) error = NULL;
      g_autoptr(DsIssued) issued = issue (f, key, 0xFFF1, 0x8000, &error);

      g_assert_no_error (error);
      g_assert_nonnull (issued);
    }
  return NULL;
}

static void
test_concurrent_issue (Fixture       *f,
                       gconstpointer  data)
{
  GThread *threads[4];

  g_autofree char *log = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) serials = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("issue", issue_many, f);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  /* Signing runs in parallel and the log is synced by group commit: still
   * one whole line per DAC, none lost, no serial twice. */
  g_assert_true (g_file_get_contents (ds_test_ca_get_log_path (f->ca), &log, NULL, &error));
  g_assert_no_error (error);
  lines = g_strsplit (log, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, G_N_ELEMENTS (threads) * 10 + 1);
  for (guint i = 0; lines[i + 1] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);

      g_assert_cmpuint (g_strv_length (fields), ==, 4);
      g_assert_cmpuint (strlen (fields[3]), ==, 64);
      g_assert_false (g_hash_table_contains (serials, fields[1]));
      g_hash_table_add (serials, g_strdup (fields[1]));
    }
  g_assert_cmpstr (lines[G_N_ELEMENTS (threads) * 10], ==, "");
}

/* The station hands its own parsed, checked request to the CA in its
 * process: the DAC certifies exactly that request's key, and the chain
 * passes every Matter rule. */
static void
test_checked_request (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) csr = make_csr (key);
  g_autoptr(GError) error = NULL;
  g_autoptr(X509_REQ) req = ds_csr_parse (csr, &error);
  g_autoptr(DsIssued) issued = NULL;
  g_autoptr(X509) dac = NULL, pai = NULL, paa = NULL;
  g_autofree char *req_fp = NULL, *dac_fp = NULL;

  g_assert_no_error (error);
  g_assert_true (ds_csr_check (req, NULL, &error));
  {
    DsIssueRequest request = { csr, "00112233445566778899AABB", 0xFFF1, 0x8000, req };

    issued = ds_ca_issue (DS_CA (f->ca), &request, NULL, &error);
  }
  g_assert_no_error (error);
  dac = ds_cert_parse (issued->dac_der, &error);
  pai = ds_cert_parse (issued->pai_der, &error);
  paa = ds_cert_parse (issued->paa_der, &error);
  g_assert_no_error (error);
  req_fp = ds_spki_fingerprint (X509_REQ_get_X509_PUBKEY (req));
  dac_fp = ds_spki_fingerprint (X509_get_X509_PUBKEY (dac));
  g_assert_cmpstr (dac_fp, ==, req_fp);
  g_assert_true (ds_pubkey_equal (X509_get0_pubkey (dac), key));
  g_assert_true (ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error));
  g_assert_no_error (error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/test-ca/files", test_files_and_modes);
  ADD ("/test-ca/reload", test_reload_same_pki);
  ADD ("/test-ca/loose-key", test_loose_key_refused);
  ADD ("/test-ca/dac-profile", test_dac_profile);
  ADD ("/test-ca/openssl-verify", test_openssl_verifies);
  ADD ("/test-ca/distinct-serials", test_distinct_serials);
  ADD ("/test-ca/refusals", test_refusals);
  ADD ("/test-ca/checked-request", test_checked_request);
  ADD ("/test-ca/dac-check-rejects", test_dac_check_rejects);
  ADD ("/test-ca/concurrent", test_concurrent_issue);
#undef ADD
  return g_test_run ();
}

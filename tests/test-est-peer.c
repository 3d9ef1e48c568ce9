/* serve-ca against an independent EST client: strongSwan's `pki --est`,
 * with and without a client certificate, with HTTP Basic, and through a
 * 202 Retry-After. */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-test-est.h"
#include "ds-test-util.h"

typedef struct {
  char *tmp;
  char *key;   /* the enrolling key, DER */
  char *req;   /* its PKCS#10, DER */
  char *cert;  /* what pki --est stores, PEM */
} Fixture;

static gboolean
have_pki (void)
{
  g_autofree char *pki = g_find_program_in_path ("pki");

  if (pki == NULL)
    {
      g_test_skip ("strongSwan's pki is not installed (Debian: strongswan-pki)");
      return FALSE;
    }
  return TRUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-est-peer-XXXXXX", &error);
  g_assert_no_error (error);
  f->key = g_build_filename (f->tmp, "key.der", NULL);
  f->req = g_build_filename (f->tmp, "req.der", NULL);
  f->cert = g_build_filename (f->tmp, "cert.pem", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->key);
  g_free (f->req);
  g_free (f->cert);
}

/* Runs pki with its stdout to @out_path (NULL: discarded); returns the
 * exit status and logs stderr. */
static int
run_pki (const char *const *argv,
         const char        *out_path)
{
  g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) p = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *err = NULL;

  if (out_path != NULL)
    g_subprocess_launcher_set_stdout_file_path (l, out_path);
  p = g_subprocess_launcher_spawnv (l, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (p, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (g_test_verbose () || g_subprocess_get_exit_status (p) != 0)
    g_test_message ("%s %s:\n%s", argv[0], argv[1], err);
  return g_subprocess_get_exit_status (p);
}

/* A P-256 key and a CSR in the Matter legacy CN form, made by pki itself. */
static void
make_request (Fixture *f)
{
  const char *gen[] = { "pki", "--gen", "--type", "ecdsa", "--size", "256", NULL };
  const char *req[] = { "pki", "--req", "--type", "ecdsa", "--in", f->key, "--digest", "sha256",
                        "--dn", "CN=Mvid:FFF1 Mpid:8000", NULL };

  g_assert_cmpint (run_pki (gen, f->key), ==, 0);
  g_assert_cmpint (run_pki (req, f->req), ==, 0);
}

static int
enroll (Fixture           *f,
        DsTestServer      *s,
        const char *const *extra)
{
  g_autofree char *pai = g_build_filename (s->pki, "pai.pem", NULL);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, "pki");
  g_ptr_array_add (argv, "--est");
  g_ptr_array_add (argv, "--url");
  g_ptr_array_add (argv, s->url);
  g_ptr_array_add (argv, "--in");
  g_ptr_array_add (argv, f->req);
  /* The TLS CA for the server, the PAI and PAA to check what it issues. */
  g_ptr_array_add (argv, "--cacert");
  g_ptr_array_add (argv, s->tls_ca);
  g_ptr_array_add (argv, "--cacert");
  g_ptr_array_add (argv, pai);
  g_ptr_array_add (argv, "--cacert");
  g_ptr_array_add (argv, s->paa);
  g_ptr_array_add (argv, "--outform");
  g_ptr_array_add (argv, "pem");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  return run_pki ((const char *const *) argv->pdata, f->cert);
}

/* What pki stored is a Matter DAC for its key, from the test CA's PAI, and
 * in the CA's issuance log. */
static void
assert_enrolled (Fixture      *f,
                 DsTestServer *s)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *key_der = NULL;
  g_autofree char *pai_pem = NULL;
  g_autofree char *paa_pem = NULL;
  g_autofree char *pai_path = g_build_filename (s->pki, "pai.pem", NULL);
  g_autofree char *log_path = g_build_filename (s->pki, "issued.log", NULL);
  g_autofree char *log = NULL;
  g_autofree char *serial = NULL;
  gsize pem_len = 0, key_len = 0;
  g_autoptr(GBytes) pem_b = NULL;
  g_autoptr(X509) dac = NULL;
  g_autoptr(X509) pai = NULL;
  g_autoptr(X509) paa = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(EVP_PKEY) dac_key = NULL;
  const unsigned char *p;

  g_assert_true (g_file_get_contents (f->cert, &pem, &pem_len, NULL));
  pem_b = g_bytes_new (pem, pem_len);
  dac = ds_cert_parse (pem_b, &error);
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (f->key, &key_der, &key_len, NULL));
  p = (const unsigned char *) key_der;
  key = d2i_AutoPrivateKey (NULL, &p, (long) key_len);
  g_assert_nonnull (key);
  dac_key = X509_get_pubkey (dac);
  g_assert_true (ds_pubkey_equal (key, dac_key));

  g_assert_true (g_file_get_contents (pai_path, &pai_pem, NULL, NULL));
  g_assert_true (g_file_get_contents (s->paa, &paa_pem, NULL, NULL));
  {
    g_autoptr(GBytes) a = g_bytes_new (pai_pem, strlen (pai_pem));
    g_autoptr(GBytes) b = g_bytes_new (paa_pem, strlen (paa_pem));
    pai = ds_cert_parse (a, &error);
    paa = ds_cert_parse (b, &error);
  }
  g_assert_no_error (error);
  ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error);
  g_assert_no_error (error);

  serial = ds_cert_serial_hex (dac);
  g_assert_true (g_file_get_contents (log_path, &log, NULL, NULL));
  g_assert_nonnull (strstr (log, serial));
}

static void
test_server_auth_only (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(DsTestServer) s = NULL;

  if (!have_pki ())
    return;
  s = ds_test_server_start (f->tmp, NULL, NULL);
  make_request (f);
  g_assert_cmpint (enroll (f, s, NULL), ==, 0);
  assert_enrolled (f, s);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 1);
}

static void
test_client_certificate (Fixture       *f,
                         gconstpointer  data)
{
  g_autofree char *client_ca = g_build_filename (f->tmp, "client-ca.pem", NULL);
  g_autofree char *client_cert = g_build_filename (f->tmp, "client.pem", NULL);
  g_autofree char *client_key = g_build_filename (f->tmp, "client-key.pem", NULL);
  g_autoptr(DsTestServer) s = NULL;

  if (!have_pki ())
    return;
  ds_test_make_client_credentials (f->tmp);
  {
    const char *extra[] = { "--client-ca", client_ca, "--require-client-cert", NULL };
    s = ds_test_server_start (f->tmp, extra, NULL);
  }
  make_request (f);
  /* No certificate: the server refuses, pki fails. */
  g_assert_cmpint (enroll (f, s, NULL), !=, 0);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 0);
  /* With one (pki then says simplereenroll). */
  {
    const char *extra[] = { "--cert", client_cert, "--key", client_key, NULL };
    g_assert_cmpint (enroll (f, s, extra), ==, 0);
  }
  assert_enrolled (f, s);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 1);
}

static void
test_basic_auth (Fixture       *f,
                 gconstpointer  data)
{
  const char *server_extra[] = { "--user", "station", NULL };
  const char *env[] = { "DS_CA_PASSWORD=peer-Pa55", NULL };
  g_autoptr(DsTestServer) s = NULL;

  if (!have_pki ())
    return;
  s = ds_test_server_start (f->tmp, server_extra, env);
  make_request (f);
  {
    const char *extra[] = { "--userpass", "station:wrong", NULL };
    g_assert_cmpint (enroll (f, s, extra), !=, 0);
  }
  {
    const char *extra[] = { "--userpass", "station:peer-Pa55", NULL };
    g_assert_cmpint (enroll (f, s, extra), ==, 0);
  }
  assert_enrolled (f, s);
}

static void
test_pending (Fixture       *f,
              gconstpointer  data)
{
  const char *server_extra[] = { "--pending", "1", "--retry-after", "1", NULL };
  const char *extra[] = { "--interval", "1", "--maxpolltime", "30", NULL };
  g_autoptr(DsTestServer) s = NULL;

  if (!have_pki ())
    return;
  s = ds_test_server_start (f->tmp, server_extra, NULL);
  make_request (f);
  g_assert_cmpint (enroll (f, s, extra), ==, 0);
  assert_enrolled (f, s);
  g_assert_cmpuint (ds_test_server_count (s, "pending"), ==, 1);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/est-peer/strongswan/server-auth-only", test_server_auth_only);
  ADD ("/est-peer/strongswan/client-certificate", test_client_certificate);
  ADD ("/est-peer/strongswan/basic-auth", test_basic_auth);
  ADD ("/est-peer/strongswan/pending", test_pending);
#undef ADD
  return g_test_run ();
}

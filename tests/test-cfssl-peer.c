/* DsCfsslCa against a real CFSSL (`cfssl serve`, Debian golang-cfssl) with
 * mutual TLS, signing with the test PAI.  CFSSL 1.2 keeps only the CN of a
 * CSR's subject, so the CSRs here carry the legacy "Mvid:FFF1 Mpid:8000". */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/x509.h>
#include <signal.h>
#include <string.h>

#include "ds-cfssl-ca.h"
#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-error.h"
#include "ds-test-est.h"
#include "ds-test-util.h"

#define CONFIG \
  "{\"signing\": {\"default\": {\"expiry\": \"87600h\", \"usages\": [\"digital signature\"]},\n" \
  "  \"profiles\": {\"dac\": {\"expiry\": \"87600h\", \"usages\": [\"digital signature\"]}}}}\n"

typedef struct {
  char        *tmp;
  char        *pki;
  char        *tls_ca;
  char        *pai;
  char        *paa;
  char        *client_cert;
  char        *client_key;
  char        *url;
  GSubprocess *cfssl;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *cfssl = g_find_program_in_path ("cfssl");
  g_autofree char *config = NULL;
  g_autofree char *client_ca = NULL;
  g_autofree char *pai_key = NULL;
  g_autofree char *tls_cert = NULL;
  g_autofree char *tls_key = NULL;
  g_autofree char *port_s = NULL;
  g_autofree char *log = NULL;
  guint16 port;

  f->tmp = g_dir_make_tmp ("ds-test-cfssl-XXXXXX", &error);
  g_assert_no_error (error);
  if (cfssl == NULL)
    return;

  /* serve-ca makes the test PKI and a TLS server certificate for
   * 127.0.0.1; CFSSL then serves with both. */
  {
    g_autoptr(DsTestServer) s = ds_test_server_start (f->tmp, NULL, NULL);

    f->pki = g_strdup (s->pki);
    f->tls_ca = g_strdup (s->tls_ca);
    f->paa = g_strdup (s->paa);
  }
  ds_test_make_client_credentials (f->tmp);
  client_ca = g_build_filename (f->tmp, "client-ca.pem", NULL);
  f->client_cert = g_build_filename (f->tmp, "client.pem", NULL);
  f->client_key = g_build_filename (f->tmp, "client-key.pem", NULL);
  f->pai = g_build_filename (f->pki, "pai.pem", NULL);
  pai_key = g_build_filename (f->pki, "pai-key.pem", NULL);
  tls_cert = g_build_filename (f->pki, "tls-server.pem", NULL);
  tls_key = g_build_filename (f->pki, "tls-server-key.pem", NULL);
  config = g_build_filename (f->tmp, "cfssl.json", NULL);
  g_file_set_contents (config, CONFIG, -1, &error);
  g_assert_no_error (error);

  port = ds_test_free_port ();
  port_s = g_strdup_printf ("%u", port);
  log = g_build_filename (f->tmp, "cfssl.log", NULL);
  {
    const char *argv[] = { cfssl, "serve", "-address", "127.0.0.1", "-port", port_s,
                           "-ca", f->pai, "-ca-key", pai_key, "-config", config,
                           "-tls-cert", tls_cert, "-tls-key", tls_key, "-mutual-tls-ca", client_ca, NULL };
    f->cfssl = ds_test_spawn_peer (argv, log);
  }
  ds_test_wait_port (port);
  f->url = g_strdup_printf ("https://127.0.0.1:%u", port);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->cfssl != NULL)
    {
      g_subprocess_send_signal (f->cfssl, SIGTERM);
      g_subprocess_wait (f->cfssl, NULL, NULL);
      g_object_unref (f->cfssl);
    }
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->pki);
  g_free (f->tls_ca);
  g_free (f->pai);
  g_free (f->paa);
  g_free (f->client_cert);
  g_free (f->client_key);
  g_free (f->url);
}

static gboolean
have_cfssl (Fixture *f)
{
  if (f->cfssl == NULL)
    {
      g_test_skip ("cfssl is not installed (Debian: golang-cfssl)");
      return FALSE;
    }
  return TRUE;
}

static DsCfsslCa *
make_ca (Fixture           *f,
         DsRemoteCaOptions *o)
{
  g_autoptr(GError) error = NULL;
  DsCfsslCa *ca;

  if (o->ca_bundle == NULL)
    o->ca_bundle = f->tls_ca;
  if (o->client_cert == NULL)
    {
      o->client_cert = f->client_cert;
      o->client_key = f->client_key;
    }
  o->paa_file = f->paa;
  ca = ds_cfssl_ca_new (f->url, o, &error);
  g_assert_no_error (error);
  return ca;
}

static DsIssued *
issue (DsCfsslCa *ca,
       GBytes   **csr_out,
       GError   **error)
{
  g_autoptr(GBytes) csr = ds_test_make_csr_cn ("Mvid:FFF1 Mpid:8000");
  DsIssueRequest request = { csr, "00112233445566778899AABB", 0xFFF1, 0x8000 };

  if (csr_out != NULL)
    *csr_out = g_bytes_ref (csr);
  return ds_ca_issue (DS_CA (ca), &request, NULL, error);
}

/* A Matter DAC for the CSR's key, under the test PAI and PAA. */
static void
assert_good_dac (DsCfsslCa *ca,
                 DsIssued  *issued,
                 GBytes    *csr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, &error);
  g_autoptr(X509) pai = ds_cert_parse (issued->pai_der, &error);
  g_autoptr(GBytes) paa_der = ds_ca_dup_paa (DS_CA (ca));
  g_autoptr(X509) paa = ds_cert_parse (paa_der, &error);
  g_autoptr(X509_REQ) req = ds_csr_parse (csr, &error);
  g_autoptr(EVP_PKEY) csr_key = ds_csr_get_pubkey (req);
  g_autoptr(EVP_PKEY) dac_key = X509_get_pubkey (dac);

  g_assert_no_error (error);
  g_assert_true (ds_pubkey_equal (csr_key, dac_key));
  ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error);
  g_assert_no_error (error);
}

static void
test_sign_info (Fixture       *f,
                gconstpointer  data)
{
  DsRemoteCaOptions o = { .profile = "dac" };
  g_autoptr(DsCfsslCa) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(DsIssued) issued = NULL;

  if (!have_cfssl (f))
    return;
  ca = make_ca (f, &o);
  /* The PAI from /api/v1/cfssl/info. */
  g_assert_true (ds_cfssl_ca_load_ca_certs (ca, NULL, &error));
  g_assert_no_error (error);
  issued = issue (ca, &csr, &error);
  g_assert_no_error (error);
  assert_good_dac (ca, issued, csr);
  g_assert_true (ds_ca_is_test (DS_CA (ca)));
  g_assert_cmpstr (ds_ca_get_name (DS_CA (ca)), ==, "CFSSL");
}

static void
test_configured_pai (Fixture       *f,
                     gconstpointer  data)
{
  DsRemoteCaOptions o = { .pai_file = NULL };
  g_autoptr(DsCfsslCa) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(DsIssued) issued = NULL;

  if (!have_cfssl (f))
    return;
  o.pai_file = f->pai;
  ca = make_ca (f, &o);
  issued = issue (ca, &csr, &error);
  g_assert_no_error (error);
  assert_good_dac (ca, issued, csr);
}

static void
test_refusals (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  if (!have_cfssl (f))
    return;
  {
    /* No client certificate: CFSSL's mutual TLS refuses the handshake. */
    DsRemoteCaOptions o = { .ca_bundle = f->tls_ca, .paa_file = f->paa };
    g_autoptr(DsCfsslCa) ca = ds_cfssl_ca_new (f->url, &o, &error);

    g_assert_no_error (error);
    g_assert_false (ds_cfssl_ca_load_ca_certs (ca, NULL, &error));
    g_assert_nonnull (error);
    g_test_message ("no client certificate: %s", error->message);
    g_assert_true (error->domain == DS_ERROR);
    g_clear_error (&error);
  }
  {
    /* A server the bundle does not vouch for. */
    g_autofree char *other = g_build_filename (f->tmp, "client-ca.pem", NULL);
    DsRemoteCaOptions o = { .ca_bundle = other };
    g_autoptr(DsCfsslCa) ca = make_ca (f, &o);
    g_autoptr(DsIssued) issued = issue (ca, NULL, &error);

    g_assert_null (issued);
    g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "does not verify against the CA bundle"));
    g_clear_error (&error);
  }
  {
    /* A CSR whose signature CFSSL finds wrong: its own reason, passed on. */
    DsRemoteCaOptions o = { .pai_file = NULL };
    g_autoptr(DsCfsslCa) ca = NULL;
    g_autoptr(GBytes) good = ds_test_make_csr_cn ("Mvid:FFF1 Mpid:8000");
    g_autoptr(GByteArray) bad = g_byte_array_new ();
    g_autoptr(GBytes) csr = NULL;
    g_autoptr(DsIssued) issued = NULL;
    DsIssueRequest request = { NULL, "00112233445566778899AABB", 0xFFF1, 0x8000 };
    gsize len = 0;
    const guint8 *p = g_bytes_get_data (good, &len);

    g_byte_array_append (bad, p, len);
    bad->data[len - 3] ^= 0x01;  /* inside the signature's integers */
    csr = g_byte_array_free_to_bytes (g_steal_pointer (&bad));
    request.csr_der = csr;
    o.pai_file = f->pai;
    ca = make_ca (f, &o);
    issued = ds_ca_issue (DS_CA (ca), &request, NULL, &error);
    g_assert_null (issued);
    g_test_message ("bad CSR: %s", error->message);
    g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "The CFSSL server refused"));
    g_clear_error (&error);
  }
  {
    /* The PAA is not published by CFSSL: it must be configured. */
    DsRemoteCaOptions o = { .ca_bundle = f->tls_ca };
    g_autoptr(DsCfsslCa) ca = ds_cfssl_ca_new (f->url, &o, &error);

    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "--paa"));
  }
}

/* The station through CFSSL: boards are asked for the legacy CN, the only
 * part of the subject CFSSL 1.2 keeps. */
static void
test_station (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *data_dir = NULL;
  g_autofree char *announce = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *bundle = NULL;
  g_autofree char *cert = NULL;
  g_autofree char *key = NULL;
  g_autofree char *paa = NULL;
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *sum;
  guint n_pass = 0;

  if (!have_cfssl (f))
    return;
  data_dir = g_build_filename (f->tmp, "station", NULL);
  announce = g_build_filename (f->tmp, "announce", NULL);
  ca = g_strdup_printf ("--ca=cfssl:%s", f->url);
  bundle = g_strdup_printf ("--ca-bundle=%s", f->tls_ca);
  cert = g_strdup_printf ("--client-cert=%s", f->client_cert);
  key = g_strdup_printf ("--client-key=%s", f->client_key);
  paa = g_strdup_printf ("--paa=%s", f->paa);
  {
    const char *args[] = { "demo", "--boards", "2", "--json", "--data-dir", data_dir, ca, bundle, cert, key, paa,
                           "--cfssl-profile", "dac", NULL };
    r = ds_test_run_cli (announce, args);
  }
  g_assert_cmpint (r->exit_status, ==, 0);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 2);
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);
      g_autofree char *pem = NULL;
      g_autoptr(GBytes) b = NULL;
      g_autoptr(X509) dac = NULL;
      g_autofree char *subject = NULL;

      if (g_strcmp0 (json_object_get_string_member (o, "event"), "pass") != 0)
        continue;
      n_pass++;
      g_assert_true (g_file_get_contents (json_object_get_string_member (o, "dac_file"), &pem, NULL, NULL));
      b = g_bytes_new (pem, strlen (pem));
      dac = ds_cert_parse (b, NULL);
      subject = ds_cert_subject (dac);
      g_assert_cmpstr (subject, ==, "CN=Mvid:FFF1 Mpid:8000");
    }
  g_assert_cmpuint (n_pass, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/cfssl-peer/sign-info", test_sign_info);
  ADD ("/cfssl-peer/configured-pai", test_configured_pai);
  ADD ("/cfssl-peer/refusals", test_refusals);
  ADD ("/cfssl-peer/station", test_station);
#undef ADD
  return g_test_run ();
}

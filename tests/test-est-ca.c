/* DsEstCa against dac-station-cli serve-ca on loopback: mutual TLS, Basic,
 * 202 polling, pins, and every fault the station must report clearly. */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-matter-validator.h"
#include "ds-error.h"
#include "ds-est-ca.h"
#include "ds-test-est.h"
#include "ds-test-util.h"

typedef struct {
  char *tmp;
  char *client_ca;
  char *client_cert;
  char *client_key;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-est-XXXXXX", &error);
  g_assert_no_error (error);
  ds_test_make_client_credentials (f->tmp);
  f->client_ca = g_build_filename (f->tmp, "client-ca.pem", NULL);
  f->client_cert = g_build_filename (f->tmp, "client.pem", NULL);
  f->client_key = g_build_filename (f->tmp, "client-key.pem", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->client_ca);
  g_free (f->client_cert);
  g_free (f->client_key);
}

/* serve-ca requiring the fixture's client certificate, plus @extra. */
static DsTestServer *
start_mtls (Fixture           *f,
            const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, "--client-ca");
  g_ptr_array_add (args, f->client_ca);
  g_ptr_array_add (args, "--require-client-cert");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (char *) extra[i]);
  g_ptr_array_add (args, NULL);
  return ds_test_server_start (f->tmp, (const char *const *) args->pdata, NULL);
}

static DsEstCa *
make_ca (Fixture           *f,
         DsTestServer      *s,
         DsRemoteCaOptions *o)
{
  g_autoptr(GError) error = NULL;
  DsRemoteCaOptions defaults = { 0 };
  DsEstCa *ca;

  if (o == NULL)
    o = &defaults;
  if (o->ca_bundle == NULL)
    o->ca_bundle = s->tls_ca;
  if (o->client_cert == NULL)
    {
      o->client_cert = f->client_cert;
      o->client_key = f->client_key;
    }
  ca = ds_est_ca_new (s->url, o, &error);
  g_assert_no_error (error);
  return ca;
}

static DsIssued *
issue (DsEstCa    *ca,
       const char *uid,
       GBytes    **csr_out,
       GError    **error)
{
  g_autoptr(GBytes) csr = ds_test_make_csr (uid, 0xFFF1, 0x8000);
  DsIssueRequest request = { csr, uid, 0xFFF1, 0x8000 };
  DsIssued *issued = ds_ca_issue (DS_CA (ca), &request, NULL, error);

  if (csr_out != NULL)
    *csr_out = g_bytes_ref (csr);
  return issued;
}

/* The DAC is for the CSR's key and chains to the server's PAA. */
static void
assert_good_dac (DsEstCa      *ca,
                 DsTestServer *s,
                 DsIssued     *issued,
                 GBytes       *csr)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, &error);
  g_autoptr(X509) pai = ds_cert_parse (issued->pai_der, &error);
  g_autoptr(GBytes) paa_der = ds_ca_dup_paa (DS_CA (ca));
  g_autoptr(X509) paa = NULL;
  g_autoptr(X509_REQ) req = ds_csr_parse (csr, &error);
  g_autoptr(EVP_PKEY) csr_key = ds_csr_get_pubkey (req);
  g_autoptr(EVP_PKEY) dac_key = X509_get_pubkey (dac);
  g_autofree char *paa_pem = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (paa_der);
  paa = ds_cert_parse (paa_der, &error);
  g_assert_no_error (error);
  g_assert_true (ds_pubkey_equal (csr_key, dac_key));
  ds_matter_verify_chain (dac, pai, paa, 0xFFF1, 0x8000, &error);
  g_assert_no_error (error);
  /* The PAA is the test CA's own file. */
  g_assert_true (g_file_get_contents (s->paa, &paa_pem, NULL, NULL));
  {
    g_autoptr(GBytes) b = g_bytes_new (paa_pem, strlen (paa_pem));
    g_autoptr(X509) file_paa = ds_cert_parse (b, &error);
    g_autofree char *a = ds_cert_fingerprint (file_paa);
    g_autofree char *c = ds_cert_fingerprint (paa);
    g_assert_cmpstr (a, ==, c);
  }
}

static void
test_mutual_tls (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(DsTestServer) s = start_mtls (f, NULL);
  g_autoptr(DsEstCa) ca = make_ca (f, s, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(DsIssued) issued = issue (ca, "000102030405060708090A0B", &csr, &error);

  g_assert_no_error (error);
  assert_good_dac (ca, s, issued, csr);
  g_assert_true (ds_ca_is_test (DS_CA (ca)));
  g_assert_cmpstr (ds_ca_get_name (DS_CA (ca)), ==, "EST");
  g_assert_true (g_str_has_suffix (ds_est_ca_get_url (ca), "/.well-known/est"));
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 1);

  /* More boards: the same connection, kept alive. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *uid = g_strdup_printf ("0001020304050607080910%02u", i);
      g_autoptr(GBytes) more_csr = NULL;
      g_autoptr(DsIssued) more = issue (ca, uid, &more_csr, &error);

      g_assert_no_error (error);
      assert_good_dac (ca, s, more, more_csr);
    }
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 4);
  g_assert_cmpuint (ds_test_server_connections (s), ==, 1);
}

static void
test_label_and_line_breaks (Fixture       *f,
                            gconstpointer  data)
{
  const char *extra[] = { "--base64-lines", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  DsRemoteCaOptions o = { .label = "matter-dac" };
  g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(DsIssued) issued = issue (ca, "0A0B0C0D0E0F101112131415", &csr, &error);

  g_assert_no_error (error);
  assert_good_dac (ca, s, issued, csr);
  g_assert_true (g_str_has_suffix (ds_est_ca_get_url (ca), "/.well-known/est/matter-dac"));
}

typedef struct {
  DsEstCa *ca;
  char    *serial;
  GError  *error;
} Worker;

static gpointer
worker_func (gpointer user_data)
{
  Worker *w = user_data;
  g_autofree char *uid = g_strdup_printf ("%024x", g_random_int ());
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(DsIssued) issued = issue (w->ca, uid, &csr, &w->error);

  if (issued != NULL)
    {
      g_autoptr(X509) dac = ds_cert_parse (issued->dac_der, NULL);
      w->serial = ds_cert_serial_hex (dac);
    }
  return NULL;
}

/* Job threads call issue() at once; each gets its own DAC. */
static void
test_concurrent (Fixture       *f,
                 gconstpointer  data)
{
  const char *extra[] = { "--pending", "1", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  g_autoptr(DsEstCa) ca = make_ca (f, s, NULL);
  g_autoptr(GHashTable) serials = g_hash_table_new (g_str_hash, g_str_equal);
  Worker workers[8] = { 0 };
  GThread *threads[8];

  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      workers[i].ca = ca;
      threads[i] = g_thread_new ("issue", worker_func, &workers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (workers[i].error);
      g_assert_nonnull (workers[i].serial);
      g_hash_table_add (serials, workers[i].serial);
    }
  g_assert_cmpuint (g_hash_table_size (serials), ==, 8);
  g_assert_cmpuint (ds_test_server_count (s, "pending"), ==, 8);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 8);
  /* 24 requests (a 202 and a 200 each, and /cacerts) on at most one
   * connection per thread: the pool keeps them alive. */
  g_assert_cmpuint (ds_test_server_connections (s), <=, 9);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_free (workers[i].serial);
}

static void
test_pending (Fixture       *f,
              gconstpointer  data)
{
  const char *extra[] = { "--pending", "2", "--retry-after", "1", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  {
    g_autoptr(DsEstCa) ca = make_ca (f, s, NULL);
    g_autoptr(GBytes) csr = NULL;
    g_autoptr(DsIssued) issued = issue (ca, "000000000000000000000001", &csr, &error);

    g_assert_no_error (error);
    assert_good_dac (ca, s, issued, csr);
    /* Two 202s, one second each. */
    g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
    g_assert_cmpuint (ds_test_server_count (s, "pending"), ==, 2);
  }
  {
    /* A CA that keeps it pending past the deadline. */
    DsRemoteCaOptions o = { .pending_limit_s = 1 };
    g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
    g_autoptr(DsIssued) issued = issue (ca, "000000000000000000000002", NULL, &error);

    g_assert_null (issued);
    g_assert_error (error, DS_ERROR, DS_ERROR_TIMED_OUT);
    g_assert_nonnull (strstr (error->message, "pending"));
  }
}

static void
test_basic_auth (Fixture       *f,
                 gconstpointer  data)
{
  const char *extra[] = { "--user", "station", NULL };
  const char *env[] = { "DS_CA_PASSWORD=s3cret-Pa55", NULL };
  g_autoptr(DsTestServer) s = ds_test_server_start (f->tmp, extra, env);
  g_autoptr(GError) error = NULL;

  {
    /* Basic alone, no client certificate. */
    DsRemoteCaOptions o = { .ca_bundle = s->tls_ca, .username = "station", .password = "s3cret-Pa55" };
    g_autoptr(DsEstCa) ca = ds_est_ca_new (s->url, &o, &error);
    g_autoptr(GBytes) csr = NULL;
    g_autoptr(DsIssued) issued = NULL;

    g_assert_no_error (error);
    issued = issue (ca, "000000000000000000000003", &csr, &error);
    g_assert_no_error (error);
    assert_good_dac (ca, s, issued, csr);
  }
  {
    DsRemoteCaOptions o = { .ca_bundle = s->tls_ca, .username = "station", .password = "wrong-Pa55" };
    g_autoptr(DsEstCa) ca = ds_est_ca_new (s->url, &o, &error);
    g_autoptr(DsIssued) issued = NULL;

    g_assert_no_error (error);
    issued = issue (ca, "000000000000000000000004", NULL, &error);
    g_assert_null (issued);
    g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "HTTP 401"));
    g_assert_null (strstr (error->message, "wrong-Pa55"));
  }
}

static void
test_no_client_certificate (Fixture       *f,
                            gconstpointer  data)
{
  g_autoptr(DsTestServer) s = start_mtls (f, NULL);
  DsRemoteCaOptions o = { .ca_bundle = s->tls_ca };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsEstCa) ca = ds_est_ca_new (s->url, &o, &error);

  g_assert_no_error (error);
  g_assert_false (ds_est_ca_load_ca_certs (ca, NULL, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == DS_ERROR);
  g_test_message ("no client certificate: %s", error->message);
  g_assert_nonnull (strstr (error->message, s->url));
}

/* A server whose certificate does not chain to the bundle, or whose key is
 * not the pinned one, is never talked to. */
static void
test_wrong_server_certificate (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(DsTestServer) s = start_mtls (f, NULL);
  g_autoptr(GError) error = NULL;

  {
    DsRemoteCaOptions o = { .ca_bundle = f->client_ca };
    g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
    g_autoptr(DsIssued) issued = issue (ca, "000000000000000000000005", NULL, &error);

    g_assert_null (issued);
    g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "does not verify against the CA bundle"));
    g_clear_error (&error);
  }
  {
    DsRemoteCaOptions o = { .pin = "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" };
    g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
    g_autoptr(DsIssued) issued = issue (ca, "000000000000000000000006", NULL, &error);

    g_assert_null (issued);
    g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
    g_assert_nonnull (strstr (error->message, "pin"));
    g_clear_error (&error);
  }
  {
    /* The right pin: the SHA-256 of the server's SubjectPublicKeyInfo. */
    g_autofree char *cert_path = g_build_filename (s->pki, "tls-server.pem", NULL);
    g_autofree char *pem = NULL;
    g_autoptr(GBytes) b = NULL;
    g_autoptr(X509) cert = NULL;
    g_autoptr(EVP_PKEY) key = NULL;
    g_autofree char *hex = NULL;
    g_autofree guint8 *raw = NULL;
    g_autofree char *b64 = NULL;
    g_autofree char *pin = NULL;

    g_assert_true (g_file_get_contents (cert_path, &pem, NULL, NULL));
    b = g_bytes_new (pem, strlen (pem));
    cert = ds_cert_parse (b, &error);
    g_assert_no_error (error);
    key = X509_get_pubkey (cert);
    hex = ds_pubkey_fingerprint (key);
    raw = g_malloc (32);
    for (guint i = 0; i < 32; i++)
      raw[i] = (guint8) g_ascii_strtoull ((char[]) { hex[2 * i], hex[2 * i + 1], 0 }, NULL, 16);
    b64 = g_base64_encode (raw, 32);
    pin = g_strconcat ("sha256//", b64, NULL);
    {
      DsRemoteCaOptions o = { .pin = pin };
      g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
      g_autoptr(GBytes) csr = NULL;
      g_autoptr(DsIssued) issued = issue (ca, "000000000000000000000007", &csr, &error);

      g_assert_no_error (error);
      assert_good_dac (ca, s, issued, csr);
    }
  }
}

typedef struct {
  const char *fault;
  int         code;
  const char *cause;
} FaultCase;

static const FaultCase fault_cases[] = {
  { "500", DS_ERROR_IO, "HTTP 500" },
  { "garbage", DS_ERROR_PROTOCOL, "not base64" },
  { "content-type", DS_ERROR_PROTOCOL, "text/html" },
  { "other-key", DS_ERROR_INVALID_DATA, "key other than the board's" },
  { "hang", DS_ERROR_TIMED_OUT, "did not answer within 4 s" },
};

static void
test_fault (Fixture       *f,
            gconstpointer  data)
{
  const FaultCase *c = data;
  const char *extra[] = { "--fault", c->fault, "--fault-board", "FA0000000000000000000001", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  DsRemoteCaOptions o = { .timeout_s = 4, .retries = 1 };
  g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(DsIssued) issued = issue (ca, "FA0000000000000000000001", NULL, &error);

    g_assert_null (issued);
    g_test_message ("fault %s: %s", c->fault, error != NULL ? error->message : "(none)");
    g_assert_error (error, DS_ERROR, c->code);
    g_assert_nonnull (strstr (error->message, c->cause));
    g_clear_error (&error);
  }
  {
    /* The next board is not affected. */
    g_autoptr(GBytes) csr = NULL;
    g_autoptr(DsIssued) issued = issue (ca, "FA0000000000000000000002", &csr, &error);

    g_assert_no_error (error);
    assert_good_dac (ca, s, issued, csr);
  }
  if (g_str_equal (c->fault, "500"))
    g_assert_cmpuint (ds_test_server_count (s, "fault 500"), ==, 2);  /* one retry */
}

static void
test_config_errors (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsEstCa) ca = NULL;
  g_autofree char *open_key = g_build_filename (f->tmp, "open-key.pem", NULL);
  g_autofree char *contents = NULL;

  {
    DsRemoteCaOptions o = { .ca_bundle = f->client_ca };
    ca = ds_est_ca_new ("http://127.0.0.1:1", &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_clear_error (&error);
  }
  {
    DsRemoteCaOptions o = { 0 };
    ca = ds_est_ca_new ("https://127.0.0.1:1", &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "--ca-bundle"));
    g_clear_error (&error);
  }
  {
    /* No password in the URL, where a process list would show it. */
    DsRemoteCaOptions o = { .ca_bundle = f->client_ca };
    ca = ds_est_ca_new ("https://station:s3cret@127.0.0.1:1", &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_null (strstr (error->message, "s3cret"));
    g_clear_error (&error);
  }
  {
    /* A client key others can read is refused. */
    DsRemoteCaOptions o = { .ca_bundle = f->client_ca, .client_cert = f->client_cert, .client_key = open_key };

    g_assert_true (g_file_get_contents (f->client_key, &contents, NULL, NULL));
    g_assert_true (g_file_set_contents (open_key, contents, -1, NULL));
    g_assert_cmpint (g_chmod (open_key, 0644), ==, 0);
    ca = ds_est_ca_new ("https://127.0.0.1:1", &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "0600"));
    g_clear_error (&error);
  }
  {
    /* Nothing listens: a connection error, retried, then reported. */
    DsRemoteCaOptions o = { .ca_bundle = f->client_ca, .retries = 1 };
    g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
    g_autoptr(GSocketAddress) bound = NULL;
    g_autofree char *url = NULL;

    /* A port that is free: bound, never listened on. */
    g_assert_true (g_socket_bind (sock, addr, FALSE, NULL));
    bound = g_socket_get_local_address (sock, NULL);
    url = g_strdup_printf ("https://127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
    ca = ds_est_ca_new (url, &o, &error);
    g_assert_no_error (error);
    g_assert_false (ds_est_ca_load_ca_certs (ca, NULL, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_IO);
    g_assert_nonnull (strstr (error->message, "Cannot connect"));
  }
}

/* --fail-rate 1: every request fails with 500, retried, then reported. */
static void
test_fail_rate (Fixture       *f,
                gconstpointer  data)
{
  const char *extra[] = { "--fail-rate", "1", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  DsRemoteCaOptions o = { .retries = 2 };
  g_autoptr(DsEstCa) ca = make_ca (f, s, &o);
  g_autoptr(GError) error = NULL;

  g_assert_false (ds_est_ca_load_ca_certs (ca, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "HTTP 500"));
  g_assert_nonnull (strstr (error->message, "3 attempts"));
  g_assert_cmpuint (ds_test_server_count (s, "fail-rate"), ==, 3);
}

typedef struct {
  DsEstCa      *ca;
  GCancellable *cancellable;
  GError       *error;
} CancelJob;

static gpointer
cancel_job_func (gpointer user_data)
{
  CancelJob *j = user_data;
  g_autoptr(GBytes) csr = ds_test_make_csr ("000000000000000000000008", 0xFFF1, 0x8000);
  DsIssueRequest request = { csr, "000000000000000000000008", 0xFFF1, 0x8000 };
  g_autoptr(DsIssued) issued = ds_ca_issue (DS_CA (j->ca), &request, j->cancellable, &j->error);

  g_assert_null (issued);
  return NULL;
}

static gboolean
request_pending (gpointer data)
{
  return ds_test_server_count (data, "pending") > 0;
}

/* A job cancelled while its request is pending stops at once. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  const char *extra[] = { "--pending", "100", "--retry-after", "30", NULL };
  g_autoptr(DsTestServer) s = start_mtls (f, extra);
  g_autoptr(DsEstCa) ca = make_ca (f, s, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  CancelJob j = { ca, cancellable, NULL };
  GThread *thread;
  gint64 start;

  thread = g_thread_new ("issue", cancel_job_func, &j);
  /* Cancelled once the server has told it to come back in 30 s. */
  ds_test_wait_until (request_pending, s, 60, "the server to answer 202 pending");
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  g_thread_join (thread);
  g_assert_error (j.error, DS_ERROR, DS_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
  g_clear_error (&j.error);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("/est-ca/mutual-tls", test_mutual_tls, NULL);
  ADD ("/est-ca/label-and-line-breaks", test_label_and_line_breaks, NULL);
  ADD ("/est-ca/concurrent", test_concurrent, NULL);
  ADD ("/est-ca/pending", test_pending, NULL);
  ADD ("/est-ca/basic-auth", test_basic_auth, NULL);
  ADD ("/est-ca/no-client-certificate", test_no_client_certificate, NULL);
  ADD ("/est-ca/wrong-server-certificate", test_wrong_server_certificate, NULL);
  ADD ("/est-ca/config-errors", test_config_errors, NULL);
  ADD ("/est-ca/cancel", test_cancel, NULL);
  ADD ("/est-ca/fail-rate", test_fail_rate, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (fault_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/est-ca/fault/%s", fault_cases[i].fault);
      ADD (path, test_fault, &fault_cases[i]);
    }
#undef ADD
  return g_test_run ();
}

/* The station's TLS client key in a SoftHSM token, used through OpenSSL's
 * pkcs11 engine: DsEstCa and dac-station-cli enrol against serve-ca with
 * mutual TLS, and the token PIN never shows in an error or in the output. */
#include <glib/gstdio.h>
#include <openssl/x509.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-est-ca.h"
#include "ds-pkcs11.h"
#include "ds-test-est.h"
#include "ds-test-util.h"

#define TOKEN_LABEL "ds-station"
#define KEY_LABEL   "station-tls"

/* One token for the whole program: SoftHSM reads its token directory when
 * the module is first loaded, and the engine keeps it loaded. */
static struct {
  char *skip;        /* why the tests cannot run, or NULL */
  char *tmp;
  char *module;      /* SoftHSM's PKCS#11 module */
  char *uri;         /* the client key in the token */
  char *pin;         /* the user PIN, made up at run time */
  char *pin_file;    /* holding it, mode 0600 */
  char *client_ca;
  char *client_cert;
  char *announce_dir;
  char *data_dir;
} t;

static const char *const module_paths[] = {
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
  NULL,
};

static void
write_secret (const char *path,
              const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
}

/* A token with the client key the client CA certified; the software copy
 * of the key is deleted once it is in the token. */
static void
make_token (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *softhsm_util = g_find_program_in_path ("softhsm2-util");
  g_autofree char *tokens = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *conf_text = NULL;
  g_autofree char *key = NULL;
  g_autofree char *so_pin = NULL;

  if (softhsm_util == NULL)
    {
      t.skip = g_strdup ("softhsm2-util is not installed (Debian package softhsm2)");
      return;
    }
  for (guint i = 0; module_paths[i] != NULL && t.module == NULL; i++)
    if (g_file_test (module_paths[i], G_FILE_TEST_EXISTS))
      t.module = g_strdup (module_paths[i]);
  if (t.module == NULL)
    {
      t.skip = g_strdup ("SoftHSM's PKCS#11 module libsofthsm2.so is not installed (Debian package softhsm2)");
      return;
    }
  /* The engine is loaded here, before any test, with SoftHSM as its module. */
  if (!ds_pkcs11_engine_prepare (t.module, &error))
    {
      t.skip = g_strdup_printf ("the OpenSSL pkcs11 engine is missing (Debian package libengine-pkcs11-openssl): %s",
                                error->message);
      return;
    }

  t.tmp = g_dir_make_tmp ("ds-test-pkcs11-XXXXXX", &error);
  g_assert_no_error (error);
  tokens = g_build_filename (t.tmp, "tokens", NULL);
  g_assert_cmpint (g_mkdir (tokens, 0700), ==, 0);
  conf = g_build_filename (t.tmp, "softhsm2.conf", NULL);
  conf_text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n", tokens);
  write_secret (conf, conf_text);
  /* Read by the module in this process and in every child. */
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  g_unsetenv ("DS_PKCS11_PIN");

  t.pin = g_strdup_printf ("%08u", (guint) g_random_int_range (10000000, 99999999));
  so_pin = g_strdup_printf ("%08u", (guint) g_random_int_range (10000000, 99999999));
  t.pin_file = g_build_filename (t.tmp, "token-pin", NULL);
  write_secret (t.pin_file, t.pin);

  ds_test_make_client_credentials (t.tmp);
  t.client_ca = g_build_filename (t.tmp, "client-ca.pem", NULL);
  t.client_cert = g_build_filename (t.tmp, "client.pem", NULL);
  key = g_build_filename (t.tmp, "client-key.pem", NULL);
  {
    const char *init[] = { "softhsm2-util", "--init-token", "--free", "--label", TOKEN_LABEL,
                           "--so-pin", so_pin, "--pin", t.pin, NULL };
    /* openssl genpkey writes PKCS#8, what --import reads. */
    const char *import[] = { "softhsm2-util", "--import", key, "--token", TOKEN_LABEL,
                             "--label", KEY_LABEL, "--id", "01", "--pin", t.pin, NULL };

    g_free (ds_test_spawn_ok (init));
    g_free (ds_test_spawn_ok (import));
  }
  g_assert_cmpint (g_unlink (key), ==, 0);
  t.uri = g_strdup ("pkcs11:token=" TOKEN_LABEL ";object=" KEY_LABEL ";type=private");
  t.announce_dir = g_build_filename (t.tmp, "announce", NULL);
  t.data_dir = g_build_filename (t.tmp, "data", NULL);
}

static gboolean
skip_unless_ready (void)
{
  if (t.skip != NULL)
    g_test_skip (t.skip);
  return t.skip == NULL;
}

/* serve-ca requiring a client certificate from the test's client CA. */
static DsTestServer *
start_server (const char *name)
{
  g_autofree char *dir = g_build_filename (t.tmp, name, NULL);
  const char *extra[] = { "--client-ca", t.client_ca, "--require-client-cert", NULL };

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return ds_test_server_start (dir, extra, NULL);
}

static void
options_for (DsRemoteCaOptions *o,
             DsTestServer      *s,
             const char        *pin)
{
  o->ca_bundle = s->tls_ca;
  o->client_cert = t.client_cert;
  o->client_key = t.uri;
  o->client_key_pin = (char *) pin;
  o->pkcs11_module = t.module;
}

static void
assert_no_pin (const char *text)
{
  g_assert_null (strstr (text, t.pin));
}

/* The handshake is signed in the token and an enrolment goes through. */
static void
test_enrol (void)
{
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsEstCa) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) csr = NULL;
  DsRemoteCaOptions o = { 0 };

  if (!skip_unless_ready ())
    return;
  s = start_server ("enrol");
  options_for (&o, s, t.pin);
  ca = ds_est_ca_new (s->url, &o, &error);
  g_assert_no_error (error);
  g_assert_true (ds_est_ca_load_ca_certs (ca, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *uid = g_strdup_printf ("P11-%u", i);
      g_autoptr(GBytes) board_csr = ds_test_make_csr (uid, 0xFFF1, 0x8000);
      DsIssueRequest request = { board_csr, uid, 0xFFF1, 0x8000 };
      g_autoptr(DsIssued) issued = ds_ca_issue (DS_CA (ca), &request, NULL, &error);
      g_autoptr(X509) dac = NULL;
      g_autoptr(X509_REQ) req = NULL;
      g_autoptr(EVP_PKEY) dac_key = NULL;
      g_autoptr(EVP_PKEY) csr_key = NULL;

      g_assert_no_error (error);
      dac = ds_cert_parse (issued->dac_der, &error);
      g_assert_no_error (error);
      req = ds_csr_parse (board_csr, &error);
      g_assert_no_error (error);
      dac_key = X509_get_pubkey (dac);
      csr_key = ds_csr_get_pubkey (req);
      g_assert_true (ds_pubkey_equal (csr_key, dac_key));
    }
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 2);
}

/* A wrong PIN: a configuration error that says so, without either PIN. */
static void
test_wrong_pin (void)
{
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsEstCa) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wrong = NULL;
  DsRemoteCaOptions o = { 0 };

  if (!skip_unless_ready ())
    return;
  s = start_server ("wrong-pin");
  wrong = g_strdup_printf ("%s9", t.pin);
  options_for (&o, s, wrong);
  ca = ds_est_ca_new (s->url, &o, &error);
  g_assert_no_error (error);
  g_assert_false (ds_est_ca_load_ca_certs (ca, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "PIN incorrect"));
  g_assert_nonnull (strstr (error->message, t.uri));
  assert_no_pin (error->message);
  g_assert_null (strstr (error->message, wrong));
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 0);
}

/* What is refused before any connection. */
static void
test_config_errors (void)
{
  g_autoptr(DsTestServer) s = NULL;
  DsRemoteCaOptions o = { 0 };

  if (!skip_unless_ready ())
    return;
  s = start_server ("config");
  {
    /* A PIN in the URI: refused, and the URI is not repeated. */
    g_autofree char *uri = g_strdup_printf ("%s;pin-value=%s", t.uri, t.pin);
    g_autoptr(GError) error = NULL;
    g_autoptr(DsEstCa) ca = NULL;

    options_for (&o, s, t.pin);
    o.client_key = uri;
    ca = ds_est_ca_new (s->url, &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "pin-value"));
    assert_no_pin (error->message);
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(DsEstCa) ca = NULL;

    options_for (&o, s, NULL);
    ca = ds_est_ca_new (s->url, &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "DS_PKCS11_PIN"));
  }
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(DsEstCa) ca = NULL;

    options_for (&o, s, t.pin);
    o.client_key = "pkcs11:token=" TOKEN_LABEL ";object=" KEY_LABEL ";type=cert";
    ca = ds_est_ca_new (s->url, &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
    g_assert_nonnull (strstr (error->message, "type=private"));
  }
  {
    /* One module per process. */
    g_autoptr(GError) error = NULL;
    g_autoptr(DsEstCa) ca = NULL;

    options_for (&o, s, t.pin);
    o.pkcs11_module = "/nonexistent/libother-pkcs11.so";
    ca = ds_est_ca_new (s->url, &o, &error);
    g_assert_null (ca);
    g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  }
}

/* `dac-station-cli demo --client-key pkcs11:... --client-key-pin-file F`
 * provisions simulated boards; the PIN is in none of its output.  Without
 * --pkcs11-module, the engine finds SoftHSM through p11-kit. */
static void
test_cli_demo (void)
{
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsCliResult) r = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *bundle = NULL;

  if (!skip_unless_ready ())
    return;
  s = start_server ("cli");
  ca = g_strdup_printf ("--ca=est:%s", s->url);
  bundle = g_strdup_printf ("--ca-bundle=%s", s->tls_ca);
  {
    const char *args[] = { "demo", "--json", "--boards", "3", "--data-dir", t.data_dir, ca, bundle,
                           "--client-cert", t.client_cert, "--client-key", t.uri,
                           "--client-key-pin-file", t.pin_file, NULL };

    r = ds_test_run_cli (t.announce_dir, args);
  }
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "passed"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "failed"), ==, 0);
  assert_no_pin (r->out);
  assert_no_pin (r->err);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 3);
}

/* The PIN from DS_PKCS11_PIN, the key and module from the [ca] settings. */
static void
test_cli_config_and_environment (void)
{
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *conf = NULL;
  g_autofree char *text = NULL;

  if (!skip_unless_ready ())
    return;
  s = start_server ("cli-config");
  conf = g_build_filename (t.tmp, "station.conf", NULL);
  text = g_strdup_printf ("[ca]\nca=est:%s\nca-bundle=%s\nclient-cert=client.pem\nclient-key=%s\npkcs11-module=%s\n",
                          s->url, s->tls_ca, t.uri, t.module);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  g_setenv ("DS_PKCS11_PIN", t.pin, TRUE);
  {
    const char *args[] = { "demo", "--json", "--boards", "2", "--data-dir", t.data_dir, "--ca-config", conf, NULL };

    r = ds_test_run_cli (t.announce_dir, args);
  }
  g_unsetenv ("DS_PKCS11_PIN");
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "passed"), ==, 2);
  assert_no_pin (r->out);
  assert_no_pin (r->err);

  /* The PIN file from the settings too, relative to them. */
  g_clear_pointer (&r, ds_cli_result_free);
  g_free (text);
  text = g_strdup_printf ("[ca]\nca=est:%s\nca-bundle=%s\nclient-cert=client.pem\nclient-key=%s\n"
                          "client-key-pin-file=token-pin\n", s->url, s->tls_ca, t.uri);
  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  {
    const char *args[] = { "demo", "--json", "--boards", "1", "--data-dir", t.data_dir, "--ca-config", conf, NULL };

    r = ds_test_run_cli (t.announce_dir, args);
  }
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "passed"), ==, 1);
}

/* A wrong PIN and a PIN file others can read stop the run before any
 * board, saying why, without the PIN. */
static void
test_cli_refusals (void)
{
  g_autoptr(DsTestServer) s = NULL;
  g_autofree char *ca = NULL;
  g_autofree char *bundle = NULL;
  g_autofree char *wrong_file = g_build_filename (t.tmp, "wrong-token-pin", NULL);
  g_autofree char *wrong = NULL;
  g_autofree char *open_file = g_build_filename (t.tmp, "open-token-pin", NULL);

  if (!skip_unless_ready ())
    return;
  s = start_server ("cli-refusals");
  ca = g_strdup_printf ("--ca=est:%s", s->url);
  bundle = g_strdup_printf ("--ca-bundle=%s", s->tls_ca);
  wrong = g_strdup_printf ("%s7", t.pin);
  write_secret (wrong_file, wrong);
  write_secret (open_file, t.pin);
  g_assert_cmpint (g_chmod (open_file, 0644), ==, 0);
  {
    const char *args[] = { "demo", "--boards", "1", "--data-dir", t.data_dir, ca, bundle,
                           "--client-cert", t.client_cert, "--client-key", t.uri,
                           "--client-key-pin-file", wrong_file, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (t.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "PIN incorrect"));
    assert_no_pin (r->out);
    assert_no_pin (r->err);
    g_assert_null (strstr (r->err, wrong));
  }
  {
    const char *args[] = { "demo", "--boards", "1", "--data-dir", t.data_dir, ca, bundle,
                           "--client-cert", t.client_cert, "--client-key", t.uri,
                           "--client-key-pin-file", open_file, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (t.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "can be read by other users"));
    assert_no_pin (r->err);
  }
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  make_token ();
  /* The wrong PIN first: once the engine has logged in to the token, it
   * stays logged in for the life of the process and asks for no PIN. */
  g_test_add_func ("/pkcs11/wrong-pin", test_wrong_pin);
  g_test_add_func ("/pkcs11/enrol", test_enrol);
  g_test_add_func ("/pkcs11/config-errors", test_config_errors);
  g_test_add_func ("/pkcs11/cli-demo", test_cli_demo);
  g_test_add_func ("/pkcs11/cli-config-and-environment", test_cli_config_and_environment);
  g_test_add_func ("/pkcs11/cli-refusals", test_cli_refusals);
  status = g_test_run ();
  if (t.tmp != NULL)
    ds_test_rm_rf (t.tmp);
  return status;
}

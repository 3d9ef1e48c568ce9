/* The station provisions simulated boards through dac-station-cli serve-ca
 * over mutual TLS; a CA fault fails only the board it hits, with the right
 * cause, and nothing is installed on it. */
#define _GNU_SOURCE
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ds-store.h"
#include "ds-test-est.h"
#include "ds-test-util.h"

typedef struct {
  DsTestTree tree;  /* the temporary tree and its simulator */
  char *client_ca;
  char *client_cert;
  char *client_key;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  ds_test_tree_setup (&f->tree, data);
  ds_test_make_client_credentials (f->tree.tmp);
  f->client_ca = g_build_filename (f->tree.tmp, "client-ca.pem", NULL);
  f->client_cert = g_build_filename (f->tree.tmp, "client.pem", NULL);
  f->client_key = g_build_filename (f->tree.tmp, "client-key.pem", NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_tree_teardown (&f->tree, data);
  g_free (f->client_ca);
  g_free (f->client_cert);
  g_free (f->client_key);
}

static DsTestServer *
start_server (Fixture           *f,
              const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  g_autofree char *dir = g_build_filename (f->tree.tmp, "ca", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_ptr_array_add (args, "--client-ca");
  g_ptr_array_add (args, f->client_ca);
  g_ptr_array_add (args, "--require-client-cert");
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, (char *) extra[i]);
  g_ptr_array_add (args, NULL);
  return ds_test_server_start (dir, (const char *const *) args->pdata, NULL);
}

/* `dac-station-cli COMMAND --json --data-dir D --ca est:URL ...` plus @extra. */
static DsCliResult *
run_station (Fixture           *f,
             DsTestServer      *s,
             const char        *command,
             const char *const *extra)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (args, g_strdup (command));
  g_ptr_array_add (args, g_strdup ("--json"));
  g_ptr_array_add (args, g_strdup ("--data-dir"));
  g_ptr_array_add (args, g_strdup (f->tree.data_dir));
  g_ptr_array_add (args, g_strdup_printf ("--ca=est:%s", s->url));
  g_ptr_array_add (args, g_strdup_printf ("--ca-bundle=%s", s->tls_ca));
  g_ptr_array_add (args, g_strdup_printf ("--client-cert=%s", f->client_cert));
  g_ptr_array_add (args, g_strdup_printf ("--client-key=%s", f->client_key));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (args, g_strdup (extra[i]));
  g_ptr_array_add (args, NULL);
  return ds_test_run_cli (f->tree.announce_dir, (const char *const *) args->pdata);
}

static guint
count_lines (const char *path)
{
  g_autofree char *contents = NULL;
  guint n = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  for (const char *p = contents; *p; p++)
    n += *p == '\n';
  return n;
}

static void
test_demo_mutual_tls (Fixture       *f,
                      gconstpointer  data)
{
  const char *server_extra[] = { "--pending", "1", NULL };
  g_autoptr(DsTestServer) s = start_server (f, server_extra);
  const char *extra[] = { "--boards", "4", NULL };
  g_autoptr(DsCliResult) r = run_station (f, s, "demo", extra);
  g_autofree char *log = g_build_filename (s->pki, "issued.log", NULL);
  g_autofree char *issued = NULL;
  g_autofree char *pai = g_build_filename (s->pki, "pai.pem", NULL);
  JsonObject *sum;
  guint n_pass = 0;

  g_assert_cmpint (r->exit_status, ==, 0);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 4);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 0);

  /* Every DAC is in the CA's own issuance log, and chains to its PAA with
   * the openssl command line. */
  g_assert_true (g_file_get_contents (log, &issued, NULL, NULL));
  g_assert_cmpuint (count_lines (log), ==, 4);
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);
      const char *argv[] = { "openssl", "verify", "-x509_strict", "-CAfile", s->paa, "-untrusted", pai, NULL, NULL };
      g_autofree char *out = NULL;

      if (g_strcmp0 (json_object_get_string_member (o, "event"), "pass") != 0)
        continue;
      n_pass++;
      g_assert_nonnull (strstr (issued, json_object_get_string_member (o, "dac_serial")));
      argv[7] = json_object_get_string_member (o, "dac_file");
      out = ds_test_spawn_ok (argv);
      g_assert_nonnull (strstr (out, ": OK"));
    }
  g_assert_cmpuint (n_pass, ==, 4);
  /* Each board waited through one 202. */
  g_assert_cmpuint (ds_test_server_count (s, "pending"), ==, 4);
}

/* A CA the station cannot trust stops the run before any board. */
static void
test_wrong_server_certificate (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(DsTestServer) s = start_server (f, NULL);
  g_autofree char *bundle = g_strdup_printf ("--ca-bundle=%s", f->client_ca);
  const char *extra[] = { "--boards", "1", bundle, NULL };
  g_autoptr(DsCliResult) r = run_station (f, s, "demo", extra);

  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_nonnull (strstr (r->err, "does not verify against the CA bundle"));
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 0);
}

/* The Basic password never travels on the command line. */
static void
test_password_from_environment (Fixture       *f,
                                gconstpointer  data)
{
  const char *extra[] = { "--boards", "1", "--ca-user", "station", NULL };
  g_autoptr(DsTestServer) s = start_server (f, NULL);
  g_autoptr(DsCliResult) r = NULL;

  g_unsetenv ("DS_CA_PASSWORD");
  r = run_station (f, s, "demo", extra);
  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_nonnull (strstr (r->err, "DS_CA_PASSWORD"));
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, needle, strlen (needle)) != NULL;
}

/* Every regular file below @dir. */
static void
collect_files (const char *dir,
               GPtrArray  *out)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        collect_files (path, out);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

/* A provisioning run with HTTP Basic: the password appears in no output,
 * log, record, export or file of the station, nor on its command line. */
static void
test_secrets_never_leak (Fixture       *f,
                         gconstpointer  data)
{
  const char *secret = "Wh1sper-7f3a-9c21-never-print-me";
  g_autofree char *server_env = g_strdup_printf ("DS_CA_PASSWORD=%s", secret);
  const char *server_extra[] = { "--client-ca", NULL, "--require-client-cert", "--user", "station", NULL };
  const char *env_extra[] = { server_env, NULL };
  const char *extra[] = { "--boards", "2", "--ca-user", "station", NULL };
  const char *export_args[] = { "export", "--json", "--data-dir", f->tree.data_dir, NULL };
  const char *audit_args[] = { "audit", "verify", "--data-dir", f->tree.data_dir, NULL };
  g_autofree char *dir = g_build_filename (f->tree.tmp, "ca", NULL);
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) ex = NULL;
  g_autoptr(DsCliResult) au = NULL;
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);

  server_extra[1] = f->client_ca;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  s = ds_test_server_start (dir, server_extra, env_extra);

  g_setenv ("DS_CA_PASSWORD", secret, TRUE);
  r = run_station (f, s, "demo", extra);
  g_unsetenv ("DS_CA_PASSWORD");
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 2);

  /* The station's own words: output, errors, exports, the audit. */
  g_assert_null (strstr (r->out, secret));
  g_assert_null (strstr (r->err, secret));
  ex = ds_test_run_cli (f->tree.announce_dir, export_args);
  g_assert_cmpint (ex->exit_status, ==, 0);
  g_assert_null (strstr (ex->out, secret));
  au = ds_test_run_cli (f->tree.announce_dir, audit_args);
  g_assert_null (strstr (au->out, secret));
  /* Its files: the records, the certificates, everything it wrote. */
  collect_files (f->tree.data_dir, files);
  g_assert_cmpuint (files->len, >, 2);
  for (guint i = 0; i < files->len; i++)
    g_assert_false (file_contains (files->pdata[i], secret));
  /* The CA server's log of requests. */
  g_assert_false (file_contains (s->out_path, secret));
  /* The command line the station ran with: the password is only ever in
   * the environment (a password option does not exist). */
  {
    const char *with_option[] = { "demo", "--boards", "1", "--data-dir", f->tree.data_dir, "--ca-password", secret, NULL };
    g_autoptr(DsCliResult) o = ds_test_run_cli (f->tree.announce_dir, with_option);

    g_assert_cmpint (o->exit_status, ==, 2);
    g_assert_null (strstr (o->err, secret));
  }
}

/* The same settings from a key file's [ca] group; never a password. */
static void
test_config_file (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(DsTestServer) s = start_server (f, NULL);
  g_autofree char *conf = g_build_filename (f->tree.tmp, "station.conf", NULL);
  g_autofree char *text = g_strdup_printf ("# the line's CA\n[ca]\nca=est:%s\nca-bundle=%s\n"
                                           "client-cert=client.pem\nclient-key=client-key.pem\ntimeout=20\n",
                                           s->url, s->tls_ca);
  g_autofree char *bad = g_build_filename (f->tree.tmp, "bad.conf", NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (conf, text, -1, &error);
  g_assert_no_error (error);
  {
    const char *args[] = { "demo", "--boards", "2", "--json", "--data-dir", f->tree.data_dir, "--ca-config", conf, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 0);
    g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "passed"), ==, 2);
    g_assert_cmpuint (ds_test_server_count (s, "issued"), ==, 2);
  }
  g_file_set_contents (bad, "[ca]\nca=est:https://127.0.0.1:1\nuser=station\npassword=s3cret\n", -1, &error);
  g_assert_no_error (error);
  {
    const char *args[] = { "demo", "--boards", "1", "--json", "--data-dir", f->tree.data_dir, "--ca-config", bad, NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);

    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "password does not go into the settings"));
  }
}

typedef struct {
  const char *fault;
  const char *code;
  const char *cause;
} FaultCase;

static const FaultCase fault_cases[] = {
  { "500", "io", "HTTP 500" },
  { "garbage", "protocol", "not base64" },
  { "content-type", "protocol", "text/html" },
  { "other-key", "invalid-data", "key other than the board's" },
  { "hang", "timed-out", "did not answer within 4 s" },
};

static void
test_fault (Fixture       *f,
            gconstpointer  data)
{
  const FaultCase *c = data;
  const char *boards_args[] = { "boards", "--json", NULL };
  g_autoptr(DsCliResult) boards = NULL;
  JsonObject *victim;
  const char *victim_uid;
  g_autoptr(DsTestServer) s = NULL;
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *db = g_build_filename (f->tree.data_dir, "records.sqlite3", NULL);
  DsStoreCounts counts = { 0 };
  JsonObject *fail, *pass;

  ds_test_tree_start_sim (&f->tree, 2, NULL);
  boards = ds_test_run_cli (f->tree.announce_dir, boards_args);
  g_assert_cmpint (boards->exit_status, ==, 0);
  /* "boards" names a board in "name", not "board". */
  victim = NULL;
  for (guint i = 0; i < boards->events->len && victim == NULL; i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (g_ptr_array_index (boards->events, i), "name", ""),
                   "sim-0") == 0)
      victim = g_ptr_array_index (boards->events, i);
  g_assert_nonnull (victim);
  victim_uid = json_object_get_string_member (victim, "uid");
  g_assert_nonnull (victim_uid);

  {
    const char *server_extra[] = { "--fault", c->fault, "--fault-board", victim_uid, NULL };
    const char *extra[] = { "--all", "--ca-timeout", "4", NULL };

    s = start_server (f, server_extra);
    r = run_station (f, s, "provision", extra);
  }
  g_assert_cmpint (r->exit_status, ==, 1);
  fail = ds_test_find_event (r->events, "fail", "sim-0");
  g_assert_nonnull (fail);
  g_test_message ("%s: %s", c->fault, json_object_get_string_member (fail, "cause"));
  g_assert_cmpstr (json_object_get_string_member (fail, "step"), ==, "forward");
  g_assert_cmpstr (json_object_get_string_member (fail, "code"), ==, c->code);
  g_assert_nonnull (strstr (json_object_get_string_member (fail, "cause"), c->cause));
  /* Nothing reached the board, and the other board passed. */
  g_assert_null (ds_test_find_step (r->events, "sim-0", "install"));
  pass = ds_test_find_event (r->events, "pass", "sim-1");
  g_assert_nonnull (pass);
  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_get_counts (store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.certificates, ==, 1);
  g_clear_object (&store);

  /* The CA is well again (the same PKI, without the fault): the failed
   * board passes on retry, the other one is provisioned already, each has
   * one DAC and the audit chain holds (docs/fault-matrix.md). */
  {
    const char *extra[] = { "--all", NULL };
    const char *audit[] = { "audit", "verify", "--data-dir", f->tree.data_dir, NULL };
    g_autofree char *pki = g_strdup (s->pki);
    g_autofree char *dir = g_build_filename (f->tree.tmp, "ca-again", NULL);
    const char *server_extra[] = { "--client-ca", f->client_ca, "--require-client-cert", "--pki", pki, NULL };
    g_autoptr(DsCliResult) again = NULL;
    g_autoptr(DsCliResult) a = NULL;

    g_clear_pointer (&s, ds_test_server_free);
    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
    s = ds_test_server_start (dir, server_extra, NULL);
    again = run_station (f, s, "provision", extra);
    g_assert_cmpint (again->exit_status, ==, 0);
    g_assert_nonnull (ds_test_find_event (again->events, "pass", "sim-0"));
    g_assert_nonnull (ds_test_find_event (again->events, "already-provisioned", "sim-1"));
    a = ds_test_run_cli (f->tree.announce_dir, audit);
    g_assert_cmpint (a->exit_status, ==, 0);
  }
  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_get_counts (store, &counts, &error));
  g_assert_cmpint (counts.certificates, ==, 2);
  g_assert_cmpint (counts.passed, ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)
  ADD ("/est-station/demo-mutual-tls", test_demo_mutual_tls, NULL);
  ADD ("/est-station/wrong-server-certificate", test_wrong_server_certificate, NULL);
  ADD ("/est-station/password-from-environment", test_password_from_environment, NULL);
  ADD ("/est-station/config-file", test_config_file, NULL);
  ADD ("/est-station/secrets-never-leak", test_secrets_never_leak, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (fault_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/est-station/fault/%s", fault_cases[i].fault);
      ADD (path, test_fault, &fault_cases[i]);
    }
#undef ADD
  return g_test_run ();
}

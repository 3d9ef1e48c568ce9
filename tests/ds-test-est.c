/* Helpers of the remote CA tests. */
#include "ds-test-est.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "ds-crypto.h"
#include "ds-test-util.h"

/* A test that aborts takes its server with it. */
static void
die_with_parent (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

DsTestServer *
ds_test_server_start (const char        *dir,
                      const char *const *extra,
                      const char *const *env_extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autofree char *pki = g_build_filename (dir, "pki", NULL);
  DsTestServer *s = g_new0 (DsTestServer, 1);
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  g_assert_nonnull (g_getenv ("DS_CLI"));
  g_ptr_array_add (argv, (char *) g_getenv ("DS_CLI"));
  g_ptr_array_add (argv, "serve-ca");
  g_ptr_array_add (argv, "--json");
  g_ptr_array_add (argv, "--listen");
  g_ptr_array_add (argv, "127.0.0.1:0");
  g_ptr_array_add (argv, "--pki");
  g_ptr_array_add (argv, pki);
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) extra[i]);
  g_ptr_array_add (argv, NULL);
  for (guint i = 0; env_extra != NULL && env_extra[i] != NULL; i++)
    {
      g_auto(GStrv) kv = g_strsplit (env_extra[i], "=", 2);
      g_subprocess_launcher_setenv (launcher, kv[0], kv[1], TRUE);
    }

  /* Its output goes to a file: the server never blocks on a full pipe and
   * the test reads what it did at the end. */
  s->out_path = g_build_filename (dir, "server.out", NULL);
  g_subprocess_launcher_set_stdout_file_path (launcher, s->out_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  s->proc = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);

  while (s->url == NULL)
    {
      g_autofree char *contents = NULL;

      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_assert_nonnull (g_subprocess_get_identifier (s->proc));  /* still running */
      /* The "listening" event; GLib's debug output may come before it. */
      if (g_file_get_contents (s->out_path, &contents, NULL, NULL))
        {
          g_auto(GStrv) lines = g_strsplit (contents, "\n", -1);

          for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL && s->url == NULL; i++)
            {
              g_autoptr(JsonParser) parser = json_parser_new ();
              JsonObject *o;

              if (!g_str_has_prefix (lines[i], "{\"event\":\"listening\""))
                continue;
              json_parser_load_from_data (parser, lines[i], -1, &error);
              g_assert_no_error (error);
              o = json_node_get_object (json_parser_get_root (parser));
              s->url = g_strdup (json_object_get_string_member (o, "url"));
              s->tls_ca = g_strdup (json_object_get_string_member_with_default (o, "tls_ca", NULL));
              s->pki = g_strdup (json_object_get_string_member (o, "pki"));
              s->paa = g_strdup (json_object_get_string_member (o, "paa"));
            }
          if (s->url != NULL)
            break;
        }
      g_usleep (20 * 1000);
    }
  return s;
}

void
ds_test_server_free (DsTestServer *s)
{
  if (s == NULL)
    return;
  if (s->proc != NULL)
    {
      g_subprocess_send_signal (s->proc, SIGTERM);
      g_subprocess_wait (s->proc, NULL, NULL);
      g_object_unref (s->proc);
    }
  g_free (s->url);
  g_free (s->tls_ca);
  g_free (s->pki);
  g_free (s->paa);
  g_free (s->out_path);
  g_free (s);
}

guint
ds_test_server_count (DsTestServer *s,
                      const char   *note)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *needle = g_strdup_printf ("\"note\":\"%s\"", note);
  guint n = 0;

  if (!g_file_get_contents (s->out_path, &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "\"event\":\"request\"") != NULL && strstr (lines[i], needle) != NULL)
      n++;
  return n;
}

guint
ds_test_server_connections (DsTestServer *s)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!g_file_get_contents (s->out_path, &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *c = strstr (lines[i], "\"connection\":");

      if (strstr (lines[i], "\"event\":\"request\"") != NULL && c != NULL)
        g_hash_table_add (seen, g_strndup (c, strcspn (c, ",}")));
    }
  return g_hash_table_size (seen);
}

char *
ds_test_spawn_ok (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  char *out = NULL;
  g_autofree char *err = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_test_message ("%s failed: %s", argv[0], err);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  return out;
}

static void
write_text (const char *path,
            const char *text)
{
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

void
ds_test_make_client_credentials (const char *dir)
{
  g_autofree char *ca_key = g_build_filename (dir, "client-ca-key.pem", NULL);
  g_autofree char *ca = g_build_filename (dir, "client-ca.pem", NULL);
  g_autofree char *key = g_build_filename (dir, "client-key.pem", NULL);
  g_autofree char *csr = g_build_filename (dir, "client.csr", NULL);
  g_autofree char *cert = g_build_filename (dir, "client.pem", NULL);
  g_autofree char *ext = g_build_filename (dir, "client.ext", NULL);
  g_autofree char *serial = g_build_filename (dir, "client-ca.srl", NULL);
  const char *gen_ca_key[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                               "-out", ca_key, NULL };
  const char *gen_ca[] = { "openssl", "req", "-x509", "-new", "-key", ca_key, "-subj", "/CN=Station client CA (test)",
                           "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
                           "-addext", "keyUsage=critical,keyCertSign", "-out", ca, NULL };
  const char *gen_key[] = { "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                            "-out", key, NULL };
  const char *gen_csr[] = { "openssl", "req", "-new", "-key", key, "-subj", "/CN=station-1", "-out", csr, NULL };
  const char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key,
                         "-CAserial", serial, "-CAcreateserial", "-days", "2", "-extfile", ext, "-out", cert, NULL };

  write_text (ext, "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n");
  g_free (ds_test_spawn_ok (gen_ca_key));
  g_free (ds_test_spawn_ok (gen_ca));
  g_free (ds_test_spawn_ok (gen_key));
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);
  g_free (ds_test_spawn_ok (gen_csr));
  g_free (ds_test_spawn_ok (sign));
}

GBytes *
ds_test_make_csr (const char *uid,
                  guint16     vid,
                  guint16     pid)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  g_autoptr(X509_NAME) name = X509_NAME_new ();
  g_autofree char *cn = g_strdup_printf ("DAC %s", uid);
  char hex[5];
  int nid_vid, nid_pid, len;
  unsigned char *der = NULL;

  ds_crypto_init (&nid_vid, &nid_pid);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  g_snprintf (hex, sizeof hex, "%04X", vid);
  X509_NAME_add_entry_by_NID (name, nid_vid, MBSTRING_UTF8, (const unsigned char *) hex, 4, -1, 0);
  g_snprintf (hex, sizeof hex, "%04X", pid);
  X509_NAME_add_entry_by_NID (name, nid_pid, MBSTRING_UTF8, (const unsigned char *) hex, 4, -1, 0);
  g_assert_true (X509_REQ_set_subject_name (req, name));
  g_assert_true (X509_REQ_set_pubkey (req, key));
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  len = i2d_X509_REQ (req, &der);
  g_assert_cmpint (len, >, 0);
  {
    GBytes *b = g_bytes_new (der, len);
    OPENSSL_free (der);
    return b;
  }
}

GBytes *
ds_test_make_csr_cn (const char *cn)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  g_autoptr(X509_NAME) name = X509_NAME_new ();
  unsigned char *der = NULL;
  GBytes *b;
  int len;

  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  g_assert_true (X509_REQ_set_subject_name (req, name));
  g_assert_true (X509_REQ_set_pubkey (req, key));
  g_assert_cmpint (X509_REQ_sign (req, key, EVP_sha256 ()), >, 0);
  len = i2d_X509_REQ (req, &der);
  g_assert_cmpint (len, >, 0);
  b = g_bytes_new (der, len);
  OPENSSL_free (der);
  return b;
}

GSubprocess *
ds_test_spawn_peer (const char *const *argv,
                    const char        *log_path)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;

  g_subprocess_launcher_set_stdout_file_path (launcher, log_path);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  proc = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  return proc;
}

guint16
ds_test_free_port (void)
{
  g_autoptr(GSocket) sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, 0, NULL);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_socket_bind (sock, addr, TRUE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (sock, &error);
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

void
ds_test_wait_port (guint16 port)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  for (;;)
    {
      g_autoptr(GSocketClient) client = g_socket_client_new ();
      g_autoptr(GSocketConnection) conn = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);

      if (conn != NULL)
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
}

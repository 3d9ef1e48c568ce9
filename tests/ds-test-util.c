/* Helpers shared by the integration tests. */
#include "ds-test-util.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-db.h"
#include "ds-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

void
ds_test_rm_rf (const char *path)
{
  ds_util_remove_tree (path);
}

/* ---- the temporary tree ------------------------------------------------ */

void
ds_test_tree_setup (DsTestTree    *tree,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *base = g_path_get_basename (g_get_prgname () != NULL ? g_get_prgname () : "ds-test");
  g_autofree char *template = g_strdup_printf ("%s%s-XXXXXX", g_str_has_prefix (base, "ds-") ? "" : "ds-", base);

  memset (tree, 0, sizeof *tree);
  tree->tmp = g_dir_make_tmp (template, &error);
  g_assert_no_error (error);
  tree->data_dir = g_build_filename (tree->tmp, "data", NULL);
  tree->state_dir = g_build_filename (tree->tmp, "boards", NULL);
  tree->announce_dir = g_build_filename (tree->tmp, "announce", NULL);
  g_assert_cmpint (g_mkdir_with_parents (tree->announce_dir, 0700), ==, 0);
}

void
ds_test_tree_teardown (DsTestTree    *tree,
                       gconstpointer  data)
{
  ds_test_stop (&tree->sim_pid, 0);
  if (tree->tmp != NULL)
    ds_test_rm_rf (tree->tmp);
  g_clear_pointer (&tree->tmp, g_free);
  g_clear_pointer (&tree->data_dir, g_free);
  g_clear_pointer (&tree->state_dir, g_free);
  g_clear_pointer (&tree->announce_dir, g_free);
}

char *
ds_test_tree_path (DsTestTree *tree,
                   const char *name)
{
  return g_build_filename (tree->tmp, name, NULL);
}

void
ds_test_tree_start_sim (DsTestTree        *tree,
                        int                n_boards,
                        const char *const *extra)
{
  g_assert_cmpint (tree->sim_pid, ==, 0);
  tree->sim_pid = ds_test_start_sim (tree->state_dir, tree->announce_dir, n_boards, extra);
}

void
ds_test_tree_start_sim_with_faults (DsTestTree         *tree,
                                    int                 n_boards,
                                    guint               baud,
                                    const char * const *faults)
{
  g_autoptr(GPtrArray) extra = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (extra, g_strdup ("--baud"));
  g_ptr_array_add (extra, g_strdup_printf ("%u", baud));
  for (guint i = 0; faults != NULL && faults[i] != NULL; i++)
    {
      g_ptr_array_add (extra, g_strdup ("--fault"));
      g_ptr_array_add (extra, g_strdup (faults[i]));
    }
  g_ptr_array_add (extra, NULL);
  ds_test_tree_start_sim (tree, n_boards, (const char * const *) extra->pdata);
}

void
ds_test_tree_stop_sim (DsTestTree *tree)
{
  ds_test_stop (&tree->sim_pid, 0);
}

/* ---- children that say "ready" ----------------------------------------- */

/* The children started here, by pid: a DsSimulator or, for other
 * programs, a GSubprocess.  The stdout pipes stay open until the child is
 * stopped, so no child ever writes into a closed pipe. */
static GHashTable *
children (void)
{
  static GHashTable *table;

  if (table == NULL)
    table = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, g_object_unref);
  return table;
}

GPid
ds_test_spawn_ready (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) process = ds_simulator_spawn (argv, &error);
  g_autoptr(GDataInputStream) lines = NULL;
  GPid pid;

  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_assert_true (ds_simulator_wait_ready (lines, NULL, &error));
  g_assert_no_error (error);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (process), NULL, 10);
  /* The stream holds the pipe; the process holds the stream. */
  g_object_set_data_full (G_OBJECT (process), "ds-test-stdout", g_steal_pointer (&lines), g_object_unref);
  g_hash_table_insert (children (), GINT_TO_POINTER (pid), g_steal_pointer (&process));
  return pid;
}

GPid
ds_test_start_sim (const char        *state_dir,
                   const char        *announce_dir,
                   int                n_boards,
                   const char *const *extra)
{
  const char *seed[] = { "--seed", "7", NULL };
  g_autoptr(DsSimulator) sim = ds_simulator_new (announce_dir);
  g_autoptr(GError) error = NULL;
  GPid pid;

  g_assert_nonnull (g_getenv ("DS_SIM"));
  ds_simulator_set_program (sim, g_getenv ("DS_SIM"));
  ds_simulator_set_state_dir (sim, state_dir);
  ds_simulator_add_arguments (sim, seed);
  ds_simulator_add_arguments (sim, extra);
  g_assert_true (ds_simulator_start_sync (sim, (guint) n_boards, 0, NULL, &error));
  g_assert_no_error (error);
  pid = ds_simulator_get_pid (sim);
  g_assert_cmpint (pid, >, 0);
  g_hash_table_insert (children (), GINT_TO_POINTER (pid), g_steal_pointer (&sim));
  return pid;
}

void
ds_test_stop (GPid *pid,
              int   signal)
{
  gpointer child;
  int status;

  if (*pid <= 0)
    return;
  child = g_hash_table_lookup (children (), GINT_TO_POINTER (*pid));
  if (DS_IS_SIMULATOR (child))
    ds_simulator_stop_sync (child, signal != 0 ? signal : SIGTERM);
  else if (G_IS_SUBPROCESS (child))
    {
      g_subprocess_send_signal (child, signal != 0 ? signal : SIGTERM);
      g_subprocess_wait (child, NULL, NULL);
    }
  else
    {
      kill (*pid, signal != 0 ? signal : SIGTERM);
      waitpid (*pid, &status, 0);
      g_spawn_close_pid (*pid);
    }
  g_hash_table_remove (children (), GINT_TO_POINTER (*pid));
  *pid = 0;
}

/* ---- waiting on conditions ---------------------------------------------- */

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_REMOVE;
}

gboolean
ds_test_try_wait_until (gboolean (*cond) (gpointer data),
                        gpointer  data,
                        guint     timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64) timeout_s * G_USEC_PER_SEC;
  g_autoptr(GMainContext) context = g_main_context_ref (g_main_context_default ());

  while (!cond (data))
    {
      g_autoptr(GSource) tick = NULL;

      if (g_get_monotonic_time () > end)
        return cond (data);
      /* Threads and other processes change things without waking this
       * context: a short timeout makes sure it looks again. */
      tick = g_timeout_source_new (5);
      g_source_set_callback (tick, tick_cb, NULL, NULL);
      g_source_attach (tick, context);
      g_main_context_iteration (context, TRUE);
      g_source_destroy (tick);
    }
  return TRUE;
}

void
ds_test_wait_until (gboolean   (*cond) (gpointer data),
                    gpointer    data,
                    guint       timeout_s,
                    const char *what)
{
  if (!ds_test_try_wait_until (cond, data, timeout_s))
    {
      g_test_message ("timed out after %u s waiting for %s", timeout_s, what);
      g_assert_not_reached ();
    }
}

void
ds_cli_result_free (DsCliResult *r)
{
  g_ptr_array_unref (r->events);
  g_free (r->out);
  g_free (r->err);
  g_free (r);
}

void
ds_test_parse_json_line (const char *line,
                         GPtrArray  *events)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  if (line[0] != '{')
    return;
  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_ptr_array_add (events, json_object_ref (json_node_get_object (json_parser_get_root (parser))));
}

DsCliResult *
ds_test_run_cli (const char        *announce_dir,
                 const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) env = g_get_environ ();
  DsCliResult *r = g_new0 (DsCliResult, 1);
  g_auto(GStrv) lines = NULL;
  int status = 0;

  g_assert_nonnull (g_getenv ("DS_CLI"));
  env = g_environ_setenv (env, "DAC_STATION_SIM_DIR", announce_dir, TRUE);
  g_ptr_array_add (argv, (char *) g_getenv ("DS_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                &r->out, &r->err, &status, &error);
  g_assert_no_error (error);
  r->exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  r->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  lines = g_strsplit (r->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    ds_test_parse_json_line (lines[i], r->events);
  /* What the CLI said goes into the test log whenever it did not succeed,
   * so a failure in CI can be understood from the log alone. */
  if (g_test_verbose () || r->exit_status != 0)
    g_test_message ("exit status %d\nstdout:\n%s\nstderr:\n%s", r->exit_status, r->out, r->err);
  return r;
}

JsonObject *
ds_test_find_event (GPtrArray  *events,
                    const char *event,
                    const char *board)
{
  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), event) == 0 &&
          (board == NULL || g_strcmp0 (json_object_get_string_member_with_default (o, "board", ""), board) == 0))
        return o;
    }
  return NULL;
}

JsonObject *
ds_test_find_step (GPtrArray  *events,
                   const char *board,
                   const char *step)
{
  JsonObject *found = NULL;

  for (guint i = 0; i < events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "step") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "board", ""), board) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "step", ""), step) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "status", ""), "started") != 0)
        found = o;
    }
  return found;
}

JsonObject *
ds_test_summary (DsCliResult *r)
{
  JsonObject *last;

  g_assert_cmpuint (r->events->len, >, 0);
  last = g_ptr_array_index (r->events, r->events->len - 1);
  g_assert_cmpstr (json_object_get_string_member (last, "event"), ==, "summary");
  return last;
}

/* ---- a throwaway PostgreSQL server ------------------------------------ */

static char *
pg_script (void)
{
  return g_test_build_filename (G_TEST_DIST, "pg-server.sh", NULL);
}

char *
ds_test_pg_start (char **skip_reason)
{
  g_autofree char *script = pg_script ();
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  const char *argv[] = { script, "start", pid, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (WIFEXITED (status) && WEXITSTATUS (status) == 77)
    {
      *skip_reason = g_strdup (g_strstrip (err));
      return NULL;
    }
  if (!g_spawn_check_wait_status (status, &error))
    g_error ("Cannot start a PostgreSQL server for the tests: %s", err);
  return g_strdup (g_strstrip (out));
}

void
ds_test_pg_stop (char *server)
{
  g_autofree char *script = pg_script ();
  const char *argv[] = { script, "stop", server, NULL };

  if (server == NULL)
    return;
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL, NULL, NULL);
  g_free (server);
}

char *
ds_test_pg_uri (const char *server,
                const char *database)
{
  return g_strdup_printf ("postgresql:///%s?host=%s&user=dsbuild", database, server);
}

char *
ds_test_pg_new_database (const char *server)
{
  static gint counter;
  g_autofree char *admin = ds_test_pg_uri (server, "postgres");
  g_autofree char *name = g_strdup_printf ("t%d", g_atomic_int_add (&counter, 1));
  g_autofree char *sql = g_strdup_printf ("CREATE DATABASE %s", name);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (admin, FALSE, &error);

  g_assert_no_error (error);
  g_assert_true (ds_db_exec (db, sql, &error));
  g_assert_no_error (error);
  return ds_test_pg_uri (server, name);
}

/* ---- the record store on either backend -------------------------------- */

static struct {
  gboolean  postgres;
  char     *prefix;
  char     *pg_server;
} backend;

static void
skip_cb (gconstpointer data)
{
  g_test_skip (data);
}

gboolean
ds_test_backend_init (gboolean    postgres,
                      const char *prefix)
{
  g_autofree char *reason = NULL;

  backend.postgres = postgres;
  backend.prefix = g_strconcat (prefix, postgres ? "-pg" : "", NULL);
  if (!postgres)
    return TRUE;
  backend.pg_server = ds_test_pg_start (&reason);
  if (backend.pg_server == NULL)
    {
      g_test_add_data_func_full (ds_test_backend_path ("/skipped"), g_steal_pointer (&reason), skip_cb, g_free);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_test_backend_is_postgres (void)
{
  return backend.postgres;
}

const char *
ds_test_backend_path (const char *path)
{
  g_autofree char *full = g_strconcat (backend.prefix, path, NULL);

  g_assert_nonnull (backend.prefix);
  return g_intern_string (full);
}

char *
ds_test_backend_new_store (const char *sqlite_path)
{
  if (!backend.postgres)
    return g_strdup (sqlite_path);
  g_assert_nonnull (backend.pg_server);
  return ds_test_pg_new_database (backend.pg_server);
}

int
ds_test_backend_run (void)
{
  int status = g_test_run ();

  ds_test_pg_stop (g_steal_pointer (&backend.pg_server));
  g_clear_pointer (&backend.prefix, g_free);
  return status;
}

void
ds_test_store_setup (DsTestStore   *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *sqlite_path = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  /* A folder that does not exist yet: the store creates it. */
  sqlite_path = g_build_filename (f->tmp, "sub", "records.sqlite3", NULL);
  f->path = ds_test_backend_new_store (sqlite_path);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

void
ds_test_store_teardown (DsTestStore   *f,
                        gconstpointer  data)
{
  g_clear_object (&f->store);
  ds_test_rm_rf (f->tmp);
  g_clear_pointer (&f->tmp, g_free);
  g_clear_pointer (&f->path, g_free);
}

/* ---- BER variants of DER ------------------------------------------------ */

/* The header of the DER element at @d: its length, and the content's. */
static gsize
der_header (const guint8 *d,
            gsize        *content_len)
{
  if (d[1] < 0x80)
    {
      *content_len = d[1];
      return 2;
    }
  *content_len = 0;
  for (guint i = 0; i < (d[1] & 0x7fu); i++)
    *content_len = (*content_len << 8) | d[2 + i];
  return 2 + (d[1] & 0x7fu);
}

/* @tag around @content: in DER, with one needless leading zero length
 * byte, or with BER's indefinite length and end-of-contents octets. */
static void
append_element (GByteArray   *out,
                guint8        tag,
                const guint8 *content,
                gsize         len,
                int           form)
{
  guint8 n = len < 0x80 ? 0 : len < 0x100 ? 1 : len < 0x10000 ? 2 : 3;
  const guint8 zeros[2] = { 0, 0 };

  g_byte_array_append (out, &tag, 1);
  if (form == DS_TEST_DER_INDEFINITE)
    {
      const guint8 b = 0x80;
      g_byte_array_append (out, &b, 1);
      g_byte_array_append (out, content, (guint) len);
      g_byte_array_append (out, zeros, 2);
      return;
    }
  if (form == DS_TEST_DER_LONG_LENGTH)
    {
      /* A short length in the long form, or a leading zero byte. */
      const guint8 b = (guint8) (0x80 | (n == 0 ? 1 : n + 1));
      g_byte_array_append (out, &b, 1);
      if (n > 0)
        g_byte_array_append (out, zeros, 1);
    }
  else if (n > 0)
    {
      const guint8 b = (guint8) (0x80 | n);
      g_byte_array_append (out, &b, 1);
    }
  if (n == 0)
    {
      const guint8 b = (guint8) len;
      g_byte_array_append (out, &b, 1);
    }
  for (int i = n - 1; i >= 0; i--)
    {
      const guint8 b = (guint8) (len >> (8 * i));
      g_byte_array_append (out, &b, 1);
    }
  g_byte_array_append (out, content, (guint) len);
}

/* @der re-encoded with its outer element (@inner FALSE) or its first inner
 * element (the TBSCertificate, the CertificationRequestInfo, the CD's OID)
 * in @form; the rest stays as it was. */
GBytes *
ds_test_der_reencode (GBytes   *der,
          gboolean  inner,
          int       form)
{
  const guint8 *d = g_bytes_get_data (der, NULL);
  gsize len, hdr = der_header (d, &len);
  g_autoptr(GByteArray) out = g_byte_array_new ();

  if (!inner)
    append_element (out, d[0], d + hdr, len, form);
  else
    {
      g_autoptr(GByteArray) content = g_byte_array_new ();
      const guint8 *first = d + hdr;
      gsize first_len, first_hdr = der_header (first, &first_len);

      append_element (content, first[0], first + first_hdr, first_len, form);
      g_byte_array_append (content, first + first_hdr + first_len, (guint) (len - first_hdr - first_len));
      append_element (out, d[0], content->data, content->len, DS_TEST_DER_MINIMAL);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
ds_test_make_cert (EVP_PKEY   *key,
                   EVP_PKEY   *issuer,
                   const char *cn,
                   long        serial)
{
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), serial);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_set_pubkey (cert, key);
  g_assert_cmpint (X509_sign (cert, issuer, EVP_sha256 ()), >, 0);
  len = i2d_X509 (cert, &der);
  g_assert_cmpint (len, >, 0);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

void
ds_test_make_paa (const char *path,
                  const char *cn)
{
  g_autoptr(EVP_PKEY) key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  g_autofree char *pem = NULL;

  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 42);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), -3600);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600 * 24 * 365);
  X509_set_pubkey (cert, key);
  g_assert_true (ds_cert_add_ext (cert, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:1"));
  g_assert_true (ds_cert_add_ext (cert, NULL, NID_key_usage, "critical,keyCertSign,cRLSign"));
  g_assert_true (ds_cert_add_ext (cert, NULL, NID_subject_key_identifier, "hash"));
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  pem = ds_cert_to_pem (cert);
  g_assert_true (g_file_set_contents (path, pem, -1, NULL));
}

void
ds_test_make_cd (const char   *path,
                 const guint8 *kid)
{
  g_autoptr(EVP_PKEY) key = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  g_autoptr(DsCd) cd = ds_cd_new ();
  g_autoptr(GBytes) der = NULL;
  g_autoptr(GError) error = NULL;
  guint16 pid = 0x0001;

  cd->format_version = 1;
  cd->vendor_id = 0x1234;
  g_array_append_val (cd->product_ids, pid);
  cd->device_type_id = 0x0100;
  cd->certificate_id = g_strdup ("ZIG20141ZB330001-24");
  cd->certification_type = DS_CD_TYPE_DEVELOPMENT;
  der = ds_cd_encode (cd, key, kid, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (der, NULL), g_bytes_get_size (der), NULL));
}

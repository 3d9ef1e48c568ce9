/* Helpers shared by the integration tests. */
#include "ds-test-util.h"

#include "ds-db.h"
#include "ds-util.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void
ds_test_rm_rf (const char *path)
{
  ds_util_remove_tree (path);
}

/* A failed assertion aborts the test without its teardown: the simulator
 * must not outlive it, or it holds the test's output open until the
 * harness's timeout. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

GPid
ds_test_spawn_ready (const char *const *argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GIOChannel) ch = NULL;
  GPid pid = 0;
  int out_fd = -1;

  g_spawn_async_with_pipes (NULL, (char **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
                            die_with_parent, NULL, &pid, NULL, &out_fd, NULL, &error);
  g_assert_no_error (error);
  ch = g_io_channel_unix_new (out_fd);
  /* The pipe stays open for the life of the test process, so the child
   * never writes into a closed pipe. */
  g_io_channel_set_close_on_unref (ch, FALSE);
  for (;;)
    {
      g_autofree char *line = NULL;
      GIOStatus st = g_io_channel_read_line (ch, &line, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_cmpint (st, ==, G_IO_STATUS_NORMAL);
      if (g_str_has_prefix (line, "ready"))
        break;
    }
  return pid;
}

GPid
ds_test_start_sim (const char        *state_dir,
                   const char        *announce_dir,
                   int                n_boards,
                   const char *const *extra)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);

  g_assert_nonnull (g_getenv ("DS_SIM"));
  g_ptr_array_add (argv, g_strdup (g_getenv ("DS_SIM")));
  g_ptr_array_add (argv, g_strdup ("--boards"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", n_boards));
  g_ptr_array_add (argv, g_strdup ("--state-dir"));
  g_ptr_array_add (argv, g_strdup (state_dir));
  g_ptr_array_add (argv, g_strdup ("--announce-dir"));
  g_ptr_array_add (argv, g_strdup (announce_dir));
  g_ptr_array_add (argv, g_strdup ("--seed"));
  g_ptr_array_add (argv, g_strdup ("7"));
  for (guint i = 0; extra != NULL && extra[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (extra[i]));
  g_ptr_array_add (argv, NULL);
  return ds_test_spawn_ready ((const char *const *) argv->pdata);
}

void
ds_test_stop (GPid *pid,
              int   signal)
{
  int status;

  if (*pid <= 0)
    return;
  kill (*pid, signal != 0 ? signal : SIGTERM);
  waitpid (*pid, &status, 0);
  g_spawn_close_pid (*pid);
  *pid = 0;
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

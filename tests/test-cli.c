/* Integration tests: dac-station-cli against the board simulator on real
 * pseudo-terminals, with real SQLite files and the openssl command line. */
#define _GNU_SOURCE
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/wait.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

#include "ds-crypto.h"
#include "ds-frame.h"
#include "ds-store.h"
#include "ds-test-util.h"

/* The temporary tree and its simulator (ds-test-util). */
typedef DsTestTree Fixture;

static gboolean
openssl_verify (const char *paa,
                const char *pai,
                const char *dac,
                char      **output)
{
  const char *argv[] = { "openssl", "verify", "-x509_strict", "-CAfile", paa, "-untrusted", pai, dac, NULL };
  g_autoptr(GError) error = NULL;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                NULL, NULL, output, NULL, &status, &error);
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL);
}

/* Collects every regular file below @dir. */
static void
list_files (const char *dir,
            GPtrArray  *out)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  if (d == NULL)
    return;
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        list_files (path, out);
      else if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        g_ptr_array_add (out, g_steal_pointer (&path));
    }
}

static gboolean
memmem_file (const char   *path,
             const guint8 *needle,
             gsize         needle_len)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &contents, &len, NULL))
    return FALSE;
  return memmem (contents, len, needle, needle_len) != NULL;
}

/* The simulated UART never lets bytes through faster than its rate, even
 * as it makes up for its own late wake-ups within a frame: each board's
 * job lasts at least the time its bytes take on the wire. */
static void
test_demo_uart_pace (Fixture       *f,
                     gconstpointer  data)
{
  const char *args[] = { "demo", "--boards", "4", "--baud", "115200", "--json", "--data-dir", f->data_dir,
                         "--sim-state-dir", f->state_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, args);
  guint n_pass = 0;

  g_assert_cmpint (r->exit_status, ==, 0);
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);
      g_autofree char *path = NULL;
      g_autofree char *timing = NULL;
      g_auto(GStrv) lines = NULL;
      gint64 wire_us = -1;

      if (g_strcmp0 (json_object_get_string_member (o, "event"), "pass") != 0)
        continue;
      n_pass++;
      path = g_build_filename (f->state_dir, json_object_get_string_member (o, "board"), "timing", NULL);
      g_assert_true (g_file_get_contents (path, &timing, NULL, NULL));
      lines = g_strsplit (timing, "\n", -1);
      for (guint l = 0; lines[l] != NULL; l++)
        if (g_str_has_prefix (lines[l], "wire_us "))
          wire_us = g_ascii_strtoll (lines[l] + 8, NULL, 10);
      /* A job exchanges a few hundred bytes each way: over 50 ms at
       * 115200 baud. */
      g_assert_cmpint (wire_us, >, 50000);
      g_assert_cmpfloat (json_object_get_double_member (o, "duration_s") * 1e6, >=, (double) wire_us - 1000);
    }
  g_assert_cmpuint (n_pass, ==, 4);
}

/* A slow simulated line (the GUI's boards ran at 4800 baud): at that rate
 * the factory data read back (well over a KiB) takes longer on the wire
 * than a command's base timeout.  An answer that keeps arriving cleanly is waited
 * for, and the board passes (it failed at Install before). */
static void
test_demo_slow_line (Fixture       *f,
                     gconstpointer  data)
{
  const char *args[] = { "demo", "--boards", "1", "--baud", "4800", "--json", "--data-dir", f->data_dir,
                         "--sim-state-dir", f->state_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, args);
  JsonObject *pass;

  g_assert_cmpint (r->exit_status, ==, 0);
  pass = ds_test_find_event (r->events, "pass", NULL);
  g_assert_nonnull (pass);
  g_assert_cmpstr (json_object_get_string_member (pass, "board"), ==, "sim-0");
}

static void
test_demo_eight_boards (Fixture       *f,
                        gconstpointer  data)
{
  const char *args[] = { "demo", "--boards", "8", "--json", "--data-dir", f->data_dir,
                         "--sim-state-dir", f->state_dir, NULL };
  gint64 before = g_get_monotonic_time ();
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, args);
  double wall = (g_get_monotonic_time () - before) / 1e6;
  g_autofree char *paa = g_build_filename (f->data_dir, "pki", "paa.pem", NULL);
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  g_autoptr(GPtrArray) station_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) board_files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) serials = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };
  JsonObject *sum;
  guint n_keys = 0;

  g_assert_cmpint (r->exit_status, ==, 0);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 0);
  /* The run's duration covers the simulator's start and the provisioning,
   * and no more than the test waited for the command. */
  g_assert_cmpfloat (json_object_get_double_member (sum, "provisioning_s"), >, 0);
  g_assert_cmpfloat (json_object_get_double_member (sum, "elapsed_s"), >,
                     json_object_get_double_member (sum, "provisioning_s"));
  g_assert_cmpfloat (json_object_get_double_member (sum, "elapsed_s"), <=, wall);

  /* Every DAC verifies with the openssl command line against the test PAA
   * and PAI, and every serial is different. */
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);
      const char *dac, *pai, *serial;
      g_autofree char *out = NULL;

      if (g_strcmp0 (json_object_get_string_member (o, "event"), "pass") != 0)
        continue;
      dac = json_object_get_string_member (o, "dac_file");
      pai = json_object_get_string_member (o, "pai_file");
      serial = json_object_get_string_member (o, "dac_serial");
      g_assert_nonnull (serial);
      g_assert_cmpuint (strlen (json_object_get_string_member (o, "dac_fingerprint")), ==, 64);
      g_assert_cmpuint (strlen (json_object_get_string_member (o, "uid")), ==, 24);
      g_assert_true (g_file_test (dac, G_FILE_TEST_IS_REGULAR));
      g_assert_true (openssl_verify (paa, pai, dac, &out));
      g_assert_nonnull (strstr (out, "OK"));
      g_assert_false (g_hash_table_contains (serials, serial));
      g_hash_table_add (serials, (gpointer) serial);
    }
  g_assert_cmpuint (g_hash_table_size (serials), ==, 8);

  /* Every step of every job is in the records. */
  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  ds_store_get_counts (store, &counts, &error);
  g_assert_no_error (error);
  g_assert_cmpint (counts.jobs, ==, 8);
  g_assert_cmpint (counts.passed, ==, 8);
  g_assert_cmpint (counts.certificates, ==, 8);
  g_assert_cmpint (counts.boards, ==, 8);
  g_clear_object (&store);

  /* No file the station wrote holds a board's private key: look for the
   * key's PEM body and its raw bytes in every station file. */
  list_files (f->data_dir, station_files);
  list_files (f->state_dir, board_files);
  for (guint i = 0; i < board_files->len; i++)
    {
      const char *path = g_ptr_array_index (board_files, i);
      g_autofree char *pem = NULL;
      g_auto(GStrv) lines = NULL;

      if (!g_file_get_contents (path, &pem, NULL, NULL) || strstr (pem, "PRIVATE KEY") == NULL)
        continue;
      n_keys++;
      /* The PEM body, as text. */
      lines = g_strsplit (pem, "\n", -1);
      for (guint l = 1; lines[l] != NULL && !g_str_has_prefix (lines[l], "-----"); l++)
        for (guint s = 0; s < station_files->len; s++)
          g_assert_false (memmem_file (g_ptr_array_index (station_files, s),
                                       (const guint8 *) lines[l], strlen (lines[l])));
      /* The private scalar, raw and in hex. */
      {
        g_autoptr(BIO) bio = BIO_new_mem_buf (pem, -1);
        g_autoptr(EVP_PKEY) key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
        BIGNUM *priv = NULL;
        guint8 raw[32];
        g_autofree char *hex = NULL;
        g_autofree char *hex_upper = NULL;

        g_assert_nonnull (key);
        g_assert_true (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_PRIV_KEY, &priv));
        g_assert_cmpint (BN_bn2binpad (priv, raw, sizeof raw), ==, 32);
        BN_free (priv);
        hex = g_malloc0 (65);
        for (guint k = 0; k < 32; k++)
          g_snprintf (hex + 2 * k, 3, "%02x", raw[k]);
        hex_upper = g_ascii_strup (hex, -1);
        for (guint s = 0; s < station_files->len; s++)
          {
            const char *sf = g_ptr_array_index (station_files, s);
            g_assert_false (memmem_file (sf, raw, sizeof raw));
            g_assert_false (memmem_file (sf, (const guint8 *) hex, 64));
            g_assert_false (memmem_file (sf, (const guint8 *) hex_upper, 64));
          }
      }
    }
  /* The boards made their keys: eight of them exist, on the boards' side. */
  g_assert_cmpuint (n_keys, ==, 8);
}

static void
test_faults_fail_only_their_board (Fixture       *f,
                                   gconstpointer  data)
{
  const char *faults[] = {
    "--fault", "1:refuse-install",
    "--fault", "2:stall:INSTALL",
    "--fault", "3:disconnect:ATTESTATION",
    "--fault", "4:wrong-key",
    "--fault", "5:corrupt:0.2",
    NULL
  };
  const char *args[] = { "provision", "--all", "--json", "--data-dir", f->data_dir,
                         "--command-timeout", "400", "--retries", "2", NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) again = NULL;
  g_autoptr(DsCliResult) third = NULL;
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };
  JsonObject *o;
  JsonObject *sum;

  ds_test_tree_start_sim (f, 7, faults);
  r = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 1);
  sum = ds_test_summary (r);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 5);

  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-0"));
  g_assert_nonnull (ds_test_find_event (r->events, "pass", "sim-6"));

  o = ds_test_find_event (r->events, "fail", "sim-1");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "install");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "rejected");

  o = ds_test_find_event (r->events, "fail", "sim-2");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "install");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "timed-out");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "did not answer INSTALL"));

  o = ds_test_find_event (r->events, "fail", "sim-3");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "attest");
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "disconnected");

  o = ds_test_find_event (r->events, "fail", "sim-4");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "step"), ==, "install");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "not for the key inside the board"));

  o = ds_test_find_event (r->events, "fail", "sim-5");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "code"), ==, "timed-out");

  /* The same boards without their faults (the simulator keeps their keys
   * and credentials): every failed board passes on retry, the passed ones
   * are recognised as provisioned. */
  ds_test_tree_stop_sim (f);
  ds_test_tree_start_sim (f, 7, NULL);
  again = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (again->exit_status, ==, 0);
  sum = ds_test_summary (again);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (sum, "already_provisioned"), ==, 2);
  g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 0);
  g_assert_nonnull (ds_test_find_event (again->events, "already-provisioned", "sim-0"));
  g_assert_nonnull (ds_test_find_event (again->events, "already-provisioned", "sim-6"));

  /* DACs issued before the failure are installed on retry, not requested
   * again: sim-1 and sim-2 (INSTALL refused or unanswered) and sim-3
   * (installed, then unplugged before ATTESTATION). */
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *name = g_strdup_printf ("sim-%u", i);

      o = ds_test_find_step (again->events, name, "forward");
      g_assert_nonnull (o);
      g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "skipped");
      g_assert_nonnull (ds_test_find_event (again->events, "pass", name));
    }
  /* Its DAC is not installed again; its factory data is written. */
  o = ds_test_find_step (again->events, "sim-3", "install");
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "pass");
  g_assert_nonnull (strstr (json_object_get_string_member (o, "message"), "installed before an interruption"));
  /* sim-4's first DAC was for a key the board does not hold: a new one. */
  o = ds_test_find_step (again->events, "sim-4", "forward");
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "pass");

  store = ds_store_open (db, &error);
  g_assert_no_error (error);
  ds_store_get_counts (store, &counts, &error);
  g_assert_no_error (error);
  /* Certificates: sim-0, sim-6 once; sim-1 and sim-2 once each (issued
   * before the failure, installed on retry); sim-3 once (installed before
   * the disconnect); sim-4 twice (the first, for the wrong key, superseded);
   * sim-5 once (corruption hit before or after issuance, never twice). */
  g_assert_cmpint (counts.certificates, ==, 8);
  g_assert_cmpint (counts.passed, ==, 7);
  g_clear_object (&store);

  /* A third run changes nothing. */
  third = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (third->exit_status, ==, 0);
  sum = ds_test_summary (third);
  g_assert_cmpint (json_object_get_int_member (sum, "already_provisioned"), ==, 7);
}

static void
test_boards_lists_simulated (Fixture       *f,
                             gconstpointer  data)
{
  const char *args[] = { "boards", "--json", NULL };
  g_autoptr(DsCliResult) r = NULL;

  ds_test_tree_start_sim (f, 3, NULL);
  r = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpuint (r->events->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);
      g_autofree char *name = g_strdup_printf ("sim-%u", i);

      g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, name);
      g_assert_cmpstr (json_object_get_string_member (o, "kind"), ==, "simulated");
      g_assert_cmpuint (strlen (json_object_get_string_member (o, "uid")), ==, 24);
    }

  /* A dead simulator's boards are gone. */
  ds_test_tree_stop_sim (f);
  g_clear_pointer (&r, ds_cli_result_free);
  r = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpuint (r->events->len, ==, 0);
}

static void
test_usage_errors (Fixture       *f,
                   gconstpointer  data)
{
  const char *no_boards[] = { "provision", "--data-dir", f->data_dir, NULL };
  const char *bad_ca[] = { "provision", "--all", "--ca", "nonsense", "--data-dir", f->data_dir, NULL };
  const char *bad_opt[] = { "provision", "--frobnicate", NULL };
  const char *bad_cmd[] = { "frobnicate", NULL };
  const char *bad_vid[] = { "demo", "--vid", "XYZ", "--data-dir", f->data_dir, NULL };

  g_autoptr(DsCliResult) a = ds_test_run_cli (f->announce_dir, no_boards);
  g_autoptr(DsCliResult) b = ds_test_run_cli (f->announce_dir, bad_ca);
  g_autoptr(DsCliResult) c = ds_test_run_cli (f->announce_dir, bad_opt);
  g_autoptr(DsCliResult) d = ds_test_run_cli (f->announce_dir, bad_cmd);
  g_autoptr(DsCliResult) e = ds_test_run_cli (f->announce_dir, bad_vid);

  g_assert_cmpint (a->exit_status, ==, 2);
  g_assert_cmpint (b->exit_status, ==, 2);
  g_assert_nonnull (strstr (b->err, "nonsense"));
  g_assert_cmpint (c->exit_status, ==, 2);
  g_assert_cmpint (d->exit_status, ==, 2);
  g_assert_cmpint (e->exit_status, ==, 2);
}

static void
test_pki (Fixture       *f,
          gconstpointer  data)
{
  const char *args[] = { "pki", "--json", "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, args);
  JsonObject *o;
  GStatBuf st;

  g_assert_cmpint (r->exit_status, ==, 0);
  o = ds_test_find_event (r->events, "pki", NULL);
  g_assert_nonnull (o);
  g_assert_true (g_file_test (json_object_get_string_member (o, "paa"), G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_file_test (json_object_get_string_member (o, "pai"), G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (g_stat (json_object_get_string_member (o, "dir"), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
}

static void
test_stats_export_audit (Fixture       *f,
                         gconstpointer  data)
{
  const char *demo[] = { "demo", "--boards", "3", "--json", "--data-dir", f->data_dir, "--lot", "LOT-9",
                         "--operator", "alice", NULL };
  const char *stats[] = { "stats", "--json", "--data-dir", f->data_dir, NULL };
  const char *stats_other_lot[] = { "stats", "--json", "--lot", "LOT-1", "--data-dir", f->data_dir, NULL };
  const char *csv[] = { "export", "--csv", "--table", "jobs", "--data-dir", f->data_dir, NULL };
  const char *json[] = { "export", "--json", "--data-dir", f->data_dir, NULL };
  const char *audit[] = { "audit", "verify", "--json", "--data-dir", f->data_dir, NULL };
  const char *no_store[] = { "stats", "--data-dir", f->tmp, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, demo);
  g_autoptr(DsCliResult) s = NULL;
  g_autoptr(DsCliResult) s2 = NULL;
  g_autoptr(DsCliResult) c = NULL;
  g_autoptr(DsCliResult) j = NULL;
  g_autoptr(DsCliResult) a = NULL;
  g_autoptr(DsCliResult) broken = NULL;
  g_autoptr(DsCliResult) none = NULL;
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  g_auto(GStrv) lines = NULL;
  JsonObject *o;
  sqlite3 *sql = NULL;
  guint n_certs = 0;

  g_assert_cmpint (r->exit_status, ==, 0);
  s = ds_test_run_cli (f->announce_dir, stats);
  g_assert_cmpint (s->exit_status, ==, 0);
  o = ds_test_find_event (s->events, "stats", NULL);
  g_assert_cmpint (json_object_get_int_member (o, "boards"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (o, "passed"), ==, 3);
  g_assert_cmpfloat (json_object_get_double_member (o, "first_pass_yield"), ==, 1.0);
  s2 = ds_test_run_cli (f->announce_dir, stats_other_lot);
  o = ds_test_find_event (s2->events, "stats", NULL);
  g_assert_cmpint (json_object_get_int_member (o, "boards"), ==, 0);

  /* CSV: a header and a row per job, with the lot and operator recorded. */
  c = ds_test_run_cli (f->announce_dir, csv);
  g_assert_cmpint (c->exit_status, ==, 0);
  lines = g_strsplit (c->out, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_true (g_str_has_prefix (lines[0], "id,board_uid,port,operator,lot,station,started,finished,"));
  g_assert_nonnull (strstr (lines[1], ",alice,LOT-9,"));
  /* Times as a person reads them: ISO 8601 with the zone, not microseconds. */
  g_assert_true (g_regex_match_simple (",alice,LOT-9,[^,]*,"
                                       "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d,"
                                       "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}[+-]\\d\\d:\\d\\d,",
                                       lines[1], 0, 0));

  j = ds_test_run_cli (f->announce_dir, json);
  g_assert_cmpint (j->exit_status, ==, 0);
  for (guint i = 0; i < j->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member (g_ptr_array_index (j->events, i), "table"), "certificates") == 0)
      n_certs++;
  g_assert_cmpuint (n_certs, ==, 3);
  g_assert_null (strstr (j->out, "PRIVATE"));

  a = ds_test_run_cli (f->announce_dir, audit);
  g_assert_cmpint (a->exit_status, ==, 0);
  g_assert_true (json_object_get_boolean_member (ds_test_find_event (a->events, "audit", NULL), "intact"));

  g_assert_cmpint (sqlite3_open (db, &sql), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (sql, "DELETE FROM events WHERE id = 3", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (sql);
  broken = ds_test_run_cli (f->announce_dir, audit);
  g_assert_cmpint (broken->exit_status, ==, 1);
  o = ds_test_find_event (broken->events, "audit", NULL);
  g_assert_false (json_object_get_boolean_member (o, "intact"));
  g_assert_cmpint (json_object_get_int_member (o, "broken_at"), ==, 4);

  none = ds_test_run_cli (f->announce_dir, no_store);
  g_assert_cmpint (none->exit_status, ==, 2);
}

/* ---- options and inputs ----------------------------------------------------- */

/* Runs the CLI and expects a usage error (exit 2) whose stderr holds
 * @needle and none of @secret. */
static void
expect_usage_error (Fixture           *f,
                    const char *const *args,
                    const char        *needle,
                    const char        *secret)
{
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, args);

  g_test_message ("%s %s → %d: %s", args[0], args[1], r->exit_status, r->err);
  g_assert_cmpint (r->exit_status, ==, 2);
  if (needle != NULL)
    g_assert_nonnull (strstr (r->err, needle));
  g_assert_null (strstr (r->err, "Success"));
  if (secret != NULL)
    {
      g_assert_null (strstr (r->err, secret));
      g_assert_null (strstr (r->out, secret));
    }
}

/* Out-of-range numbers are refused, naming the range, never replaced by a
 * default in silence. */
static void
test_option_ranges (Fixture       *f,
                    gconstpointer  data)
{
  const struct {
    const char *option, *value, *needle;
  } cases[] = {
    { "--command-timeout", "-5", "--command-timeout takes a number from 1 to 600000" },
    { "--command-timeout", "0", "--command-timeout takes a number from 1 to 600000" },
    { "--retries", "0", "--retries takes a number from 1 to 100" },
    { "--retries", "-1", "--retries takes a number from 1 to 100" },
    { "--retries", "1000000", "--retries takes a number from 1 to 100" },
    { "--ca-timeout", "0", "--ca-timeout takes a number of seconds from 1 to 3600" },
    { "--ca-timeout", "-3", "--ca-timeout takes a number of seconds from 1 to 3600" },
  };
  g_autofree char *conf = g_build_filename (f->tmp, "station.conf", NULL);
  g_autoptr(GError) error = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, cases[i].option, cases[i].value, NULL };

      expect_usage_error (f, args, cases[i].needle, NULL);
    }

  /* The settings file is held to the same range. */
  g_file_set_contents (conf, "[ca]\ntimeout=0\n", -1, &error);
  g_assert_no_error (error);
  {
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--ca-config", conf, NULL };

    expect_usage_error (f, args, "timeout takes a number of seconds from 1 to 3600", NULL);
  }
}

/* Empty paths, ports that are not terminals, record stores that are not
 * files: usage errors that name what is wrong. */
static void
test_bad_paths (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *fifo = g_build_filename (f->tmp, "fifo", NULL);
  g_autofree char *missing = g_build_filename (f->tmp, "missing.sqlite3", NULL);
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *cwd_pki = g_build_filename (cwd, "pki", NULL);
  gboolean had_pki = g_file_test (cwd_pki, G_FILE_TEST_EXISTS);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  {
    const char *args[] = { "pki", "--data-dir", "", NULL };

    expect_usage_error (f, args, "--data-dir takes a non-empty path", NULL);
    /* Nothing was made where the station happens to run. */
    g_assert_true (had_pki || !g_file_test (cwd_pki, G_FILE_TEST_EXISTS));
  }
  {
    const char *args[] = { "stats", "--db", "", NULL };

    expect_usage_error (f, args, "--db takes a non-empty path", NULL);
  }
  {
    const char *args[] = { "provision", "--port", f->tmp, "--data-dir", f->data_dir, NULL };

    expect_usage_error (f, args, "is a directory, not a serial port", NULL);
  }
  {
    const char *args[] = { "provision", "--port", "/dev/null", "--data-dir", f->data_dir, NULL };

    expect_usage_error (f, args, "/dev/null is not a serial port or a pseudo-terminal", NULL);
  }
  {
    const char *args[] = { "provision", "--port", "/nonexistent", "--data-dir", f->data_dir, NULL };

    expect_usage_error (f, args, "No board on /nonexistent", NULL);
  }
  {
    const char *args[] = { "stats", "--db", missing, NULL };
    g_autofree char *needle = g_strdup_printf ("No record store at %s", missing);

    expect_usage_error (f, args, needle, NULL);
  }
  {
    const char *args[] = { "stats", "--db", f->tmp, NULL };
    g_autofree char *needle = g_strdup_printf ("The record store %s is a directory", f->tmp);

    expect_usage_error (f, args, needle, NULL);
  }
  {
    const char *args[] = { "export", "--csv", "--db", fifo, NULL };
    g_autofree char *needle = g_strdup_printf ("The record store %s is not a regular file", fifo);

    expect_usage_error (f, args, needle, NULL);
  }
  {
    /* libcurl would read it later, and hang. */
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--ca", "est:https://127.0.0.1:9",
                           "--ca-bundle", fifo, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
  {
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--db", fifo, NULL };
    g_autofree char *needle = g_strdup_printf ("The record store %s is not a regular file", fifo);

    expect_usage_error (f, args, needle, NULL);
  }
}

/* verify reads only regular files of sane size: a FIFO does not hang it,
 * /dev/zero does not eat the memory, a directory is named; a certificate
 * in BER and a CD that is not one are unusable input. */
static void
test_verify_inputs (Fixture       *f,
                    gconstpointer  data)
{
  const char *pki_args[] = { "pki", "--json", "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) pki = ds_test_run_cli (f->announce_dir, pki_args);
  g_autofree char *fifo = g_build_filename (f->tmp, "fifo", NULL);
  g_autofree char *garbage = g_build_filename (f->tmp, "garbage.der", NULL);
  g_autofree char *ber = g_build_filename (f->tmp, "pai-ber.der", NULL);
  g_autofree char *big = g_build_filename (f->tmp, "big.der", NULL);
  g_autoptr(GError) error = NULL;
  JsonObject *o;
  const char *paa, *pai;
  int fd;

  g_assert_cmpint (pki->exit_status, ==, 0);
  o = ds_test_find_event (pki->events, "pki", NULL);
  paa = json_object_get_string_member (o, "paa");
  pai = json_object_get_string_member (o, "pai");
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_file_set_contents (garbage, "this is not a certification declaration", -1, &error);
  g_assert_no_error (error);
  fd = g_open (big, O_WRONLY | O_CREAT, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 64 * 1024 * 1024), ==, 0);
  close (fd);
  {
    g_autoptr(X509) cert = NULL;
    g_autofree char *pem = NULL;
    g_autoptr(GBytes) der = NULL;
    g_autoptr(GBytes) indefinite = NULL;

    g_file_get_contents (pai, &pem, NULL, &error);
    g_assert_no_error (error);
    {
      g_autoptr(GBytes) pem_bytes = g_bytes_new (pem, strlen (pem));
      cert = ds_cert_parse (pem_bytes, &error);
      g_assert_no_error (error);
    }
    der = ds_cert_to_der (cert);
    indefinite = ds_test_der_reencode (der, FALSE, DS_TEST_DER_INDEFINITE);
    g_file_set_contents (ber, g_bytes_get_data (indefinite, NULL), (gssize) g_bytes_get_size (indefinite), &error);
    g_assert_no_error (error);
  }

  {
    const char *args[] = { "verify", "--dac", fifo, "--pai", pai, "--paa", paa, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", "/dev/zero", "--pai", pai, "--paa", paa, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", f->tmp, "--pai", pai, "--paa", paa, NULL };

    expect_usage_error (f, args, "is a directory", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", big, "--pai", pai, "--paa", paa, NULL };

    expect_usage_error (f, args, "67108864 bytes", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", pai, "--pai", pai, "--trust-store", fifo, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", ber, "--pai", pai, "--paa", paa, NULL };

    expect_usage_error (f, args, "not DER", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", pai, "--pai", pai, "--paa", paa, "--cd", garbage, NULL };

    expect_usage_error (f, args, "Cannot use the Certification Declaration", NULL);
  }
  {
    const char *args[] = { "verify", "--dac", pai, "--pai", pai, "--paa", paa, "--cd", fifo, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
  {
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--cd", garbage, NULL };

    expect_usage_error (f, args, "Cannot use the Certification Declaration", NULL);
  }
  {
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--image", fifo, NULL };

    expect_usage_error (f, args, "not a regular file", NULL);
  }
}

/* A PKCS#11 URI's pin-value never shows, however the URI arrives; the CA
 * password file is held to the PIN file's 0600 rule. */
static void
test_secrets_not_shown (Fixture       *f,
                        gconstpointer  data)
{
  const char *uris[] = {
    "pkcs11:token=station;object=tls;type=private;pin-value=987654",
    "pkcs11:token=station;object=tls;type=private?pin-value=987654",
    "pkcs11:token=station;object=tls;type=private?module-name=x&pin-value=987654",
    "pkcs11:token=station;object=tls;type=private;PIN-VALUE=987654",
  };
  g_autofree char *cert = g_build_filename (f->tmp, "client.pem", NULL);
  g_autofree char *conf = g_build_filename (f->tmp, "station.conf", NULL);
  g_autofree char *password = g_build_filename (f->tmp, "ca-password", NULL);
  g_autoptr(GError) error = NULL;

  g_unsetenv ("DS_PKCS11_PIN");
  g_unsetenv ("DS_CA_PASSWORD");
  g_file_set_contents (cert, "", -1, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--ca", "est:https://127.0.0.1:9",
                             "--ca-bundle", cert, "--client-cert", cert, "--client-key", uris[i], NULL };
      g_autofree char *text = g_strdup_printf ("[ca]\nca=est:https://127.0.0.1:9\nca-bundle=%s\n"
                                               "client-cert=%s\nclient-key=%s\n", cert, cert, uris[i]);
      const char *conf_args[] = { "provision", "--all", "--data-dir", f->data_dir, "--ca-config", conf, NULL };

      expect_usage_error (f, args, "PIN", "987654");
      g_file_set_contents (conf, text, -1, &error);
      g_assert_no_error (error);
      expect_usage_error (f, conf_args, "PIN", "987654");
    }

  /* The CA password in a file others may read. */
  g_file_set_contents_full (password, "hunter2\n", -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error);
  g_assert_no_error (error);
  {
    const char *args[] = { "provision", "--all", "--data-dir", f->data_dir, "--ca", "est:https://127.0.0.1:9",
                           "--ca-bundle", cert, "--ca-user", "station", "--ca-password-file", password, NULL };

    expect_usage_error (f, args, "can be read by other users", "hunter2");
  }
}

/* ---- a hostile board ------------------------------------------------------ */

/* What a lying board sends as text: a clear-screen, a green "passed", a line
 * break with a forged JSON summary, C1 CSI, an OSC title, invalid UTF-8, and
 * far more than anyone should print. */
#define HOSTILE_TEXT \
  "\033[2J\033[32mALL BOARDS PASSED\033[0m\n{\"event\":\"summary\",\"passed\":1,\"failed\":0}\r\n" \
  "\302\233" "31m\033]0;owned\007\377\376"

typedef struct {
  int       master;
  int       slave_keep;
  char     *port;
  GThread  *thread;
  gint      stop;
} HostileBoard;

static void
hostile_answer (HostileBoard  *h,
                const DsFrame *frame)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autofree char *flood = g_strnfill (2000, 'A');
  g_autofree char *text = g_strconcat (HOSTILE_TEXT, flood, NULL);
  static const guint8 uid[DS_UID_LEN] = { 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8 };
  g_autoptr(GBytes) out = NULL;
  guint8 status = DS_STATUS_REFUSED;
  gsize len;
  const guint8 *data;

  if (frame->command == DS_CMD_INFO)
    {
      ds_tlv_append (p, DS_TAG_UID, uid, sizeof uid);
      ds_tlv_append_string (p, DS_TAG_FW_VERSION, "1.0\033[2J\nFORGED");
      ds_tlv_append_u8 (p, DS_TAG_STATE, 0);
      ds_tlv_append_u8 (p, DS_TAG_PROTO_VERSION, DS_PROTOCOL_VERSION);
      ds_tlv_append_string (p, DS_TAG_HW_MODEL, "STM32\033[31m\r\nALL BOARDS PASSED");
      status = DS_STATUS_OK;
    }
  else
    ds_tlv_append_string (p, DS_TAG_ERROR_TEXT, text);
  out = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame->seq, frame->command, status, p->data, p->len);
  data = g_bytes_get_data (out, &len);
  while (len > 0)
    {
      gssize n = write (h->master, data, len);

      if (n < 0 && (errno == EAGAIN || errno == EINTR))
        {
          g_usleep (1000);
          continue;
        }
      g_assert_cmpint (n, >, 0);
      data += n;
      len -= (gsize) n;
    }
}

static gpointer
hostile_serve (gpointer data)
{
  HostileBoard *h = data;
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();

  while (!g_atomic_int_get (&h->stop))
    {
      struct pollfd pfd = { h->master, POLLIN, 0 };
      guint8 buf[1024];
      g_autoptr(GBytes) body = NULL;
      DsFrame frame;
      gssize n;

      if (poll (&pfd, 1, 50) <= 0 || !(pfd.revents & POLLIN))
        continue;
      n = read (h->master, buf, sizeof buf);
      if (n <= 0)
        continue;
      ds_frame_reader_push (reader, buf, (gsize) n);
      while (ds_frame_reader_next (reader, &frame, &body))
        {
          if (!(frame.flags & DS_FRAME_FLAG_RESPONSE))
            hostile_answer (h, &frame);
          g_clear_pointer (&body, g_bytes_unref);
        }
    }
  return NULL;
}

/* A pseudo-terminal whose far end speaks docs/protocol.md as a board that
 * lies in every text it sends. */
static HostileBoard *
hostile_board_start (void)
{
  HostileBoard *h = g_new0 (HostileBoard, 1);
  struct termios tio;

  h->master = posix_openpt (O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (h->master, >=, 0);
  g_assert_cmpint (grantpt (h->master), ==, 0);
  g_assert_cmpint (unlockpt (h->master), ==, 0);
  h->port = g_strdup (ptsname (h->master));
  /* Held open: no hang-up each time the station closes the port. */
  h->slave_keep = open (h->port, O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (h->slave_keep, >=, 0);
  g_assert_cmpint (tcgetattr (h->slave_keep, &tio), ==, 0);
  cfmakeraw (&tio);
  tcsetattr (h->slave_keep, TCSANOW, &tio);
  h->thread = g_thread_new ("hostile-board", hostile_serve, h);
  return h;
}

static void
hostile_board_stop (HostileBoard *h)
{
  g_atomic_int_set (&h->stop, TRUE);
  g_thread_join (h->thread);
  close (h->slave_keep);
  close (h->master);
  g_free (h->port);
  g_free (h);
}

/* No byte of @text moves a terminal's cursor, changes its colours or (when
 * not @newlines_allowed) breaks a line. */
static void
assert_tame (const char *text,
             gboolean    newlines_allowed)
{
  g_assert_null (strchr (text, '\033'));
  g_assert_null (strstr (text, "\302\233"));
  g_assert_null (strchr (text, '\007'));
  /* Line ends are the writer's (CSV's are CRLF), never the board's. */
  if (!newlines_allowed)
    {
      g_assert_null (strchr (text, '\n'));
      g_assert_null (strchr (text, '\r'));
    }
  g_assert_true (g_utf8_validate (text, -1, NULL));
}

static void
test_hostile_board_text (Fixture       *f,
                         gconstpointer  data)
{
  HostileBoard *h = hostile_board_start ();
  const char *human[] = { "provision", "--port", h->port, "--data-dir", f->data_dir,
                          "--command-timeout", "2000", "--retries", "1", NULL };
  const char *json[] = { "provision", "--port", h->port, "--json", "--data-dir", f->data_dir,
                         "--command-timeout", "2000", "--retries", "1", NULL };
  const char *csv[] = { "export", "--csv", "--table", "jobs", "--data-dir", f->data_dir, NULL };
  const char *csv_events[] = { "export", "--csv", "--table", "events", "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->announce_dir, human);
  g_autoptr(DsCliResult) j = NULL;
  g_autoptr(DsCliResult) c = NULL;
  g_autoptr(DsCliResult) ce = NULL;
  g_autofree char *db = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  g_auto(GStrv) lines = NULL;
  g_auto(GStrv) json_lines = NULL;
  sqlite3 *sql = NULL;
  sqlite3_stmt *stmt = NULL;
  const char *cause;
  JsonObject *o;
  guint n_summaries = 0, n_rows = 0;

  /* Human output: the job fails, the board's text shows escaped, on its
   * own line, and no line is the board's. */
  g_assert_cmpint (r->exit_status, ==, 1);
  assert_tame (r->out, TRUE);
  assert_tame (r->err, TRUE);
  g_assert_nonnull (strstr (r->out, "\\x1B[2J\\x1B[32mALL BOARDS PASSED"));
  g_assert_nonnull (strstr (r->out, "0 passed, 1 failed"));
  lines = g_strsplit (r->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_assert_false (g_str_has_prefix (lines[i], "{"));
      g_assert_false (g_str_has_prefix (lines[i], "ALL BOARDS PASSED"));
      /* The length cap: nobody's line carries 2000 bytes of a board. */
      g_assert_cmpuint (strlen (lines[i]), <, 600);
    }

  /* JSON output: one object per line, one summary, the station's. */
  j = ds_test_run_cli (f->announce_dir, json);
  g_assert_cmpint (j->exit_status, ==, 1);
  json_lines = g_strsplit (j->out, "\n", -1);
  for (guint i = 0; json_lines[i] != NULL; i++)
    if (*json_lines[i] != '\0')
      g_assert_true (g_str_has_prefix (json_lines[i], "{\"event\":"));
  for (guint i = 0; i < j->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member (g_ptr_array_index (j->events, i), "event"), "summary") == 0)
      n_summaries++;
  g_assert_cmpuint (n_summaries, ==, 1);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (j), "passed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (j), "failed"), ==, 1);
  o = ds_test_find_event (j->events, "fail", NULL);
  g_assert_nonnull (o);
  cause = json_object_get_string_member (o, "cause");
  assert_tame (cause, FALSE);
  g_assert_nonnull (strstr (cause, "\\x1B[2J"));
  g_assert_nonnull (strstr (cause, "\\x0A{\"event\":\"summary\""));
  g_assert_nonnull (strstr (cause, "\\xC2\\x9B31m"));
  g_assert_nonnull (strstr (cause, "\\xFF\\xFE"));
  g_assert_true (g_str_has_suffix (cause, "…"));
  g_assert_cmpuint (strlen (cause), <, 600);

  /* The database: every text the board's answers reached. */
  g_assert_cmpint (sqlite3_open (db, &sql), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (sql,
                                       "SELECT error_message FROM jobs WHERE error_message IS NOT NULL "
                                       "UNION ALL SELECT error_message FROM steps WHERE error_message IS NOT NULL "
                                       "UNION ALL SELECT message FROM events WHERE message IS NOT NULL",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  while (sqlite3_step (stmt) == SQLITE_ROW)
    {
      const char *text = (const char *) sqlite3_column_text (stmt, 0);

      /* The station's own multi-line notes (its settings) keep their
       * lines; what holds the board's text has none. */
      assert_tame (text, TRUE);
      if (strstr (text, "ALL BOARDS PASSED") != NULL)
        {
          assert_tame (text, FALSE);
          n_rows++;
        }
    }
  sqlite3_finalize (stmt);
  sqlite3_close (sql);
  /* Both jobs' error, their steps' and the INFO log line with the model. */
  g_assert_cmpuint (n_rows, >=, 4);

  /* The CSV export: a header and the two jobs, nothing else. */
  c = ds_test_run_cli (f->announce_dir, csv);
  g_assert_cmpint (c->exit_status, ==, 0);
  assert_tame (c->out, TRUE);
  g_strfreev (lines);
  lines = g_strsplit (c->out, "\r\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_null (strchr (lines[i], '\n'));
  g_assert_nonnull (strstr (c->out, "\\x1B[2J"));
  ce = ds_test_run_cli (f->announce_dir, csv_events);
  g_assert_cmpint (ce->exit_status, ==, 0);
  assert_tame (ce->out, TRUE);

  hostile_board_stop (h);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli/demo/eight-boards", Fixture, NULL, ds_test_tree_setup, test_demo_eight_boards, ds_test_tree_teardown);
  g_test_add ("/cli/demo/slow-line", Fixture, NULL, ds_test_tree_setup, test_demo_slow_line, ds_test_tree_teardown);
  g_test_add ("/cli/demo/uart-pace", Fixture, NULL, ds_test_tree_setup, test_demo_uart_pace, ds_test_tree_teardown);
  g_test_add ("/cli/provision/faults-and-retry", Fixture, NULL, ds_test_tree_setup, test_faults_fail_only_their_board, ds_test_tree_teardown);
  g_test_add ("/cli/boards/simulated", Fixture, NULL, ds_test_tree_setup, test_boards_lists_simulated, ds_test_tree_teardown);
  g_test_add ("/cli/usage-errors", Fixture, NULL, ds_test_tree_setup, test_usage_errors, ds_test_tree_teardown);
  g_test_add ("/cli/stats-export-audit", Fixture, NULL, ds_test_tree_setup, test_stats_export_audit, ds_test_tree_teardown);
  g_test_add ("/cli/pki", Fixture, NULL, ds_test_tree_setup, test_pki, ds_test_tree_teardown);
  g_test_add ("/cli/option-ranges", Fixture, NULL, ds_test_tree_setup, test_option_ranges, ds_test_tree_teardown);
  g_test_add ("/cli/bad-paths", Fixture, NULL, ds_test_tree_setup, test_bad_paths, ds_test_tree_teardown);
  g_test_add ("/cli/verify-inputs", Fixture, NULL, ds_test_tree_setup, test_verify_inputs, ds_test_tree_teardown);
  g_test_add ("/cli/secrets-not-shown", Fixture, NULL, ds_test_tree_setup, test_secrets_not_shown, ds_test_tree_teardown);
  g_test_add ("/cli/hostile-board-text", Fixture, NULL, ds_test_tree_setup, test_hostile_board_text, ds_test_tree_teardown);
  return g_test_run ();
}

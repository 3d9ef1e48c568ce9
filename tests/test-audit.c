/* The audit chain against someone who edits the database: every tampering
 * case of a real store file (written by the store API, edited with the
 * sqlite3 C API as anyone with write access could), the station key and
 * the checkpoint beside it, acknowledging a break, stores written before
 * the chain was keyed, and read-only verification. */
#include <glib/gstdio.h>
#include <grp.h>
#include <sqlite3.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-store.h"
#include "ds-test-util.h"

typedef struct {
  char *tmp;
  char *path;
} Fixture;

static gint64
one_job (DsStore    *store,
         const char *uid,
         gboolean    pass,
         const char *serial)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ds_store_begin_job (store, NULL, "/dev/pts/1", "op-7", "LOT-1", "station-a", &error);

  g_assert_no_error (error);
  g_assert_true (ds_store_set_job_board (store, id, uid, &error));
  g_assert_true (ds_store_record_step (store, id, "connect", "pass", 1, 2, NULL, NULL, &error));
  g_assert_true (ds_store_record_step (store, id, "csr", pass ? "pass" : "fail", 2, 3,
                                       pass ? NULL : "timed-out", NULL, &error));
  g_assert_no_error (error);
  if (pass)
    {
      g_autoptr(DsCertRecord) r = g_new0 (DsCertRecord, 1);

      r->job_id = id;
      r->board_uid = g_strdup (uid);
      r->serial = g_strdup (serial);
      r->fingerprint = g_strdup_printf ("fp-%s", serial);
      r->pubkey_sha256 = g_strdup_printf ("key-%s", serial);
      r->subject = g_strdup ("CN=Matter Test DAC");
      r->dac_der = g_bytes_new ("dac\0der", 7);
      r->pai_der = g_bytes_new ("pai-der", 7);
      g_assert_true (ds_store_add_certificate (store, r, &error));
      g_assert_no_error (error);
      g_assert_true (ds_store_mark_installed (store, r->id, &error));
      g_assert_no_error (error);
    }
  g_assert_true (ds_store_finish_job (store, id, pass ? "passed" : "failed", pass ? NULL : "csr", NULL, NULL,
                                      &error));
  g_assert_no_error (error);
  return id;
}

/* Three boards: B1 passed (certificate 1), B2 failed, B3 passed
 * (certificate 2); a configuration; the store closed. */
static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-audit-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->tmp, "records.sqlite3", NULL);
  store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_log_config (store, "station-a", "product FFF1:8000\n", NULL, &error));
  one_job (store, "B1", TRUE, "01");
  one_job (store, "B2", FALSE, NULL);
  one_job (store, "B3", TRUE, "02");
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->path);
}

/* What anyone with write access to the file can do. */
static void
tamper (Fixture    *f,
        const char *sql)
{
  sqlite3 *db = NULL;
  char *msg = NULL;

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL), ==, SQLITE_OK);
  if (sqlite3_exec (db, sql, NULL, NULL, &msg) != SQLITE_OK)
    g_error ("%s: %s", sql, msg);
  sqlite3_close (db);
}

static DsCliResult *
cli (Fixture    *f,
     const char *a1,
     const char *a2,
     const char *a3,
     const char *a4,
     const char *a5)
{
  const char *args[] = { a1, a2, "--data-dir", f->tmp, a3, a4, a5, NULL, NULL };

  return ds_test_run_cli (f->tmp, args);
}

/* `audit verify` says broken (exit 1), at an event, for a reason that
 * contains @reason_part; and the station will not write to the store. */
static void
assert_broken (Fixture    *f,
               const char *reason_part)
{
  g_autoptr(DsCliResult) r = cli (f, "audit", "verify", "--json", NULL, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  JsonObject *o = ds_test_find_event (r->events, "audit", NULL);

  g_assert_nonnull (o);
  g_test_message ("audit: %s", r->out);
  g_assert_false (json_object_get_boolean_member (o, "intact"));
  g_assert_cmpint (json_object_get_int_member (o, "broken_at"), >, 0);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "reason"), reason_part));
  g_assert_cmpint (r->exit_status, ==, 1);

  store = ds_store_open (f->path, &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_null (store);
  g_assert_nonnull (strstr (error->message, "audit acknowledge"));
}

static void
assert_intact (Fixture *f)
{
  g_autoptr(DsCliResult) r = cli (f, "audit", "verify", "--json", NULL, NULL);
  JsonObject *o = ds_test_find_event (r->events, "audit", NULL);

  g_assert_nonnull (o);
  g_assert_true (json_object_get_boolean_member (o, "intact"));
  g_assert_cmpint (r->exit_status, ==, 0);
}

static void
test_untouched (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(DsCliResult) r = cli (f, "audit", "verify", "--json", NULL, NULL);
  JsonObject *o = ds_test_find_event (r->events, "audit", NULL);

  g_assert_nonnull (o);
  g_assert_true (json_object_get_boolean_member (o, "intact"));
  g_assert_true (json_object_get_boolean_member (o, "keyed"));
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (o, "checkpoint"), "events"), ==,
                   json_object_get_int_member (o, "events"));
  g_assert_cmpint (r->exit_status, ==, 0);
}

static void
test_dac_bytes (Fixture       *f,
                gconstpointer  data)
{
  tamper (f, "UPDATE certificates SET dac_der = X'646163006465' || X'72' WHERE id = 1");
  assert_broken (f, "certificates row 1 was changed");
}

static void
test_move_certificate (Fixture       *f,
                       gconstpointer  data)
{
  tamper (f, "UPDATE certificates SET board_uid = 'B2' WHERE id = 1");
  assert_broken (f, "certificates row 1 was changed");
}

static void
test_unset_installed (Fixture       *f,
                      gconstpointer  data)
{
  tamper (f, "UPDATE certificates SET installed = 0 WHERE id = 2");
  assert_broken (f, "certificates row 2 was changed");
}

static void
test_delete_certificate (Fixture       *f,
                         gconstpointer  data)
{
  tamper (f, "DELETE FROM certificates WHERE id = 2");
  assert_broken (f, "certificates row 2");
}

static void
test_delete_steps (Fixture       *f,
                   gconstpointer  data)
{
  tamper (f, "DELETE FROM steps WHERE job_id = 2");
  assert_broken (f, "deleted");
}

static void
test_delete_job (Fixture       *f,
                 gconstpointer  data)
{
  tamper (f, "DELETE FROM steps WHERE job_id = 3; DELETE FROM certificates WHERE job_id = 3; "
             "DELETE FROM jobs WHERE id = 3");
  assert_broken (f, "deleted");
}

static void
test_edit_outcome (Fixture       *f,
                   gconstpointer  data)
{
  tamper (f, "UPDATE jobs SET outcome = 'passed', failed_step = NULL WHERE id = 2");
  assert_broken (f, "jobs row 2 was changed");
}

static void
test_edit_config (Fixture       *f,
                  gconstpointer  data)
{
  tamper (f, "UPDATE events SET message = 'station station-a\nproduct FFF1:8001\n' WHERE kind = 'config-change'");
  assert_broken (f, "changed");
}

static void
test_add_row (Fixture       *f,
              gconstpointer  data)
{
  tamper (f, "INSERT INTO boards VALUES ('B9', 1, 1)");
  assert_broken (f, "boards row B9 is in no audit event");
}

static void
test_cut_tail (Fixture       *f,
               gconstpointer  data)
{
  /* The last job's end and its certificate's events, rows and all. */
  tamper (f, "DELETE FROM events WHERE id > (SELECT max(id) - 3 FROM events)");
  assert_broken (f, "missing");
}

/* A cut acknowledged: the checkpoint starts again from the acknowledgement. */
static void
test_acknowledge_cut (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(DsCliResult) ack = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;

  tamper (f, "DELETE FROM events WHERE id > (SELECT max(id) - 3 FROM events)");
  assert_broken (f, "missing");
  ack = cli (f, "audit", "acknowledge", "--reason=events lost with a disk, rows checked", "--operator=eng-2", NULL);
  g_assert_cmpint (ack->exit_status, ==, 0);
  assert_intact (f);
  store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  one_job (store, "B5", TRUE, "05");
  g_clear_object (&store);
  assert_intact (f);
}

static void
test_delete_all_events (Fixture       *f,
                        gconstpointer  data)
{
  tamper (f, "DELETE FROM events");
  assert_broken (f, "");
}

/* The hash of schema version 1, as the old docs and code published it. */
static char *
published_hash (gint64      id,
                gint64      time_us,
                gint64      job_id,
                const char *board_uid,
                const char *kind,
                const char *message,
                const char *prev)
{
  g_autoptr(GString) in = g_string_new (NULL);
  const char *fields[] = { board_uid, kind, message, prev };

  g_string_append_printf (in, "%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";", id, time_us, job_id);
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    if (fields[i] == NULL)
      g_string_append (in, "-;");
    else
      g_string_append_printf (in, "%" G_GSIZE_FORMAT ":%s;", strlen (fields[i]), fields[i]);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, in->str, in->len);
}

/* Rewrites every event's id and hashes with the published formula, as an
 * attacker who removed rows would, without the key. */
static void
rechain (Fixture *f)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  g_autoptr(GPtrArray) updates = g_ptr_array_new_with_free_func (sqlite3_free);
  g_autofree char *prev = g_strnfill (64, '0');
  gint64 id = 0;

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READWRITE, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT id, time_us, job_id, board_uid, kind, message FROM events "
                                           "ORDER BY id", -1, &st, NULL), ==, SQLITE_OK);
  while (sqlite3_step (st) == SQLITE_ROW)
    {
      g_autofree char *hash = NULL;

      id++;
      hash = published_hash (id, sqlite3_column_int64 (st, 1), sqlite3_column_int64 (st, 2),
                             (const char *) sqlite3_column_text (st, 3), (const char *) sqlite3_column_text (st, 4),
                             (const char *) sqlite3_column_text (st, 5), prev);
      g_ptr_array_add (updates, sqlite3_mprintf ("UPDATE events SET id = %lld, prev_hash = %Q, hash = %Q "
                                                 "WHERE id = %lld", (long long) -id, prev, hash,
                                                 (long long) sqlite3_column_int64 (st, 0)));
      g_free (prev);
      prev = g_steal_pointer (&hash);
    }
  sqlite3_finalize (st);
  for (guint i = 0; i < updates->len; i++)
    g_assert_cmpint (sqlite3_exec (db, updates->pdata[i], NULL, NULL, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "UPDATE events SET id = -id", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static void
test_recomputed_chain (Fixture       *f,
                       gconstpointer  data)
{
  /* Board B3 and everything about it, events too; the anchor passed off
   * as an ordinary event; the chain recomputed. */
  tamper (f, "DELETE FROM steps WHERE job_id = 3; DELETE FROM certificates WHERE job_id = 3; "
             "DELETE FROM jobs WHERE id = 3; DELETE FROM boards WHERE uid = 'B3'; "
             "DELETE FROM events WHERE job_id = 3 OR board_uid = 'B3'; "
             "UPDATE events SET kind = 'note' WHERE kind = 'audit-anchor'");
  rechain (f);
  assert_broken (f, "");
}

/* provision stops at once with the reason and what to do. */
static void
test_provision_refuses (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(DsCliResult) r = NULL;

  tamper (f, "UPDATE jobs SET outcome = 'passed' WHERE id = 2");
  r = cli (f, "provision", "--all", NULL, NULL, NULL);
  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_nonnull (strstr (r->err, "jobs row 2 was changed"));
  g_assert_nonnull (strstr (r->err, "audit acknowledge --reason TEXT --operator NAME"));
}

/* A JSON export carries the checkpoint, to compare with later. */
static void
test_export_checkpoint (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(DsCliResult) r = cli (f, "export", "--json", NULL, NULL, NULL);
  g_autoptr(DsCliResult) v = cli (f, "audit", "verify", "--json", NULL, NULL);
  JsonObject *cp = NULL;

  g_assert_cmpint (r->exit_status, ==, 0);
  for (guint i = 0; i < r->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member (r->events->pdata[i], "table"), "audit-checkpoint") == 0)
      cp = r->events->pdata[i];
  g_assert_nonnull (cp);
  g_assert_cmpstr (json_object_get_string_member (cp, "head"), ==,
                   json_object_get_string_member (ds_test_find_event (v->events, "audit", NULL), "head"));
}

/* The station stops writing when the chain is cut while it runs. */
static void
test_cut_while_running (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = ds_store_open (f->path, &error);

  g_assert_no_error (error);
  g_assert_true (ds_store_log_event (store, 0, NULL, "note", "one", &error));
  g_assert_no_error (error);
  tamper (f, "DELETE FROM events WHERE id > (SELECT max(id) - 2 FROM events)");
  g_assert_false (ds_store_log_event (store, 0, NULL, "note", "two", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
}

/* An engineer acknowledges a break; the station records again, and the
 * acknowledgement stays in `audit verify`. */
static void
test_acknowledge (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(DsCliResult) early = cli (f, "audit", "acknowledge", "--reason", "nothing", "--operator=eng-1");
  g_autoptr(DsCliResult) ack = NULL;
  g_autoptr(DsCliResult) verify = NULL;
  g_autoptr(DsCliResult) again = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(GError) error = NULL;
  JsonObject *o, *mark = NULL;
  JsonArray *marks;

  /* Nothing to acknowledge on an intact chain. */
  g_assert_cmpint (early->exit_status, ==, 1);

  tamper (f, "UPDATE certificates SET installed = 0 WHERE id = 2");
  assert_broken (f, "certificates row 2");
  ack = cli (f, "audit", "acknowledge", "--reason=certificate 2 reset by hand, board B3 re-checked",
             "--operator=eng-1", NULL);
  g_assert_cmpint (ack->exit_status, ==, 0);

  verify = cli (f, "audit", "verify", "--json", NULL, NULL);
  g_assert_cmpint (verify->exit_status, ==, 0);
  o = ds_test_find_event (verify->events, "audit", NULL);
  g_assert_true (json_object_get_boolean_member (o, "intact"));
  marks = json_object_get_array_member (o, "marks");
  for (guint i = 0; i < json_array_get_length (marks); i++)
    if (g_strcmp0 (json_object_get_string_member (json_array_get_object_element (marks, i), "kind"),
                   "audit-acknowledged") == 0)
      mark = json_array_get_object_element (marks, i);
  g_assert_nonnull (mark);
  g_assert_cmpstr (json_object_get_string_member (mark, "operator"), ==, "eng-1");
  g_assert_cmpstr (json_object_get_string_member (mark, "reason"), ==,
                   "certificate 2 reset by hand, board B3 re-checked");
  g_assert_nonnull (strstr (json_object_get_string_member (mark, "acknowledged"), "certificates row 2"));

  /* The station writes again, and the chain holds. */
  store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  one_job (store, "B4", TRUE, "04");
  g_clear_object (&store);
  assert_intact (f);

  /* Editing what came before the acknowledgement breaks it again. */
  tamper (f, "UPDATE events SET message = 'edited' WHERE id = 2");
  again = cli (f, "audit", "verify", "--json", NULL, NULL);
  g_assert_cmpint (again->exit_status, ==, 1);
}

static void
test_key_rules (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *key = g_build_filename (f->tmp, "audit.key", NULL);
  g_autofree char *moved = g_build_filename (f->tmp, "audit.key.away", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  GStatBuf st;

  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* A key others may read is refused. */
  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  store = ds_store_open (f->path, &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_null (store);
  g_clear_error (&error);
  g_assert_cmpint (g_chmod (key, 0600), ==, 0);

  /* A keyed chain never gets a new key. */
  g_assert_cmpint (g_rename (key, moved), ==, 0);
  store = ds_store_open (f->path, &error);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_null (store);
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
}

/* The schema of version 1, as stores written before the keyed chain are. */
static const char v1_schema[] =
  "CREATE TABLE boards (uid TEXT PRIMARY KEY, first_seen_us INTEGER NOT NULL, last_seen_us INTEGER NOT NULL);"
  "CREATE TABLE jobs (id INTEGER PRIMARY KEY, board_uid TEXT REFERENCES boards(uid), port TEXT, operator TEXT,"
  " lot TEXT, station TEXT, started_us INTEGER NOT NULL, finished_us INTEGER, outcome TEXT, failed_step TEXT,"
  " error_code TEXT, error_message TEXT);"
  "CREATE INDEX jobs_board ON jobs(board_uid);"
  "CREATE INDEX jobs_started ON jobs(started_us);"
  "CREATE TABLE steps (id INTEGER PRIMARY KEY, job_id INTEGER NOT NULL REFERENCES jobs(id), step TEXT NOT NULL,"
  " outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skipped')), started_us INTEGER NOT NULL,"
  " finished_us INTEGER NOT NULL, error_code TEXT, error_message TEXT);"
  "CREATE INDEX steps_job ON steps(job_id);"
  "CREATE TABLE certificates (id INTEGER PRIMARY KEY, job_id INTEGER REFERENCES jobs(id),"
  " board_uid TEXT NOT NULL REFERENCES boards(uid), serial TEXT NOT NULL UNIQUE, fingerprint TEXT NOT NULL UNIQUE,"
  " pubkey_sha256 TEXT NOT NULL UNIQUE, subject TEXT, dac_der BLOB NOT NULL, pai_der BLOB NOT NULL, dac_path TEXT,"
  " pai_path TEXT, issued_us INTEGER NOT NULL, installed INTEGER NOT NULL DEFAULT 0,"
  " superseded INTEGER NOT NULL DEFAULT 0, superseded_reason TEXT);"
  "CREATE INDEX certificates_board ON certificates(board_uid);"
  "CREATE TABLE events (id INTEGER PRIMARY KEY, time_us INTEGER NOT NULL, job_id INTEGER, board_uid TEXT,"
  " kind TEXT NOT NULL, message TEXT, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);"
  "PRAGMA user_version = 1;";

/* A store written by the station before the chain was keyed opens: its
 * events verify with the old formula, the keyed chain begins after them,
 * and its rows are covered from then on. */
static void
test_old_store (void)
{
  g_autoptr(GError) error = NULL;
  char *tmp = g_dir_make_tmp ("ds-test-audit-XXXXXX", &error);
  /* teardown() frees both */
  Fixture fx = { tmp, g_build_filename (tmp, "records.sqlite3", NULL) };
  Fixture *f = &fx;
  g_autofree char *zero = g_strnfill (64, '0');
  g_autofree char *h1b = published_hash (1, 10, 1, "OLD1", "job-started", "/dev/pts/1", zero);
  g_autofree char *h2 = published_hash (2, 20, 1, NULL, "job-finished", "passed", h1b);
  g_autofree char *rows = g_strdup_printf (
    "INSERT INTO boards VALUES ('OLD1', 5, 5);"
    "INSERT INTO jobs VALUES (1, 'OLD1', '/dev/pts/1', 'op', 'L', 'st', 5, 20, 'passed', NULL, NULL, NULL);"
    "INSERT INTO steps VALUES (1, 1, 'connect', 'pass', 6, 7, NULL, NULL);"
    "INSERT INTO events VALUES (1, 10, 1, 'OLD1', 'job-started', '/dev/pts/1', '%s', '%s');"
    "INSERT INTO events VALUES (2, 20, 1, NULL, 'job-finished', 'passed', '%s', '%s');",
    zero, h1b, h1b, h2);
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *o;

  g_assert_no_error (error);
  tamper (f, v1_schema);
  tamper (f, rows);

  store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  one_job (store, "NEW1", TRUE, "11");
  g_clear_object (&store);

  r = cli (f, "audit", "verify", "--json", NULL, NULL);
  g_assert_cmpint (r->exit_status, ==, 0);
  o = ds_test_find_event (r->events, "audit", NULL);
  g_assert_true (json_object_get_boolean_member (o, "intact"));
  g_assert_true (json_object_get_boolean_member (o, "keyed"));
  g_assert_cmpint (json_object_get_int_member (o, "unkeyed_events"), ==, 2);
  /* Nothing lost. */
  g_assert_cmpint (json_object_get_int_member (o, "events"), ==, 2 + 1 + 7);

  /* The old rows are covered from the anchor on. */
  tamper (f, "UPDATE jobs SET outcome = 'failed' WHERE id = 1");
  assert_broken (f, "jobs row 1 was changed");
  teardown (f, NULL);
}

/* `audit verify` never writes: a file that is not a record store is
 * refused with exit 2 and left as it was. */
static void
test_verify_foreign (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-audit-XXXXXX", &error);
  g_autofree char *empty = g_build_filename (tmp, "empty.db", NULL);
  g_autofree char *other = g_build_filename (tmp, "other.db", NULL);
  Fixture fx = { tmp, g_strdup (other) };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  gsize before_len = 0, after_len = 0;
  GStatBuf st;

  g_assert_true (g_file_set_contents (empty, "", 0, &error));
  tamper (&fx, "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO notes VALUES (1, 'mine')");
  g_assert_true (g_file_get_contents (other, &before, &before_len, &error));

  for (guint i = 0; i < 2; i++)
    {
      const char *args[] = { "audit", "verify", "--db", i == 0 ? empty : other, NULL };
      g_autoptr(DsCliResult) r = ds_test_run_cli (tmp, args);

      g_assert_cmpint (r->exit_status, ==, 2);
      g_assert_nonnull (strstr (r->err, "not a DAC Station record store"));
    }
  g_assert_cmpint (g_stat (empty, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 0);
  g_assert_true (g_file_get_contents (other, &after, &after_len, &error));
  g_assert_cmpuint (after_len, ==, before_len);
  g_assert_true (memcmp (before, after, before_len) == 0);
  ds_test_rm_rf (tmp);
  g_free (fx.path);
}

static void
drop_to_nobody (gpointer data)
{
  if (geteuid () == 0 && (setgroups (0, NULL) != 0 || setgid (65534) != 0 || setuid (65534) != 0))
    _exit (99);
}

/* Statistics and verification of a store in a folder that cannot be
 * written (a read-only mount, an archive): as root, chmod is not enough,
 * so the commands run as nobody, who owns the files but cannot write
 * them or the folder.  No -wal or -shm file is made. */
static void
test_read_only_folder (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *key = g_build_filename (f->tmp, "audit.key", NULL);
  g_autofree char *checkpoint = g_strconcat (f->path, ".audit-checkpoint", NULL);
  g_autofree char *wal = g_strconcat (f->path, "-wal", NULL);
  g_autofree char *shm = g_strconcat (f->path, "-shm", NULL);
  const char *cli_path = g_getenv ("DS_CLI");
  const char *commands[][3] = { { "stats", "--json", NULL }, { "audit", "verify", "--json" } };

  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
  if (geteuid () == 0)
    {
      g_assert_cmpint (chown (f->path, 65534, 65534), ==, 0);
      g_assert_cmpint (chown (key, 65534, 65534), ==, 0);
      g_assert_cmpint (chown (checkpoint, 65534, 65534), ==, 0);
    }
  g_assert_cmpint (g_chmod (f->path, 0444), ==, 0);
  g_assert_cmpint (g_chmod (f->tmp, 0555), ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      const char *argv[] = { cli_path, commands[i][0], commands[i][1], "--data-dir", f->tmp,
                             commands[i][2], NULL };
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      g_autoptr(GError) error = NULL;
      int status = -1;

      g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, drop_to_nobody, NULL, &out, &err,
                                   &status, &error));
      g_assert_no_error (error);
      g_test_message ("%s: %s%s", commands[i][0], out, err);
      g_assert_true (g_spawn_check_wait_status (status, &error));
      g_assert_no_error (error);
      g_assert_nonnull (strstr (out, i == 0 ? "\"boards\":3" : "\"intact\":true"));
    }
  g_assert_false (g_file_test (wal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (shm, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_chmod (f->tmp, 0700), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) g_test_add ("/audit" name, Fixture, NULL, setup, func, teardown)
  ADD ("/untouched", test_untouched);
  ADD ("/tamper/dac-bytes", test_dac_bytes);
  ADD ("/tamper/move-certificate", test_move_certificate);
  ADD ("/tamper/unset-installed", test_unset_installed);
  ADD ("/tamper/delete-certificate", test_delete_certificate);
  ADD ("/tamper/delete-steps", test_delete_steps);
  ADD ("/tamper/delete-job", test_delete_job);
  ADD ("/tamper/edit-outcome", test_edit_outcome);
  ADD ("/tamper/edit-config", test_edit_config);
  ADD ("/tamper/add-row", test_add_row);
  ADD ("/tamper/cut-tail", test_cut_tail);
  ADD ("/tamper/delete-all-events", test_delete_all_events);
  ADD ("/acknowledge-cut", test_acknowledge_cut);
  ADD ("/tamper/recomputed-chain", test_recomputed_chain);
  ADD ("/cut-while-running", test_cut_while_running);
  ADD ("/provision-refuses", test_provision_refuses);
  ADD ("/export-checkpoint", test_export_checkpoint);
  ADD ("/acknowledge", test_acknowledge);
  ADD ("/key-rules", test_key_rules);
  ADD ("/read-only-folder", test_read_only_folder);
#undef ADD
  g_test_add_func ("/audit/old-store", test_old_store);
  g_test_add_func ("/audit/verify-foreign", test_verify_foreign);
  return g_test_run ();
}

/* Unit tests of the record store: on real SQLite files, and built with
 * DS_TEST_PG on real PostgreSQL databases (a throwaway server); the
 * fixture is ds-test-util's DsTestStore. */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "ds-db.h"
#include "ds-error.h"
#include "ds-store.h"
#include "ds-store-schema.h"
#include "ds-store-onboarding.h"
#include "ds-test-util.h"

#define PG ds_test_backend_is_postgres ()

typedef DsTestStore Fixture;

/* Runs @sql with @arg bound to ?1 (when the query has one) on a second
 * connection, as a report reader or another process would; never the
 * store's own.  The query must return a row. */
static DsDbRows *
peek_rows (Fixture    *f,
           const char *sql,
           gint64      arg)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (f->path, TRUE, &error);
  DsDbRows *rows;

  g_assert_no_error (error);
  if (strchr (sql, '?') != NULL)
    rows = ds_db_query (db, sql, DB_PARAMS (DB_INT (arg)), &error);
  else
    rows = ds_db_query (db, sql, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_db_rows_count (rows), >, 0);
  return rows;
}

static gint64
peek_int (Fixture    *f,
          const char *sql,
          gint64      arg)
{
  g_autoptr(DsDbRows) rows = peek_rows (f, sql, arg);

  return ds_db_rows_int (rows, 0, 0);
}

static char *
peek_text (Fixture    *f,
           const char *sql,
           gint64      arg)
{
  g_autoptr(DsDbRows) rows = peek_rows (f, sql, arg);

  return g_strdup (ds_db_rows_text (rows, 0, 0));
}

static void
tamper (Fixture    *f,
        const char *sql)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (f->path, FALSE, &error);

  g_assert_no_error (error);
  g_assert_true (ds_db_exec (db, sql, &error));
  g_assert_no_error (error);
}

#define SCHEMA_VERSION_SQL (PG ? "SELECT value FROM ds_meta WHERE key = 'schema_version'" : "PRAGMA user_version")

static DsCertRecord *
make_record (const char *uid,
             const char *serial,
             const char *pubkey,
             gint64      job_id)
{
  DsCertRecord *r = g_new0 (DsCertRecord, 1);

  r->job_id = job_id;
  r->board_uid = g_strdup (uid);
  r->serial = g_strdup (serial);
  r->fingerprint = g_strdup_printf ("fp-%s", serial);
  r->pubkey_sha256 = g_strdup (pubkey);
  r->subject = g_strdup_printf ("CN=Matter Test DAC %s", serial);
  r->dac_der = g_bytes_new ("dac\0der", 7);
  r->pai_der = g_bytes_new ("pai-der", 7);
  r->dac_path = g_strdup_printf ("/certs/%s/%s-dac.pem", uid, serial);
  r->pai_path = g_strdup_printf ("/certs/%s/%s-pai.pem", uid, serial);
  r->issued_at = 1700000000000000;
  return r;
}

/* One job of two steps; "failed" fails its second step. */
static gint64
one_job (DsStore    *store,
         const char *uid,
         const char *outcome)
{
  g_autoptr(GError) error = NULL;
  gboolean failed = g_str_equal (outcome, "failed");
  gint64 id = ds_store_begin_job (store, NULL, "/dev/pts/1", "op-7", "LOT-1", "station-a", &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_true (ds_store_set_job_board (store, id, uid, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (store, id, "connect", "pass", 1, 2, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (store, id, "csr", failed ? "fail" : "pass", 2, 3,
                                       failed ? "timed-out" : NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_finish_job (store, id, outcome, failed ? "csr" : NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return id;
}

static void
assert_counts (DsStore *store,
               gint64   jobs,
               gint64   passed,
               gint64   failed,
               gint64   already_provisioned,
               gint64   certificates,
               gint64   boards)
{
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };

  g_assert_true (ds_store_get_counts (store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.jobs, ==, jobs);
  g_assert_cmpint (counts.passed, ==, passed);
  g_assert_cmpint (counts.failed, ==, failed);
  g_assert_cmpint (counts.already_provisioned, ==, already_provisioned);
  g_assert_cmpint (counts.certificates, ==, certificates);
  g_assert_cmpint (counts.boards, ==, boards);
}

static gint64
assert_audit (DsStore    *store,
              gint64      expected_broken,
              const char *reason_part)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gint64 n = 0, broken = -1;

  g_assert_true (ds_store_verify_audit (store, &n, &broken, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpint (broken, ==, expected_broken);
  if (reason_part == NULL)
    g_assert_null (reason);
  else
    g_assert_nonnull (strstr (reason, reason_part));
  return n;
}

static void
test_schema (Fixture       *f,
             gconstpointer  data)
{
  const char *objects[] = { "boards", "jobs", "steps", "certificates", "events",
                            "jobs_board", "steps_job", "certificates_board", "events_config" };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = NULL;

  g_assert_cmpstr (ds_store_get_path (f->store), ==, f->path);
  if (!PG)
    {
      g_autofree char *dir = g_path_get_dirname (f->path);
      GStatBuf st;

      g_assert_cmpint (g_stat (dir, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0777, ==, 0700);
    }

  g_assert_cmpint (peek_int (f, SCHEMA_VERSION_SQL, 0), ==, DS_STORE_SCHEMA_VERSION);
  db = ds_db_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < G_N_ELEMENTS (objects); i++)
    {
      g_autoptr(DsDbRows) rows = ds_db_query (db, PG ? "SELECT count(*) FROM pg_class WHERE relname = ?"
                                                     : "SELECT count(*) FROM sqlite_master WHERE name = ?",
                                              DB_PARAMS (DB_TEXT (objects[i])), &error);

      g_assert_no_error (error);
      g_assert_cmpint (ds_db_rows_int (rows, 0, 0), ==, 1);
    }

  /* Every index on the events is written at every commit: the only one
   * covers the configuration events, and the lookup of the last
   * configuration uses it. */
  if (!PG)
    {
      g_autoptr(DsDbRows) indexes = ds_db_query (db, "SELECT group_concat(name) FROM sqlite_master "
                                                     "WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL",
                                                 NULL, 0, &error);
      g_autoptr(DsDbRows) plan = NULL;

      g_assert_no_error (error);
      g_assert_cmpstr (ds_db_rows_text (indexes, 0, 0), ==, "events_config");
      plan = ds_db_query (db, "EXPLAIN QUERY PLAN SELECT message FROM events WHERE kind = 'config-change' "
                              "AND substr(message, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT 1",
                          DB_PARAMS (DB_TEXT ("station x\n")), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (ds_db_rows_count (plan), ==, 1);
      g_assert_nonnull (strstr (ds_db_rows_text (plan, 0, 3), "USING INDEX events_config"));
    }

  /* Reopening an existing store keeps its schema and does not recreate it. */
  g_clear_object (&f->store);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
  g_assert_cmpint (peek_int (f, SCHEMA_VERSION_SQL, 0), ==, DS_STORE_SCHEMA_VERSION);
}

static void
test_pragmas (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *mode = NULL;
  DsStoreSettings settings = { 0 };

  /* The journal mode is a property of the file: a second connection sees it. */
  if (!PG)
    {
      mode = peek_text (f, "PRAGMA journal_mode", 0);
      g_assert_cmpstr (mode, ==, "wal");
    }

  /* synchronous, foreign_keys and busy_timeout are per connection: a second
   * connection would only report its own defaults, so ask the store's. */
  g_assert_true (ds_store_get_settings (f->store, &settings, &error));
  g_assert_no_error (error);
  g_assert_true (settings.wal);
  g_assert_cmpint (settings.synchronous, ==, 2 /* FULL */);
  g_assert_true (settings.foreign_keys);
  /* PostgreSQL: lock_timeout, how long a writer waits for another */
  g_assert_cmpint (settings.busy_timeout_ms, ==, PG ? 30000 : 5000);
  g_assert_cmpint (settings.schema_version, ==, DS_STORE_SCHEMA_VERSION);
}

static void
test_persists (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCertRecord) rec = NULL;
  g_autoptr(DsCertRecord) pending = NULL;
  gint64 job;

  job = one_job (f->store, "AA", "passed");
  rec = make_record ("AA", "01", "key-1", job);
  g_assert_true (ds_store_add_certificate (f->store, rec, &error));
  g_assert_no_error (error);

  g_clear_object (&f->store);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  assert_counts (f->store, 1, 1, 0, 0, 1, 1);
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pending);
  g_assert_cmpint (pending->id, ==, rec->id);
  g_assert_cmpint (pending->job_id, ==, job);
  /* The chain carries on where the closed store left it. */
  g_assert_true (ds_store_log_event (f->store, job, "AA", "note", "after reopen", &error));
  g_assert_no_error (error);
  /* The anchor, five events of the job, the certificate and the note. */
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 8);
}

static void
test_newer_schema (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  gint64 n_events;

  one_job (f->store, "AA", "passed");
  g_clear_object (&f->store);
  n_events = peek_int (f, "SELECT count(*) FROM events", 0);
  tamper (f, PG ? "UPDATE ds_meta SET value = '99' WHERE key = 'schema_version'" : "PRAGMA user_version = 99");
  store = ds_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, f->path));
  g_assert_nonnull (strstr (error->message, "99"));

  /* Left as it was: no migration ran, no event was written, no job was
   * closed, and it is refused again. */
  g_assert_cmpint (peek_int (f, SCHEMA_VERSION_SQL, 0), ==, 99);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM events", 0), ==, n_events);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM jobs WHERE outcome = 'passed'", 0), ==, 1);
  g_clear_error (&error);
  store = ds_store_open (f->path, &error);
  g_assert_null (store);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

/* (SQLite only: the release fixture is a SQLite file.) */
/* Every row of the records and the event log, one line each, in key
 * order: what a migration must keep. */
static char *
dump_records (const char *path)
{
  const char *queries[] = {
    "SELECT uid, first_seen_us, last_seen_us FROM boards ORDER BY uid",
    "SELECT id, board_uid, port, operator, lot, station, started_us, finished_us, outcome, failed_step, "
    "error_code, error_message FROM jobs ORDER BY id",
    "SELECT id, job_id, step, outcome, started_us, finished_us, error_code, error_message FROM steps ORDER BY id",
    "SELECT id, job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, hex(dac_der), hex(pai_der), "
    "dac_path, pai_path, issued_us, installed, superseded, superseded_reason FROM certificates ORDER BY id",
    "SELECT id, time_us, job_id, board_uid, kind, message, prev_hash, hash, digests FROM events ORDER BY id",
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (path, TRUE, &error);
  g_autoptr(GString) out = g_string_new (NULL);

  g_assert_no_error (error);
  for (gsize q = 0; q < G_N_ELEMENTS (queries); q++)
    {
      g_autoptr(DsDbRows) rows = ds_db_query (db, queries[q], NULL, 0, &error);

      g_assert_no_error (error);
      for (guint r = 0; r < ds_db_rows_count (rows); r++)
        {
          for (guint c = 0; c < ds_db_rows_columns (rows); c++)
            g_string_append_printf (out, "%s|", ds_db_rows_text (rows, r, c) != NULL
                                                  ? ds_db_rows_text (rows, r, c) : "(null)");
          g_string_append_c (out, '\n');
        }
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Copies the release fixture @name into @dir. */
static void
copy_release_file (const char *dir,
                   const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *from = g_test_build_filename (G_TEST_DIST, "data", "records-release-1", name, NULL);
  g_autofree char *to = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (from, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents_full (to, contents, len, G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
}

/* A store written by the release before numbered migrations (schema
 * version 2, tests/data/README.md) opens, migrates, keeps every record,
 * and its audit chain still verifies, and carries on. */
static void
test_release_store (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autofree char *dir = g_build_filename (f->tmp, "release-1", NULL);
  g_autofree char *pristine_dir = g_build_filename (f->tmp, "pristine", NULL);
  g_autofree char *path = g_build_filename (dir, "records.sqlite3", NULL);
  g_autofree char *pristine = g_build_filename (pristine_dir, "records.sqlite3", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  DsStoreSettings settings = { 0 };
  gint64 job;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (pristine_dir, 0700), ==, 0);
  copy_release_file (dir, "records.sqlite3");
  copy_release_file (dir, "audit.key");
  copy_release_file (dir, "records.sqlite3.audit-checkpoint");
  copy_release_file (pristine_dir, "records.sqlite3");

  db = ds_db_open (pristine, TRUE, &error);
  g_assert_no_error (error);
  rows = ds_db_query (db, "PRAGMA user_version", NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 0), ==, 2);
  g_clear_pointer (&db, ds_db_close);
  before = dump_records (pristine);

  store = ds_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_true (ds_store_get_settings (store, &settings, &error));
  g_assert_no_error (error);
  g_assert_cmpint (settings.schema_version, ==, DS_STORE_SCHEMA_VERSION);

  /* Every record as it was, byte for byte; the counts the demo left. */
  after = dump_records (path);
  g_assert_cmpstr (after, ==, before);
  assert_counts (store, 6, 5, 1, 0, 5, 5);
  g_assert_cmpint (assert_audit (store, 0, NULL), ==, 74);

  /* The migrated store records and verifies as a new one does, after a
   * reopen too. */
  job = one_job (store, "MIGRATED", "passed");
  g_assert_cmpint (job, ==, 7);
  g_clear_object (&store);
  store = ds_store_open (path, &error);
  g_assert_no_error (error);
  assert_counts (store, 7, 6, 1, 0, 5, 6);
  g_assert_cmpint (assert_audit (store, 0, NULL), ==, 74 + 5);
}

/* Whether the events table has the digests column (migration 2). */
static gboolean
has_digests (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = ds_db_open (path, TRUE, &error);
  g_autoptr(DsDbRows) rows = NULL;

  g_assert_no_error (error);
  rows = ds_db_query (db, PG ? "SELECT count(*) FROM information_schema.columns "
                               "WHERE table_schema = current_schema() AND table_name = 'events' "
                               "AND column_name = 'digests'"
                             : "SELECT count(*) FROM pragma_table_info('events') WHERE name = 'digests'",
                      NULL, 0, &error);
  g_assert_no_error (error);
  return ds_db_rows_int (rows, 0, 0) == 1;
}

/* A store of version 1 whose migration 3 cannot run (its index's name is
 * taken): migration 2 ran before it in the same transaction, and is
 * rolled back with it, so the store stays at version 1, as it was, until
 * the obstacle is gone. */
static void
test_migration_fails (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autoptr(DsDb) db = NULL;
  g_autofree char *sqlite_path = g_build_filename (f->tmp, "v1.sqlite3", NULL);
  g_autofree char *path = ds_test_backend_new_store (sqlite_path);
  Fixture v1 = { .path = path };
  g_autoptr(DsCertRecord) cert = NULL;

  db = ds_db_open (path, FALSE, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_schema_migrate_to (db, 1, &error));
  g_assert_no_error (error);
  g_assert_true (ds_db_exec (db, "INSERT INTO boards VALUES ('V1', 1, 2);"
                                 "INSERT INTO jobs (id, board_uid, started_us, finished_us, outcome) "
                                 "VALUES (1, 'V1', 1, 2, 'passed');"
                                 "CREATE TABLE events_kind (x INTEGER)", &error));
  g_assert_no_error (error);
  g_clear_pointer (&db, ds_db_close);
  g_assert_cmpint (peek_int (&v1, SCHEMA_VERSION_SQL, 0), ==, 1);
  g_assert_false (has_digests (path));

  store = ds_store_open (path, &error);
  g_assert_null (store);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "schema version 3"));
  g_clear_error (&error);
  g_assert_cmpint (peek_int (&v1, SCHEMA_VERSION_SQL, 0), ==, 1);
  g_assert_false (has_digests (path));
  g_assert_cmpint (peek_int (&v1, "SELECT count(*) FROM events", 0), ==, 0);
  g_assert_cmpint (peek_int (&v1, "SELECT count(*) FROM jobs", 0), ==, 1);

  /* Without the obstacle every migration runs, and the old rows are in
   * the chain the store anchors. */
  tamper (&v1, "DROP TABLE events_kind");
  store = ds_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (store);
  g_assert_cmpint (peek_int (&v1, SCHEMA_VERSION_SQL, 0), ==, DS_STORE_SCHEMA_VERSION);
  g_assert_true (has_digests (path));
  assert_counts (store, 1, 1, 0, 0, 0, 1);
  cert = make_record ("V1", "01", "key-v1", 1);
  g_assert_true (ds_store_add_certificate (store, cert, &error));
  g_assert_no_error (error);
  g_assert_cmpint (assert_audit (store, 0, NULL), ==, 2);
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDbRows) job = NULL;
  g_autoptr(DsDbRows) steps = NULL;
  gint64 before = g_get_real_time ();
  gint64 after;
  gint64 id;

  id = ds_store_begin_job (f->store, NULL, "/dev/ttyACM0", "op-7", "LOT-9", "station-b", &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  /* Running, and the board not known yet. */
  g_assert_cmpint (peek_int (f, "SELECT board_uid IS NULL AND outcome IS NULL FROM jobs WHERE id = ?", id), ==, 1);
  assert_counts (f->store, 1, 0, 0, 0, 0, 0);

  g_assert_true (ds_store_set_job_board (f->store, id, "0123456789ABCDEF01234567", &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (f->store, id, "connect", "pass", before, before + 10, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (f->store, id, "forward", "skipped", before + 10, before + 11, NULL, NULL,
                                       &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (f->store, id, "install", "fail", before + 11, before + 20, "rejected",
                                       "The board refused the DAC", &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_finish_job (f->store, id, "failed", "install", "rejected", "The board refused the DAC",
                                      &error));
  g_assert_no_error (error);
  after = g_get_real_time ();

  job = peek_rows (f, "SELECT board_uid, port, operator, lot, station, started_us, finished_us, outcome, "
                     "failed_step, error_code, error_message FROM jobs WHERE id = ?", id);
  g_assert_cmpstr (ds_db_rows_text (job, 0, 0), ==, "0123456789ABCDEF01234567");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 1), ==, "/dev/ttyACM0");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 2), ==, "op-7");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 3), ==, "LOT-9");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 4), ==, "station-b");
  g_assert_cmpint (ds_db_rows_int (job, 0, 5), >=, before);
  g_assert_cmpint (ds_db_rows_int (job, 0, 6), >=, ds_db_rows_int (job, 0, 5));
  g_assert_cmpint (ds_db_rows_int (job, 0, 6), <=, after);
  g_assert_cmpstr (ds_db_rows_text (job, 0, 7), ==, "failed");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 8), ==, "install");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 9), ==, "rejected");
  g_assert_cmpstr (ds_db_rows_text (job, 0, 10), ==, "The board refused the DAC");

  steps = peek_rows (f, "SELECT step, outcome, started_us, finished_us, error_code, "
                        "error_message FROM steps WHERE job_id = ? ORDER BY id", id);
  g_assert_cmpuint (ds_db_rows_count (steps), ==, 3);
  g_assert_cmpstr (ds_db_rows_text (steps, 0, 0), ==, "connect");
  g_assert_cmpstr (ds_db_rows_text (steps, 0, 1), ==, "pass");
  g_assert_cmpint (ds_db_rows_int (steps, 0, 2), ==, before);
  g_assert_cmpint (ds_db_rows_int (steps, 0, 3), ==, before + 10);
  g_assert_null (ds_db_rows_text (steps, 0, 4));
  g_assert_cmpstr (ds_db_rows_text (steps, 1, 0), ==, "forward");
  g_assert_cmpstr (ds_db_rows_text (steps, 1, 1), ==, "skipped");
  g_assert_cmpstr (ds_db_rows_text (steps, 2, 0), ==, "install");
  g_assert_cmpstr (ds_db_rows_text (steps, 2, 1), ==, "fail");
  g_assert_cmpint (ds_db_rows_int (steps, 2, 3), ==, before + 20);
  g_assert_cmpstr (ds_db_rows_text (steps, 2, 4), ==, "rejected");
  g_assert_cmpstr (ds_db_rows_text (steps, 2, 5), ==, "The board refused the DAC");

  g_assert_cmpint (peek_int (f, "SELECT first_seen_us <= last_seen_us FROM boards", 0), ==, 1);
  assert_counts (f->store, 1, 0, 1, 0, 0, 1);
}

static void
test_bad_writes (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ds_store_begin_job (f->store, "AA", "/dev/pts/1", NULL, NULL, NULL, &error);

  g_assert_no_error (error);

  /* The step outcome is checked by the schema... */
  g_assert_false (ds_store_record_step (f->store, id, "csr", "maybe", 1, 2, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, f->path));
  g_clear_error (&error);
  /* ...and so is the job a step belongs to (foreign keys are on). */
  g_assert_false (ds_store_record_step (f->store, id + 100, "csr", "pass", 1, 2, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_clear_error (&error);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM steps", 0), ==, 0);

  g_assert_false (ds_store_finish_job (f->store, id + 100, "passed", NULL, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ds_store_set_job_board (f->store, id + 100, "BB", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* A failed write leaves nothing behind, and the store carries on. */
  assert_counts (f->store, 1, 0, 0, 0, 0, 1);
  g_assert_true (ds_store_finish_job (f->store, id, "passed", NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_counts (f->store, 1, 1, 0, 0, 0, 1);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 3);
}

static void
test_jobs_and_counts (Fixture       *f,
                      gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "failed");
  one_job (f->store, "BB", "passed");
  one_job (f->store, "CC", "already-provisioned");
  one_job (f->store, "DD", "cancelled");
  assert_counts (f->store, 5, 2, 1, 1, 0, 4);
}

static void
assert_same_record (const DsCertRecord *got,
                    const DsCertRecord *want)
{
  g_assert_cmpint (got->id, ==, want->id);
  g_assert_cmpint (got->job_id, ==, want->job_id);
  g_assert_cmpstr (got->board_uid, ==, want->board_uid);
  g_assert_cmpstr (got->serial, ==, want->serial);
  g_assert_cmpstr (got->fingerprint, ==, want->fingerprint);
  g_assert_cmpstr (got->pubkey_sha256, ==, want->pubkey_sha256);
  g_assert_cmpstr (got->subject, ==, want->subject);
  g_assert_cmpstr (got->dac_path, ==, want->dac_path);
  g_assert_cmpstr (got->pai_path, ==, want->pai_path);
  g_assert_true (g_bytes_equal (got->dac_der, want->dac_der));
  g_assert_true (g_bytes_equal (got->pai_der, want->pai_der));
  g_assert_cmpint (got->issued_at, ==, want->issued_at);
}

static void
test_find_pending (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 job = one_job (f->store, "AA", "failed");
  g_autoptr(DsCertRecord) a = make_record ("AA", "0A", "key-1", job);
  g_autoptr(DsCertRecord) b = make_record ("BB", "0B", "key-2", 0);
  g_autoptr(DsCertRecord) pending = NULL;

  g_assert_true (ds_store_add_certificate (f->store, a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a->id, >, 0);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM events WHERE kind = 'certificate-issued' "
                                "AND board_uid = 'AA' AND job_id = ?", job), ==, 1);

  /* Issued, not installed: everything comes back, DER included. */
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pending);
  assert_same_record (pending, a);
  g_assert_false (pending->installed);
  g_assert_false (pending->superseded);
  g_clear_pointer (&pending, ds_cert_record_free);

  /* Only for the same board and key; none is not an error. */
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-9", &error);
  g_assert_no_error (error);
  g_assert_null (pending);
  pending = ds_store_find_pending_certificate (f->store, "ZZ", "key-1", &error);
  g_assert_no_error (error);
  g_assert_null (pending);

  /* Installed: no longer pending, now the board's live certificate. */
  g_assert_true (ds_store_mark_installed (f->store, a->id, &error));
  g_assert_no_error (error);
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-1", &error);
  g_assert_no_error (error);
  g_assert_null (pending);
  pending = ds_store_find_board_certificate (f->store, "AA", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pending);
  assert_same_record (pending, a);
  g_assert_true (pending->installed);
  g_clear_pointer (&pending, ds_cert_record_free);

  /* Superseded before it was installed (it failed its check): never
   * installed on resume. */
  g_assert_true (ds_store_add_certificate (f->store, b, &error));
  g_assert_no_error (error);
  g_assert_cmpint (b->job_id, ==, 0);
  g_assert_true (ds_store_mark_superseded (f->store, b->id, "the DAC failed the Matter profile", &error));
  g_assert_no_error (error);
  pending = ds_store_find_pending_certificate (f->store, "BB", "key-2", &error);
  g_assert_no_error (error);
  g_assert_null (pending);
}

static void
test_certificate_rules (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCertRecord) a = make_record ("AA", "01", "key-1", 0);
  g_autoptr(DsCertRecord) same_key = make_record ("BB", "02", "key-1", 0);
  g_autoptr(DsCertRecord) other_pending = make_record ("AA", "03", "key-2", 0);
  g_autoptr(DsCertRecord) second = make_record ("AA", "04", "key-3", 0);
  g_autoptr(DsCertRecord) third = make_record ("AA", "05", "key-4", 0);
  g_autoptr(DsCertRecord) live = NULL;
  g_autofree char *reason = NULL;

  g_assert_true (ds_store_add_certificate (f->store, a, &error));
  g_assert_no_error (error);

  /* A public key is never certified twice, not even for another board. */
  g_assert_false (ds_store_add_certificate (f->store, same_key, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "already certified"));
  g_clear_error (&error);
  g_assert_cmpint (same_key->id, ==, 0);

  /* While nothing is installed, a second pending DAC (the board's key
   * changed) may be issued. */
  g_assert_true (ds_store_add_certificate (f->store, other_pending, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_mark_installed (f->store, a->id, &error));
  g_assert_no_error (error);

  /* A board with a live DAC gets no second one, issued or installed,
   * until it is superseded. */
  g_assert_false (ds_store_add_certificate (f->store, second, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "AA"));
  g_clear_error (&error);
  g_assert_false (ds_store_mark_installed (f->store, other_pending->id, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);
  /* Installing the live one again (resume after an interruption) is fine. */
  g_assert_true (ds_store_mark_installed (f->store, a->id, &error));
  g_assert_no_error (error);

  g_assert_true (ds_store_mark_superseded (f->store, a->id, "board replaced", &error));
  g_assert_no_error (error);
  reason = peek_text (f, "SELECT superseded_reason FROM certificates WHERE id = ?", a->id);
  g_assert_cmpstr (reason, ==, "board replaced");
  live = ds_store_find_board_certificate (f->store, "AA", &error);
  g_assert_no_error (error);
  g_assert_null (live);
  g_assert_true (ds_store_add_certificate (f->store, third, &error));
  g_assert_no_error (error);

  g_assert_false (ds_store_mark_installed (f->store, 9999, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (ds_store_mark_superseded (f->store, 9999, "x", &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  assert_counts (f->store, 0, 0, 0, 0, 3, 1);
  /* The anchor, issued ×3, installed ×2, superseded ×1: refusals leave no
   * trace. */
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 7);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM events WHERE kind = 'certificate-installed' "
                                "AND board_uid = 'AA' AND message = 'serial 01'", 0), ==, 2);
}

/* Closes interrupted jobs until @expected are closed.  On PostgreSQL a
 * closed store's owner lock is released when its server process has ended,
 * a moment after the client hung up. */
static gint
close_interrupted (DsStore *store,
                   gint     expected)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gint closed = 0;

  do
    {
      g_autoptr(GError) error = NULL;
      gint n = ds_store_close_interrupted_jobs (store, &error);

      g_assert_no_error (error);
      closed += n;
      if (closed < expected)
        g_usleep (20000);
    }
  while (PG && closed < expected && g_get_monotonic_time () < deadline);
  return closed;
}

static void
test_interrupted (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 before = g_get_real_time ();
  gint64 id = ds_store_begin_job (f->store, NULL, "/dev/pts/3", NULL, NULL, NULL, &error);
  gint64 other = ds_store_begin_job (f->store, "BB", "/dev/pts/4", NULL, NULL, NULL, &error);
  g_autofree char *outcome = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_cmpint (other, >, id);
  one_job (f->store, "AA", "passed");

  /* The station died under the first two jobs; the next start closes them. */
  g_clear_object (&f->store);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (close_interrupted (f->store, 2), ==, 2);
  outcome = peek_text (f, "SELECT outcome FROM jobs WHERE id = ?", id);
  g_assert_cmpstr (outcome, ==, "interrupted");
  g_assert_cmpint (peek_int (f, "SELECT finished_us FROM jobs WHERE id = ?", other), >=, before);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM jobs WHERE outcome = 'interrupted'", 0), ==, 2);
  /* Interrupted is neither passed nor failed. */
  assert_counts (f->store, 3, 1, 0, 0, 0, 2);

  g_assert_cmpint (ds_store_close_interrupted_jobs (f->store, &error), ==, 0);
  g_assert_no_error (error);
}

#define N_WRITERS 8
#define JOBS_PER_WRITER 50

typedef struct {
  DsStore *store;
  guint    index;
  guint    n_jobs;
} Writer;

/* Each job: four job records, a certificate issued and installed. */
static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  for (guint i = 0; i < w->n_jobs; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uid = g_strdup_printf ("W%u-%u", w->index, i);
      g_autofree char *key = g_strdup_printf ("key-%u-%u", w->index, i);
      gint64 job = one_job (w->store, uid, i % 5 == 0 ? "failed" : "passed");
      g_autoptr(DsCertRecord) rec = make_record (uid, uid, key, job);

      g_assert_true (ds_store_add_certificate (w->store, rec, &error));
      g_assert_no_error (error);
      g_assert_true (ds_store_mark_installed (w->store, rec->id, &error));
      g_assert_no_error (error);
    }
  return NULL;
}

typedef struct {
  DsStore      *store;
  gint          done;
  guint         reads;
} Reader;

/* Reports read while jobs write; the counts only ever grow. */
static gpointer
reader_thread (gpointer data)
{
  Reader *r = data;
  DsStoreCounts last = { 0 };

  while (!g_atomic_int_get (&r->done))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DsCertRecord) pending = NULL;
      DsStoreCounts now = { 0 };

      g_assert_true (ds_store_get_counts (r->store, &now, &error));
      g_assert_no_error (error);
      g_assert_cmpint (now.jobs, >=, last.jobs);
      g_assert_cmpint (now.certificates, >=, last.certificates);
      g_assert_cmpint (now.passed + now.failed, <=, now.jobs);
      pending = ds_store_find_pending_certificate (r->store, "W0-0", "key-0-0", &error);
      g_assert_no_error (error);
      last = now;
      r->reads++;
      g_usleep (1000);
    }
  return NULL;
}

static void
test_concurrent_writers (Fixture       *f,
                         gconstpointer  data)
{
  Writer writers[N_WRITERS];
  GThread *threads[N_WRITERS];
  Reader reader = { f->store, 0, 0 };
  GThread *reader_th = g_thread_new ("reader", reader_thread, &reader);
  gint64 total = N_WRITERS * JOBS_PER_WRITER;

  for (guint i = 0; i < N_WRITERS; i++)
    {
      writers[i] = (Writer) { f->store, i, JOBS_PER_WRITER };
      threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
    }
  for (guint i = 0; i < N_WRITERS; i++)
    g_thread_join (threads[i]);
  g_atomic_int_set (&reader.done, 1);
  g_thread_join (reader_th);
  g_assert_cmpuint (reader.reads, >, 0);

  assert_counts (f->store, total, total * 4 / 5, total / 5, 0, total, total);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM steps", 0), ==, total * 2);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM certificates WHERE installed = 1", 0), ==, total);
  /* The audit chain stayed one chain: seven events a job, none lost, after
   * the anchor. */
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, total * 7 + 1);
}

/* Verification reads the chain and the rows a page at a time (ds-audit.c,
 * 128 rows a page): a chain of several pages verifies whole, and a break
 * on a later page of the events, of the jobs or of the boards is found. */
static void
test_audit_pages (Fixture       *f,
                  gconstpointer  data)
{
  Writer writers[4];
  GThread *threads[4];
  g_autofree char *board = NULL;
  gint64 total = G_N_ELEMENTS (writers) * 40;

  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      writers[i] = (Writer) { f->store, i, 40 };
      threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    g_thread_join (threads[i]);
  assert_counts (f->store, total, total * 4 / 5, total / 5, 0, total, total);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, total * 7 + 1);

  /* The last board in key order, on the second page of the boards. */
  board = peek_text (f, "SELECT uid FROM boards ORDER BY uid DESC LIMIT 1", 0);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM boards WHERE uid < (SELECT max(uid) FROM boards)", 0),
                   >=, 128);
  tamper (f, "UPDATE boards SET last_seen_us = last_seen_us + 1 "
             "WHERE uid = (SELECT max(uid) FROM boards)");
  assert_audit (f->store, peek_int (f, "SELECT max(id) FROM events WHERE digests LIKE "
                                       "'%boards ' || (SELECT max(uid) FROM boards) || ' %'", 0),
                board);
  tamper (f, "UPDATE boards SET last_seen_us = last_seen_us - 1 "
             "WHERE uid = (SELECT max(uid) FROM boards)");
  assert_audit (f->store, 0, NULL);
  tamper (f, "UPDATE jobs SET lot = 'LOT-X' WHERE id = 150");
  assert_audit (f->store, peek_int (f, "SELECT max(id) FROM events WHERE digests LIKE '%jobs 150 %'", 0),
                "jobs row 150 was changed");
  tamper (f, "UPDATE events SET message = 'x' WHERE id = 1000");
  assert_audit (f->store, 1000, "changed");
}

/* Group commit.  A second connection holds the write lock, so the store's
 * first writer becomes the leader and waits in BEGIN; seven more writers
 * queue meanwhile.  Once the lock is let go they are written in one
 * transaction, each in its own savepoint: the one that breaks a rule and
 * the one that breaks a constraint fail alone, and the rest are there. */
typedef struct {
  DsStore      *store;
  DsCertRecord *record;   /* NULL: log an event instead */
  gboolean      ok;
  GError       *error;
  const char   *message;  /* the event's; NULL: "first" */
} GroupWriter;

static gpointer
group_writer (gpointer data)
{
  GroupWriter *w = data;

  if (w->record != NULL)
    w->ok = ds_store_add_certificate (w->store, w->record, &w->error);
  else
    w->ok = ds_store_log_event (w->store, 0, NULL, "note", w->message != NULL ? w->message : "first", &w->error);
  return NULL;
}

static void
wait_for_stats (DsStore  *store,
                gboolean  committing,
                guint     waiting)
{
  DsStoreWriteStats stats = { 0 };

  for (;;)
    {
      ds_store_get_write_stats (store, &stats);
      if (stats.committing == committing && stats.waiting == waiting)
        return;
      g_usleep (1000);
    }
}

static void
test_group_commit (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) blocker = ds_db_open (f->path, FALSE, &error);
  g_autoptr(DsCertRecord) first = make_record ("G0", "S-0", "K-0", 0);
  DsStoreWriteStats before = { 0 }, after = { 0 };
  GroupWriter writers[8];
  GThread *threads[8];

  g_assert_no_error (error);
  g_assert_true (ds_store_add_certificate (f->store, first, &error));
  g_assert_no_error (error);
  ds_store_get_write_stats (f->store, &before);

  g_assert_true (ds_db_exec (blocker, PG ? "BEGIN; SELECT pg_advisory_xact_lock(17491, 1)" : "BEGIN IMMEDIATE",
                             &error));
  g_assert_no_error (error);

  writers[0] = (GroupWriter) { f->store, NULL, FALSE, NULL, NULL };
  threads[0] = g_thread_new ("leader", group_writer, &writers[0]);
  wait_for_stats (f->store, TRUE, 0);
  for (guint i = 1; i < G_N_ELEMENTS (writers); i++)
    {
      g_autofree char *uid = g_strdup_printf ("G%u", i);
      g_autofree char *serial = g_strdup_printf ("S-%u", i);
      g_autofree char *key = g_strdup_printf ("K-%u", i);

      /* Writer 3 certifies a key already certified (the store's rule);
       * writer 5 reuses a serial (the table's UNIQUE constraint). */
      writers[i] = (GroupWriter) { f->store, make_record (uid, i == 5 ? "S-0" : serial, i == 3 ? "K-0" : key, 0),
                                   FALSE, NULL, NULL };
      threads[i] = g_thread_new ("follower", group_writer, &writers[i]);
      wait_for_stats (f->store, TRUE, i);
    }
  g_assert_true (ds_db_exec (blocker, "ROLLBACK", &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    g_thread_join (threads[i]);

  ds_store_get_write_stats (f->store, &after);
  /* The leader's own transaction, then one for the seven. */
  g_assert_cmpuint (after.commits - before.commits, ==, 2);
  g_assert_cmpuint (after.writes - before.writes, ==, 8);
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      if (i == 3)
        g_assert_error (writers[i].error, DS_ERROR, DS_ERROR_REJECTED);
      else if (i == 5)
        g_assert_nonnull (writers[i].error);
      else
        g_assert_no_error (writers[i].error);
      g_assert_true (writers[i].ok == (i != 3 && i != 5));
      if (writers[i].record != NULL)
        g_assert_true ((writers[i].record->id > 0) == writers[i].ok);
      g_clear_error (&writers[i].error);
      g_clear_pointer (&writers[i].record, ds_cert_record_free);
    }
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM certificates", 0), ==, 6);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM events WHERE kind = 'certificate-issued'", 0), ==, 6);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 8);
}

/* SQLite may roll a whole transaction back by itself (a full disk, an I/O
 * error; here a trigger's RAISE(ROLLBACK)).  Then no write of the batch is
 * recorded and every one of them fails, instead of the savepoints of the
 * others being committed one by one, or reported failed although they
 * are on disk. */
static void
test_group_commit_lost_transaction (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) blocker = ds_db_open (f->path, FALSE, &error);
  GroupWriter writers[4];
  GThread *threads[4];
  const char *messages[] = { "first", "fine", "boom", "fine too" };
  gint64 before;

  g_assert_no_error (error);
  g_assert_true (ds_db_exec (blocker, "CREATE TRIGGER boom BEFORE INSERT ON events WHEN NEW.message = 'boom' "
                                      "BEGIN SELECT RAISE(ROLLBACK, 'forced rollback'); END", &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_log_event (f->store, 0, NULL, "note", "before", &error));
  g_assert_no_error (error);
  before = peek_int (f, "SELECT count(*) FROM events", 0);

  g_assert_true (ds_db_exec (blocker, "BEGIN IMMEDIATE", &error));
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      writers[i] = (GroupWriter) { f->store, NULL, FALSE, NULL, messages[i] };
      threads[i] = g_thread_new ("writer", group_writer, &writers[i]);
      wait_for_stats (f->store, TRUE, i);
    }
  g_assert_true (ds_db_exec (blocker, "ROLLBACK", &error));
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    g_thread_join (threads[i]);

  /* The leader's own transaction went through; the three after it shared
   * the one that was lost. */
  g_assert_true (writers[0].ok);
  for (guint i = 1; i < G_N_ELEMENTS (writers); i++)
    {
      g_assert_false (writers[i].ok);
      g_assert_error (writers[i].error, DS_ERROR, DS_ERROR_IO);
    }
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    g_clear_error (&writers[i].error);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM events", 0), ==, before + 1);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, before + 1);

  /* And the store goes on. */
  g_assert_true (ds_store_log_event (f->store, 0, NULL, "note", "after", &error));
  g_assert_no_error (error);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, before + 2);
}

/* A step record kept for later that rides on a write that fails is not
 * lost: it goes with the job's next write. */
static void
test_later_survives_failed_write (Fixture       *f,
                                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) other = ds_db_open (f->path, FALSE, &error);
  gint64 job = ds_store_begin_job (f->store, NULL, "/dev/pts/1", NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (ds_db_exec (other, "CREATE TRIGGER boom BEFORE INSERT ON steps WHEN NEW.step = 'boom' "
                                    "BEGIN SELECT RAISE(ABORT, 'forced failure'); END", &error));
  g_assert_no_error (error);
  ds_store_record_step_later (f->store, job, "forward", "pass", 1, 2, NULL, NULL);
  g_assert_false (ds_store_record_step (f->store, job, "boom", "pass", 3, 4, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM steps WHERE job_id = ?1", job), ==, 0);
  g_assert_true (ds_store_record_step (f->store, job, "check", "pass", 5, 6, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM steps WHERE job_id = ?1 AND step = 'forward'", job), ==, 1);
  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM steps WHERE job_id = ?1", job), ==, 2);
  assert_audit (f->store, 0, NULL);
}

/* Two stores on one file, as two station processes would be: the write
 * lock and the busy timeout, not the store's mutex, keep them apart. */
static void
test_two_connections (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) second = ds_store_open (f->path, &error);
  Writer writers[4];
  GThread *threads[4];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    {
      writers[i] = (Writer) { i % 2 == 0 ? f->store : second, i, 20 };
      threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (writers); i++)
    g_thread_join (threads[i]);

  assert_counts (f->store, 80, 64, 16, 0, 80, 80);
  assert_counts (second, 80, 64, 16, 0, 80, 80);
  g_assert_cmpint (assert_audit (second, 0, NULL), ==, 80 * 7 + 1);
}

static void
test_audit_intact (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(DsCertRecord) a = make_record ("AA", "01", "key-1", 0);
  g_autoptr(GError) error = NULL;

  one_job (f->store, "AA", "passed");
  g_assert_true (ds_store_add_certificate (f->store, a, &error));
  g_assert_true (ds_store_log_event (f->store, 0, NULL, "operator-login", "op-7", &error));
  one_job (f->store, "BB", "failed");
  /* The anchor, two jobs of five events each (start, board, two steps,
   * end), a certificate and a log-in. */
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 13);
}

/* Step records kept for later ride on the job's next commit, in order, and
 * never on another job's. */
static void
test_record_step_later (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsDb) db = NULL;
  g_autoptr(DsDbRows) rows = NULL;
  gint64 a = ds_store_begin_job (f->store, NULL, "/dev/pts/1", "op", "LOT", "st", &error);
  gint64 b = ds_store_begin_job (f->store, NULL, "/dev/pts/2", "op", "LOT", "st", &error);

  g_assert_no_error (error);
  ds_store_record_step_later (f->store, a, "forward", "pass", 1, 2, NULL, NULL);
  /* Another job's commit does not take it. */
  g_assert_true (ds_store_record_step (f->store, b, "connect", "pass", 1, 2, NULL, NULL, &error));
  db = ds_db_open (f->path, TRUE, &error);
  g_assert_no_error (error);
  rows = ds_db_query (db, "SELECT COUNT(*) FROM steps WHERE job_id = ?", DB_PARAMS (DB_INT (a)), &error);
  g_assert_cmpint (ds_db_rows_int (rows, 0, 0), ==, 0);
  g_clear_pointer (&rows, ds_db_rows_free);

  g_assert_true (ds_store_record_step (f->store, a, "check", "pass", 2, 3, NULL, NULL, &error));
  ds_store_record_step_later (f->store, a, "lock", "pass", 3, 4, NULL, NULL);
  g_assert_true (ds_store_finish_job (f->store, a, "passed", NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  rows = ds_db_query (db, "SELECT step FROM steps WHERE job_id = ? ORDER BY id", DB_PARAMS (DB_INT (a)), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ds_db_rows_count (rows), ==, 3);
  g_assert_cmpstr (ds_db_rows_text (rows, 0, 0), ==, "forward");
  g_assert_cmpstr (ds_db_rows_text (rows, 1, 0), ==, "check");
  g_assert_cmpstr (ds_db_rows_text (rows, 2, 0), ==, "lock");
  g_clear_pointer (&rows, ds_db_rows_free);
  /* In the audit chain too: each step before what followed it. */
  rows = ds_db_query (db, "SELECT kind, message FROM events WHERE job_id = ? ORDER BY id", DB_PARAMS (DB_INT (a)), &error);
  g_assert_cmpstr (ds_db_rows_text (rows, 1, 1), ==, "forward pass");
  g_assert_cmpstr (ds_db_rows_text (rows, 2, 1), ==, "check pass");
  g_assert_cmpstr (ds_db_rows_text (rows, 3, 1), ==, "lock pass");
  g_assert_cmpstr (ds_db_rows_text (rows, 4, 0), ==, "job-finished");
  assert_audit (f->store, 0, NULL);
}

/* A station's configuration goes into the audit trail when it changes, per
 * station, and not again when it stays the same. */
static void
test_config_changes (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gboolean changed = FALSE;

  g_assert_true (ds_store_log_config (f->store, "st-1", "product FFF1:8000\n", &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  g_assert_true (ds_store_log_config (f->store, "st-1", "product FFF1:8000\n", &changed, &error));
  g_assert_false (changed);
  /* Another station's first configuration, even if the same. */
  g_assert_true (ds_store_log_config (f->store, "st-2", "product FFF1:8000\n", &changed, &error));
  g_assert_true (changed);
  /* A station whose name starts like another's is another station. */
  g_assert_true (ds_store_log_config (f->store, "st-10", "product FFF1:8000\n", &changed, &error));
  g_assert_true (changed);
  g_assert_true (ds_store_log_config (f->store, "st-1", "product FFF1:8001\n", &changed, &error));
  g_assert_true (changed);
  g_assert_true (ds_store_log_config (f->store, "st-1", "product FFF1:8001\n", &changed, &error));
  g_assert_false (changed);
  /* Back to the first: a change again. */
  g_assert_true (ds_store_log_config (f->store, "st-1", "product FFF1:8000\n", &changed, &error));
  g_assert_true (changed);
  g_assert_cmpint (assert_audit (f->store, 0, NULL), ==, 6);
}

static void
test_audit_edit (Fixture       *f,
                 gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "passed");
  tamper (f, "UPDATE events SET message = 'csr pass' WHERE id = 4");
  assert_audit (f->store, 4, "changed");
}

static void
test_audit_delete (Fixture       *f,
                   gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "passed");
  tamper (f, "DELETE FROM events WHERE id = 5");
  assert_audit (f->store, 6, "missing");
}

static void
test_audit_reorder (Fixture       *f,
                    gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "passed");
  /* Swap two rows' contents, keeping each row's own hash consistent with
   * its fields: only the links between rows can tell. */
  tamper (f, "UPDATE events SET id = -1 WHERE id = 3; UPDATE events SET id = 3 WHERE id = 4; "
             "UPDATE events SET id = 4 WHERE id = -1;");
  assert_audit (f->store, 3, "");
}

static void G_GNUC_UNUSED
test_not_a_database (void)
{
  const char junk[] = "this is not a database, it is a text file that is long enough to have a header";
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (tmp, "junk.sqlite3", NULL);
  g_autofree char *after = NULL;
  g_autoptr(DsStore) store = NULL;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, junk, -1, &error));
  g_assert_no_error (error);
  store = ds_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "not a database"));

  /* The file is left as it was. */
  g_assert_true (g_file_get_contents (path, &after, NULL, NULL));
  g_assert_cmpstr (after, ==, junk);
  ds_test_rm_rf (tmp);
}

/* A URI's password never reaches a message. */
static void G_GNUC_UNUSED
test_display_name (void)
{
  const struct { const char *in, *out; } cases[] = {
    { "/var/lib/records.sqlite3", "/var/lib/records.sqlite3" },
    { "postgresql://db.lan/line", "postgresql://db.lan/line" },
    { "postgresql://station@db.lan/line", "postgresql://station@db.lan/line" },
    { "postgresql://station:s3cret@db.lan:5433/line?sslmode=require",
      "postgresql://station:***@db.lan:5433/line?sslmode=require" },
    { "postgres:///line?host=/run/pg&password=s3cret&user=u", "postgres:///line?host=/run/pg&password=***&user=u" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = ds_db_display_name (cases[i].in);

      g_assert_cmpstr (shown, ==, cases[i].out);
    }
  g_assert_true (ds_db_is_uri ("postgres://x/y"));
  g_assert_false (ds_db_is_uri ("records.sqlite3"));
}

/* Another station's running jobs are not interrupted jobs: only those of
 * a store that is gone are closed. */
static void
test_live_station (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStore) other = ds_store_open (f->path, &error);
  gint64 running;

  g_assert_no_error (error);
  running = ds_store_begin_job (other, "BB", "/dev/pts/5", NULL, NULL, "station-b", &error);
  g_assert_no_error (error);
  g_assert_cmpint (running, >, 0);
  g_assert_cmpint (ds_store_close_interrupted_jobs (f->store, &error), ==, 0);
  g_assert_no_error (error);
  g_assert_true (ds_store_finish_job (other, running, "passed", NULL, NULL, NULL, &error));
  g_assert_no_error (error);

  running = ds_store_begin_job (other, "CC", "/dev/pts/5", NULL, NULL, "station-b", &error);
  g_assert_no_error (error);
  g_clear_object (&other);
  g_assert_cmpint (close_interrupted (f->store, 1), ==, 1);
  assert_counts (f->store, 2, 1, 0, 0, 0, 2);
  assert_audit (f->store, 0, NULL);
}

typedef struct {
  const char *uri;
  DsStore    *store;
} Opener;

static gpointer
open_thread (gpointer data)
{
  Opener *o = data;
  g_autoptr(GError) error = NULL;

  o->store = ds_store_open (o->uri, &error);
  g_assert_no_error (error);
  return NULL;
}

/* Stations that start at once on an empty database create the schema
 * once, and all of them can write. */
static void
test_concurrent_open (void)
{
  g_autofree char *uri = ds_test_backend_new_store (NULL);
  Opener openers[6];
  GThread *threads[6];

  for (guint i = 0; i < G_N_ELEMENTS (openers); i++)
    {
      openers[i] = (Opener) { uri, NULL };
      threads[i] = g_thread_new ("open", open_thread, &openers[i]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (openers); i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < G_N_ELEMENTS (openers); i++)
    {
      g_autofree char *uid = g_strdup_printf ("S%u", i);

      one_job (openers[i].store, uid, "passed");
    }
  assert_counts (openers[0].store, 6, 6, 0, 0, 0, 6);
  assert_audit (openers[0].store, 0, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (openers); i++)
    g_object_unref (openers[i].store);
}

/* Serial numbers from the store's sequence (schema version 4) stay unique
 * when stations of a line allocate at once, each on its own connection:
 * the numbers are 1..N without a gap or a repeat, and the rows are in the
 * audit chain. */
typedef struct {
  DsStore *store;
  guint    station;
  guint    n;
} Allocator;

static gpointer
allocate_thread (gpointer data)
{
  Allocator *a = data;

  for (guint i = 0; i < a->n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *uid = g_strdup_printf ("ON%u-%u", a->station, i);
      g_autoptr(DsOnboardingRecord) r = g_new0 (DsOnboardingRecord, 1);
      gint64 job = ds_store_begin_job (a->store, uid, "/dev/pts/1", "op", "LOT-O", "station", &error);

      g_assert_no_error (error);
      r->job_id = job;
      r->board_uid = g_strdup (uid);
      r->vid = 0xFFF1;
      r->pid = 0x8000;
      r->discriminator = 3840;
      r->iterations = 1000;
      r->salt_hex = g_strdup ("53504B453250204B65792053616C74");
      r->verifier_hex = g_strdup ("00");
      r->passcode = 20202021;
      r->qr = g_strdup ("MT:-24J0AFN00KA0648G00");
      r->manual_code = g_strdup ("34970112332");
      r->manufacturing_date = g_strdup ("2026-12-02");
      r->created_us = 1;
      g_assert_true (ds_store_add_onboarding (a->store, r, "SN-{seq:05}", NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpint (r->id, >, 0);
      g_assert_true (g_str_has_prefix (r->serial_number, "SN-"));
    }
  return NULL;
}

static void
test_onboarding_serials (Fixture       *f,
                         gconstpointer  data)
{
  Allocator allocators[3];
  GThread *threads[3];
  g_autoptr(GError) error = NULL;
  g_autoptr(DsOnboardingRecord) first = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (allocators); i++)
    {
      allocators[i] = (Allocator) { i == 0 ? g_object_ref (f->store) : ds_store_open (f->path, &error), i, 8 };
      g_assert_no_error (error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (allocators); i++)
    threads[i] = g_thread_new ("allocate", allocate_thread, &allocators[i]);
  for (guint i = 0; i < G_N_ELEMENTS (allocators); i++)
    g_thread_join (threads[i]);
  for (guint i = 0; i < G_N_ELEMENTS (allocators); i++)
    g_object_unref (allocators[i].store);

  g_assert_cmpint (peek_int (f, "SELECT count(*) FROM onboarding", 0), ==, 24);
  g_assert_cmpint (peek_int (f, "SELECT count(DISTINCT serial_number) FROM onboarding", 0), ==, 24);
  g_assert_cmpint (peek_int (f, "SELECT min(seq) FROM onboarding", 0), ==, 1);
  g_assert_cmpint (peek_int (f, "SELECT max(seq) FROM onboarding", 0), ==, 24);
  first = ds_store_find_onboarding (f->store, peek_int (f, "SELECT job_id FROM onboarding WHERE seq = 1", 0), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (first->serial_number, ==, "SN-00001");
  g_assert_cmpuint (first->passcode, ==, 20202021);
  assert_audit (f->store, 0, NULL);

  /* An edited code is seen. */
  tamper (f, "UPDATE onboarding SET passcode = 11111112 WHERE seq = 5");
  {
    g_autofree char *reason = NULL;
    gint64 n = 0, broken = 0;

    g_assert_true (ds_store_verify_audit (f->store, &n, &broken, &reason, &error));
    g_assert_no_error (error);
    g_assert_cmpint (broken, >, 0);
    g_assert_nonnull (strstr (reason, "onboarding"));
  }
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *keys = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  if (DS_TEST_PG)
    {
      /* The station key and checkpoints of these databases, not the user's. */
      keys = g_dir_make_tmp ("ds-test-store-keys-XXXXXX", NULL);
      g_setenv ("DS_AUDIT_KEY_DIR", keys, TRUE);
    }
  if (!ds_test_backend_init (DS_TEST_PG, "/store"))
    return ds_test_backend_run ();
#define ADD(path, func) g_test_add (ds_test_backend_path (path), Fixture, NULL, \
                                    ds_test_store_setup, func, ds_test_store_teardown)
  ADD ("/schema", test_schema);
  ADD ("/pragmas", test_pragmas);
  ADD ("/persists", test_persists);
  ADD ("/newer-schema", test_newer_schema);
  ADD ("/migration-fails", test_migration_fails);
  ADD ("/round-trip", test_round_trip);
  ADD ("/bad-writes", test_bad_writes);
  ADD ("/jobs-and-counts", test_jobs_and_counts);
  ADD ("/find-pending", test_find_pending);
  ADD ("/certificate-rules", test_certificate_rules);
  ADD ("/interrupted", test_interrupted);
  ADD ("/concurrent-writers", test_concurrent_writers);
  ADD ("/audit/pages", test_audit_pages);
  ADD ("/two-connections", test_two_connections);
  ADD ("/group-commit", test_group_commit);
  ADD ("/onboarding-serials", test_onboarding_serials);
  if (!PG)
    {
      ADD ("/group-commit/lost-transaction", test_group_commit_lost_transaction);
      ADD ("/record-step-later/failed-write", test_later_survives_failed_write);
    }
  ADD ("/audit/intact", test_audit_intact);
  ADD ("/audit/config-changes", test_config_changes);
  ADD ("/record-step-later", test_record_step_later);
  ADD ("/audit/edit", test_audit_edit);
  ADD ("/audit/delete", test_audit_delete);
  ADD ("/audit/reorder", test_audit_reorder);
  if (PG)
    {
      ADD ("/live-station", test_live_station);
      g_test_add_func (ds_test_backend_path ("/concurrent-open"), test_concurrent_open);
    }
  else
    {
      g_test_add_func (ds_test_backend_path ("/not-a-database"), test_not_a_database);
      ADD ("/release-store", test_release_store);
      g_test_add_func (ds_test_backend_path ("/display-name"), test_display_name);
    }
#undef ADD
  status = ds_test_backend_run ();
  if (keys != NULL)
    ds_test_rm_rf (keys);
  return status;
}

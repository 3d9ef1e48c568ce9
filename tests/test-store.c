/* Unit tests of the record store on real SQLite files. */
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ds-error.h"
#include "ds-store.h"

typedef struct {
  char    *tmp;
  char    *path;
  DsStore *store;
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->tmp, "sub", "records.sqlite3", NULL);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  g_autofree char *dir = g_path_get_dirname (f->path);
  const char *suffixes[] = { "", "-wal", "-shm" };

  g_clear_object (&f->store);
  for (gsize i = 0; i < G_N_ELEMENTS (suffixes); i++)
    {
      g_autofree char *p = g_strconcat (f->path, suffixes[i], NULL);
      g_unlink (p);
    }
  g_rmdir (dir);
  g_rmdir (f->tmp);
  g_free (f->tmp);
  g_free (f->path);
}

static DsCertRecord *
make_record (const char *uid,
             const char *serial,
             const char *pubkey)
{
  DsCertRecord *r = g_new0 (DsCertRecord, 1);

  r->board_uid = g_strdup (uid);
  r->serial = g_strdup (serial);
  r->fingerprint = g_strdup_printf ("fp-%s", serial);
  r->pubkey_sha256 = g_strdup (pubkey);
  r->subject = g_strdup ("CN=test");
  r->dac_der = g_bytes_new ("dac", 3);
  r->pai_der = g_bytes_new ("pai", 3);
  r->dac_path = g_strdup ("/x/dac.pem");
  r->pai_path = g_strdup ("/x/pai.pem");
  return r;
}

static gint64
one_job (DsStore    *store,
         const char *uid,
         const char *outcome)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ds_store_begin_job (store, NULL, "/dev/pts/1", "op-7", "LOT-1", "station-a", &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  g_assert_true (ds_store_set_job_board (store, id, uid, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (store, id, "connect", "pass", 1, 2, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_record_step (store, id, "csr",
                                       g_str_equal (outcome, "failed") ? "fail" : "pass", 2, 3,
                                       g_str_equal (outcome, "failed") ? "timed-out" : NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_finish_job (store, id, outcome, g_str_equal (outcome, "failed") ? "csr" : NULL,
                                      NULL, NULL, &error));
  g_assert_no_error (error);
  return id;
}

static void
test_pragmas (Fixture       *f,
              gconstpointer  data)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (f->path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA journal_mode", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *) sqlite3_column_text (stmt, 0), ==, "wal");
  sqlite3_finalize (stmt);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpint (sqlite3_column_int (stmt, 0), ==, 1);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

static void
test_jobs_and_counts (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };

  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "failed");
  one_job (f->store, "BB", "passed");
  one_job (f->store, "CC", "already-provisioned");
  g_assert_true (ds_store_get_counts (f->store, &counts, &error));
  g_assert_no_error (error);
  g_assert_cmpint (counts.jobs, ==, 4);
  g_assert_cmpint (counts.passed, ==, 2);
  g_assert_cmpint (counts.failed, ==, 1);
  g_assert_cmpint (counts.already_provisioned, ==, 1);
  g_assert_cmpint (counts.boards, ==, 3);
  g_assert_cmpint (counts.certificates, ==, 0);
}

static void
test_persists (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  DsStoreCounts counts = { 0 };

  one_job (f->store, "AA", "passed");
  g_clear_object (&f->store);
  f->store = ds_store_open (f->path, &error);
  g_assert_no_error (error);
  g_assert_true (ds_store_get_counts (f->store, &counts, &error));
  g_assert_cmpint (counts.jobs, ==, 1);
  g_assert_cmpint (counts.passed, ==, 1);
}

static void
test_certificate_rules (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCertRecord) a = make_record ("AA", "01", "key-1");
  g_autoptr(DsCertRecord) same_key = make_record ("BB", "02", "key-1");
  g_autoptr(DsCertRecord) second = make_record ("AA", "03", "key-2");
  g_autoptr(DsCertRecord) third = make_record ("AA", "04", "key-3");
  g_autoptr(DsCertRecord) pending = NULL;
  g_autoptr(DsCertRecord) live = NULL;
  DsStoreCounts counts = { 0 };

  g_assert_true (ds_store_add_certificate (f->store, a, &error));
  g_assert_no_error (error);
  g_assert_cmpint (a->id, >, 0);

  /* Issued, not installed: found for the same board and key only. */
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-1", &error);
  g_assert_no_error (error);
  g_assert_nonnull (pending);
  g_assert_cmpstr (pending->serial, ==, "01");
  g_assert_cmpmem (g_bytes_get_data (pending->dac_der, NULL), 3, "dac", 3);
  g_assert_false (pending->installed);
  g_clear_pointer (&pending, ds_cert_record_free);
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-9", &error);
  g_assert_no_error (error);
  g_assert_null (pending);

  /* A public key is never certified twice. */
  g_assert_false (ds_store_add_certificate (f->store, same_key, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);

  g_assert_true (ds_store_mark_installed (f->store, a->id, &error));
  g_assert_no_error (error);
  pending = ds_store_find_pending_certificate (f->store, "AA", "key-1", &error);
  g_assert_null (pending);
  live = ds_store_find_board_certificate (f->store, "AA", &error);
  g_assert_nonnull (live);
  g_assert_cmpstr (live->serial, ==, "01");
  g_assert_true (live->installed);

  /* A board with a live DAC gets no second one until it is superseded. */
  g_assert_false (ds_store_add_certificate (f->store, second, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_clear_error (&error);
  g_assert_true (ds_store_mark_superseded (f->store, a->id, "board replaced", &error));
  g_assert_no_error (error);
  g_assert_true (ds_store_add_certificate (f->store, third, &error));
  g_assert_no_error (error);

  g_assert_false (ds_store_mark_installed (f->store, 9999, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (ds_store_get_counts (f->store, &counts, &error));
  g_assert_cmpint (counts.certificates, ==, 2);
}

static void
test_interrupted (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  gint64 id = ds_store_begin_job (f->store, NULL, "/dev/pts/3", NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  one_job (f->store, "AA", "passed");
  g_assert_cmpint (ds_store_close_interrupted_jobs (f->store, &error), ==, 1);
  g_assert_no_error (error);
  g_assert_cmpint (ds_store_close_interrupted_jobs (f->store, &error), ==, 0);
}

typedef struct {
  DsStore *store;
  guint    index;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *uid = g_strdup_printf ("W%u-%u", w->index, i);
      one_job (w->store, uid, i % 5 == 0 ? "failed" : "passed");
    }
  return NULL;
}

static void
test_concurrent_writers (Fixture       *f,
                         gconstpointer  data)
{
  Writer writers[8];
  GThread *threads[8];
  DsStoreCounts counts = { 0 };
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 8; i++)
    {
      writers[i].store = f->store;
      writers[i].index = i;
      threads[i] = g_thread_new ("writer", writer_thread, &writers[i]);
    }
  for (guint i = 0; i < 8; i++)
    g_thread_join (threads[i]);
  g_assert_true (ds_store_get_counts (f->store, &counts, &error));
  g_assert_cmpint (counts.jobs, ==, 400);
  g_assert_cmpint (counts.failed, ==, 80);
  g_assert_cmpint (counts.passed, ==, 320);
  g_assert_cmpint (counts.boards, ==, 400);
}

static void
tamper (Fixture    *f,
        const char *sql)
{
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (f->path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

static gint64
assert_audit (Fixture    *f,
              gint64      expected_broken,
              const char *reason_part)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  gint64 n = 0, broken = -1;

  g_assert_true (ds_store_verify_audit (f->store, &n, &broken, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpint (broken, ==, expected_broken);
  if (reason_part == NULL)
    g_assert_null (reason);
  else
    g_assert_nonnull (strstr (reason, reason_part));
  return n;
}

static void
test_audit_intact (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(DsCertRecord) a = make_record ("AA", "01", "key-1");
  g_autoptr(GError) error = NULL;

  one_job (f->store, "AA", "passed");
  g_assert_true (ds_store_add_certificate (f->store, a, &error));
  g_assert_true (ds_store_log_event (f->store, 0, NULL, "operator-login", "op-7", &error));
  one_job (f->store, "BB", "failed");
  /* Two jobs of four events each (start, two steps, end), a certificate
   * and a log-in. */
  g_assert_cmpint (assert_audit (f, 0, NULL), ==, 10);
}

static void
test_audit_edit (Fixture       *f,
                 gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "passed");
  tamper (f, "UPDATE events SET message = 'csr pass' WHERE id = 4");
  assert_audit (f, 4, "changed");
}

static void
test_audit_delete (Fixture       *f,
                   gconstpointer  data)
{
  one_job (f->store, "AA", "passed");
  one_job (f->store, "BB", "passed");
  tamper (f, "DELETE FROM events WHERE id = 5");
  assert_audit (f, 6, "missing");
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
  assert_audit (f, 3, "");
}

static void
test_not_a_database (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (tmp, "junk.sqlite3", NULL);
  g_autoptr(DsStore) store = NULL;

  g_assert_true (g_file_set_contents (path, "this is not a database, it is a text file that is long enough",
                                      -1, NULL));
  store = ds_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, path));
  g_unlink (path);
  g_rmdir (tmp);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/store/pragmas", test_pragmas);
  ADD ("/store/jobs-and-counts", test_jobs_and_counts);
  ADD ("/store/persists", test_persists);
  ADD ("/store/certificate-rules", test_certificate_rules);
  ADD ("/store/interrupted", test_interrupted);
  ADD ("/store/concurrent-writers", test_concurrent_writers);
  ADD ("/store/audit/intact", test_audit_intact);
  ADD ("/store/audit/edit", test_audit_edit);
  ADD ("/store/audit/delete", test_audit_delete);
  ADD ("/store/audit/reorder", test_audit_reorder);
#undef ADD
  g_test_add_func ("/store/not-a-database", test_not_a_database);
  return g_test_run ();
}

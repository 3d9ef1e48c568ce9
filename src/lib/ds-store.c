/* The SQLite record store: boards, jobs, steps, certificates and events. */
#include "config.h"

#include "ds-store.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "ds-error.h"

#define SCHEMA_VERSION 1

struct _DsStore
{
  GObject  parent_instance;

  char    *path;
  sqlite3 *db;
  GMutex   lock;  /* one writer transaction at a time on the connection */
};

G_DEFINE_FINAL_TYPE (DsStore, ds_store, G_TYPE_OBJECT)

G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

static const char schema_sql[] =
  "CREATE TABLE boards ("
  "  uid TEXT PRIMARY KEY,"
  "  first_seen_us INTEGER NOT NULL,"
  "  last_seen_us INTEGER NOT NULL);"
  "CREATE TABLE jobs ("
  "  id INTEGER PRIMARY KEY,"
  "  board_uid TEXT REFERENCES boards(uid),"
  "  port TEXT,"
  "  operator TEXT,"
  "  lot TEXT,"
  "  station TEXT,"
  "  started_us INTEGER NOT NULL,"
  "  finished_us INTEGER,"
  "  outcome TEXT,"
  "  failed_step TEXT,"
  "  error_code TEXT,"
  "  error_message TEXT);"
  "CREATE INDEX jobs_board ON jobs(board_uid);"
  "CREATE INDEX jobs_started ON jobs(started_us);"
  "CREATE TABLE steps ("
  "  id INTEGER PRIMARY KEY,"
  "  job_id INTEGER NOT NULL REFERENCES jobs(id),"
  "  step TEXT NOT NULL,"
  "  outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skipped')),"
  "  started_us INTEGER NOT NULL,"
  "  finished_us INTEGER NOT NULL,"
  "  error_code TEXT,"
  "  error_message TEXT);"
  "CREATE INDEX steps_job ON steps(job_id);"
  "CREATE TABLE certificates ("
  "  id INTEGER PRIMARY KEY,"
  "  job_id INTEGER REFERENCES jobs(id),"
  "  board_uid TEXT NOT NULL REFERENCES boards(uid),"
  "  serial TEXT NOT NULL UNIQUE,"
  "  fingerprint TEXT NOT NULL UNIQUE,"
  "  pubkey_sha256 TEXT NOT NULL UNIQUE,"
  "  subject TEXT,"
  "  dac_der BLOB NOT NULL,"
  "  pai_der BLOB NOT NULL,"
  "  dac_path TEXT,"
  "  pai_path TEXT,"
  "  issued_us INTEGER NOT NULL,"
  "  installed INTEGER NOT NULL DEFAULT 0,"
  "  superseded INTEGER NOT NULL DEFAULT 0,"
  "  superseded_reason TEXT);"
  "CREATE INDEX certificates_board ON certificates(board_uid);"
  "CREATE TABLE events ("
  "  id INTEGER PRIMARY KEY,"
  "  time_us INTEGER NOT NULL,"
  "  job_id INTEGER,"
  "  board_uid TEXT,"
  "  kind TEXT NOT NULL,"
  "  message TEXT,"
  "  prev_hash TEXT NOT NULL,"
  "  hash TEXT NOT NULL);";

static gboolean
set_error (DsStore    *self,
           GError    **error,
           const char *what)
{
  g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s failed: %s"),
               self->path, what, sqlite3_errmsg (self->db));
  return FALSE;
}

static gboolean
exec (DsStore    *self,
      const char *sql,
      GError    **error)
{
  char *msg = NULL;

  if (sqlite3_exec (self->db, sql, NULL, NULL, &msg) != SQLITE_OK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s"), self->path,
                   msg != NULL ? msg : sqlite3_errmsg (self->db));
      sqlite3_free (msg);
      return FALSE;
    }
  return TRUE;
}

static sqlite3_stmt *
prepare (DsStore    *self,
         const char *sql,
         GError    **error)
{
  sqlite3_stmt *stmt = NULL;

  if (sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL) != SQLITE_OK)
    {
      set_error (self, error, "preparing a query");
      return NULL;
    }
  return stmt;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           idx,
           const char   *text)
{
  if (text != NULL)
    sqlite3_bind_text (stmt, idx, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, idx);
}

static void
bind_bytes (sqlite3_stmt *stmt,
            int           idx,
            GBytes       *bytes)
{
  gsize len = 0;
  const void *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  if (data != NULL)
    sqlite3_bind_blob (stmt, idx, data, (int) len, SQLITE_TRANSIENT);
  else
    sqlite3_bind_zeroblob (stmt, idx, 0);
}

/* Runs a statement that returns no rows. */
static gboolean
step_done (DsStore      *self,
           sqlite3_stmt *stmt,
           const char   *what,
           GError      **error)
{
  if (sqlite3_step (stmt) != SQLITE_DONE)
    return set_error (self, error, what);
  return TRUE;
}

static void
rollback (DsStore *self)
{
  sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
}

static void
ds_store_finalize (GObject *object)
{
  DsStore *self = DS_STORE (object);

  if (self->db != NULL)
    sqlite3_close_v2 (self->db);
  g_free (self->path);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (ds_store_parent_class)->finalize (object);
}

static void
ds_store_class_init (DsStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_store_finalize;
}

static void
ds_store_init (DsStore *self)
{
  g_mutex_init (&self->lock);
}

/* Runs a PRAGMA (or any one-row query) and returns its first column as
 * text, NULL when it returns no row.  The caller holds the lock or owns the
 * store alone. */
static gboolean
pragma (DsStore     *self,
        const char  *sql,
        char       **value,
        GError     **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_error (self, error, sql);
  if (value != NULL)
    *value = rc == SQLITE_ROW ? g_strdup ((const char *) sqlite3_column_text (stmt, 0)) : NULL;
  return TRUE;
}

static gboolean
pragma_int (DsStore    *self,
            const char *sql,
            int        *value,
            GError    **error)
{
  g_autofree char *text = NULL;

  if (!pragma (self, sql, &text, error))
    return FALSE;
  *value = text != NULL ? (int) g_ascii_strtoll (text, NULL, 10) : 0;
  return TRUE;
}

static gboolean
create_schema (DsStore *self,
               GError **error)
{
  int version = 0;
  gboolean ok;

  if (!pragma_int (self, "PRAGMA user_version", &version, error))
    return FALSE;
  if (version == 0)
    {
      if (!exec (self, "BEGIN IMMEDIATE", error))
        return FALSE;
      /* Read again under the write lock: another station process may have
       * created the schema while this one waited for it. */
      ok = pragma_int (self, "PRAGMA user_version", &version, error);
      if (ok && version == 0)
        {
          ok = exec (self, schema_sql, error) &&
               exec (self, "PRAGMA user_version = " G_STRINGIFY (SCHEMA_VERSION), error);
          version = SCHEMA_VERSION;
        }
      if (!ok || !exec (self, "COMMIT", error))
        {
          rollback (self);
          return FALSE;
        }
    }
  if (version != SCHEMA_VERSION)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Record store %s has schema version %d; this station knows version %d: "
                     "use a station as new as the one that wrote it"),
                   self->path, version, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
configure (DsStore *self,
           GError **error)
{
  g_autofree char *mode = NULL;

  /* WAL lets readers (statistics, exports, a second station process) work
   * while jobs write.  synchronous=FULL syncs the WAL at every commit: a
   * step is on disk before the board is told to go on, even across a power
   * cut; NORMAL would only protect against a crash of the process, and a
   * lost step could mean a DAC issued twice or not accounted for. */
  if (!pragma (self, "PRAGMA journal_mode = WAL", &mode, error) ||
      !pragma (self, "PRAGMA synchronous = FULL", NULL, error) ||
      !pragma (self, "PRAGMA foreign_keys = ON", NULL, error))
    return FALSE;
  if (g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") != 0)
    g_warning ("Record store %s cannot use write-ahead logging (journal mode %s): "
               "reports will wait for the jobs' writes", self->path, mode);
  return TRUE;
}

DsStore *
ds_store_open (const char *path,
               GError    **error)
{
  g_autoptr(DsStore) self = NULL;
  g_autofree char *dir = NULL;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (DS_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  dir = g_path_get_dirname (path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot create the folder %s for the record store: %s"),
                   dir, g_strerror (errsv));
      return NULL;
    }

  rc = sqlite3_open_v2 (path, &self->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
  if (rc != SQLITE_OK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot open the record store %s: %s"), path,
                   self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc));
      return NULL;
    }
  /* Other station processes (and report readers) may hold the write lock
   * for a moment; wait for them rather than fail a job. */
  sqlite3_busy_timeout (self->db, 5000);
  sqlite3_extended_result_codes (self->db, 1);

  if (!configure (self, error) || !create_schema (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
ds_store_get_settings (DsStore         *self,
                       DsStoreSettings *settings,
                       GError         **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autofree char *mode = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  g_return_val_if_fail (settings != NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  if (!pragma (self, "PRAGMA journal_mode", &mode, error) ||
      !pragma_int (self, "PRAGMA synchronous", &settings->synchronous, error) ||
      !pragma_int (self, "PRAGMA foreign_keys", &settings->foreign_keys, error) ||
      !pragma_int (self, "PRAGMA busy_timeout", &settings->busy_timeout_ms, error) ||
      !pragma_int (self, "PRAGMA user_version", &settings->schema_version, error))
    return FALSE;
  settings->wal = g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") == 0;
  return TRUE;
}

const char *
ds_store_get_path (DsStore *self)
{
  return self->path;
}

/* After an UPDATE of one job: a job id the store never gave out is a bug
 * in the caller, but it must not pass silently. */
static gboolean
check_job_changed (DsStore *self,
                   gint64   job_id,
                   GError **error)
{
  g_autofree char *id = NULL;

  if (sqlite3_changes (self->db) == 1)
    return TRUE;
  /* The id goes in as a string: xgettext cannot see through G_GINT64_FORMAT. */
  id = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("No job %s in the record store %s"), id, self->path);
  return FALSE;
}

/* Inserts the board if new and updates last_seen; the lock is held. */
static gboolean
touch_board (DsStore    *self,
             const char *uid,
             gint64      now,
             GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
    "INSERT INTO boards (uid, first_seen_us, last_seen_us) VALUES (?1, ?2, ?2) "
    "ON CONFLICT (uid) DO UPDATE SET last_seen_us = ?2", error);

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, uid);
  sqlite3_bind_int64 (stmt, 2, now);
  return step_done (self, stmt, "recording the board", error);
}

#define GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The hash of one audit event: SHA-256 over its fields, each length-prefixed
 * so no two different rows encode alike, and over the previous row's hash,
 * so an edited, deleted or reordered row breaks every link after it. */
static char *
event_hash (gint64      id,
            gint64      time_us,
            gint64      job_id,
            const char *board_uid,
            const char *kind,
            const char *message,
            const char *prev_hash)
{
  g_autoptr(GString) in = g_string_new (NULL);
  const char *fields[4] = { board_uid, kind, message, prev_hash };

  g_string_append_printf (in, "%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";",
                          id, time_us, job_id);
  for (gsize i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      if (fields[i] == NULL)
        g_string_append (in, "-;");
      else
        g_string_append_printf (in, "%" G_GSIZE_FORMAT ":%s;", strlen (fields[i]), fields[i]);
    }
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, in->str, in->len);
}

/* Appends to the audit chain.  Must run inside a write transaction, so that
 * no other writer (another station process) slips in between reading the
 * chain's head and extending it. */
static gboolean
insert_event (DsStore    *self,
              gint64      job_id,
              const char *board_uid,
              const char *kind,
              const char *message,
              GError    **error)
{
  g_autoptr(sqlite3_stmt) head = prepare (self, "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1", error);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *prev = NULL;
  g_autofree char *hash = NULL;
  gint64 id = 1;
  gint64 now = g_get_real_time ();
  int rc;

  if (head == NULL)
    return FALSE;
  rc = sqlite3_step (head);
  if (rc == SQLITE_ROW)
    {
      id = sqlite3_column_int64 (head, 0) + 1;
      prev = g_strdup ((const char *) sqlite3_column_text (head, 1));
    }
  else if (rc == SQLITE_DONE)
    prev = g_strdup (GENESIS_HASH);
  else
    return set_error (self, error, "reading the audit chain");

  hash = event_hash (id, now, job_id > 0 ? job_id : 0, board_uid, kind, message, prev);
  stmt = prepare (self,
    "INSERT INTO events (id, time_us, job_id, board_uid, kind, message, prev_hash, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, id);
  sqlite3_bind_int64 (stmt, 2, now);
  if (job_id > 0)
    sqlite3_bind_int64 (stmt, 3, job_id);
  else
    sqlite3_bind_null (stmt, 3);
  bind_text (stmt, 4, board_uid);
  bind_text (stmt, 5, kind);
  bind_text (stmt, 6, message);
  bind_text (stmt, 7, prev);
  bind_text (stmt, 8, hash);
  return step_done (self, stmt, "logging an event", error);
}

gboolean
ds_store_verify_audit (DsStore  *self,
                       gint64   *n_events,
                       gint64   *broken_id,
                       char    **reason,
                       GError  **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = prepare (self,
    "SELECT id, time_us, job_id, board_uid, kind, message, prev_hash, hash FROM events ORDER BY id", error);
  g_autofree char *expected_prev = g_strdup (GENESIS_HASH);
  gint64 expected_id = 1;
  gint64 n = 0;
  int rc;

  *broken_id = 0;
  *reason = NULL;
  if (stmt == NULL)
    return FALSE;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      const char *prev = (const char *) sqlite3_column_text (stmt, 6);
      const char *hash = (const char *) sqlite3_column_text (stmt, 7);
      g_autofree char *computed = event_hash (id, sqlite3_column_int64 (stmt, 1), sqlite3_column_int64 (stmt, 2),
                                              (const char *) sqlite3_column_text (stmt, 3),
                                              (const char *) sqlite3_column_text (stmt, 4),
                                              (const char *) sqlite3_column_text (stmt, 5), prev);

      n++;
      if (id != expected_id)
        {
          g_autofree char *missing = g_strdup_printf ("%" G_GINT64_FORMAT, expected_id);
          *reason = g_strdup_printf (_("event %s is missing"), missing);
        }
      else if (g_strcmp0 (prev, expected_prev) != 0)
        *reason = g_strdup (_("it does not link to the event before it (deleted or reordered events)"));
      else if (g_strcmp0 (computed, hash) != 0)
        *reason = g_strdup (_("its contents were changed after it was written"));
      if (*reason != NULL)
        {
          *broken_id = id;
          break;
        }
      g_free (expected_prev);
      expected_prev = g_strdup (hash);
      expected_id = id + 1;
    }
  if (*reason == NULL && rc != SQLITE_DONE)
    return set_error (self, error, "reading the audit chain");
  if (n_events != NULL)
    *n_events = n;
  return TRUE;
}

gint64
ds_store_begin_job (DsStore    *self,
                    const char *board_uid,
                    const char *port,
                    const char *operator_id,
                    const char *lot,
                    const char *station,
                    GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gint64 now = g_get_real_time ();
  gint64 id;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return -1;
  if (board_uid != NULL && !touch_board (self, board_uid, now, error))
    {
      rollback (self);
      return -1;
    }
  stmt = prepare (self,
    "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us) VALUES (?, ?, ?, ?, ?, ?)",
    error);
  if (stmt == NULL)
    {
      rollback (self);
      return -1;
    }
  bind_text (stmt, 1, board_uid);
  bind_text (stmt, 2, port);
  bind_text (stmt, 3, operator_id);
  bind_text (stmt, 4, lot);
  bind_text (stmt, 5, station);
  sqlite3_bind_int64 (stmt, 6, now);
  if (!step_done (self, stmt, "recording a job", error))
    {
      rollback (self);
      return -1;
    }
  id = sqlite3_last_insert_rowid (self->db);
  if (!insert_event (self, id, board_uid, "job-started", port, error) || !exec (self, "COMMIT", error))
    {
      rollback (self);
      return -1;
    }
  return id;
}

gboolean
ds_store_set_job_board (DsStore    *self,
                        gint64      job_id,
                        const char *board_uid,
                        GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!touch_board (self, board_uid, g_get_real_time (), error))
    {
      rollback (self);
      return FALSE;
    }
  stmt = prepare (self, "UPDATE jobs SET board_uid = ? WHERE id = ?", error);
  if (stmt == NULL)
    {
      rollback (self);
      return FALSE;
    }
  bind_text (stmt, 1, board_uid);
  sqlite3_bind_int64 (stmt, 2, job_id);
  if (!step_done (self, stmt, "recording the board of a job", error) ||
      !check_job_changed (self, job_id, error) ||
      !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_store_record_step (DsStore    *self,
                      gint64      job_id,
                      const char *step,
                      const char *outcome,
                      gint64      started_us,
                      gint64      finished_us,
                      const char *error_code,
                      const char *error_message,
                      GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *what = g_strdup_printf ("%s %s", step, outcome);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = prepare (self,
    "INSERT INTO steps (job_id, step, outcome, started_us, finished_us, error_code, error_message) "
    "VALUES (?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    {
      rollback (self);
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, job_id);
  bind_text (stmt, 2, step);
  bind_text (stmt, 3, outcome);
  sqlite3_bind_int64 (stmt, 4, started_us);
  sqlite3_bind_int64 (stmt, 5, finished_us);
  bind_text (stmt, 6, error_code);
  bind_text (stmt, 7, error_message);
  if (!step_done (self, stmt, "recording a step", error) ||
      !insert_event (self, job_id, NULL, "step", what, error) ||
      !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_store_finish_job (DsStore    *self,
                     gint64      job_id,
                     const char *outcome,
                     const char *failed_step,
                     const char *error_code,
                     const char *error_message,
                     GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  stmt = prepare (self,
    "UPDATE jobs SET finished_us = ?, outcome = ?, failed_step = ?, error_code = ?, error_message = ? "
    "WHERE id = ?", error);
  if (stmt == NULL)
    {
      rollback (self);
      return FALSE;
    }
  sqlite3_bind_int64 (stmt, 1, g_get_real_time ());
  bind_text (stmt, 2, outcome);
  bind_text (stmt, 3, g_strcmp0 (outcome, "failed") == 0 || g_strcmp0 (outcome, "cancelled") == 0 ? failed_step : NULL);
  bind_text (stmt, 4, error_code);
  bind_text (stmt, 5, error_message);
  sqlite3_bind_int64 (stmt, 6, job_id);
  if (!step_done (self, stmt, "recording the end of a job", error) ||
      !check_job_changed (self, job_id, error) ||
      !insert_event (self, job_id, NULL, "job-finished", outcome, error) ||
      !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

/* TRUE when a row matches; the lock is held. */
static gboolean
exists (DsStore    *self,
        const char *sql,
        const char *arg,
        gboolean   *found,
        GError    **error)
{
  g_autoptr(sqlite3_stmt) stmt = prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  bind_text (stmt, 1, arg);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return set_error (self, error, "looking up a certificate");
  *found = rc == SQLITE_ROW;
  return TRUE;
}

gboolean
ds_store_add_certificate (DsStore      *self,
                          DsCertRecord *record,
                          GError      **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  gboolean found = FALSE;
  g_autofree char *msg = NULL;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!exists (self, "SELECT 1 FROM certificates WHERE pubkey_sha256 = ?", record->pubkey_sha256, &found, error))
    {
      rollback (self);
      return FALSE;
    }
  if (found)
    {
      rollback (self);
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("This public key was already certified: a key is never certified twice"));
      return FALSE;
    }
  if (!exists (self, "SELECT 1 FROM certificates WHERE board_uid = ? AND installed = 1 AND superseded = 0",
               record->board_uid, &found, error))
    {
      rollback (self);
      return FALSE;
    }
  if (found)
    {
      rollback (self);
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("Board %s already has an installed DAC; supersede it before issuing another"),
                   record->board_uid);
      return FALSE;
    }
  if (!touch_board (self, record->board_uid, g_get_real_time (), error))
    {
      rollback (self);
      return FALSE;
    }

  stmt = prepare (self,
    "INSERT INTO certificates (job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, dac_der, "
    "pai_der, dac_path, pai_path, issued_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", error);
  if (stmt == NULL)
    {
      rollback (self);
      return FALSE;
    }
  if (record->job_id > 0)
    sqlite3_bind_int64 (stmt, 1, record->job_id);
  else
    sqlite3_bind_null (stmt, 1);
  bind_text (stmt, 2, record->board_uid);
  bind_text (stmt, 3, record->serial);
  bind_text (stmt, 4, record->fingerprint);
  bind_text (stmt, 5, record->pubkey_sha256);
  bind_text (stmt, 6, record->subject);
  bind_bytes (stmt, 7, record->dac_der);
  bind_bytes (stmt, 8, record->pai_der);
  bind_text (stmt, 9, record->dac_path);
  bind_text (stmt, 10, record->pai_path);
  sqlite3_bind_int64 (stmt, 11, record->issued_at > 0 ? record->issued_at : g_get_real_time ());
  if (!step_done (self, stmt, "recording a certificate", error))
    {
      rollback (self);
      return FALSE;
    }
  record->id = sqlite3_last_insert_rowid (self->db);
  msg = g_strdup_printf ("serial %s fingerprint %s", record->serial, record->fingerprint);
  if (!insert_event (self, record->job_id, record->board_uid, "certificate-issued", msg, error) ||
      !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

/* Marks one certificate installed or superseded and logs it; runs inside
 * the caller's write transaction. */
static gboolean
update_certificate_locked (DsStore    *self,
                           gint64      cert_id,
                           gboolean    install,
                           const char *reason,
                           GError    **error)
{
  g_autoptr(sqlite3_stmt) find = prepare (self, "SELECT board_uid, job_id, serial FROM certificates WHERE id = ?",
                                          error);
  g_autoptr(sqlite3_stmt) live = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;
  g_autofree char *board_uid = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *msg = NULL;
  gint64 job_id;
  int rc;

  if (find == NULL)
    return FALSE;
  sqlite3_bind_int64 (find, 1, cert_id);
  rc = sqlite3_step (find);
  if (rc == SQLITE_DONE)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, cert_id);
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("No certificate %s in the record store %s"), id,
                   self->path);
      return FALSE;
    }
  if (rc != SQLITE_ROW)
    return set_error (self, error, "looking up a certificate");
  board_uid = g_strdup ((const char *) sqlite3_column_text (find, 0));
  job_id = sqlite3_column_int64 (find, 1);
  serial = g_strdup ((const char *) sqlite3_column_text (find, 2));

  if (install)
    {
      /* The same rule as at issuance: one live DAC per board. */
      live = prepare (self,
        "SELECT serial FROM certificates WHERE board_uid = ? AND id != ? AND installed = 1 AND superseded = 0",
        error);
      if (live == NULL)
        return FALSE;
      bind_text (live, 1, board_uid);
      sqlite3_bind_int64 (live, 2, cert_id);
      rc = sqlite3_step (live);
      if (rc == SQLITE_ROW)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                       _("Board %s already has the installed DAC %s; supersede it before installing DAC %s"),
                       board_uid, (const char *) sqlite3_column_text (live, 0), serial);
          return FALSE;
        }
      if (rc != SQLITE_DONE)
        return set_error (self, error, "looking up a certificate");
    }

  stmt = prepare (self,
                  install ? "UPDATE certificates SET installed = 1 WHERE id = ?1"
                          : "UPDATE certificates SET superseded = 1, superseded_reason = ?2 WHERE id = ?1",
                  error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, cert_id);
  if (!install)
    bind_text (stmt, 2, reason != NULL ? reason : "");
  if (!step_done (self, stmt, install ? "recording an installed certificate" : "superseding a certificate", error))
    return FALSE;

  if (install)
    msg = g_strdup_printf ("serial %s", serial);
  else
    msg = g_strdup_printf ("serial %s: %s", serial, reason != NULL ? reason : "");
  return insert_event (self, job_id, board_uid, install ? "certificate-installed" : "certificate-superseded",
                       msg, error);
}

static gboolean
update_certificate (DsStore    *self,
                    gint64      cert_id,
                    gboolean    install,
                    const char *reason,
                    GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!update_certificate_locked (self, cert_id, install, reason, error) || !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_store_mark_installed (DsStore *self,
                         gint64   cert_id,
                         GError **error)
{
  g_return_val_if_fail (DS_IS_STORE (self), FALSE);

  return update_certificate (self, cert_id, TRUE, NULL, error);
}

gboolean
ds_store_mark_superseded (DsStore    *self,
                          gint64      cert_id,
                          const char *reason,
                          GError    **error)
{
  g_return_val_if_fail (DS_IS_STORE (self), FALSE);

  return update_certificate (self, cert_id, FALSE, reason, error);
}

void
ds_cert_record_free (DsCertRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->board_uid);
  g_free (record->serial);
  g_free (record->fingerprint);
  g_free (record->pubkey_sha256);
  g_free (record->subject);
  g_free (record->dac_path);
  g_free (record->pai_path);
  g_clear_pointer (&record->dac_der, g_bytes_unref);
  g_clear_pointer (&record->pai_der, g_bytes_unref);
  g_free (record);
}

#define CERT_COLUMNS "id, job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, dac_path, " \
                     "pai_path, dac_der, pai_der, issued_us, installed, superseded"

static DsCertRecord *
read_certificate (sqlite3_stmt *stmt)
{
  DsCertRecord *r = g_new0 (DsCertRecord, 1);

  r->id = sqlite3_column_int64 (stmt, 0);
  r->job_id = sqlite3_column_int64 (stmt, 1);
  r->board_uid = g_strdup ((const char *) sqlite3_column_text (stmt, 2));
  r->serial = g_strdup ((const char *) sqlite3_column_text (stmt, 3));
  r->fingerprint = g_strdup ((const char *) sqlite3_column_text (stmt, 4));
  r->pubkey_sha256 = g_strdup ((const char *) sqlite3_column_text (stmt, 5));
  r->subject = g_strdup ((const char *) sqlite3_column_text (stmt, 6));
  r->dac_path = g_strdup ((const char *) sqlite3_column_text (stmt, 7));
  r->pai_path = g_strdup ((const char *) sqlite3_column_text (stmt, 8));
  r->dac_der = g_bytes_new (sqlite3_column_blob (stmt, 9), sqlite3_column_bytes (stmt, 9));
  r->pai_der = g_bytes_new (sqlite3_column_blob (stmt, 10), sqlite3_column_bytes (stmt, 10));
  r->issued_at = sqlite3_column_int64 (stmt, 11);
  r->installed = sqlite3_column_int (stmt, 12) != 0;
  r->superseded = sqlite3_column_int (stmt, 13) != 0;
  return r;
}

static DsCertRecord *
find_certificate (DsStore    *self,
                  const char *sql,
                  const char *arg1,
                  const char *arg2,
                  GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = prepare (self, sql, error);
  int rc;

  if (stmt == NULL)
    return NULL;
  bind_text (stmt, 1, arg1);
  if (arg2 != NULL)
    bind_text (stmt, 2, arg2);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return read_certificate (stmt);
  if (rc != SQLITE_DONE)
    set_error (self, error, "looking up a certificate");
  return NULL;
}

DsCertRecord *
ds_store_find_pending_certificate (DsStore    *self,
                                   const char *board_uid,
                                   const char *pubkey_sha256,
                                   GError    **error)
{
  return find_certificate (self,
    "SELECT " CERT_COLUMNS " FROM certificates WHERE board_uid = ? AND pubkey_sha256 = ? "
    "AND installed = 0 AND superseded = 0 ORDER BY issued_us DESC, id DESC LIMIT 1",
    board_uid, pubkey_sha256, error);
}

DsCertRecord *
ds_store_find_board_certificate (DsStore    *self,
                                 const char *board_uid,
                                 GError    **error)
{
  return find_certificate (self,
    "SELECT " CERT_COLUMNS " FROM certificates WHERE board_uid = ? AND installed = 1 AND superseded = 0 "
    "ORDER BY issued_us DESC, id DESC LIMIT 1",
    board_uid, NULL, error);
}

gboolean
ds_store_log_event (DsStore    *self,
                    gint64      job_id,
                    const char *board_uid,
                    const char *kind,
                    const char *message,
                    GError    **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return FALSE;
  if (!insert_event (self, job_id, board_uid, kind, message, error) || !exec (self, "COMMIT", error))
    {
      rollback (self);
      return FALSE;
    }
  return TRUE;
}

gint
ds_store_close_interrupted_jobs (DsStore *self,
                                 GError **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(sqlite3_stmt) stmt = NULL;
  int n;

  if (!exec (self, "BEGIN IMMEDIATE", error))
    return -1;
  stmt = prepare (self, "UPDATE jobs SET outcome = 'interrupted', finished_us = ? WHERE outcome IS NULL", error);
  if (stmt == NULL)
    {
      rollback (self);
      return -1;
    }
  sqlite3_bind_int64 (stmt, 1, g_get_real_time ());
  if (!step_done (self, stmt, "closing interrupted jobs", error))
    {
      rollback (self);
      return -1;
    }
  n = sqlite3_changes (self->db);
  if ((n > 0 && !insert_event (self, 0, NULL, "jobs-interrupted", NULL, error)) || !exec (self, "COMMIT", error))
    {
      rollback (self);
      return -1;
    }
  return n;
}

gboolean
ds_store_get_counts (DsStore       *self,
                     DsStoreCounts *counts,
                     GError       **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autoptr(sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  /* One statement reads one snapshot, so the figures agree with each other
   * even while another station process writes. */
  locker = g_mutex_locker_new (&self->lock);
  stmt = prepare (self,
    "SELECT (SELECT count(*) FROM jobs),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'passed'),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'failed'),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'already-provisioned'),"
    " (SELECT count(*) FROM certificates),"
    " (SELECT count(*) FROM boards)", error);
  if (stmt == NULL)
    return FALSE;
  if (sqlite3_step (stmt) != SQLITE_ROW)
    return set_error (self, error, "counting records");
  counts->jobs = sqlite3_column_int64 (stmt, 0);
  counts->passed = sqlite3_column_int64 (stmt, 1);
  counts->failed = sqlite3_column_int64 (stmt, 2);
  counts->already_provisioned = sqlite3_column_int64 (stmt, 3);
  counts->certificates = sqlite3_column_int64 (stmt, 4);
  counts->boards = sqlite3_column_int64 (stmt, 5);
  return TRUE;
}

/* The record store: boards, jobs, steps, certificates and events, in SQLite
 * or PostgreSQL (ds-db.c hides which). */
#include "config.h"

#include "ds-store.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ds-audit.h"
#include "ds-db.h"
#include "ds-error.h"

/* 2: events carry the digests of the rows their write changed, and are
 * keyed (ds-audit.c) */
#define SCHEMA_VERSION 2

/* Advisory locks on PostgreSQL, two-key form: class 'DS' (ds-db.c takes
 * subkey 1 for the writers); the schema's creation; and the liveness lock
 * each store holds on its owner key while it is open. */
#define PG_LOCK_CLASS        17491  /* "DS" */
#define PG_LOCK_SCHEMA       2
#define PG_LOCK_OWNER_CLASS  17492

struct _DsStore
{
  GObject  parent_instance;

  char    *path;
  DsDb    *db;
  gint32   owner;  /* PostgreSQL: this store's jobs, and its liveness lock */
  GMutex   lock;   /* the connection: one transaction or read at a time */
  /* SQLite: a second, read-only connection for the lookups jobs make, so
   * that they read the last commit (write-ahead logging) rather than wait
   * for the one being written.  NULL on PostgreSQL. */
  DsDb    *reader;
  GMutex   reader_lock;

  /* Group commit (see write_records()) */
  GMutex     queue_lock;
  GCond      queue_cond;
  GPtrArray *queue;      /* Write*: waiting for the next commit */
  gboolean   committing; /* a leader is running a batch */
  gpointer   current_write; /* the Write the leader runs now */
  guint64    n_writes;
  guint64    n_commits;

  GMutex     later_lock;
  GPtrArray *later; /* PendingStep: step records that ride on the job's next commit */

  /* The audit chain (ds-audit.c), under self->lock */
  GBytes    *key;
  char      *checkpoint_path;
  GString   *digests;   /* rows the current write changed, for its event */
  gint64     head_id;   /* the last event this store knows committed */
  char      *head_hash;
  gint64     checkpoint_us;     /* when the checkpoint was last written */
  gboolean   checkpoint_behind; /* the head is newer than the checkpoint */
};

/* A step record that ds_store_record_step_later() keeps for the job's next
 * write transaction. */
typedef struct {
  gint64  job_id;
  char   *step;
  char   *outcome;
  gint64  started_us;
  gint64  finished_us;
  char   *error_code;
  char   *error_message;
  gpointer flushed_by;  /* the Write carrying it, until that one is done */
} PendingStep;

static void
pending_step_free (PendingStep *p)
{
  g_free (p->step);
  g_free (p->outcome);
  g_free (p->error_code);
  g_free (p->error_message);
  g_free (p);
}

G_DEFINE_FINAL_TYPE (DsStore, ds_store, G_TYPE_OBJECT)

typedef gboolean (*WriteFunc) (DsStore  *self,
                               gpointer  data,
                               GError  **error);
static gboolean write_records (DsStore   *self,
                               WriteFunc  func,
                               gpointer   data,
                               GError   **error);
static gboolean insert_event  (DsStore    *self,
                               gint64      job_id,
                               const char *board_uid,
                               const char *kind,
                               const char *message,
                               GError    **error);

/* The same tables on both databases; only the types of ids and bytes
 * differ.  On PostgreSQL the ids come from identity columns, so stations
 * writing at once never get the same one, and a job also names the store
 * (owner) that runs it. */
#define SCHEMA(ID, BLOB, INT, OWNER) \
  "CREATE TABLE boards ("                                                           \
  "  uid TEXT PRIMARY KEY,"                                                         \
  "  first_seen_us " INT " NOT NULL,"                                               \
  "  last_seen_us " INT " NOT NULL);"                                               \
  "CREATE TABLE jobs ("                                                             \
  "  id " ID ","                                                                    \
  "  board_uid TEXT REFERENCES boards(uid),"                                        \
  "  port TEXT,"                                                                    \
  "  operator TEXT,"                                                                \
  "  lot TEXT,"                                                                     \
  "  station TEXT,"                                                                 \
  "  started_us " INT " NOT NULL,"                                                  \
  "  finished_us " INT ","                                                          \
  "  outcome TEXT,"                                                                 \
  "  failed_step TEXT,"                                                             \
  "  error_code TEXT,"                                                              \
  "  error_message TEXT" OWNER ");"                                                 \
  "CREATE INDEX jobs_board ON jobs(board_uid);"                                     \
  "CREATE INDEX jobs_started ON jobs(started_us);"                                  \
  "CREATE TABLE steps ("                                                            \
  "  id " ID ","                                                                    \
  "  job_id " INT " NOT NULL REFERENCES jobs(id),"                                  \
  "  step TEXT NOT NULL,"                                                           \
  "  outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skipped')),"         \
  "  started_us " INT " NOT NULL,"                                                  \
  "  finished_us " INT " NOT NULL,"                                                 \
  "  error_code TEXT,"                                                              \
  "  error_message TEXT);"                                                          \
  "CREATE INDEX steps_job ON steps(job_id);"                                        \
  "CREATE TABLE certificates ("                                                     \
  "  id " ID ","                                                                    \
  "  job_id " INT " REFERENCES jobs(id),"                                           \
  "  board_uid TEXT NOT NULL REFERENCES boards(uid),"                               \
  "  serial TEXT NOT NULL UNIQUE,"                                                  \
  "  fingerprint TEXT NOT NULL UNIQUE,"                                             \
  "  pubkey_sha256 TEXT NOT NULL UNIQUE,"                                           \
  "  subject TEXT,"                                                                 \
  "  dac_der " BLOB " NOT NULL,"                                                    \
  "  pai_der " BLOB " NOT NULL,"                                                    \
  "  dac_path TEXT,"                                                                \
  "  pai_path TEXT,"                                                                \
  "  issued_us " INT " NOT NULL,"                                                   \
  "  installed INTEGER NOT NULL DEFAULT 0,"                                         \
  "  superseded INTEGER NOT NULL DEFAULT 0,"                                        \
  "  superseded_reason TEXT);"                                                      \
  "CREATE INDEX certificates_board ON certificates(board_uid);"                     \
  "CREATE TABLE events ("                                                           \
  "  id " INT " PRIMARY KEY,"                                                       \
  "  time_us " INT " NOT NULL,"                                                     \
  "  job_id " INT ","                                                               \
  "  board_uid TEXT,"                                                               \
  "  kind TEXT NOT NULL,"                                                           \
  "  message TEXT,"                                                                 \
  "  prev_hash TEXT NOT NULL,"                                                      \
  "  hash TEXT NOT NULL,"                                                           \
  "  digests TEXT);"

static const char sqlite_schema_sql[] =
  SCHEMA ("INTEGER PRIMARY KEY", "BLOB", "INTEGER", "");

static const char pg_schema_sql[] =
  SCHEMA ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA", "BIGINT", ", owner INTEGER")
  "CREATE TABLE ds_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
  "INSERT INTO ds_meta VALUES ('schema_version', '" G_STRINGIFY (SCHEMA_VERSION) "');";

/* Runs one statement; on failure says what the store was doing. */
static DsDbRows *
query (DsStore         *self,
       const char      *what,
       const char      *sql,
       const DsDbValue *params,
       gsize            n_params,
       GError         **error)
{
  DsDbRows *rows = ds_db_query (self->db, sql, params, n_params, error);

  if (rows == NULL && what != NULL)
    g_prefix_error (error, "%s: ", what);
  return rows;
}

/* Runs a statement that returns no rows. */
static gboolean
run (DsStore         *self,
     const char      *what,
     const char      *sql,
     const DsDbValue *params,
     gsize            n_params,
     GError         **error)
{
  g_autoptr(DsDbRows) rows = query (self, what, sql, params, n_params, error);

  return rows != NULL;
}

static gboolean
begin (DsStore *self,
       GError **error)
{
  return ds_db_begin_write (self->db, error);
}

static gboolean
commit (DsStore *self,
        GError **error)
{
  return ds_db_commit (self->db, error);
}

static void
rollback (DsStore *self)
{
  ds_db_rollback (self->db);
}

/* Writes the checkpoint of the head this store last committed; the lock
 * is held (or the store is not shared any more). */
static void
save_checkpoint (DsStore *self)
{
  g_autoptr(GError) error = NULL;

  if (self->key == NULL || self->head_id <= 0 || !self->checkpoint_behind)
    return;
  if (!ds_audit_checkpoint_write (self->checkpoint_path, self->key, self->head_id, self->head_hash, &error))
    g_warning ("%s", error->message);
  self->checkpoint_us = g_get_monotonic_time ();
  self->checkpoint_behind = FALSE;
}

static void
ds_store_finalize (GObject *object)
{
  DsStore *self = DS_STORE (object);

  save_checkpoint (self);
  g_clear_pointer (&self->reader, ds_db_close);
  g_clear_pointer (&self->db, ds_db_close);
  g_free (self->path);
  g_clear_pointer (&self->key, g_bytes_unref);
  g_free (self->checkpoint_path);
  g_string_free (self->digests, TRUE);
  g_free (self->head_hash);
  g_ptr_array_unref (self->later);
  g_ptr_array_unref (self->queue);
  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->reader_lock);
  g_mutex_clear (&self->queue_lock);
  g_cond_clear (&self->queue_cond);
  g_mutex_clear (&self->later_lock);
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
  g_mutex_init (&self->reader_lock);
  g_mutex_init (&self->queue_lock);
  g_cond_init (&self->queue_cond);
  g_mutex_init (&self->later_lock);
  self->queue = g_ptr_array_new ();
  self->later = g_ptr_array_new_with_free_func ((GDestroyNotify) pending_step_free);
  self->digests = g_string_new (NULL);
}

/* A one-row, one-column query as text (NULL when it returns no row). */
static gboolean
scalar (DsStore     *self,
        const char  *sql,
        char       **value,
        GError     **error)
{
  g_autoptr(DsDbRows) rows = query (self, NULL, sql, NULL, 0, error);

  if (rows == NULL)
    return FALSE;
  if (value != NULL)
    *value = ds_db_rows_count (rows) > 0 && ds_db_rows_columns (rows) > 0
               ? g_strdup (ds_db_rows_text (rows, 0, 0)) : NULL;
  return TRUE;
}

static gboolean
scalar_int (DsStore    *self,
            const char *sql,
            int        *value,
            GError    **error)
{
  g_autofree char *text = NULL;

  if (!scalar (self, sql, &text, error))
    return FALSE;
  *value = text != NULL ? (int) g_ascii_strtoll (text, NULL, 10) : 0;
  return TRUE;
}

/* The schema version, 0 when there is no schema yet. */
static gboolean
read_version (DsStore *self,
              int     *version,
              GError **error)
{
  g_autofree char *meta = NULL;

  if (ds_db_get_kind (self->db) == DS_DB_SQLITE)
    return scalar_int (self, "PRAGMA user_version", version, error);
  /* A query of the catalog, not to_regclass(): that may answer from a
   * cache that has not yet seen the table another station just created. */
  if (!scalar (self, "SELECT count(*) FROM pg_catalog.pg_tables "
                     "WHERE schemaname = current_schema() AND tablename = 'ds_meta'", &meta, error))
    return FALSE;
  if (g_strcmp0 (meta, "0") == 0)
    {
      *version = 0;
      return TRUE;
    }
  return scalar_int (self, "SELECT value FROM ds_meta WHERE key = 'schema_version'", version, error);
}

static gboolean
create_schema (DsStore *self,
               GError **error)
{
  gboolean pg = ds_db_get_kind (self->db) == DS_DB_POSTGRES;
  int version = 0;
  gboolean ok;

  if (!read_version (self, &version, error))
    return FALSE;
  if (version == 0)
    {
      /* Several stations may start at once: the schema is created under a
       * lock, and the version is read again under it, since another
       * station may have created the schema while this one waited. */
      if (pg)
        ok = ds_db_exec (self->db, "BEGIN; SELECT pg_advisory_xact_lock(" G_STRINGIFY (PG_LOCK_CLASS) ", "
                                   G_STRINGIFY (PG_LOCK_SCHEMA) ")", error);
      else
        ok = ds_db_exec (self->db, "BEGIN IMMEDIATE", error);
      ok = ok && read_version (self, &version, error);
      if (ok && version == 0)
        {
          ok = ds_db_exec (self->db, pg ? pg_schema_sql : sqlite_schema_sql, error) &&
               (pg || ds_db_exec (self->db, "PRAGMA user_version = " G_STRINGIFY (SCHEMA_VERSION), error));
          version = SCHEMA_VERSION;
        }
      if (!ok || !commit (self, error))
        {
          rollback (self);
          return FALSE;
        }
    }
  if (version == 1)
    {
      /* Version 1 to 2: events get the digests of the rows they wrote.
       * The old events stay as they were; ds_store_open() anchors the
       * keyed chain after them. */
      if (pg)
        ok = ds_db_exec (self->db, "BEGIN; SELECT pg_advisory_xact_lock(" G_STRINGIFY (PG_LOCK_CLASS) ", "
                                   G_STRINGIFY (PG_LOCK_SCHEMA) ")", error);
      else
        ok = ds_db_exec (self->db, "BEGIN IMMEDIATE", error);
      ok = ok && read_version (self, &version, error);
      if (ok && version == 1)
        {
          ok = ds_db_exec (self->db, "ALTER TABLE events ADD COLUMN digests TEXT", error) &&
               ds_db_exec (self->db, pg ? "UPDATE ds_meta SET value = '2' WHERE key = 'schema_version'"
                                        : "PRAGMA user_version = 2", error);
          version = 2;
        }
      if (!ok || !commit (self, error))
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
                   ds_db_get_name (self->db), version, SCHEMA_VERSION);
      return FALSE;
    }
  return TRUE;
}

static gboolean
configure_sqlite (DsStore *self,
                  GError **error)
{
  g_autofree char *mode = NULL;

  /* WAL lets readers (statistics, exports, a second station process) work
   * while jobs write.  synchronous=FULL syncs the WAL at every commit: a
   * step is on disk before the board is told to go on, even across a power
   * cut; NORMAL would only protect against a crash of the process, and a
   * lost step could mean a DAC issued twice or not accounted for. */
  if (!scalar (self, "PRAGMA journal_mode = WAL", &mode, error) ||
      !scalar (self, "PRAGMA synchronous = FULL", NULL, error) ||
      !scalar (self, "PRAGMA foreign_keys = ON", NULL, error))
    return FALSE;
  if (g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") != 0)
    g_warning ("Record store %s cannot use write-ahead logging (journal mode %s): "
               "reports will wait for the jobs' writes", self->path, mode);
  return TRUE;
}

static gboolean
configure_pg (DsStore *self,
              GError **error)
{
  g_autofree char *fsync = NULL;
  g_autofree char *sql = NULL;

  /* ds-db.c sets synchronous_commit=on for the session.  A server running
   * with fsync=off acknowledges commits it may lose in a power cut. */
  if (!scalar (self, "SHOW fsync", &fsync, error))
    return FALSE;
  if (g_strcmp0 (fsync, "on") != 0)
    g_warning ("Record store %s: the PostgreSQL server runs with fsync=%s; records can be lost in a "
               "power cut", ds_db_get_name (self->db), fsync);

  /* The store holds a session lock on its owner key while it is open: a
   * job whose owner's lock is free belongs to a station that died. */
  do
    self->owner = (gint32) (g_random_int () & 0x7fffffff);
  while (self->owner == 0);
  sql = g_strdup_printf ("SELECT pg_advisory_lock(%d, %d)", PG_LOCK_OWNER_CLASS, self->owner);
  return scalar (self, sql, NULL, error);
}

/* Verifies the chain before the station writes to it, and keys it from an
 * anchor event when it is new or was written before the chain was keyed. */
static gboolean
anchor_txn (DsStore  *self,
            gpointer  data,
            GError  **error)
{
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree char *msg = NULL;
  gint64 n_unkeyed;

  /* Another station of the line may have anchored it meanwhile. */
  rows = query (self, "reading the audit chain",
                "SELECT count(*), (SELECT count(*) FROM events WHERE kind IN ('" DS_AUDIT_ANCHOR "', '"
                DS_AUDIT_ACKNOWLEDGED "')) FROM events", NULL, 0, error);
  if (rows == NULL)
    return FALSE;
  n_unkeyed = ds_db_rows_int (rows, 0, 0);
  if (ds_db_rows_int (rows, 0, 1) > 0)
    {
      DsAuditResult result;
      gboolean ok = ds_audit_verify (self->db, self->key, NULL, FALSE, &result, error);

      if (ok && result.broken_id > 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("Another station began the audit chain of the record store %s with another station key: "
                         "give every station of the line the same %s"), ds_db_get_name (self->db), "audit.key");
          ok = FALSE;
        }
      ds_audit_result_clear (&result);
      return ok;
    }
  /* The anchor holds the digest of every row there is, so the rows an
   * older station wrote are covered from here on too. */
  if (!ds_audit_snapshot (self->db, self->digests, error))
    return FALSE;
  msg = g_strdup_printf ("keyed audit chain begins; %" G_GINT64_FORMAT " earlier events unkeyed", n_unkeyed);
  return insert_event (self, 0, NULL, DS_AUDIT_ANCHOR, msg, error);
}

static gboolean
open_audit (DsStore          *self,
            const char       *key_dir,
            DsStoreOpenFlags  flags,
            GError          **error)
{
  g_autoptr(GError) local = NULL;
  DsAuditResult result;
  gboolean sqlite = ds_db_get_kind (self->db) == DS_DB_SQLITE;
  gboolean ok;

  self->checkpoint_path = ds_audit_checkpoint_path (key_dir, self->path);
  self->key = ds_audit_key_load (key_dir, FALSE, &local);
  if (local != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  ok = ds_audit_verify (self->db, self->key, self->checkpoint_path, sqlite, &result, &local);
  g_mutex_unlock (&self->lock);
  if (!ok)
    {
      if (g_error_matches (local, DS_ERROR, DS_ERROR_NOT_FOUND))
        {
          g_autofree char *key = ds_audit_key_path (key_dir);
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The audit chain of the record store %s is kept with a station key, and %s is not there: "
                         "copy it (mode 0600) from the station that began the chain"),
                       ds_db_get_name (self->db), key);
        }
      else
        g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (result.broken_id > 0 && !(flags & DS_STORE_OPEN_ACKNOWLEDGE))
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, result.broken_id);

      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The audit chain of the record store %s is broken at event %s: %s. The station records "
                     "nothing more until an engineer has checked the records and run "
                     "“dac-station-cli audit acknowledge --reason TEXT --operator NAME”"),
                   ds_db_get_name (self->db), id, result.reason);
      ds_audit_result_clear (&result);
      return FALSE;
    }
  /* A chain not yet keyed (new, or written by an older station) gets a
   * key now; a keyed one never gets a new key. */
  if (self->key == NULL)
    self->key = ds_audit_key_load (key_dir, TRUE, error);
  self->head_id = result.head_id;
  self->head_hash = g_strdup (result.head_hash);
  ok = self->key != NULL;
  if (ok && !result.keyed && result.broken_id == 0)
    ok = write_records (self, anchor_txn, NULL, error);
  else if (ok && result.keyed && !result.has_checkpoint && result.head_id > 0)
    /* A station that joins a line's database keeps its own checkpoint
     * from now on. */
    ok = ds_audit_checkpoint_write (self->checkpoint_path, self->key, result.head_id, result.head_hash, error);
  ds_audit_result_clear (&result);
  return ok;
}

DsStore *
ds_store_open (const char *path,
               GError    **error)
{
  return ds_store_open_full (path, NULL, DS_STORE_OPEN_DEFAULT, error);
}

DsStore *
ds_store_open_full (const char        *path,
                    const char        *key_dir,
                    DsStoreOpenFlags   flags,
                    GError           **error)
{
  g_autoptr(DsStore) self = NULL;
  g_autofree char *keys = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (DS_TYPE_STORE, NULL);
  self->path = g_strdup (path);
  if (!ds_db_is_uri (path))
    {
      g_autofree char *dir = g_path_get_dirname (path);

      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int errsv = errno;
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot create the folder %s for the record store: %s"),
                       dir, g_strerror (errsv));
          return NULL;
        }
    }

  self->db = ds_db_open (path, FALSE, error);
  if (self->db == NULL)
    return NULL;
  if (ds_db_get_kind (self->db) == DS_DB_SQLITE ? !configure_sqlite (self, error) : !configure_pg (self, error))
    return NULL;
  if (!create_schema (self, error))
    return NULL;
  keys = key_dir != NULL ? g_strdup (key_dir) : ds_audit_default_key_dir (path);
  if (!open_audit (self, keys, flags, error))
    return NULL;
  if (ds_db_get_kind (self->db) == DS_DB_SQLITE)
    {
      self->reader = ds_db_open (path, TRUE, error);
      if (self->reader == NULL)
        return NULL;
    }
  return g_steal_pointer (&self);
}

gboolean
ds_store_get_settings (DsStore         *self,
                       DsStoreSettings *settings,
                       GError         **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *sync = NULL;
  g_autofree char *timeout = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  g_return_val_if_fail (settings != NULL, FALSE);

  locker = g_mutex_locker_new (&self->lock);
  if (ds_db_get_kind (self->db) == DS_DB_POSTGRES)
    {
      /* PostgreSQL always writes ahead; synchronous_commit on, local,
       * remote_write or remote_apply flush the local WAL at commit (FULL),
       * off does not (OFF); lock_timeout plays busy_timeout's part. */
      if (!scalar (self, "SHOW synchronous_commit", &sync, error) ||
          !scalar (self, "SELECT setting FROM pg_settings WHERE name = 'lock_timeout'", &timeout, error) ||
          !read_version (self, &settings->schema_version, error))
        return FALSE;
      settings->wal = TRUE;
      settings->synchronous = g_strcmp0 (sync, "off") == 0 ? 0 : 2;
      settings->foreign_keys = TRUE;
      settings->busy_timeout_ms = timeout != NULL ? (gint) g_ascii_strtoll (timeout, NULL, 10) : 0;
      return TRUE;
    }
  if (!scalar (self, "PRAGMA journal_mode", &mode, error) ||
      !scalar_int (self, "PRAGMA synchronous", &settings->synchronous, error) ||
      !scalar_int (self, "PRAGMA foreign_keys", &settings->foreign_keys, error) ||
      !scalar_int (self, "PRAGMA busy_timeout", &settings->busy_timeout_ms, error) ||
      !scalar_int (self, "PRAGMA user_version", &settings->schema_version, error))
    return FALSE;
  settings->wal = g_ascii_strcasecmp (mode != NULL ? mode : "", "wal") == 0;
  return TRUE;
}

const char *
ds_store_get_path (DsStore *self)
{
  return self->path;
}

/* Group commit.  A writer queues its work and waits.  Whichever writer
 * finds no commit running becomes the leader: it takes every piece of work
 * queued so far, runs each in a savepoint of one transaction, and commits
 * once.  Jobs that write at the same moment thus share one fsync, and each
 * caller still returns only once its own records are durable.  One
 * writer's failure rolls back its own savepoint, never another's work. */
typedef struct {
  WriteFunc  func;
  gpointer   data;
  gboolean   done;
  gboolean   ok;
  GError    *error;
  gint64     head_id;    /* the last event it wrote */
  char      *head_hash;
} Write;

/* Fails every write of @batch that is not failed yet with @error. */
static void
fail_batch (GPtrArray    *batch,
            const GError *error)
{
  for (guint i = 0; i < batch->len; i++)
    {
      Write *w = batch->pdata[i];

      w->ok = FALSE;
      if (w->error == NULL)
        w->error = g_error_copy (error);
    }
}

/* Step records kept for later are taken out of self->later only once the
 * write that carried them is committed; otherwise they wait for the next
 * one. */
static void
settle_later (DsStore   *self,
              GPtrArray *batch)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->later_lock);

  for (guint i = 0; i < self->later->len;)
    {
      PendingStep *p = self->later->pdata[i];
      guint idx;

      if (p->flushed_by != NULL && g_ptr_array_find (batch, p->flushed_by, &idx))
        {
          if (((Write *) p->flushed_by)->ok)
            {
              g_ptr_array_remove_index (self->later, i);
              continue;
            }
          p->flushed_by = NULL;
        }
      i++;
    }
}

/* TRUE when a transaction was committed.  Each write's ok and error are
 * final when it returns. */
static gboolean
run_batch (DsStore   *self,
           GPtrArray *batch)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  g_autoptr(GError) error = NULL;
  gboolean savepoints = batch->len > 1;
  gboolean committed = FALSE;
  guint n_ok = 0;

  if (!begin (self, &error))
    {
      fail_batch (batch, error);
      return FALSE;
    }
  for (guint i = 0; i < batch->len; i++)
    {
      Write *w = batch->pdata[i];

      self->current_write = w;
      g_string_truncate (self->digests, 0);
      if (savepoints && !ds_db_exec (self->db, "SAVEPOINT ds_write", &w->error))
        break;
      w->ok = w->func (self, w->data, &w->error);
      if (savepoints && w->ok && !ds_db_exec (self->db, "RELEASE SAVEPOINT ds_write", &w->error))
        w->ok = FALSE;
      if (savepoints && !w->ok &&
          !ds_db_exec (self->db, "ROLLBACK TO SAVEPOINT ds_write; RELEASE SAVEPOINT ds_write", NULL))
        break;
      /* SQLite rolls the whole transaction back by itself on a full disk
       * or an I/O error, and a failed statement aborts a PostgreSQL
       * transaction: then nothing of this batch can be committed. */
      if (!ds_db_in_transaction (self->db))
        break;
      n_ok += w->ok;
    }
  self->current_write = NULL;

  if (!ds_db_in_transaction (self->db))
    {
      g_set_error (&error, DS_ERROR, DS_ERROR_IO,
                   _("Record store %s: the transaction was rolled back; nothing of it was recorded"),
                   ds_db_get_name (self->db));
      rollback (self);
      fail_batch (batch, error);
    }
  else if (n_ok == 0)
    rollback (self);
  else if (!commit (self, &error))
    {
      rollback (self);
      fail_batch (batch, error);
    }
  else
    committed = TRUE;

  if (committed)
    {
      Write *last = NULL;

      for (guint i = 0; i < batch->len; i++)
        if (((Write *) batch->pdata[i])->ok && ((Write *) batch->pdata[i])->head_id > 0)
          last = batch->pdata[i];
      if (last != NULL)
        {
          self->head_id = last->head_id;
          g_free (self->head_hash);
          self->head_hash = g_strdup (last->head_hash);
          self->checkpoint_behind = TRUE;
          /* After the commit, so it is never ahead of the database; at
           * most once a second, and when the store is closed: writing a
           * file at every commit halved the commits a second (on ext4 each
           * one then carried that file's metadata).  What a crash can
           * leave out of it is the last second's events, which this
           * station's next write finds cut if they are. */
          if (g_get_monotonic_time () - self->checkpoint_us >= G_USEC_PER_SEC)
            save_checkpoint (self);
        }
    }
  for (guint i = 0; i < batch->len; i++)
    g_clear_pointer (&((Write *) batch->pdata[i])->head_hash, g_free);

  /* Writes the loop never reached (it stopped on a lost transaction) have
   * failed with the batch. */
  for (guint i = 0; i < batch->len; i++)
    {
      Write *w = batch->pdata[i];

      if (!w->ok && w->error == NULL)
        g_set_error (&w->error, DS_ERROR, DS_ERROR_IO, _("Record store %s: the write failed"),
                     ds_db_get_name (self->db));
    }
  settle_later (self, batch);
  return committed;
}

/* Runs @func in a write transaction, possibly together with other
 * threads' writes, and returns once that transaction is committed. */
static gboolean
write_records (DsStore   *self,
               WriteFunc  func,
               gpointer   data,
               GError   **error)
{
  Write w = { func, data, FALSE, FALSE, NULL, 0, NULL };

  g_mutex_lock (&self->queue_lock);
  g_ptr_array_add (self->queue, &w);
  while (!w.done)
    {
      g_autoptr(GPtrArray) batch = NULL;
      gboolean committed;

      if (self->committing)
        {
          g_cond_wait (&self->queue_cond, &self->queue_lock);
          continue;
        }
      batch = g_steal_pointer (&self->queue);
      self->queue = g_ptr_array_new ();
      self->committing = TRUE;
      g_mutex_unlock (&self->queue_lock);

      committed = run_batch (self, batch);

      g_mutex_lock (&self->queue_lock);
      for (guint i = 0; i < batch->len; i++)
        ((Write *) batch->pdata[i])->done = TRUE;
      self->n_writes += batch->len;
      self->n_commits += committed;
      self->committing = FALSE;
      g_cond_broadcast (&self->queue_cond);
    }
  g_mutex_unlock (&self->queue_lock);

  if (!w.ok)
    {
      g_propagate_error (error, w.error);
      return FALSE;
    }
  return TRUE;
}

void
ds_store_get_write_stats (DsStore           *self,
                          DsStoreWriteStats *stats)
{
  g_return_if_fail (DS_IS_STORE (self));
  g_return_if_fail (stats != NULL);

  g_mutex_lock (&self->queue_lock);
  stats->writes = self->n_writes;
  stats->commits = self->n_commits;
  stats->waiting = self->queue->len;
  stats->committing = self->committing;
  g_mutex_unlock (&self->queue_lock);
}

/* After an UPDATE of one job: a job id the store never gave out is a bug
 * in the caller, but it must not pass silently. */
static gboolean
check_job_changed (DsStore  *self,
                   DsDbRows *rows,
                   gint64    job_id,
                   GError  **error)
{
  g_autofree char *id = NULL;

  if (ds_db_rows_changed (rows) == 1)
    return TRUE;
  /* The id goes in as a string: xgettext cannot see through G_GINT64_FORMAT. */
  id = g_strdup_printf ("%" G_GINT64_FORMAT, job_id);
  g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("No job %s in the record store %s"), id,
               ds_db_get_name (self->db));
  return FALSE;
}

/* Inserts the board if new and updates last_seen; the lock is held. */
static gboolean
touch_board (DsStore    *self,
             const char *uid,
             gint64      now,
             GError    **error)
{
  g_autoptr(DsDbRows) rows = query (self, "recording the board",
                                    "INSERT INTO boards (uid, first_seen_us, last_seen_us) VALUES (?1, ?2, ?2) "
                                    "ON CONFLICT (uid) DO UPDATE SET last_seen_us = ?2 "
                                    "RETURNING " DS_AUDIT_BOARDS_COLUMNS,
                                    DB_PARAMS (DB_TEXT (uid), DB_INT (now)), error);

  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "boards", rows);
  return TRUE;
}

/* Appends to the audit chain, with the digests of the rows this write
 * changed (self->digests), keyed with the station key.  Must run inside a
 * write transaction, so that no other writer (another station process)
 * slips in between reading the chain's head and extending it. */
static gboolean
insert_event (DsStore    *self,
              gint64      job_id,
              const char *board_uid,
              const char *kind,
              const char *message,
              GError    **error)
{
  g_autoptr(DsDbRows) head = query (self, "reading the audit chain",
                                    "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1", NULL, 0, error);
  g_autofree char *hash = NULL;
  const char *prev = DS_AUDIT_GENESIS_HASH;
  const char *digests = self->digests->len > 0 ? self->digests->str : NULL;
  Write *w = self->current_write;
  gint64 id = 1;
  gint64 now = g_get_real_time ();

  if (head == NULL)
    return FALSE;
  if (ds_db_rows_count (head) > 0)
    {
      id = ds_db_rows_int (head, 0, 0) + 1;
      prev = ds_db_rows_text (head, 0, 1);
    }
  /* The chain can only have grown since this store last saw it commit:
   * events cut off its end, or its last one changed, while the station
   * runs stop the station as they would at the next start. */
  if (self->head_id > 0 && (id - 1 < self->head_id ||
                            (id - 1 == self->head_id && g_strcmp0 (prev, self->head_hash) != 0)))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The audit chain of the record store %s was cut or changed while the station ran. The "
                     "station records nothing more until an engineer has checked the records and run "
                     "“dac-station-cli audit acknowledge --reason TEXT --operator NAME”"),
                   ds_db_get_name (self->db));
      return FALSE;
    }
  hash = ds_audit_event_hash (self->key, id, now, job_id > 0 ? job_id : 0, board_uid, kind, message, digests, prev);
  if (!run (self, "logging an event",
            "INSERT INTO events (id, time_us, job_id, board_uid, kind, message, prev_hash, hash, digests) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            DB_PARAMS (DB_INT (id), DB_INT (now), DB_ID (job_id), DB_TEXT (board_uid), DB_TEXT (kind),
                       DB_TEXT (message), DB_TEXT (prev), DB_TEXT (hash), DB_TEXT (digests)), error))
    return FALSE;
  g_string_truncate (self->digests, 0);
  if (w != NULL)
    {
      w->head_id = id;
      g_free (w->head_hash);
      w->head_hash = g_steal_pointer (&hash);
    }
  return TRUE;
}

gboolean
ds_store_verify_audit (DsStore  *self,
                       gint64   *n_events,
                       gint64   *broken_id,
                       char    **reason,
                       GError  **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  DsAuditResult result;

  *broken_id = 0;
  *reason = NULL;
  if (!ds_audit_verify (self->db, self->key, self->checkpoint_path, ds_db_get_kind (self->db) == DS_DB_SQLITE,
                        &result, error))
    return FALSE;
  if (n_events != NULL)
    *n_events = result.n_events;
  *broken_id = result.broken_id;
  *reason = g_steal_pointer (&result.reason);
  ds_audit_result_clear (&result);
  return TRUE;
}

typedef struct {
  const char *operator_id;
  const char *reason;
  gint64      event_id;
} Acknowledge;

static gboolean
acknowledge_txn (DsStore  *self,
                 gpointer  data,
                 GError  **error)
{
  Acknowledge *a = data;
  DsAuditResult result;
  g_autofree char *msg = NULL;
  gboolean ok;

  /* Verified again inside the transaction: what is acknowledged is what
   * the chain is when the event is written. */
  if (!ds_audit_verify (self->db, self->key, self->checkpoint_path, ds_db_get_kind (self->db) == DS_DB_SQLITE,
                        &result, error))
    return FALSE;
  if (result.broken_id == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The audit chain of the record store %s is intact: there is nothing to acknowledge"),
                   ds_db_get_name (self->db));
      ds_audit_result_clear (&result);
      return FALSE;
    }
  /* The first line pins every event before this one as it is now; the
   * digests are those of every row as it is now. */
  msg = g_strdup_printf ("events-sha256 %s\noperator %s\nreason %s\nbroken at event %" G_GINT64_FORMAT ": %s",
                         result.events_sha256, a->operator_id, a->reason, result.broken_id, result.reason);
  self->head_id = result.head_id;
  g_free (self->head_hash);
  self->head_hash = g_strdup (result.head_hash);
  ds_audit_result_clear (&result);
  ok = ds_audit_snapshot (self->db, self->digests, error) &&
       insert_event (self, 0, NULL, DS_AUDIT_ACKNOWLEDGED, msg, error);
  if (ok)
    a->event_id = ((Write *) self->current_write)->head_id;
  return ok;
}

gint64
ds_store_acknowledge_audit (DsStore    *self,
                            const char *operator_id,
                            const char *reason,
                            GError    **error)
{
  Acknowledge a = { operator_id, reason, 0 };

  g_return_val_if_fail (DS_IS_STORE (self), -1);
  g_return_val_if_fail (operator_id != NULL && reason != NULL, -1);

  if (!write_records (self, acknowledge_txn, &a, error))
    return -1;
  g_mutex_lock (&self->lock);
  save_checkpoint (self);
  g_mutex_unlock (&self->lock);
  return a.event_id;
}

typedef struct {
  const char *board_uid;
  const char *port;
  const char *operator_id;
  const char *lot;
  const char *station;
  gint64      id;
} BeginJob;

static gboolean
begin_job_txn (DsStore  *self,
               gpointer  data,
               GError  **error)
{
  BeginJob *a = data;
  g_autoptr(DsDbRows) rows = NULL;
  gboolean pg = ds_db_get_kind (self->db) == DS_DB_POSTGRES;
  gint64 now = g_get_real_time ();

  if (a->board_uid != NULL && !touch_board (self, a->board_uid, now, error))
    return FALSE;
  rows = pg ? query (self, "recording a job",
                     "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us, owner) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING " DS_AUDIT_JOBS_COLUMNS,
                     DB_PARAMS (DB_TEXT (a->board_uid), DB_TEXT (a->port), DB_TEXT (a->operator_id),
                                DB_TEXT (a->lot), DB_TEXT (a->station), DB_INT (now), DB_INT (self->owner)), error)
            : query (self, "recording a job",
                     "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us) "
                     "VALUES (?, ?, ?, ?, ?, ?) RETURNING " DS_AUDIT_JOBS_COLUMNS,
                     DB_PARAMS (DB_TEXT (a->board_uid), DB_TEXT (a->port), DB_TEXT (a->operator_id),
                                DB_TEXT (a->lot), DB_TEXT (a->station), DB_INT (now)), error);
  if (rows == NULL)
    return FALSE;
  if (ds_db_rows_count (rows) != 1)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s did not give the new job an id"),
                   ds_db_get_name (self->db));
      return FALSE;
    }
  a->id = ds_db_rows_int (rows, 0, 0);
  ds_audit_note_rows (self->digests, "jobs", rows);
  return insert_event (self, a->id, a->board_uid, "job-started", a->port, error);
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
  BeginJob a = { board_uid, port, operator_id, lot, station, -1 };

  if (!write_records (self, begin_job_txn, &a, error))
    return -1;
  return a.id;
}

typedef struct {
  gint64      job_id;
  const char *board_uid;
} SetJobBoard;

static gboolean
set_job_board_txn (DsStore  *self,
                   gpointer  data,
                   GError  **error)
{
  SetJobBoard *a = data;
  g_autoptr(DsDbRows) rows = NULL;

  if (!touch_board (self, a->board_uid, g_get_real_time (), error))
    return FALSE;
  rows = query (self, "recording the board of a job",
                "UPDATE jobs SET board_uid = ? WHERE id = ? RETURNING " DS_AUDIT_JOBS_COLUMNS,
                DB_PARAMS (DB_TEXT (a->board_uid), DB_INT (a->job_id)), error);
  if (rows == NULL || !check_job_changed (self, rows, a->job_id, error))
    return FALSE;
  ds_audit_note_rows (self->digests, "jobs", rows);
  return insert_event (self, a->job_id, a->board_uid, "job-board", NULL, error);
}

gboolean
ds_store_set_job_board (DsStore    *self,
                        gint64      job_id,
                        const char *board_uid,
                        GError    **error)
{
  SetJobBoard a = { job_id, board_uid };

  return write_records (self, set_job_board_txn, &a, error);
}

/* Inserts one step row and its event, inside the caller's transaction. */
static gboolean
insert_step (DsStore    *self,
             gint64      job_id,
             const char *step,
             const char *outcome,
             gint64      started_us,
             gint64      finished_us,
             const char *error_code,
             const char *error_message,
             GError    **error)
{
  g_autofree char *what = g_strdup_printf ("%s %s", step, outcome);
  g_autoptr(DsDbRows) rows = NULL;

  rows = query (self, "recording a step",
                "INSERT INTO steps (job_id, step, outcome, started_us, finished_us, error_code, error_message) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING " DS_AUDIT_STEPS_COLUMNS,
                DB_PARAMS (DB_INT (job_id), DB_TEXT (step), DB_TEXT (outcome), DB_INT (started_us),
                           DB_INT (finished_us), DB_TEXT (error_code), DB_TEXT (error_message)), error);
  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "steps", rows);
  return insert_event (self, job_id, NULL, "step", what, error);
}

/* Writes @job_id's kept step records, oldest first, inside the caller's
 * transaction. */
static gboolean
flush_later (DsStore  *self,
             gint64    job_id,
             GError  **error)
{
  g_autoptr(GPtrArray) mine = g_ptr_array_new ();

  /* Marked, not taken: settle_later() drops them once this write is
   * committed, or leaves them for the next one. */
  g_mutex_lock (&self->later_lock);
  for (guint i = 0; i < self->later->len; i++)
    {
      PendingStep *p = self->later->pdata[i];

      if (p->job_id == job_id && p->flushed_by == NULL)
        {
          p->flushed_by = self->current_write;
          g_ptr_array_add (mine, p);
        }
    }
  g_mutex_unlock (&self->later_lock);

  /* Only this job's own thread adds its records, and it waits for this
   * write: the ones marked stay in self->later meanwhile. */
  for (guint i = 0; i < mine->len; i++)
    {
      PendingStep *p = mine->pdata[i];

      if (!insert_step (self, p->job_id, p->step, p->outcome, p->started_us, p->finished_us,
                        p->error_code, p->error_message, error))
        return FALSE;
    }
  return TRUE;
}

void
ds_store_record_step_later (DsStore    *self,
                            gint64      job_id,
                            const char *step,
                            const char *outcome,
                            gint64      started_us,
                            gint64      finished_us,
                            const char *error_code,
                            const char *error_message)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->later_lock);
  PendingStep *p = g_new0 (PendingStep, 1);

  p->job_id = job_id;
  p->step = g_strdup (step);
  p->outcome = g_strdup (outcome);
  p->started_us = started_us;
  p->finished_us = finished_us;
  p->error_code = g_strdup (error_code);
  p->error_message = g_strdup (error_message);
  g_ptr_array_add (self->later, p);
}

typedef struct {
  gint64      job_id;
  const char *step;
  const char *outcome;
  gint64      started_us;
  gint64      finished_us;
  const char *error_code;
  const char *error_message;
} RecordStep;

static gboolean
record_step_txn (DsStore  *self,
                 gpointer  data,
                 GError  **error)
{
  RecordStep *a = data;

  return flush_later (self, a->job_id, error) &&
         insert_step (self, a->job_id, a->step, a->outcome, a->started_us, a->finished_us, a->error_code,
                      a->error_message, error);
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
  RecordStep a = { job_id, step, outcome, started_us, finished_us, error_code, error_message };

  return write_records (self, record_step_txn, &a, error);
}

typedef struct {
  gint64      job_id;
  const char *outcome;
  const char *failed_step;
  const char *error_code;
  const char *error_message;
} FinishJob;

static gboolean
finish_job_txn (DsStore  *self,
                gpointer  data,
                GError  **error)
{
  FinishJob *a = data;
  g_autoptr(DsDbRows) rows = NULL;
  gboolean keeps_step = g_strcmp0 (a->outcome, "failed") == 0 || g_strcmp0 (a->outcome, "cancelled") == 0;

  if (!flush_later (self, a->job_id, error))
    return FALSE;
  rows = query (self, "recording the end of a job",
                "UPDATE jobs SET finished_us = ?, outcome = ?, failed_step = ?, error_code = ?, error_message = ? "
                "WHERE id = ? RETURNING " DS_AUDIT_JOBS_COLUMNS,
                DB_PARAMS (DB_INT (g_get_real_time ()), DB_TEXT (a->outcome),
                           DB_TEXT (keeps_step ? a->failed_step : NULL), DB_TEXT (a->error_code),
                           DB_TEXT (a->error_message), DB_INT (a->job_id)), error);
  if (rows == NULL || !check_job_changed (self, rows, a->job_id, error))
    return FALSE;
  ds_audit_note_rows (self->digests, "jobs", rows);
  return insert_event (self, a->job_id, NULL, "job-finished", a->outcome, error);
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
  FinishJob a = { job_id, outcome, failed_step, error_code, error_message };

  return write_records (self, finish_job_txn, &a, error);
}

/* TRUE when a row matches; the lock is held. */
static gboolean
exists (DsStore    *self,
        const char *sql,
        const char *arg,
        gboolean   *found,
        GError    **error)
{
  g_autoptr(DsDbRows) rows = query (self, "looking up a certificate", sql, DB_PARAMS (DB_TEXT (arg)), error);

  if (rows == NULL)
    return FALSE;
  *found = ds_db_rows_count (rows) > 0;
  return TRUE;
}

static gboolean
add_certificate_txn (DsStore  *self,
                     gpointer  data,
                     GError  **error)
{
  DsCertRecord *record = data;
  g_autoptr(DsDbRows) rows = NULL;
  gboolean found = FALSE;
  g_autofree char *msg = NULL;

  if (!exists (self, "SELECT 1 FROM certificates WHERE pubkey_sha256 = ?", record->pubkey_sha256, &found, error))
    return FALSE;
  if (found)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("This public key was already certified: a key is never certified twice"));
      return FALSE;
    }
  if (!exists (self, "SELECT 1 FROM certificates WHERE board_uid = ? AND installed = 1 AND superseded = 0",
               record->board_uid, &found, error))
    return FALSE;
  if (found)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("Board %s already has an installed DAC; supersede it before issuing another"),
                   record->board_uid);
      return FALSE;
    }
  if (!touch_board (self, record->board_uid, g_get_real_time (), error))
    return FALSE;

  rows = query (self, "recording a certificate",
                "INSERT INTO certificates (job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, dac_der, "
                "pai_der, dac_path, pai_path, issued_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "RETURNING " DS_AUDIT_CERTS_COLUMNS,
                DB_PARAMS (DB_ID (record->job_id), DB_TEXT (record->board_uid), DB_TEXT (record->serial),
                           DB_TEXT (record->fingerprint), DB_TEXT (record->pubkey_sha256), DB_TEXT (record->subject),
                           DB_BLOB (record->dac_der), DB_BLOB (record->pai_der), DB_TEXT (record->dac_path),
                           DB_TEXT (record->pai_path),
                           DB_INT (record->issued_at > 0 ? record->issued_at : g_get_real_time ())),
                error);
  if (rows == NULL)
    return FALSE;
  if (ds_db_rows_count (rows) != 1)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s did not give the certificate an id"),
                   ds_db_get_name (self->db));
      return FALSE;
    }
  record->id = ds_db_rows_int (rows, 0, 0);
  ds_audit_note_rows (self->digests, "certificates", rows);
  msg = g_strdup_printf ("serial %s fingerprint %s", record->serial, record->fingerprint);
  return insert_event (self, record->job_id, record->board_uid, "certificate-issued", msg, error);
}

gboolean
ds_store_add_certificate (DsStore      *self,
                          DsCertRecord *record,
                          GError      **error)
{
  gint64 id = record->id;

  if (write_records (self, add_certificate_txn, record, error))
    return TRUE;
  /* A savepoint rolled back: the id it got is not in the store. */
  record->id = id;
  return FALSE;
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
  g_autoptr(DsDbRows) find = query (self, "looking up a certificate",
                                    "SELECT board_uid, job_id, serial FROM certificates WHERE id = ?",
                                    DB_PARAMS (DB_INT (cert_id)), error);
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree char *msg = NULL;
  const char *board_uid, *serial;
  gint64 job_id;

  if (find == NULL)
    return FALSE;
  if (ds_db_rows_count (find) == 0)
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, cert_id);
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND, _("No certificate %s in the record store %s"), id,
                   ds_db_get_name (self->db));
      return FALSE;
    }
  board_uid = ds_db_rows_text (find, 0, 0);
  job_id = ds_db_rows_int (find, 0, 1);
  serial = ds_db_rows_text (find, 0, 2);

  if (install)
    {
      /* The same rule as at issuance: one live DAC per board. */
      g_autoptr(DsDbRows) live = query (self, "looking up a certificate",
        "SELECT serial FROM certificates WHERE board_uid = ? AND id != ? AND installed = 1 AND superseded = 0",
        DB_PARAMS (DB_TEXT (board_uid), DB_INT (cert_id)), error);

      if (live == NULL)
        return FALSE;
      if (ds_db_rows_count (live) > 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                       _("Board %s already has the installed DAC %s; supersede it before installing DAC %s"),
                       board_uid, ds_db_rows_text (live, 0, 0), serial);
          return FALSE;
        }
      rows = query (self, "recording an installed certificate", "UPDATE certificates SET installed = 1 WHERE id = ? RETURNING " DS_AUDIT_CERTS_COLUMNS,
                    DB_PARAMS (DB_INT (cert_id)), error);
      msg = g_strdup_printf ("serial %s", serial);
    }
  else
    {
      rows = query (self, "superseding a certificate",
                    "UPDATE certificates SET superseded = 1, superseded_reason = ? WHERE id = ? "
                    "RETURNING " DS_AUDIT_CERTS_COLUMNS,
                    DB_PARAMS (DB_TEXT (reason != NULL ? reason : ""), DB_INT (cert_id)), error);
      msg = g_strdup_printf ("serial %s: %s", serial, reason != NULL ? reason : "");
    }
  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "certificates", rows);
  return insert_event (self, job_id, board_uid, install ? "certificate-installed" : "certificate-superseded",
                       msg, error);
}

typedef struct {
  gint64      cert_id;
  gboolean    install;
  const char *reason;
} UpdateCertificate;

static gboolean
update_certificate_txn (DsStore  *self,
                        gpointer  data,
                        GError  **error)
{
  UpdateCertificate *a = data;

  return update_certificate_locked (self, a->cert_id, a->install, a->reason, error);
}

static gboolean
update_certificate (DsStore    *self,
                    gint64      cert_id,
                    gboolean    install,
                    const char *reason,
                    GError    **error)
{
  UpdateCertificate a = { cert_id, install, reason };

  return write_records (self, update_certificate_txn, &a, error);
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
find_certificate (DsStore    *self,
                  const char *sql,
                  const char *arg1,
                  const char *arg2,
                  GError    **error)
{
  /* Only committed certificates matter here: a job looks up its own
   * board's, which it committed itself before. */
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (self->reader != NULL ? &self->reader_lock
                                                                                           : &self->lock);
  DsDb *db = self->reader != NULL ? self->reader : self->db;
  g_autoptr(DsDbRows) rows = arg2 != NULL
    ? ds_db_query (db, sql, DB_PARAMS (DB_TEXT (arg1), DB_TEXT (arg2)), error)
    : ds_db_query (db, sql, DB_PARAMS (DB_TEXT (arg1)), error);
  DsCertRecord *r;

  if (rows == NULL)
    g_prefix_error (error, "looking up a certificate: ");
  if (rows == NULL || ds_db_rows_count (rows) == 0)
    return NULL;
  r = g_new0 (DsCertRecord, 1);
  r->id = ds_db_rows_int (rows, 0, 0);
  r->job_id = ds_db_rows_int (rows, 0, 1);
  r->board_uid = g_strdup (ds_db_rows_text (rows, 0, 2));
  r->serial = g_strdup (ds_db_rows_text (rows, 0, 3));
  r->fingerprint = g_strdup (ds_db_rows_text (rows, 0, 4));
  r->pubkey_sha256 = g_strdup (ds_db_rows_text (rows, 0, 5));
  r->subject = g_strdup (ds_db_rows_text (rows, 0, 6));
  r->dac_path = g_strdup (ds_db_rows_text (rows, 0, 7));
  r->pai_path = g_strdup (ds_db_rows_text (rows, 0, 8));
  r->dac_der = ds_db_rows_bytes (rows, 0, 9);
  r->pai_der = ds_db_rows_bytes (rows, 0, 10);
  r->issued_at = ds_db_rows_int (rows, 0, 11);
  r->installed = ds_db_rows_int (rows, 0, 12) != 0;
  r->superseded = ds_db_rows_int (rows, 0, 13) != 0;
  return r;
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

DsCertRecord *
ds_store_find_key_certificate (DsStore    *self,
                               const char *pubkey_sha256,
                               GError    **error)
{
  return find_certificate (self,
    "SELECT " CERT_COLUMNS " FROM certificates WHERE pubkey_sha256 = ? ORDER BY issued_us DESC, id DESC LIMIT 1",
    pubkey_sha256, NULL, error);
}

DsCertRecord *
ds_store_find_certificate_by (DsStore    *self,
                              const char *column,
                              const char *value,
                              GError    **error)
{
  /* The column names a fixed set, never text from outside. */
  if (g_str_equal (column, "fingerprint"))
    return find_certificate (self, "SELECT " CERT_COLUMNS " FROM certificates WHERE fingerprint = ? LIMIT 1",
                             value, NULL, error);
  if (g_str_equal (column, "serial"))
    return find_certificate (self, "SELECT " CERT_COLUMNS " FROM certificates WHERE serial = ? LIMIT 1",
                             value, NULL, error);
  g_return_val_if_reached (NULL);
}

typedef struct {
  const char *prefix;
  const char *message;
  gboolean    differs;
} LogConfig;

static gboolean
log_config_txn (DsStore  *self,
                gpointer  data,
                GError  **error)
{
  LogConfig *a = data;
  g_autoptr(DsDbRows) rows = NULL;

  /* The newest configuration this station recorded, on SQLite and on
   * PostgreSQL alike. */
  rows = query (self, "Reading the last configuration",
                "SELECT message FROM events WHERE kind = 'config-change' "
                "AND substr(message, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT 1",
                DB_PARAMS (DB_TEXT (a->prefix)), error);
  if (rows == NULL)
    return FALSE;
  a->differs = ds_db_rows_count (rows) == 0 || g_strcmp0 (ds_db_rows_text (rows, 0, 0), a->message) != 0;
  return !a->differs || insert_event (self, 0, NULL, "config-change", a->message, error);
}

gboolean
ds_store_log_config (DsStore    *self,
                     const char *station,
                     const char *config,
                     gboolean   *changed,
                     GError    **error)
{
  g_autofree char *prefix = g_strdup_printf ("station %s\n", station != NULL ? station : "");
  g_autofree char *message = g_strconcat (prefix, config, NULL);
  LogConfig a = { prefix, message, FALSE };

  if (changed != NULL)
    *changed = FALSE;
  if (!write_records (self, log_config_txn, &a, error))
    return FALSE;
  if (changed != NULL)
    *changed = a.differs;
  return TRUE;
}

typedef struct {
  gint64      job_id;
  const char *board_uid;
  const char *kind;
  const char *message;
} LogEvent;

static gboolean
log_event_txn (DsStore  *self,
               gpointer  data,
               GError  **error)
{
  LogEvent *a = data;

  return insert_event (self, a->job_id, a->board_uid, a->kind, a->message, error);
}

gboolean
ds_store_log_event (DsStore    *self,
                    gint64      job_id,
                    const char *board_uid,
                    const char *kind,
                    const char *message,
                    GError    **error)
{
  LogEvent a = { job_id, board_uid, kind, message };

  return write_records (self, log_event_txn, &a, error);
}

static gboolean
close_interrupted_txn (DsStore  *self,
                       gpointer  data,
                       GError  **error)
{
  gint64 *n = data;
  g_autoptr(DsDbRows) rows = NULL;

  if (ds_db_get_kind (self->db) == DS_DB_POSTGRES)
    /* Several stations share the database: only the jobs of a store that
     * is gone (its owner lock is free; taking it here holds it to the end
     * of this transaction) were interrupted, not another station's
     * running ones. */
    rows = query (self, "closing interrupted jobs",
                  "UPDATE jobs SET outcome = 'interrupted', finished_us = ? WHERE outcome IS NULL "
                  "AND (owner IS NULL OR (owner <> ? AND pg_try_advisory_xact_lock("
                  G_STRINGIFY (PG_LOCK_OWNER_CLASS) ", owner))) RETURNING " DS_AUDIT_JOBS_COLUMNS,
                  DB_PARAMS (DB_INT (g_get_real_time ()), DB_INT (self->owner)), error);
  else
    rows = query (self, "closing interrupted jobs",
                  "UPDATE jobs SET outcome = 'interrupted', finished_us = ? WHERE outcome IS NULL "
                  "RETURNING " DS_AUDIT_JOBS_COLUMNS,
                  DB_PARAMS (DB_INT (g_get_real_time ())), error);
  if (rows == NULL)
    return FALSE;
  *n = ds_db_rows_count (rows);
  ds_audit_note_rows (self->digests, "jobs", rows);
  return *n == 0 || insert_event (self, 0, NULL, "jobs-interrupted", NULL, error);
}

gint
ds_store_close_interrupted_jobs (DsStore *self,
                                 GError **error)
{
  gint64 n = 0;

  if (!write_records (self, close_interrupted_txn, &n, error))
    return -1;
  return (gint) n;
}

gboolean
ds_store_get_counts (DsStore       *self,
                     DsStoreCounts *counts,
                     GError       **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = NULL;
  g_autoptr(DsDbRows) rows = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  g_return_val_if_fail (counts != NULL, FALSE);

  /* One statement reads one snapshot, so the figures agree with each other
   * even while another station process writes. */
  locker = g_mutex_locker_new (&self->lock);
  rows = query (self, "counting records",
    "SELECT (SELECT count(*) FROM jobs),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'passed'),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'failed'),"
    " (SELECT count(*) FROM jobs WHERE outcome = 'already-provisioned'),"
    " (SELECT count(*) FROM certificates),"
    " (SELECT count(*) FROM boards)", NULL, 0, error);
  if (rows == NULL)
    return FALSE;
  counts->jobs = ds_db_rows_int (rows, 0, 0);
  counts->passed = ds_db_rows_int (rows, 0, 1);
  counts->failed = ds_db_rows_int (rows, 0, 2);
  counts->already_provisioned = ds_db_rows_int (rows, 0, 3);
  counts->certificates = ds_db_rows_int (rows, 0, 4);
  counts->boards = ds_db_rows_int (rows, 0, 5);
  return TRUE;
}

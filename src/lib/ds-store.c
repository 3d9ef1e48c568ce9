/* The record store: boards, jobs, steps, certificates and events, in SQLite
 * or PostgreSQL (ds-db.c hides which).  This unit opens it and holds the
 * object; the schema and its migrations are ds-store-schema.c, the group
 * commit ds-store-batcher.c, the audit chain's upkeep ds-store-audit.c and
 * the queries ds-store-queries.c. */
#include "config.h"

#include "ds-store.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-audit.h"
#include "ds-db.h"
#include "ds-error.h"
#include "ds-store-private.h"
#include "ds-store-schema.h"

G_DEFINE_FINAL_TYPE (DsStore, ds_store, G_TYPE_OBJECT)

DsDbRows *
ds_store_query (DsStore         *self,
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

DsDbRows *
ds_store_read (DsStore         *self,
               const char      *what,
               const char      *sql,
               const DsDbValue *params,
               gsize            n_params,
               GError         **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (self->reader != NULL ? &self->reader_lock
                                                                                           : &self->lock);
  DsDbRows *rows = ds_db_query (self->reader != NULL ? self->reader : self->db, sql, params, n_params, error);

  if (rows == NULL && what != NULL)
    g_prefix_error (error, "%s: ", what);
  return rows;
}

gboolean
ds_store_run (DsStore         *self,
              const char      *what,
              const char      *sql,
              const DsDbValue *params,
              gsize            n_params,
              GError         **error)
{
  g_autoptr(DsDbRows) rows = ds_store_query (self, what, sql, params, n_params, error);

  return rows != NULL;
}

DsDbRows *
ds_store_write_row (DsStore         *self,
                    const char      *what,
                    const char      *table,
                    const char      *columns,
                    const DsDbValue *key,
                    const char      *sql,
                    const DsDbValue *params,
                    gsize            n_params,
                    GError         **error)
{
  g_autoptr(DsDbRows) written = NULL;
  g_autofree char *read = NULL;

  if (ds_db_get_kind (self->db) == DS_DB_POSTGRES)
    {
      g_autofree char *returning = g_strconcat (sql, " RETURNING ", columns, NULL);

      return ds_store_query (self, what, returning, params, n_params, error);
    }
  written = ds_store_query (self, what, sql, params, n_params, error);
  if (written == NULL)
    return NULL;
  /* Under self->lock, on the connection that wrote it; the statement is
   * prepared once, like the write's (ds-db.c keeps them by their text). */
  if (key == NULL)
    {
      read = g_strdup_printf ("SELECT %s FROM %s WHERE rowid = last_insert_rowid()", columns, table);
      return ds_store_query (self, what, read, NULL, 0, error);
    }
  read = g_strdup_printf ("SELECT %s FROM %s WHERE %.*s = ?", columns, table, (int) strcspn (columns, ","), columns);
  return ds_store_query (self, what, read, key, 1, error);
}

static void
ds_store_finalize (GObject *object)
{
  DsStore *self = DS_STORE (object);

  ds_store_save_checkpoint (self);
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
  self->later = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_store_pending_step_free);
  self->digests = g_string_new (NULL);
}

/* A one-row, one-column query as text (NULL when it returns no row). */
static gboolean
scalar (DsStore     *self,
        const char  *sql,
        char       **value,
        GError     **error)
{
  g_autoptr(DsDbRows) rows = ds_store_query (self, NULL, sql, NULL, 0, error);

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
  sql = g_strdup_printf ("SELECT pg_advisory_lock(%d, %d)", DS_STORE_PG_LOCK_OWNER_CLASS, self->owner);
  return scalar (self, sql, NULL, error);
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
  if (!ds_store_schema_migrate (self->db, error))
    return NULL;
  keys = key_dir != NULL ? g_strdup (key_dir) : ds_audit_default_key_dir (path);
  if (!ds_store_open_audit (self, keys, flags, error))
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
          !ds_store_schema_read_version (self->db, &settings->schema_version, error))
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

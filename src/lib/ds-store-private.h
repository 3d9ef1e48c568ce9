/* What the units of the record store share: the object itself, the group
 * commit (ds-store-batcher.c), the audit chain's upkeep (ds-store-audit.c)
 * and the queries (ds-store-queries.c).  The schema is ds-store-schema.c.
 * Private to the library. */
#pragma once

#include "ds-db.h"
#include "ds-store.h"

G_BEGIN_DECLS

/* Advisory locks on PostgreSQL, two-key form: the liveness lock each store
 * holds on its owner key while it is open (ds-db.c and ds-store-schema.c
 * use class 'DS', 17491). */
#define DS_STORE_PG_LOCK_OWNER_CLASS 17492

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

  /* Group commit (ds-store-batcher.c) */
  GMutex     queue_lock;
  GCond      queue_cond;
  GPtrArray *queue;      /* DsStoreWrite*: waiting for the next commit */
  gboolean   committing; /* a leader is running a batch */
  gpointer   current_write; /* the DsStoreWrite the leader runs now */
  guint64    n_writes;
  guint64    n_commits;

  GMutex     later_lock;
  GPtrArray *later; /* DsStorePendingStep: step records that ride on the job's next commit */

  /* The audit chain (ds-store-audit.c), under self->lock */
  GBytes    *key;
  char      *checkpoint_path;
  GString   *digests;   /* rows the current write changed, for its event */
  gint64     head_id;   /* the last event this store knows committed */
  char      *head_hash;
  gint64     checkpoint_us;     /* when the checkpoint was last written */
  gboolean   checkpoint_behind; /* the head is newer than the checkpoint */
};

/* One piece of work for a write transaction; runs under self->lock. */
typedef gboolean (*DsStoreWriteFunc) (DsStore  *self,
                                      gpointer  data,
                                      GError  **error);

typedef struct {
  DsStoreWriteFunc  func;
  gpointer          data;
  gboolean          done;
  gboolean          ok;
  GError           *error;
  gint64            head_id;    /* the last event it wrote */
  char             *head_hash;
} DsStoreWrite;

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
  DsStoreWrite *flushed_by;  /* the write carrying it, until that one is done */
} DsStorePendingStep;

void       ds_store_pending_step_free (DsStorePendingStep *p);

/* ds-store.c: one statement on the store's connection; on failure says
 * what the store was doing (@what, may be NULL). */
DsDbRows  *ds_store_query             (DsStore         *self,
                                       const char      *what,
                                       const char      *sql,
                                       const DsDbValue *params,
                                       gsize            n_params,
                                       GError         **error);
/* ds-store.c: one read of what is committed, on the store's reader
 * connection (its writer when it has none), under the lock that
 * connection needs; on failure says what the store was doing. */
DsDbRows  *ds_store_read              (DsStore         *self,
                                       const char      *what,
                                       const char      *sql,
                                       const DsDbValue *params,
                                       gsize            n_params,
                                       GError         **error);
gboolean   ds_store_run               (DsStore         *self,
                                       const char      *what,
                                       const char      *sql,
                                       const DsDbValue *params,
                                       gsize            n_params,
                                       GError         **error);

/* ds-store.c: one INSERT or UPDATE (@sql, without RETURNING) of one row
 * of the audited @table, and that row as it now stands, read with the
 * table's audit @columns (ds-audit.h), as verification reads it.  The row
 * is the one @sql inserted when @key is NULL, else the one whose first
 * audit column equals @key, which must then be all of @sql's WHERE: a row
 * that is not there reads back as no row.  PostgreSQL returns the row
 * with the statement (RETURNING, one round trip); SQLite reads it back
 * with a statement of its own, since for RETURNING it builds and drops a
 * temporary table at every statement, which cost more than the rest of
 * the write. */
DsDbRows  *ds_store_write_row         (DsStore         *self,
                                       const char      *what,
                                       const char      *table,
                                       const char      *columns,
                                       const DsDbValue *key,
                                       const char      *sql,
                                       const DsDbValue *params,
                                       gsize            n_params,
                                       GError         **error);

/* ds-store-batcher.c: runs @func in a write transaction, possibly together
 * with other threads' writes, and returns once that transaction is
 * committed. */
gboolean   ds_store_write             (DsStore          *self,
                                       DsStoreWriteFunc  func,
                                       gpointer          data,
                                       GError          **error);

/* ds-store-queries.c: after the batch's transaction ended, drops the kept
 * step records its committed writes carried and frees the others for the
 * next write. */
void       ds_store_settle_later      (DsStore   *self,
                                       GPtrArray *batch);

/* ds-store-audit.c */
/* Verifies the chain with the key in @key_dir and keys it when it is new
 * or older than the keyed chain; see ds_store_open_full(). */
gboolean   ds_store_open_audit        (DsStore          *self,
                                       const char       *key_dir,
                                       DsStoreOpenFlags  flags,
                                       GError          **error);
/* Appends an event to the audit chain with the digests of the rows the
 * current write changed (self->digests); inside a write transaction. */
gboolean   ds_store_insert_event      (DsStore    *self,
                                       gint64      job_id,
                                       const char *board_uid,
                                       const char *kind,
                                       const char *message,
                                       GError    **error);
/* After a commit whose last event is @head_id: the new head, and the
 * checkpoint at most once a second; the lock is held. */
void       ds_store_audit_committed   (DsStore    *self,
                                       gint64      head_id,
                                       const char *head_hash);
/* Writes the checkpoint if it is behind the head; the lock is held (or
 * the store is not shared any more). */
void       ds_store_save_checkpoint   (DsStore    *self);

G_END_DECLS

/* The record store's group commit.  A writer queues its work and waits.
 * Whichever writer finds no commit running becomes the leader: it takes
 * every piece of work queued so far, runs each in a savepoint of one
 * transaction, and commits once.  Jobs that write at the same moment thus
 * share one fsync, and each caller still returns only once its own records
 * are durable.  One writer's failure rolls back its own savepoint, never
 * another's work. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"
#include "ds-store-private.h"

/* Fails every write of @batch that is not failed yet with @error. */
static void
fail_batch (GPtrArray    *batch,
            const GError *error)
{
  for (guint i = 0; i < batch->len; i++)
    {
      DsStoreWrite *w = batch->pdata[i];

      w->ok = FALSE;
      if (w->error == NULL)
        w->error = g_error_copy (error);
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

  if (!ds_db_begin_write (self->db, &error))
    {
      fail_batch (batch, error);
      return FALSE;
    }
  for (guint i = 0; i < batch->len; i++)
    {
      DsStoreWrite *w = batch->pdata[i];

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
      ds_db_rollback (self->db);
      fail_batch (batch, error);
    }
  else if (n_ok == 0)
    ds_db_rollback (self->db);
  else if (!ds_db_commit (self->db, &error))
    {
      ds_db_rollback (self->db);
      fail_batch (batch, error);
    }
  else
    committed = TRUE;

  if (committed)
    {
      DsStoreWrite *last = NULL;

      for (guint i = 0; i < batch->len; i++)
        if (((DsStoreWrite *) batch->pdata[i])->ok && ((DsStoreWrite *) batch->pdata[i])->head_id > 0)
          last = batch->pdata[i];
      if (last != NULL)
        ds_store_audit_committed (self, last->head_id, last->head_hash);
    }
  for (guint i = 0; i < batch->len; i++)
    g_clear_pointer (&((DsStoreWrite *) batch->pdata[i])->head_hash, g_free);

  /* Writes the loop never reached (it stopped on a lost transaction) have
   * failed with the batch. */
  for (guint i = 0; i < batch->len; i++)
    {
      DsStoreWrite *w = batch->pdata[i];

      if (!w->ok && w->error == NULL)
        g_set_error (&w->error, DS_ERROR, DS_ERROR_IO, _("Record store %s: the write failed"),
                     ds_db_get_name (self->db));
    }
  ds_store_settle_later (self, batch);
  return committed;
}

gboolean
ds_store_write (DsStore          *self,
                DsStoreWriteFunc  func,
                gpointer          data,
                GError          **error)
{
  DsStoreWrite w = { func, data, FALSE, FALSE, NULL, 0, NULL };

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
        ((DsStoreWrite *) batch->pdata[i])->done = TRUE;
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

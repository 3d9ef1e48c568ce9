/* The record store's side of the audit chain (ds-audit.c): opening and
 * keying the chain, appending events, the checkpoint beside the key, and
 * the engineer's acknowledgement of a break. */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "ds-audit.h"
#include "ds-error.h"
#include "ds-store-private.h"

void
ds_store_save_checkpoint (DsStore *self)
{
  g_autoptr(GError) error = NULL;

  if (self->key == NULL || self->head_id <= 0 || !self->checkpoint_behind)
    return;
  if (!ds_audit_checkpoint_write (self->checkpoint_path, self->key, self->head_id, self->head_hash, &error))
    g_warning ("%s", error->message);
  self->checkpoint_us = g_get_monotonic_time ();
  self->checkpoint_behind = FALSE;
}

void
ds_store_audit_committed (DsStore    *self,
                          gint64      head_id,
                          const char *head_hash)
{
  self->head_id = head_id;
  g_free (self->head_hash);
  self->head_hash = g_strdup (head_hash);
  self->checkpoint_behind = TRUE;
  /* After the commit, so it is never ahead of the database; at most once
   * a second, and when the store is closed: writing a file at every
   * commit halved the commits a second (on ext4 each one then carried
   * that file's metadata).  What a crash can leave out of it is the last
   * second's events, which this station's next write finds cut if they
   * are. */
  if (g_get_monotonic_time () - self->checkpoint_us >= G_USEC_PER_SEC)
    ds_store_save_checkpoint (self);
}

/* Appends to the audit chain, with the digests of the rows this write
 * changed (self->digests), keyed with the station key.  Must run inside a
 * write transaction, so that no other writer (another station process)
 * slips in between reading the chain's head and extending it. */
gboolean
ds_store_insert_event (DsStore    *self,
                       gint64      job_id,
                       const char *board_uid,
                       const char *kind,
                       const char *message,
                       GError    **error)
{
  g_autoptr(DsDbRows) head = ds_store_query (self, "reading the audit chain",
                                             "SELECT id, hash FROM events ORDER BY id DESC LIMIT 1", NULL, 0, error);
  g_autofree char *hash = NULL;
  const char *prev = DS_AUDIT_GENESIS_HASH;
  const char *digests = self->digests->len > 0 ? self->digests->str : NULL;
  DsStoreWrite *w = self->current_write;
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
  if (!ds_store_run (self, "logging an event",
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
  rows = ds_store_query (self, "reading the audit chain",
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
  return ds_store_insert_event (self, 0, NULL, DS_AUDIT_ANCHOR, msg, error);
}

gboolean
ds_store_open_audit (DsStore          *self,
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
    ok = ds_store_write (self, anchor_txn, NULL, error);
  else if (ok && result.keyed && !result.has_checkpoint && result.head_id > 0)
    /* A station that joins a line's database keeps its own checkpoint
     * from now on. */
    ok = ds_audit_checkpoint_write (self->checkpoint_path, self->key, result.head_id, result.head_hash, error);
  ds_audit_result_clear (&result);
  return ok;
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
       ds_store_insert_event (self, 0, NULL, DS_AUDIT_ACKNOWLEDGED, msg, error);
  if (ok)
    a->event_id = ((DsStoreWrite *) self->current_write)->head_id;
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

  if (!ds_store_write (self, acknowledge_txn, &a, error))
    return -1;
  g_mutex_lock (&self->lock);
  ds_store_save_checkpoint (self);
  g_mutex_unlock (&self->lock);
  return a.event_id;
}

/* The record store's queries: jobs, steps, certificates, events and the
 * counts, each write a piece of work for the group commit
 * (ds-store-batcher.c) that records its rows' digests and an event of the
 * audit chain (ds-store-audit.c). */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "ds-audit.h"
#include "ds-error.h"
#include "ds-store-private.h"

void
ds_store_pending_step_free (DsStorePendingStep *p)
{
  g_free (p->step);
  g_free (p->outcome);
  g_free (p->error_code);
  g_free (p->error_message);
  g_free (p);
}

/* Step records kept for later are taken out of self->later only once the
 * write that carried them is committed; otherwise they wait for the next
 * one. */
void
ds_store_settle_later (DsStore   *self,
                       GPtrArray *batch)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->later_lock);

  for (guint i = 0; i < self->later->len;)
    {
      DsStorePendingStep *p = self->later->pdata[i];
      guint idx;

      if (p->flushed_by != NULL && g_ptr_array_find (batch, p->flushed_by, &idx))
        {
          if (p->flushed_by->ok)
            {
              g_ptr_array_remove_index (self->later, i);
              continue;
            }
          p->flushed_by = NULL;
        }
      i++;
    }
}

/* After an UPDATE of one job, with the rows it gives back (the job, or
 * none): a job id the store never gave out is a bug in the caller, but it
 * must not pass silently. */
static gboolean
check_job_changed (DsStore  *self,
                   DsDbRows *rows,
                   gint64    job_id,
                   GError  **error)
{
  g_autofree char *id = NULL;

  if (ds_db_rows_count (rows) == 1)
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
  g_autoptr(DsDbRows) rows = ds_store_write_row (self, "recording the board", "boards", DS_AUDIT_BOARDS_COLUMNS,
                                                 &DB_TEXT (uid),
                                                 "INSERT INTO boards (uid, first_seen_us, last_seen_us) VALUES (?1, ?2, ?2) "
                                                 "ON CONFLICT (uid) DO UPDATE SET last_seen_us = ?2",
                                                 DB_PARAMS (DB_TEXT (uid), DB_INT (now)), error);

  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "boards", rows);
  return TRUE;
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
  rows = pg ? ds_store_write_row (self, "recording a job", "jobs", DS_AUDIT_JOBS_COLUMNS, NULL,
                              "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us, owner) "
                              "VALUES (?, ?, ?, ?, ?, ?, ?)",
                              DB_PARAMS (DB_TEXT (a->board_uid), DB_TEXT (a->port), DB_TEXT (a->operator_id),
                                DB_TEXT (a->lot), DB_TEXT (a->station), DB_INT (now), DB_INT (self->owner)), error)
            : ds_store_write_row (self, "recording a job", "jobs", DS_AUDIT_JOBS_COLUMNS, NULL,
                              "INSERT INTO jobs (board_uid, port, operator, lot, station, started_us) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
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
  return ds_store_insert_event (self, a->id, a->board_uid, "job-started", a->port, error);
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

  if (!ds_store_write (self, begin_job_txn, &a, error))
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
  rows = ds_store_write_row (self, "recording the board of a job", "jobs", DS_AUDIT_JOBS_COLUMNS, &DB_INT (a->job_id),
                         "UPDATE jobs SET board_uid = ? WHERE id = ?",
                         DB_PARAMS (DB_TEXT (a->board_uid), DB_INT (a->job_id)), error);
  if (rows == NULL || !check_job_changed (self, rows, a->job_id, error))
    return FALSE;
  ds_audit_note_rows (self->digests, "jobs", rows);
  return ds_store_insert_event (self, a->job_id, a->board_uid, "job-board", NULL, error);
}

gboolean
ds_store_set_job_board (DsStore    *self,
                        gint64      job_id,
                        const char *board_uid,
                        GError    **error)
{
  SetJobBoard a = { job_id, board_uid };

  return ds_store_write (self, set_job_board_txn, &a, error);
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

  rows = ds_store_write_row (self, "recording a step", "steps", DS_AUDIT_STEPS_COLUMNS, NULL,
                         "INSERT INTO steps (job_id, step, outcome, started_us, finished_us, error_code, error_message) "
                         "VALUES (?, ?, ?, ?, ?, ?, ?)",
                         DB_PARAMS (DB_INT (job_id), DB_TEXT (step), DB_TEXT (outcome), DB_INT (started_us),
                           DB_INT (finished_us), DB_TEXT (error_code), DB_TEXT (error_message)), error);
  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "steps", rows);
  return ds_store_insert_event (self, job_id, NULL, "step", what, error);
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
      DsStorePendingStep *p = self->later->pdata[i];

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
      DsStorePendingStep *p = mine->pdata[i];

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
  DsStorePendingStep *p = g_new0 (DsStorePendingStep, 1);

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

  return ds_store_write (self, record_step_txn, &a, error);
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
  rows = ds_store_write_row (self, "recording the end of a job", "jobs", DS_AUDIT_JOBS_COLUMNS, &DB_INT (a->job_id),
                         "UPDATE jobs SET finished_us = ?, outcome = ?, failed_step = ?, error_code = ?, error_message = ? "
                         "WHERE id = ?",
                         DB_PARAMS (DB_INT (g_get_real_time ()), DB_TEXT (a->outcome),
                           DB_TEXT (keeps_step ? a->failed_step : NULL), DB_TEXT (a->error_code),
                           DB_TEXT (a->error_message), DB_INT (a->job_id)), error);
  if (rows == NULL || !check_job_changed (self, rows, a->job_id, error))
    return FALSE;
  ds_audit_note_rows (self->digests, "jobs", rows);
  return ds_store_insert_event (self, a->job_id, NULL, "job-finished", a->outcome, error);
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

  return ds_store_write (self, finish_job_txn, &a, error);
}

/* TRUE when a row matches; the lock is held. */
static gboolean
exists (DsStore    *self,
        const char *sql,
        const char *arg,
        gboolean   *found,
        GError    **error)
{
  g_autoptr(DsDbRows) rows = ds_store_query (self, "looking up a certificate", sql, DB_PARAMS (DB_TEXT (arg)), error);

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

  rows = ds_store_write_row (self, "recording a certificate", "certificates", DS_AUDIT_CERTS_COLUMNS, NULL,
                         "INSERT INTO certificates (job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, dac_der, "
                         "pai_der, dac_path, pai_path, issued_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
  return ds_store_insert_event (self, record->job_id, record->board_uid, "certificate-issued", msg, error);
}

gboolean
ds_store_add_certificate (DsStore      *self,
                          DsCertRecord *record,
                          GError      **error)
{
  gint64 id = record->id;

  if (ds_store_write (self, add_certificate_txn, record, error))
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
  g_autoptr(DsDbRows) find = ds_store_query (self, "looking up a certificate",
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
      g_autoptr(DsDbRows) live = ds_store_query (self, "looking up a certificate",
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
      rows = ds_store_write_row (self, "recording an installed certificate", "certificates", DS_AUDIT_CERTS_COLUMNS,
                                 &DB_INT (cert_id), "UPDATE certificates SET installed = 1 WHERE id = ?",
                                 DB_PARAMS (DB_INT (cert_id)), error);
      msg = g_strdup_printf ("serial %s", serial);
    }
  else
    {
      rows = ds_store_write_row (self, "superseding a certificate", "certificates", DS_AUDIT_CERTS_COLUMNS,
                                 &DB_INT (cert_id),
                                 "UPDATE certificates SET superseded = 1, superseded_reason = ? WHERE id = ?",
                             DB_PARAMS (DB_TEXT (reason != NULL ? reason : ""), DB_INT (cert_id)), error);
      msg = g_strdup_printf ("serial %s: %s", serial, reason != NULL ? reason : "");
    }
  if (rows == NULL)
    return FALSE;
  ds_audit_note_rows (self->digests, "certificates", rows);
  return ds_store_insert_event (self, job_id, board_uid, install ? "certificate-installed" : "certificate-superseded",
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

  return ds_store_write (self, update_certificate_txn, &a, error);
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
  const DsDbValue params[] = { DB_TEXT (arg1), DB_TEXT (arg2) };
  g_autoptr(DsDbRows) rows = ds_store_read (self, "looking up a certificate", sql, params, arg2 != NULL ? 2 : 1, error);
  DsCertRecord *r;

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
  rows = ds_store_query (self, "Reading the last configuration",
                         "SELECT message FROM events WHERE kind = 'config-change' "
                         "AND substr(message, 1, length(?1)) = ?1 ORDER BY id DESC LIMIT 1",
                         DB_PARAMS (DB_TEXT (a->prefix)), error);
  if (rows == NULL)
    return FALSE;
  a->differs = ds_db_rows_count (rows) == 0 || g_strcmp0 (ds_db_rows_text (rows, 0, 0), a->message) != 0;
  return !a->differs || ds_store_insert_event (self, 0, NULL, "config-change", a->message, error);
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
  if (!ds_store_write (self, log_config_txn, &a, error))
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

  return ds_store_insert_event (self, a->job_id, a->board_uid, a->kind, a->message, error);
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

  return ds_store_write (self, log_event_txn, &a, error);
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
    rows = ds_store_query (self, "closing interrupted jobs",
                           "UPDATE jobs SET outcome = 'interrupted', finished_us = ? WHERE outcome IS NULL "
                           "AND (owner IS NULL OR (owner <> ? AND pg_try_advisory_xact_lock("
                           G_STRINGIFY (DS_STORE_PG_LOCK_OWNER_CLASS) ", owner))) RETURNING " DS_AUDIT_JOBS_COLUMNS,
                           DB_PARAMS (DB_INT (g_get_real_time ()), DB_INT (self->owner)), error);
  else
    rows = ds_store_query (self, "closing interrupted jobs",
                           "UPDATE jobs SET outcome = 'interrupted', finished_us = ? WHERE outcome IS NULL "
                           "RETURNING " DS_AUDIT_JOBS_COLUMNS,
                           DB_PARAMS (DB_INT (g_get_real_time ())), error);
  if (rows == NULL)
    return FALSE;
  *n = ds_db_rows_count (rows);
  ds_audit_note_rows (self->digests, "jobs", rows);
  return *n == 0 || ds_store_insert_event (self, 0, NULL, "jobs-interrupted", NULL, error);
}

gint
ds_store_close_interrupted_jobs (DsStore *self,
                                 GError **error)
{
  gint64 n = 0;

  if (!ds_store_write (self, close_interrupted_txn, &n, error))
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
  rows = ds_store_query (self, "counting records",
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

/* The onboarding rows of the record store and the serial number sequence
 * (schema version 4), and the lot's CSV of onboarding codes. */
#include "config.h"

#include "ds-store-onboarding.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-audit.h"
#include "ds-error.h"
#include "ds-export.h"
#include "ds-onboarding.h"
#include "ds-store-private.h"
#include "ds-store-schema.h"

/* How many taken serial numbers one allocation skips before it gives up
 * (a pattern that repeats itself, e.g. {seq:02} after 99 boards). */
#define MAX_SKIPS 1000

void
ds_onboarding_record_free (DsOnboardingRecord *r)
{
  if (r == NULL)
    return;
  g_free (r->board_uid);
  g_free (r->serial_number);
  g_free (r->salt_hex);
  g_free (r->verifier_hex);
  g_free (r->qr);
  g_free (r->manual_code);
  g_free (r->manufacturing_date);
  memset (r, 0, sizeof *r);
  g_free (r);
}

typedef struct {
  DsOnboardingRecord *record;
  const char         *pattern;
  GDateTime          *when;
} AddOnboarding;

/* The next number of the sequence, in the write's transaction: on
 * PostgreSQL the row stays locked until the commit, so stations that
 * allocate at once take turns. */
static gboolean
next_seq (DsStore  *self,
          guint64  *seq,
          GError  **error)
{
  g_autoptr(DsDbRows) rows = ds_store_query (self, "allocating a serial number",
    "INSERT INTO serial_sequence (name, last_value) VALUES ('serial', 1) "
    "ON CONFLICT (name) DO UPDATE SET last_value = serial_sequence.last_value + 1 RETURNING last_value",
    NULL, 0, error);

  if (rows == NULL)
    return FALSE;
  *seq = (guint64) ds_db_rows_int (rows, 0, 0);
  return TRUE;
}

static gboolean
add_onboarding_txn (DsStore  *self,
                    gpointer  data,
                    GError  **error)
{
  AddOnboarding *a = data;
  DsOnboardingRecord *r = a->record;
  g_autoptr(DsDbRows) rows = NULL;
  g_autofree char *serial = NULL;
  g_autofree char *msg = NULL;
  guint64 seq = 0;

  for (guint skips = 0; serial == NULL; skips++)
    {
      g_autoptr(DsDbRows) taken = NULL;
      g_autofree char *candidate = NULL;

      if (skips > MAX_SKIPS)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The serial number pattern “%s” gives no new serial number: the record store holds "
                         "them all; widen its {seq}"), a->pattern);
          return FALSE;
        }
      if (!next_seq (self, &seq, error))
        return FALSE;
      candidate = ds_serial_format (a->pattern, seq, a->when, error);
      if (candidate == NULL)
        return FALSE;
      taken = ds_store_query (self, "looking up a serial number",
                              "SELECT id FROM onboarding WHERE serial_number = ?",
                              DB_PARAMS (DB_TEXT (candidate)), error);
      if (taken == NULL)
        return FALSE;
      if (ds_db_rows_count (taken) == 0)
        serial = g_steal_pointer (&candidate);
    }

  rows = ds_store_query (self, "recording onboarding data",
    "INSERT INTO onboarding (job_id, board_uid, serial_number, seq, vid, pid, discriminator, iterations, salt, "
    "verifier, passcode, qr, manual_code, manufacturing_date, created_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING " DS_AUDIT_ONBOARDING_COLUMNS,
    DB_PARAMS (DB_INT (r->job_id), DB_TEXT (r->board_uid), DB_TEXT (serial), DB_INT ((gint64) seq),
               DB_INT (r->vid), DB_INT (r->pid), DB_INT (r->discriminator), DB_INT (r->iterations),
               DB_TEXT (r->salt_hex), DB_TEXT (r->verifier_hex), DB_INT (r->passcode), DB_TEXT (r->qr),
               DB_TEXT (r->manual_code), DB_TEXT (r->manufacturing_date), DB_INT (r->created_us)),
    error);
  if (rows == NULL)
    return FALSE;
  r->id = ds_db_rows_int (rows, 0, 0);
  r->seq = seq;
  g_free (r->serial_number);
  r->serial_number = g_steal_pointer (&serial);
  ds_audit_note_rows (self->digests, "onboarding", rows);
  /* The codes hold the passcode: not in the event log. */
  msg = g_strdup_printf ("serial %s discriminator %u", r->serial_number, r->discriminator);
  return ds_store_insert_event (self, r->job_id, r->board_uid, "onboarding", msg, error);
}

gboolean
ds_store_add_onboarding (DsStore            *self,
                         DsOnboardingRecord *record,
                         const char         *pattern,
                         GDateTime          *when,
                         GError            **error)
{
  AddOnboarding a = { record, pattern, when };

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  return ds_store_write (self, add_onboarding_txn, &a, error);
}

DsOnboardingRecord *
ds_store_find_onboarding (DsStore  *self,
                          gint64    job_id,
                          GError  **error)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (self->reader != NULL ? &self->reader_lock
                                                                                           : &self->lock);
  DsDb *db = self->reader != NULL ? self->reader : self->db;
  g_autoptr(DsDbRows) rows = ds_db_query (db, "SELECT " DS_AUDIT_ONBOARDING_COLUMNS " FROM onboarding WHERE job_id = ?",
                                          DB_PARAMS (DB_INT (job_id)), error);
  DsOnboardingRecord *r;

  if (rows == NULL)
    g_prefix_error (error, "looking up onboarding data: ");
  if (rows == NULL || ds_db_rows_count (rows) == 0)
    return NULL;
  r = g_new0 (DsOnboardingRecord, 1);
  r->id = ds_db_rows_int (rows, 0, 0);
  r->job_id = ds_db_rows_int (rows, 0, 1);
  r->board_uid = g_strdup (ds_db_rows_text (rows, 0, 2));
  r->serial_number = g_strdup (ds_db_rows_text (rows, 0, 3));
  r->seq = (guint64) ds_db_rows_int (rows, 0, 4);
  r->vid = (guint16) ds_db_rows_int (rows, 0, 5);
  r->pid = (guint16) ds_db_rows_int (rows, 0, 6);
  r->discriminator = (guint16) ds_db_rows_int (rows, 0, 7);
  r->iterations = (guint) ds_db_rows_int (rows, 0, 8);
  r->salt_hex = g_strdup (ds_db_rows_text (rows, 0, 9));
  r->verifier_hex = g_strdup (ds_db_rows_text (rows, 0, 10));
  r->passcode = (guint32) ds_db_rows_int (rows, 0, 11);
  r->qr = g_strdup (ds_db_rows_text (rows, 0, 12));
  r->manual_code = g_strdup (ds_db_rows_text (rows, 0, 13));
  r->manufacturing_date = g_strdup (ds_db_rows_text (rows, 0, 14));
  r->created_us = ds_db_rows_int (rows, 0, 15);
  return r;
}

gboolean
ds_onboarding_export_csv (const char    *db_path,
                          const char    *lot,
                          GOutputStream *stream,
                          guint64       *n_rows,
                          GError       **error)
{
  static const char *const header[] = {
    "lot", "job", "board_uid", "serial_number", "vid", "pid", "discriminator", "passcode", "qr_code",
    "manual_code", "manufacturing_date",
  };
  g_autoptr(DsDb) db = ds_db_open (db_path, TRUE, error);
  g_autoptr(DsDbRows) rows = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  int version = 0;

  if (db == NULL)
    return FALSE;
  if (!ds_store_schema_read_version (db, &version, error))
    return FALSE;
  ds_export_csv_append_row (out, header, G_N_ELEMENTS (header));
  if (version >= 4)
    {
#define EXPORT_SQL "SELECT j.lot, o.job_id, o.board_uid, o.serial_number, o.vid, o.pid, o.discriminator, " \
                   "o.passcode, o.qr, o.manual_code, o.manufacturing_date FROM onboarding o " \
                   "JOIN jobs j ON j.id = o.job_id WHERE j.outcome = 'passed'"
      if (lot != NULL)
        rows = ds_db_query (db, EXPORT_SQL " AND j.lot = ? ORDER BY o.seq, o.id", DB_PARAMS (DB_TEXT (lot)), error);
      else
        rows = ds_db_query (db, EXPORT_SQL " AND j.lot IS NULL ORDER BY o.seq, o.id", NULL, 0, error);
#undef EXPORT_SQL
      if (rows == NULL)
        {
          g_prefix_error (error, _("Cannot read the records: "));
          return FALSE;
        }
      for (guint r = 0; r < ds_db_rows_count (rows); r++)
        {
          g_autofree char *vid = g_strdup_printf ("%04X", (guint) ds_db_rows_int (rows, r, 4));
          g_autofree char *pid = g_strdup_printf ("%04X", (guint) ds_db_rows_int (rows, r, 5));
          g_autofree char *passcode = g_strdup_printf ("%08u", (guint) ds_db_rows_int (rows, r, 7));
          const char *fields[] = {
            ds_db_rows_text (rows, r, 0), ds_db_rows_text (rows, r, 1), ds_db_rows_text (rows, r, 2),
            ds_db_rows_text (rows, r, 3), vid, pid, ds_db_rows_text (rows, r, 6), passcode,
            ds_db_rows_text (rows, r, 8), ds_db_rows_text (rows, r, 9), ds_db_rows_text (rows, r, 10),
          };

          ds_export_csv_append_row (out, fields, G_N_ELEMENTS (fields));
        }
    }
  if (n_rows != NULL)
    *n_rows = rows != NULL ? ds_db_rows_count (rows) : 0;
  return g_output_stream_write_all (stream, out->str, out->len, NULL, NULL, error);
}

/* The onboarding rows of the record store and the serial number sequence
 * (schema version 4), the product names labels carry (version 5), the
 * look-ups a reprint makes, and the lot's CSV of onboarding codes. */
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
  g_free (r->product_name);
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

  rows = ds_store_write_row (self, "recording onboarding data", "onboarding", DS_AUDIT_ONBOARDING_COLUMNS, NULL,
    "INSERT INTO onboarding (job_id, board_uid, serial_number, seq, vid, pid, discriminator, iterations, salt, "
    "verifier, passcode, qr, manual_code, manufacturing_date, created_us) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
  if (r->product_name != NULL)
    {
      g_autoptr(DsDbRows) label = ds_store_write_row (self, "recording the label's product name", "onboarding_labels",
        DS_AUDIT_ONBOARDING_LABELS_COLUMNS, NULL, "INSERT INTO onboarding_labels (onboarding_id, product_name) VALUES (?, ?)",
        DB_PARAMS (DB_INT (r->id), DB_TEXT (r->product_name)), error);

      if (label == NULL)
        return FALSE;
      ds_audit_note_rows (self->digests, "onboarding_labels", label);
    }
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

/* The onboarding columns, then the label's product name (NULL for a row
 * recorded before schema version 5). */
#define SELECT_ONBOARDING "SELECT " DS_AUDIT_ONBOARDING_COLUMNS ", product_name FROM onboarding " \
                          "LEFT JOIN onboarding_labels ON onboarding_id = id "

static DsOnboardingRecord *
record_from_rows (DsDbRows *rows,
                  guint     r)
{
  DsOnboardingRecord *rec = g_new0 (DsOnboardingRecord, 1);

  rec->id = ds_db_rows_int (rows, r, 0);
  rec->job_id = ds_db_rows_int (rows, r, 1);
  rec->board_uid = g_strdup (ds_db_rows_text (rows, r, 2));
  rec->serial_number = g_strdup (ds_db_rows_text (rows, r, 3));
  rec->seq = (guint64) ds_db_rows_int (rows, r, 4);
  rec->vid = (guint16) ds_db_rows_int (rows, r, 5);
  rec->pid = (guint16) ds_db_rows_int (rows, r, 6);
  rec->discriminator = (guint16) ds_db_rows_int (rows, r, 7);
  rec->iterations = (guint) ds_db_rows_int (rows, r, 8);
  rec->salt_hex = g_strdup (ds_db_rows_text (rows, r, 9));
  rec->verifier_hex = g_strdup (ds_db_rows_text (rows, r, 10));
  rec->passcode = (guint32) ds_db_rows_int (rows, r, 11);
  rec->qr = g_strdup (ds_db_rows_text (rows, r, 12));
  rec->manual_code = g_strdup (ds_db_rows_text (rows, r, 13));
  rec->manufacturing_date = g_strdup (ds_db_rows_text (rows, r, 14));
  rec->created_us = ds_db_rows_int (rows, r, 15);
  rec->product_name = g_strdup (ds_db_rows_text (rows, r, 16));
  return rec;
}

DsOnboardingRecord *
ds_store_find_onboarding (DsStore  *self,
                          gint64    job_id,
                          GError  **error)
{
  g_autoptr(DsDbRows) rows = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), NULL);
  rows = ds_store_read (self, "looking up onboarding data",
                        SELECT_ONBOARDING "WHERE job_id = ?", DB_PARAMS (DB_INT (job_id)), error);
  if (rows == NULL || ds_db_rows_count (rows) == 0)
    return NULL;
  return record_from_rows (rows, 0);
}

DsOnboardingRecord *
ds_store_find_board_onboarding (DsStore    *self,
                                const char *board_uid,
                                gint64      since_us,
                                GError    **error)
{
  g_autoptr(DsDbRows) rows = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), NULL);
  g_return_val_if_fail (board_uid != NULL, NULL);
  rows = ds_store_read (self, "looking up onboarding data",
                        SELECT_ONBOARDING "WHERE board_uid = ? AND created_us >= ? ORDER BY id DESC LIMIT 1",
                        DB_PARAMS (DB_TEXT (board_uid), DB_INT (since_us)), error);
  if (rows == NULL || ds_db_rows_count (rows) == 0)
    return NULL;
  return record_from_rows (rows, 0);
}

DsOnboardingRecord *
ds_store_find_onboarding_by_serial (DsStore    *self,
                                    const char *serial_number,
                                    GError    **error)
{
  g_autoptr(DsDbRows) rows = NULL;
  g_autoptr(DsDbRows) job = NULL;
  g_autoptr(DsDbRows) newer = NULL;
  g_autoptr(DsOnboardingRecord) rec = NULL;
  const char *outcome;

  g_return_val_if_fail (DS_IS_STORE (self), NULL);
  g_return_val_if_fail (serial_number != NULL, NULL);
  rows = ds_store_read (self, "looking up onboarding data",
                        SELECT_ONBOARDING "WHERE serial_number = ?", DB_PARAMS (DB_TEXT (serial_number)), error);
  if (rows == NULL)
    return NULL;
  if (ds_db_rows_count (rows) == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                   _("Serial number %s is not in the records: check it against the board's label or the "
                     "lot's onboarding CSV"), serial_number);
      return NULL;
    }
  rec = record_from_rows (rows, 0);

  job = ds_store_read (self, "looking up onboarding data",
                       "SELECT outcome FROM jobs WHERE id = ?", DB_PARAMS (DB_INT (rec->job_id)), error);
  if (job == NULL)
    return NULL;
  outcome = ds_db_rows_count (job) > 0 ? ds_db_rows_text (job, 0, 0) : NULL;
  if (g_strcmp0 (outcome, "passed") != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   /* TRANSLATORS: %1$s is a serial number, %2$s a job's outcome (failed, interrupted…) */
                   _("The board of serial number %s did not pass (its job is %s): it has no label to reprint"),
                   serial_number, outcome != NULL ? outcome : C_("job outcome", "unfinished"));
      return NULL;
    }

  /* A board provisioned again holds newer onboarding data: the old
   * label's codes no longer commission it. */
  newer = ds_store_read (self, "looking up onboarding data",
                         "SELECT serial_number FROM onboarding WHERE board_uid = ? AND id > ? ORDER BY id DESC LIMIT 1",
                         DB_PARAMS (DB_TEXT (rec->board_uid), DB_INT (rec->id)), error);
  if (newer == NULL)
    return NULL;
  if (ds_db_rows_count (newer) > 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("Serial number %s is superseded: its board %s was provisioned again as serial number %s; "
                     "reprint that one"), serial_number, rec->board_uid, ds_db_rows_text (newer, 0, 0));
      return NULL;
    }
  return g_steal_pointer (&rec);
}

gboolean
ds_store_record_label_reprint (DsStore                  *self,
                               const DsOnboardingRecord *record,
                               const char               *destination,
                               GError                  **error)
{
  g_autofree char *msg = NULL;

  g_return_val_if_fail (DS_IS_STORE (self), FALSE);
  /* The serial number and where the label went, never the codes. */
  msg = g_strdup_printf ("serial %s to %s", record->serial_number, destination);
  return ds_store_log_event (self, record->job_id, record->board_uid, DS_STORE_EVENT_LABEL_REPRINTED, msg, error);
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

/* The record store's onboarding rows: one per job that made a board's
 * onboarding data at Install, with the serial number the store's sequence
 * gave it, unique across the store (a whole line's on PostgreSQL). */
#pragma once

#include <gio/gio.h>

#include "ds-store.h"

G_BEGIN_DECLS

typedef struct {
  gint64   id;
  gint64   job_id;
  char    *board_uid;
  char    *serial_number;
  guint64  seq;
  guint16  vid;
  guint16  pid;
  guint16  discriminator;
  guint    iterations;
  char    *salt_hex;
  char    *verifier_hex;
  guint32  passcode;        /* kept: SECURITY.md says why; never logged */
  char    *qr;
  char    *manual_code;
  char    *manufacturing_date;
  gint64   created_us;
  char    *product_name;    /* for the label; NULL in rows older than schema 5 */
} DsOnboardingRecord;

/* The event a reprint writes: it names the serial number, never the codes. */
#define DS_STORE_EVENT_LABEL_REPRINTED "label-reprinted"

void ds_onboarding_record_free (DsOnboardingRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsOnboardingRecord, ds_onboarding_record_free)

/* Records @record for its job, in one transaction with the serial number:
 * takes the store's next sequence number, expands @pattern with it and
 * @when (ds_serial_format()), skipping numbers whose serial is taken, and
 * sets record->seq, record->serial_number and record->id, and keeps
 * record->product_name (when set) for the label.  The event it writes
 * names the serial number and discriminator, never the codes. */
gboolean            ds_store_add_onboarding   (DsStore            *self,
                                               DsOnboardingRecord *record,
                                               const char         *pattern,
                                               GDateTime          *when,
                                               GError            **error);
/* The job's onboarding row, or NULL (without error when there is none). */
DsOnboardingRecord *ds_store_find_onboarding  (DsStore            *self,
                                               gint64              job_id,
                                               GError            **error);
/* The onboarding row @board_uid was given last, among those recorded at or
 * after @since_us (when the DAC it holds was issued), or NULL (without
 * error when there is none). */
DsOnboardingRecord *ds_store_find_board_onboarding (DsStore      *self,
                                                    const char   *board_uid,
                                                    gint64        since_us,
                                                    GError      **error);
/* The onboarding row of @serial_number, for reprinting its label.  Fails
 * with DS_ERROR_NOT_FOUND when the records do not hold the serial number,
 * and DS_ERROR_REJECTED when its board did not pass or was provisioned
 * again since (a newer onboarding row for the same board: the codes on
 * the old label no longer commission it). */
DsOnboardingRecord *ds_store_find_onboarding_by_serial (DsStore    *self,
                                                        const char *serial_number,
                                                        GError    **error);
/* Logs a "label-reprinted" event for @record's board, naming its serial
 * number and @destination (a printer or a file), never its codes. */
gboolean            ds_store_record_label_reprint (DsStore                  *self,
                                                   const DsOnboardingRecord *record,
                                                   const char               *destination,
                                                   GError                  **error);
/* The onboarding codes and serial numbers of the boards that passed in
 * @lot (NULL: the jobs run without a lot), as CSV with a header: lot, job, board UID,
 * serial number, VID, PID, discriminator, passcode, QR payload, manual
 * code, manufacturing date.  No key, salt or verifier.  Read on a
 * read-only connection to the store at @db_path. */
gboolean            ds_onboarding_export_csv  (const char         *db_path,
                                               const char         *lot,
                                               GOutputStream      *stream,
                                               guint64            *n_rows,
                                               GError            **error);

G_END_DECLS

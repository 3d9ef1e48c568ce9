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
} DsOnboardingRecord;

void ds_onboarding_record_free (DsOnboardingRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsOnboardingRecord, ds_onboarding_record_free)

/* Records @record for its job, in one transaction with the serial number:
 * takes the store's next sequence number, expands @pattern with it and
 * @when (ds_serial_format()), skipping numbers whose serial is taken, and
 * sets record->seq, record->serial_number and record->id.  The event it
 * writes names the serial number and discriminator, never the codes. */
gboolean            ds_store_add_onboarding   (DsStore            *self,
                                               DsOnboardingRecord *record,
                                               const char         *pattern,
                                               GDateTime          *when,
                                               GError            **error);
/* The job's onboarding row, or NULL (without error when there is none). */
DsOnboardingRecord *ds_store_find_onboarding  (DsStore            *self,
                                               gint64              job_id,
                                               GError            **error);
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

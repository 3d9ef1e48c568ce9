/* The record store's audit chain: the station key, row digests, the keyed
 * event hash, the checkpoint kept beside the key, and verification.
 * Private to the library, the CLI and the tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The library's SQL connection (ds-db.h, private): the CLI only verifies a
 * store by its path. */
typedef struct _DsDb     DsDb;
typedef struct _DsDbRows DsDbRows;

/* The columns of each audited table, in the order their digest covers
 * them; the first one names the row.  The store reads each row it wrote
 * with these (ds_store_write_row()), verification reads them back the
 * same way. */
#define DS_AUDIT_BOARDS_COLUMNS "uid, first_seen_us, last_seen_us"
#define DS_AUDIT_JOBS_COLUMNS   "id, board_uid, port, operator, lot, station, started_us, finished_us, " \
                                "outcome, failed_step, error_code, error_message"
#define DS_AUDIT_STEPS_COLUMNS  "id, job_id, step, outcome, started_us, finished_us, error_code, error_message"
#define DS_AUDIT_CERTS_COLUMNS  "id, job_id, board_uid, serial, fingerprint, pubkey_sha256, subject, dac_der, " \
                                "pai_der, dac_path, pai_path, issued_us, installed, superseded, superseded_reason"
#define DS_AUDIT_ONBOARDING_COLUMNS "id, job_id, board_uid, serial_number, seq, vid, pid, discriminator, " \
                                    "iterations, salt, verifier, passcode, qr, manual_code, manufacturing_date, created_us"
#define DS_AUDIT_ONBOARDING_LABELS_COLUMNS "onboarding_id, product_name"

/* Event kinds written with the key that begin (anchor) or re-begin
 * (acknowledged) the keyed chain. */
#define DS_AUDIT_ANCHOR       "audit-anchor"
#define DS_AUDIT_ACKNOWLEDGED "audit-acknowledged"

#define DS_AUDIT_GENESIS_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* The folder of the station key for @db_path: beside a SQLite file; for a
 * PostgreSQL URI, $DS_AUDIT_KEY_DIR or the user's dac-station data folder. */
char      *ds_audit_default_key_dir (const char *db_path);

/* Loads the key (32 random bytes, hex, in "audit.key" in @dir, mode 0600).
 * When there is none: creates one if @create, else returns NULL without
 * error.  Refuses a key that others can read or write. */
GBytes    *ds_audit_key_load        (const char *dir,
                                     gboolean    create,
                                     GError    **error);
char      *ds_audit_key_path        (const char *dir);

/* The checkpoint file for @db_path in @key_dir. */
char      *ds_audit_checkpoint_path (const char *key_dir,
                                     const char *db_path);
/* FALSE with DS_ERROR_NOT_FOUND when there is none, DS_ERROR_INVALID_DATA
 * when it is not one this key wrote. */
gboolean   ds_audit_checkpoint_read (const char *path,
                                     GBytes     *key,
                                     gint64     *count,
                                     char      **head,
                                     GError    **error);
/* Written atomically (a new file renamed over the old one), mode 0600. */
gboolean   ds_audit_checkpoint_write (const char *path,
                                      GBytes     *key,
                                      gint64      count,
                                      const char *head,
                                      GError    **error);

/* The hash of one event: HMAC-SHA256 with @key, or, when @key is NULL, the
 * unkeyed SHA-256 of the events written before the chain was keyed (which
 * covers no digests). */
char      *ds_audit_event_hash      (GBytes     *key,
                                     gint64      id,
                                     gint64      time_us,
                                     gint64      job_id,
                                     const char *board_uid,
                                     const char *kind,
                                     const char *message,
                                     const char *digests,
                                     const char *prev_hash);

/* Appends one line per row of @rows (read with the table's audit
 * columns) to @digests: "table name sha256". */
void       ds_audit_note_rows       (GString    *digests,
                                     const char *table,
                                     DsDbRows   *rows);
/* Every row of every audited table, as digest lines. */
gboolean   ds_audit_snapshot        (DsDb       *db,
                                     GString    *digests,
                                     GError    **error);

typedef struct {
  gint64  event_id;
  gint64  time_us;
  char   *kind;      /* anchor or acknowledged */
  char   *message;
} DsAuditMark;

typedef struct {
  gint64     n_events;
  gint64     head_id;
  char      *head_hash;
  gboolean   keyed;          /* an anchor was found: events after it are keyed */
  gint64     n_unkeyed;      /* events before the first anchor */
  gboolean   has_checkpoint;
  gint64     checkpoint_count;
  char      *checkpoint_head;
  gint64     broken_id;      /* > 0: the first break not acknowledged */
  char      *reason;
  char      *events_sha256;  /* over every event as stored, for an acknowledgement */
  GPtrArray *marks;          /* DsAuditMark: anchors and acknowledgements */
} DsAuditResult;

void       ds_audit_result_clear    (DsAuditResult *result);

/* Walks the whole chain and every audited row, in one read snapshot (or
 * in the caller's transaction).  @key may be NULL: then a keyed chain
 * cannot be verified (DS_ERROR_NOT_FOUND).  @checkpoint_path may be NULL;
 * a checkpoint that is missing where @checkpoint_required breaks the
 * chain.  Returns FALSE only when the records cannot be read. */
gboolean   ds_audit_verify          (DsDb          *db,
                                     GBytes        *key,
                                     const char    *checkpoint_path,
                                     gboolean       checkpoint_required,
                                     DsAuditResult *result,
                                     GError       **error);

/* Opens @db_path read-only (never creating a table), refuses a file that
 * is not a record store, and verifies it with the key in @key_dir (NULL:
 * the default). */
gboolean   ds_audit_verify_path     (const char    *db_path,
                                     const char    *key_dir,
                                     DsAuditResult *result,
                                     GError       **error);

G_END_DECLS

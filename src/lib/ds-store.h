/* The record store: boards, jobs, steps and certificates in SQLite (WAL) or
 * PostgreSQL (a database shared by the stations of a line).
 * Every call is synchronous and durable when it returns; the store is safe to
 * use from several job threads at once. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define DS_TYPE_STORE (ds_store_get_type ())
G_DECLARE_FINAL_TYPE (DsStore, ds_store, DS, STORE, GObject)

/* A certificate the store knows about. */
typedef struct {
  gint64  id;
  gint64  job_id;
  char   *board_uid;
  char   *serial;          /* upper-case hex */
  char   *fingerprint;     /* SHA-256 of the DER, lower-case hex */
  char   *pubkey_sha256;   /* SHA-256 of the SubjectPublicKeyInfo */
  char   *subject;
  char   *dac_path;
  char   *pai_path;
  GBytes *dac_der;
  GBytes *pai_der;
  gint64  issued_at;       /* unix microseconds */
  gboolean installed;
  gboolean superseded;
} DsCertRecord;

void ds_cert_record_free (DsCertRecord *record);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsCertRecord, ds_cert_record_free)

/* Opens (creating when needed) the SQLite database at @path, or, when @path
 * is a postgresql:// or postgres:// URI, connects to that PostgreSQL
 * database (creating the tables when they are not there yet).  A store
 * written by an older station is migrated to this station's schema, in
 * one transaction; one written by a newer station fails with
 * DS_ERROR_CONFIG and is left as it was. */
DsStore      *ds_store_open                 (const char  *path,
                                             GError     **error);

typedef enum {
  DS_STORE_OPEN_DEFAULT     = 0,
  /* Opens a store whose audit chain is broken, to acknowledge it. */
  DS_STORE_OPEN_ACKNOWLEDGE = 1 << 0,
} DsStoreOpenFlags;

/* As ds_store_open(), with the station key (audit.key, created on first
 * use, mode 0600) and the audit checkpoint in @key_dir: NULL means beside
 * a SQLite file, and for PostgreSQL $DS_AUDIT_KEY_DIR or the user's
 * dac-station data folder.  The audit chain is verified first: a broken
 * one fails with DS_ERROR_REJECTED (unless DS_STORE_OPEN_ACKNOWLEDGE), a
 * chain kept with a key that is not in @key_dir with DS_ERROR_CONFIG. */
DsStore      *ds_store_open_full            (const char        *path,
                                             const char        *key_dir,
                                             DsStoreOpenFlags   flags,
                                             GError           **error);
const char   *ds_store_get_path             (DsStore     *self);

/* Creates a job row (and the board row when new); returns the job id or -1. */
gint64        ds_store_begin_job            (DsStore     *self,
                                             const char  *board_uid,
                                             const char  *port,
                                             const char  *operator_id,
                                             const char  *lot,
                                             const char  *station,
                                             GError     **error);
/* Job rows are created before the UID is known (connect is a step); this
 * fills it in and creates the board row. */
gboolean      ds_store_set_job_board        (DsStore     *self,
                                             gint64       job_id,
                                             const char  *board_uid,
                                             GError     **error);
/* @outcome: "pass", "fail" or "skipped". Times in unix microseconds. */
gboolean      ds_store_record_step          (DsStore     *self,
                                             gint64       job_id,
                                             const char  *step,
                                             const char  *outcome,
                                             gint64       started_us,
                                             gint64       finished_us,
                                             const char  *error_code,
                                             const char  *error_message,
                                             GError     **error);
/* Keeps a step record to be written in the same transaction as the job's
 * next ds_store_record_step() or ds_store_finish_job(): for a step after
 * which the job talks to no board and no CA before that next write, so that
 * batching the two commits loses nothing a crash could need. */
void          ds_store_record_step_later    (DsStore     *self,
                                             gint64       job_id,
                                             const char  *step,
                                             const char  *outcome,
                                             gint64       started_us,
                                             gint64       finished_us,
                                             const char  *error_code,
                                             const char  *error_message);
/* @outcome: "passed", "failed", "already-provisioned" or "cancelled". */
gboolean      ds_store_finish_job           (DsStore     *self,
                                             gint64       job_id,
                                             const char  *outcome,
                                             const char  *failed_step,
                                             const char  *error_code,
                                             const char  *error_message,
                                             GError     **error);
/* Records an issued certificate (the DER is kept in the database too). The
 * id is written to record->id. Fails with DS_ERROR_REJECTED when the public
 * key was already certified, or when the board already has a live
 * (installed, not superseded) certificate. */
gboolean      ds_store_add_certificate      (DsStore      *self,
                                             DsCertRecord *record,
                                             GError      **error);
gboolean      ds_store_mark_installed       (DsStore     *self,
                                             gint64       cert_id,
                                             GError     **error);
gboolean      ds_store_mark_superseded      (DsStore     *self,
                                             gint64       cert_id,
                                             const char  *reason,
                                             GError     **error);
/* The certificate issued for this board and public key that was not yet
 * installed, if any: a DAC issued before a crash, to install on resume
 * instead of asking the CA again.  NULL without error when there is none. */
DsCertRecord *ds_store_find_pending_certificate (DsStore    *self,
                                             const char  *board_uid,
                                             const char  *pubkey_sha256,
                                             GError     **error);
/* The live certificate of a board (installed, not superseded), or NULL. */
DsCertRecord *ds_store_find_board_certificate (DsStore    *self,
                                             const char  *board_uid,
                                             GError     **error);
/* The certificate issued for this public key, for any board and in any
 * state (a key is certified once), or NULL. */
DsCertRecord *ds_store_find_key_certificate (DsStore    *self,
                                             const char  *pubkey_sha256,
                                             GError     **error);
/* The certificate whose @column ("fingerprint" or "serial") is @value, in
 * any state, or NULL. */
DsCertRecord *ds_store_find_certificate_by  (DsStore     *self,
                                             const char  *column,
                                             const char  *value,
                                             GError     **error);
/* Appends to the event log. */
gboolean      ds_store_log_event            (DsStore     *self,
                                             gint64       job_id,
                                             const char  *board_uid,
                                             const char  *kind,
                                             const char  *message,
                                             GError     **error);
/* Jobs whose outcome is still NULL (the station died under them). Marks
 * them "interrupted" and returns how many there were. */
gint          ds_store_close_interrupted_jobs (DsStore   *self,
                                             GError     **error);

/* Walks the audit chain (the events table, each row chained to the one
 * before by HMAC-SHA256 with the station key), compares every job, step,
 * certificate and board with the digest its newest event holds, and the
 * chain's end with the checkpoint beside the key (ds-audit.h).  Returns
 * FALSE only when the chain cannot be read; a break sets *broken_id (> 0)
 * and *reason. */
gboolean      ds_store_verify_audit         (DsStore       *self,
                                             gint64        *n_events,
                                             gint64        *broken_id,
                                             char         **reason,
                                             GError       **error);

/* An engineer's acknowledgement of a broken chain: an event, keyed, that
 * names the operator, the reason and the break, pins every event before it
 * and holds the digest of every row as it is now, so the chain verifies
 * from it on.  Returns its id, or -1; DS_ERROR_REJECTED when the chain is
 * intact. */
gint64        ds_store_acknowledge_audit    (DsStore       *self,
                                             const char    *operator_id,
                                             const char    *reason,
                                             GError       **error);

/* Records @config (a station's configuration, one "key value" per line,
 * nothing secret in it) as a "config-change" event when it differs from the
 * last one recorded for @station, in one transaction.  *@changed says
 * whether an event was written. */
gboolean      ds_store_log_config           (DsStore       *self,
                                             const char    *station,
                                             const char    *config,
                                             gboolean      *changed,
                                             GError       **error);

/* Counts for reports and tests. */
typedef struct {
  gint64 jobs;
  gint64 passed;
  gint64 failed;
  gint64 already_provisioned;
  gint64 certificates;
  gint64 boards;
} DsStoreCounts;

gboolean      ds_store_get_counts           (DsStore       *self,
                                             DsStoreCounts *counts,
                                             GError       **error);

/* Group commit at work: writes that happen at once share a transaction
 * and its fsync, each in a savepoint of its own. */
typedef struct {
  guint64  writes;      /* writes committed or failed */
  guint64  commits;     /* transactions committed */
  guint    waiting;     /* writes queued for the next transaction now */
  gboolean committing;  /* a transaction is being written now */
} DsStoreWriteStats;

void          ds_store_get_write_stats      (DsStore           *self,
                                             DsStoreWriteStats *stats);

/* The settings SQLite reports for the store's own connection, which the
 * durability promise above rests on.  synchronous is per connection, so
 * only the store can tell (for diagnostics and tests).  On PostgreSQL: wal
 * is always TRUE, synchronous is 2 unless synchronous_commit is off (0),
 * busy_timeout_ms is lock_timeout. */
typedef struct {
  gboolean wal;             /* journal_mode is WAL */
  gint     synchronous;     /* 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA */
  gboolean foreign_keys;
  gint     busy_timeout_ms;
  gint     schema_version;  /* PRAGMA user_version; ds_meta on PostgreSQL */
} DsStoreSettings;

gboolean      ds_store_get_settings         (DsStore         *self,
                                             DsStoreSettings *settings,
                                             GError         **error);

G_END_DECLS

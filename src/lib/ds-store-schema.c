/* The record store's schema as numbered migrations, after fwupd's history
 * database: migration N brings a store from version N - 1 to N.  A fresh
 * store runs them all, an older one the ones it misses, both in one
 * transaction with the new version, so a store is always at one version
 * and never half-way between two. */
#include "config.h"

#include "ds-store-schema.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"

/* Advisory lock on PostgreSQL, two-key form: class 'DS' (ds-db.c takes
 * subkey 1 for the writers, the schema's migrations subkey 2). */
#define PG_LOCK_CLASS   17491  /* "DS" */
#define PG_LOCK_SCHEMA  2

typedef struct {
  int         version;
  const char *sqlite;
  const char *pg;
} Migration;

/* Version 1: the tables, the same on both databases but for the types of
 * ids and bytes.  On PostgreSQL the ids come from identity columns, so
 * stations writing at once never get the same one, a job also names the
 * store (owner) that runs it, and ds_meta holds the version. */
#define SCHEMA_1(ID, BLOB, INT, OWNER) \
  "CREATE TABLE boards ("                                                           \
  "  uid TEXT PRIMARY KEY,"                                                         \
  "  first_seen_us " INT " NOT NULL,"                                               \
  "  last_seen_us " INT " NOT NULL);"                                               \
  "CREATE TABLE jobs ("                                                             \
  "  id " ID ","                                                                    \
  "  board_uid TEXT REFERENCES boards(uid),"                                        \
  "  port TEXT,"                                                                    \
  "  operator TEXT,"                                                                \
  "  lot TEXT,"                                                                     \
  "  station TEXT,"                                                                 \
  "  started_us " INT " NOT NULL,"                                                  \
  "  finished_us " INT ","                                                          \
  "  outcome TEXT,"                                                                 \
  "  failed_step TEXT,"                                                             \
  "  error_code TEXT,"                                                              \
  "  error_message TEXT" OWNER ");"                                                 \
  "CREATE INDEX jobs_board ON jobs(board_uid);"                                     \
  "CREATE INDEX jobs_started ON jobs(started_us);"                                  \
  "CREATE TABLE steps ("                                                            \
  "  id " ID ","                                                                    \
  "  job_id " INT " NOT NULL REFERENCES jobs(id),"                                  \
  "  step TEXT NOT NULL,"                                                           \
  "  outcome TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'skipped')),"         \
  "  started_us " INT " NOT NULL,"                                                  \
  "  finished_us " INT " NOT NULL,"                                                 \
  "  error_code TEXT,"                                                              \
  "  error_message TEXT);"                                                          \
  "CREATE INDEX steps_job ON steps(job_id);"                                        \
  "CREATE TABLE certificates ("                                                     \
  "  id " ID ","                                                                    \
  "  job_id " INT " REFERENCES jobs(id),"                                           \
  "  board_uid TEXT NOT NULL REFERENCES boards(uid),"                               \
  "  serial TEXT NOT NULL UNIQUE,"                                                  \
  "  fingerprint TEXT NOT NULL UNIQUE,"                                             \
  "  pubkey_sha256 TEXT NOT NULL UNIQUE,"                                           \
  "  subject TEXT,"                                                                 \
  "  dac_der " BLOB " NOT NULL,"                                                    \
  "  pai_der " BLOB " NOT NULL,"                                                    \
  "  dac_path TEXT,"                                                                \
  "  pai_path TEXT,"                                                                \
  "  issued_us " INT " NOT NULL,"                                                   \
  "  installed INTEGER NOT NULL DEFAULT 0,"                                         \
  "  superseded INTEGER NOT NULL DEFAULT 0,"                                        \
  "  superseded_reason TEXT);"                                                      \
  "CREATE INDEX certificates_board ON certificates(board_uid);"                     \
  "CREATE TABLE events ("                                                           \
  "  id " INT " PRIMARY KEY,"                                                       \
  "  time_us " INT " NOT NULL,"                                                     \
  "  job_id " INT ","                                                               \
  "  board_uid TEXT,"                                                               \
  "  kind TEXT NOT NULL,"                                                           \
  "  message TEXT,"                                                                 \
  "  prev_hash TEXT NOT NULL,"                                                      \
  "  hash TEXT NOT NULL);"

#define SCHEMA_4(ID, INT) \
  "CREATE TABLE serial_sequence ("                                                  \
  "  name TEXT PRIMARY KEY,"                                                        \
  "  last_value " INT " NOT NULL);"                                                 \
  "CREATE TABLE onboarding ("                                                       \
  "  id " ID ","                                                                    \
  "  job_id " INT " NOT NULL UNIQUE REFERENCES jobs(id),"                           \
  "  board_uid TEXT,"                                                               \
  "  serial_number TEXT NOT NULL UNIQUE,"                                            \
  "  seq " INT " NOT NULL,"                                                         \
  "  vid INTEGER NOT NULL,"                                                         \
  "  pid INTEGER NOT NULL,"                                                         \
  "  discriminator INTEGER NOT NULL,"                                               \
  "  iterations INTEGER NOT NULL,"                                                  \
  "  salt TEXT NOT NULL,"                                                           \
  "  verifier TEXT NOT NULL,"                                                       \
  "  passcode INTEGER NOT NULL,"                                                    \
  "  qr TEXT NOT NULL,"                                                             \
  "  manual_code TEXT NOT NULL,"                                                    \
  "  manufacturing_date TEXT NOT NULL,"                                             \
  "  created_us " INT " NOT NULL);"                                                 \
  "CREATE INDEX onboarding_board ON onboarding(board_uid);"

/* Version 5: what a label needs that the onboarding row lacks, one row per
 * onboarding row, written in its transaction.  A table of its own, not a
 * column: the audit digests of the onboarding rows of version 4 cover the
 * columns those rows had, and must keep matching. */
#define SCHEMA_5(INT) \
  "CREATE TABLE onboarding_labels ("                                                \
  "  onboarding_id " INT " PRIMARY KEY REFERENCES onboarding(id),"                  \
  "  product_name TEXT NOT NULL);"

static const Migration migrations[] = {
  { 1,
    SCHEMA_1 ("INTEGER PRIMARY KEY", "BLOB", "INTEGER", ""),
    SCHEMA_1 ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BYTEA", "BIGINT", ", owner INTEGER")
    "CREATE TABLE ds_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "INSERT INTO ds_meta VALUES ('schema_version', '1');" },
  /* Events carry the digests of the rows their write changed, and are
   * keyed (ds-audit.c).  The old events stay as they were; the store
   * anchors the keyed chain after them when it opens. */
  { 2,
    "ALTER TABLE events ADD COLUMN digests TEXT",
    "ALTER TABLE events ADD COLUMN digests TEXT" },
  /* The events of one kind, newest first: the last configuration a
   * station recorded, and the anchors, are read at every start. */
  { 3,
    "CREATE INDEX events_kind ON events(kind, id)",
    "CREATE INDEX events_kind ON events(kind, id)" },
  /* Each job's onboarding data (ds-store-onboarding.c), the passcode
   * included (SECURITY.md says why), and the sequence serial numbers are
   * made from: one row, counted up in the transaction that records the
   * serial number, which the UNIQUE constraint keeps unique. */
  { 4,
    SCHEMA_4 ("INTEGER PRIMARY KEY", "INTEGER"),
    SCHEMA_4 ("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "BIGINT") },
  /* The product name each board's label carries, so that a label can be
   * reprinted from the records (ds-store-onboarding.c). */
  { 5,
    SCHEMA_5 ("INTEGER"),
    SCHEMA_5 ("BIGINT") },
  /* Only the configuration events indexed, newest first: an index of
   * every event by kind put a page of its own into every commit, and one
   * for each kind into a transaction of several writes (group commit),
   * for a lookup the station makes once per start.  The anchors are
   * counted once per chain, when it is keyed, and need none. */
  { 6,
    "DROP INDEX events_kind;"
    "CREATE INDEX events_config ON events(id) WHERE kind = 'config-change'",
    "DROP INDEX events_kind;"
    "CREATE INDEX events_config ON events(id) WHERE kind = 'config-change'" },
};

G_STATIC_ASSERT (G_N_ELEMENTS (migrations) == DS_STORE_SCHEMA_VERSION);

static gboolean
read_int (DsDb       *db,
          const char *sql,
          int        *value,
          GError    **error)
{
  g_autoptr(DsDbRows) rows = ds_db_query (db, sql, NULL, 0, error);
  const char *text;

  if (rows == NULL)
    return FALSE;
  text = ds_db_rows_count (rows) > 0 && ds_db_rows_columns (rows) > 0 ? ds_db_rows_text (rows, 0, 0) : NULL;
  *value = text != NULL ? (int) g_ascii_strtoll (text, NULL, 10) : 0;
  return TRUE;
}

gboolean
ds_store_schema_read_version (DsDb    *db,
                              int     *version,
                              GError **error)
{
  int has_meta = 0;

  if (ds_db_get_kind (db) == DS_DB_SQLITE)
    return read_int (db, "PRAGMA user_version", version, error);
  /* A query of the catalog, not to_regclass(): that may answer from a
   * cache that has not yet seen the table another station just created. */
  if (!read_int (db, "SELECT count(*) FROM pg_catalog.pg_tables "
                     "WHERE schemaname = current_schema() AND tablename = 'ds_meta'", &has_meta, error))
    return FALSE;
  if (has_meta == 0)
    {
      *version = 0;
      return TRUE;
    }
  return read_int (db, "SELECT value FROM ds_meta WHERE key = 'schema_version'", version, error);
}

static gboolean
check_not_newer (DsDb    *db,
                 int      version,
                 GError **error)
{
  if (version <= DS_STORE_SCHEMA_VERSION)
    return TRUE;
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
               _("Record store %s has schema version %d; this station knows version %d: "
                 "use a station as new as the one that wrote it"),
               ds_db_get_name (db), version, DS_STORE_SCHEMA_VERSION);
  return FALSE;
}

/* Runs the migrations after @from and records the new version, inside the
 * caller's transaction. */
static gboolean
run_migrations (DsDb    *db,
                int      from,
                int      to,
                GError **error)
{
  gboolean pg = ds_db_get_kind (db) == DS_DB_POSTGRES;
  g_autofree char *set_version = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (migrations); i++)
    {
      const Migration *m = &migrations[i];

      if (m->version <= from || m->version > to)
        continue;
      g_debug ("Record store %s: migrating to schema version %d", ds_db_get_name (db), m->version);
      if (!ds_db_exec (db, pg ? m->pg : m->sqlite, error))
        {
          g_prefix_error (error, _("Record store %s cannot be brought to schema version %d, and is left as it "
                                   "was: "), ds_db_get_name (db), m->version);
          return FALSE;
        }
    }
  set_version = pg ? g_strdup_printf ("UPDATE ds_meta SET value = '%d' WHERE key = 'schema_version'", to)
                   : g_strdup_printf ("PRAGMA user_version = %d", to);
  return ds_db_exec (db, set_version, error);
}

gboolean
ds_store_schema_migrate (DsDb    *db,
                         GError **error)
{
  return ds_store_schema_migrate_to (db, DS_STORE_SCHEMA_VERSION, error);
}

gboolean
ds_store_schema_migrate_to (DsDb    *db,
                            int      to,
                            GError **error)
{
  gboolean pg = ds_db_get_kind (db) == DS_DB_POSTGRES;
  int version = 0;

  g_return_val_if_fail (to >= 1 && to <= DS_STORE_SCHEMA_VERSION, FALSE);

  if (!ds_store_schema_read_version (db, &version, error) || !check_not_newer (db, version, error))
    return FALSE;
  if (version >= to)
    return TRUE;

  /* Several stations may start at once: the migrations run under a lock,
   * and the version is read again under it, since another station may
   * have migrated the store while this one waited. */
  if (!ds_db_exec (db, pg ? "BEGIN; SELECT pg_advisory_xact_lock(" G_STRINGIFY (PG_LOCK_CLASS) ", "
                            G_STRINGIFY (PG_LOCK_SCHEMA) ")"
                          : "BEGIN IMMEDIATE", error) ||
      !ds_store_schema_read_version (db, &version, error) ||
      !check_not_newer (db, version, error) ||
      (version < to && !run_migrations (db, version, to, error)) ||
      !ds_db_commit (db, error))
    {
      ds_db_rollback (db);
      return FALSE;
    }
  return TRUE;
}

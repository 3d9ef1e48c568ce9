/* The record store's schema: numbered migrations, applied in order.
 * Private to the library and its tests; it works on a DsDb and knows
 * nothing of the audit chain, so ds-audit.c can ask which version a
 * database holds. */
#pragma once

#include <glib.h>

#include "ds-db.h"

G_BEGIN_DECLS

/* The version the newest migration writes; a store at a higher one was
 * written by a newer station and is refused. */
#define DS_STORE_SCHEMA_VERSION 6

/* The schema version of @db: PRAGMA user_version on SQLite, the ds_meta
 * table on PostgreSQL; 0 when there is no schema yet. */
gboolean  ds_store_schema_read_version (DsDb     *db,
                                        int      *version,
                                        GError  **error);

/* Brings @db to DS_STORE_SCHEMA_VERSION: runs every migration after the
 * version it holds, in order, in one write transaction (under an advisory
 * lock on PostgreSQL, as several stations may start at once), and records
 * the new version in the same transaction.  A migration that fails rolls
 * all of them back: the store is left as it was.  A store of a newer
 * version fails with DS_ERROR_CONFIG and is not written to. */
gboolean  ds_store_schema_migrate      (DsDb     *db,
                                        GError  **error);
/* The same, up to @version only (tests make an older store with it). */
gboolean  ds_store_schema_migrate_to   (DsDb     *db,
                                        int       version,
                                        GError  **error);

G_END_DECLS

/* The SQL connection under the record store and its readers: SQLite (a
 * file path) or PostgreSQL (a postgresql:// URI) behind one small API, so
 * the queries are written once.  Private to the library and its tests. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  DS_DB_SQLITE,
  DS_DB_POSTGRES,
} DsDbKind;

typedef struct _DsDb     DsDb;
typedef struct _DsDbRows DsDbRows;

typedef enum {
  DS_DB_NULL,
  DS_DB_INT,
  DS_DB_TEXT,
  DS_DB_BLOB,
} DsDbType;

/* One query parameter; build them with the macros below. */
typedef struct {
  DsDbType    type;
  gint64      i;
  const char *s;
  GBytes     *b;
} DsDbValue;

#define DB_NULL         ((DsDbValue) { DS_DB_NULL, 0, NULL, NULL })
#define DB_INT(v)       ((DsDbValue) { DS_DB_INT, (v), NULL, NULL })
/* NULL when @v is not a positive id. */
#define DB_ID(v)        ((v) > 0 ? DB_INT (v) : DB_NULL)
#define DB_TEXT(v)      ((DsDbValue) { (v) != NULL ? DS_DB_TEXT : DS_DB_NULL, 0, (v), NULL })
#define DB_BLOB(v)      ((DsDbValue) { DS_DB_BLOB, 0, NULL, (v) })
/* Expands to the two arguments (array, count) that ds_db_query takes. */
#define DB_PARAMS(...)  (const DsDbValue[]) { __VA_ARGS__ }, \
                        G_N_ELEMENTS (((const DsDbValue[]) { __VA_ARGS__ }))

/* TRUE for postgresql:// and postgres:// URIs. */
gboolean     ds_db_is_uri       (const char      *path_or_uri);
/* A path or URI fit for messages: the password, if any, is hidden. */
char        *ds_db_display_name (const char      *path_or_uri);

/* Opens a SQLite file (created when @read_only is FALSE) or connects to
 * PostgreSQL.  Read-only connections refuse to write. */
DsDb        *ds_db_open         (const char      *path_or_uri,
                                 gboolean         read_only,
                                 GError         **error);
void         ds_db_close        (DsDb            *db);
DsDbKind     ds_db_get_kind     (DsDb            *db);
/* The path or URI as given to ds_db_open, with the password hidden. */
const char  *ds_db_get_name     (DsDb            *db);

/* Runs statements without parameters (several, separated by ';'). */
gboolean     ds_db_exec         (DsDb            *db,
                                 const char      *sql,
                                 GError         **error);
/* Runs one statement with ?N or ? parameters (SQLite's syntax; rewritten to
 * $N for PostgreSQL) and returns all its rows. */
DsDbRows    *ds_db_query        (DsDb            *db,
                                 const char      *sql,
                                 const DsDbValue *params,
                                 gsize            n_params,
                                 GError         **error);

/* A write transaction that no other writer, in this process or another,
 * runs beside: BEGIN IMMEDIATE on SQLite; on PostgreSQL BEGIN and a
 * transaction-level advisory lock that every station takes. */
gboolean     ds_db_begin_write  (DsDb            *db,
                                 GError         **error);
gboolean     ds_db_commit       (DsDb            *db,
                                 GError         **error);
void         ds_db_rollback     (DsDb            *db);
/* TRUE while a transaction is open and usable: FALSE once SQLite rolled it
 * back by itself (a full disk, an I/O error) or PostgreSQL aborted it. */
gboolean     ds_db_in_transaction (DsDb          *db);

guint        ds_db_rows_count   (DsDbRows        *rows);
guint        ds_db_rows_columns (DsDbRows        *rows);
const char  *ds_db_rows_name    (DsDbRows        *rows,
                                 guint            column);
/* NULL for SQL NULL. */
const char  *ds_db_rows_text    (DsDbRows        *rows,
                                 guint            row,
                                 guint            column);
/* 0 for NULL; booleans are 0 and 1. */
gint64       ds_db_rows_int     (DsDbRows        *rows,
                                 guint            row,
                                 guint            column);
GBytes      *ds_db_rows_bytes   (DsDbRows        *rows,
                                 guint            row,
                                 guint            column);
/* Rows changed by an INSERT, UPDATE or DELETE. */
gint64       ds_db_rows_changed (DsDbRows        *rows);
void         ds_db_rows_free    (DsDbRows        *rows);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsDb, ds_db_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsDbRows, ds_db_rows_free)

G_END_DECLS

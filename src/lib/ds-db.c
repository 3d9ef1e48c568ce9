/* One SQL connection, SQLite or PostgreSQL (libpq), behind one small API. */
#include "config.h"

#include "ds-db.h"

#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "ds-error.h"

/* The advisory lock every writing station takes on PostgreSQL (two-key
 * form: 'DS' and 1), the PostgreSQL counterpart of SQLite's one writer. */
#define PG_LOCK_CLASS   17491  /* "DS"; decimal, as PostgreSQL 15 reads no hex */
#define PG_LOCK_WRITER  1

#define PG_OID_INT8   20
#define PG_OID_TEXT   25
#define PG_OID_BYTEA  17

struct _DsDb
{
  DsDbKind  kind;
  char     *name;
  sqlite3  *sqlite;
  PGconn   *pg;
  /* SQLite statements by SQL text, prepared once: a job's writes repeat
   * the same dozen statements, and parsing SQL cost more than running it. */
  GHashTable *stmts;
};

/* Beyond this many different statements the cache starts over. */
#define MAX_STMTS 64

typedef struct {
  char  *data;   /* NUL-terminated; NULL for SQL NULL */
  gsize  len;
} Cell;

struct _DsDbRows
{
  GPtrArray *names;
  GArray    *cells;  /* Cell, row-major */
  guint      n_rows;
  gint64     changed;
};

gboolean
ds_db_is_uri (const char *path_or_uri)
{
  return path_or_uri != NULL &&
         (g_str_has_prefix (path_or_uri, "postgresql://") || g_str_has_prefix (path_or_uri, "postgres://"));
}

/* TRUE for a URI query keyword that libpq takes as a password (password,
 * sslpassword), percent-encoded or not, as libpq decodes it. */
static gboolean
is_password_keyword (const char *keyword,
                     gsize       len)
{
  g_autofree char *raw = g_strndup (keyword, len);
  g_autofree char *decoded = g_uri_unescape_string (raw, NULL);
  g_autofree char *lower = g_ascii_strdown (decoded != NULL ? decoded : raw, -1);

  /* A keyword that does not decode is masked too: better too much. */
  return decoded == NULL || strstr (lower, "password") != NULL;
}

char *
ds_db_display_name (const char *path_or_uri)
{
  g_autoptr(GString) s = NULL;
  const char *rest, *p, *query;

  if (!ds_db_is_uri (path_or_uri))
    return g_strdup (path_or_uri);
  s = g_string_new (NULL);
  rest = strstr (path_or_uri, "://") + 3;
  g_string_append_len (s, path_or_uri, rest - path_or_uri);

  /* user:password@, found as libpq finds it: the first '@' before any '/'
   * (a '?' in the password does not end it). */
  p = rest + strcspn (rest, "@/");
  if (*p == '@')
    {
      const char *colon = memchr (rest, ':', p - rest);

      if (colon != NULL)
        {
          g_string_append_len (s, rest, colon + 1 - rest);
          g_string_append (s, "***");
        }
      else
        g_string_append_len (s, rest, p - rest);
      rest = p;
    }

  /* Every password keyword among the query parameters, each time it
   * occurs: libpq takes the last. */
  query = strchr (rest, '?');
  if (query == NULL)
    {
      g_string_append (s, rest);
      return g_string_free (g_steal_pointer (&s), FALSE);
    }
  g_string_append_len (s, rest, query + 1 - rest);
  p = query + 1;
  for (;;)
    {
      gsize len = strcspn (p, "&");
      const char *eq = memchr (p, '=', len);

      if (eq != NULL && is_password_keyword (p, eq - p))
        {
          g_string_append_len (s, p, eq + 1 - p);
          g_string_append (s, "***");
        }
      else
        g_string_append_len (s, p, len);
      p += len;
      if (*p == '\0')
        break;
      g_string_append_c (s, *p++);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static void
ignore_notice (void       *arg,
               const char *message)
{
  g_debug ("PostgreSQL: %s", message);
}

static gboolean
pg_error (DsDb      *db,
          GError   **error,
          PGresult  *res)
{
  const char *msg = res != NULL ? PQresultErrorMessage (res) : NULL;
  g_autofree char *text = g_strdup (msg != NULL && *msg != '\0' ? msg : PQerrorMessage (db->pg));

  g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s"), db->name, g_strstrip (text));
  return FALSE;
}

/* What an operator can do about a failed write: SQLite says "disk I/O
 * error" for a full disk or a file-size limit as for a failing disk. */
static const char *
sqlite_hint (sqlite3 *sqlite)
{
  switch (sqlite3_extended_errcode (sqlite))
    {
    case SQLITE_FULL:
    case SQLITE_IOERR_WRITE:
    case SQLITE_IOERR_FSYNC:
    case SQLITE_IOERR_SHMSIZE:
    case SQLITE_IOERR_TRUNCATE:
      return _(" (is the disk full?)");
    default:
      return "";
    }
}

static gboolean
sqlite_error (DsDb    *db,
              GError **error)
{
  g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s%s"), db->name,
               sqlite3_errmsg (db->sqlite), sqlite_hint (db->sqlite));
  return FALSE;
}

/* A WAL database needs its -shm file to be read, and creates it when it is
 * not there: in a folder this process cannot write (a read-only mount, an
 * archive) that fails.  When no writer left records in the -wal file,
 * the main file holds everything, and it is read as immutable: no -shm,
 * no locks.  A -wal that holds records is never skipped. */
static gboolean
sqlite_readable (DsDb       *db,
                 const char *path,
                 GError    **error)
{
  g_autofree char *wal = g_strconcat (path, "-wal", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *escaped = NULL;
  g_autofree char *uri = NULL;
  GStatBuf st;

  if (sqlite3_exec (db->sqlite, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) == SQLITE_OK)
    return TRUE;
  if (g_access (path, R_OK) != 0 || g_access (dir, W_OK) == 0 ||
      ((sqlite3_errcode (db->sqlite) & 0xff) != SQLITE_CANTOPEN && (sqlite3_errcode (db->sqlite) & 0xff) != SQLITE_READONLY))
    return TRUE;  /* The first query says what is wrong. */
  if (g_stat (wal, &st) == 0 && st.st_size > 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO,
                   _("Cannot read the record store %s: its folder is read-only and %s still holds records; "
                     "copy both files to a folder that can be written"), db->name, wal);
      return FALSE;
    }
  sqlite3_close_v2 (db->sqlite);
  db->sqlite = NULL;
  escaped = g_uri_escape_string (path, "/", FALSE);
  uri = g_strconcat ("file:", escaped, "?mode=ro&immutable=1", NULL);
  if (sqlite3_open_v2 (uri, &db->sqlite, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_FULLMUTEX,
                       NULL) != SQLITE_OK)
    return sqlite_error (db, error);
  sqlite3_extended_result_codes (db->sqlite, 1);
  g_debug ("Reading %s as immutable: its folder is read-only", db->name);
  return TRUE;
}

DsDb *
ds_db_open (const char *path_or_uri,
            gboolean    read_only,
            GError    **error)
{
  g_autoptr(DsDb) db = g_new0 (DsDb, 1);

  g_return_val_if_fail (path_or_uri != NULL, NULL);

  db->name = ds_db_display_name (path_or_uri);
  if (ds_db_is_uri (path_or_uri))
    {
      db->kind = DS_DB_POSTGRES;
      db->pg = PQconnectdb (path_or_uri);
      if (PQstatus (db->pg) != CONNECTION_OK)
        {
          g_autofree char *msg = g_strdup (PQerrorMessage (db->pg));
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot connect to the record store %s: %s"), db->name,
                       g_strstrip (msg));
          return NULL;
        }
      PQsetNoticeProcessor (db->pg, ignore_notice, NULL);
      /* synchronous_commit=on: COMMIT returns only once the WAL is flushed
       * on the server (and on synchronous standbys), whatever the server's
       * default; the counterpart of SQLite's synchronous=FULL.  A writer
       * that waits longer than lock_timeout for another fails its step
       * instead of hanging the station. */
      if (!ds_db_exec (db, "SET synchronous_commit = on; SET lock_timeout = '30s'; "
                           "SET client_min_messages = warning", error))
        return NULL;
      if (read_only && !ds_db_exec (db, "SET default_transaction_read_only = on", error))
        return NULL;
      return g_steal_pointer (&db);
    }

  db->kind = DS_DB_SQLITE;
  if (sqlite3_open_v2 (path_or_uri, &db->sqlite,
                       (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
                       SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot open the record store %s: %s"), db->name,
                   db->sqlite != NULL ? sqlite3_errmsg (db->sqlite) : "out of memory");
      return NULL;
    }
  /* Other station processes (and report readers) may hold the write lock
   * for a moment; wait for them rather than fail a job. */
  sqlite3_busy_timeout (db->sqlite, 5000);
  sqlite3_extended_result_codes (db->sqlite, 1);
  if (read_only && !sqlite_readable (db, path_or_uri, error))
    return NULL;
  return g_steal_pointer (&db);
}

void
ds_db_close (DsDb *db)
{
  if (db == NULL)
    return;
  g_clear_pointer (&db->stmts, g_hash_table_unref);
  if (db->sqlite != NULL)
    sqlite3_close_v2 (db->sqlite);
  if (db->pg != NULL)
    PQfinish (db->pg);
  g_free (db->name);
  g_free (db);
}

DsDbKind
ds_db_get_kind (DsDb *db)
{
  return db->kind;
}

const char *
ds_db_get_name (DsDb *db)
{
  return db->name;
}

gboolean
ds_db_exec (DsDb       *db,
            const char *sql,
            GError    **error)
{
  if (db->kind == DS_DB_POSTGRES)
    {
      PGresult *res = PQexec (db->pg, sql);
      ExecStatusType st = PQresultStatus (res);
      gboolean ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;

      if (!ok)
        pg_error (db, error, res);
      PQclear (res);
      return ok;
    }
  else
    {
      char *msg = NULL;

      if (sqlite3_exec (db->sqlite, sql, NULL, NULL, &msg) != SQLITE_OK)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: %s%s"), db->name,
                       msg != NULL ? msg : sqlite3_errmsg (db->sqlite), sqlite_hint (db->sqlite));
          sqlite3_free (msg);
          return FALSE;
        }
      return TRUE;
    }
}

/* ?N stays N, a bare ? takes the next number; quoted text is left alone. */
static char *
to_pg_placeholders (const char *sql)
{
  GString *out = g_string_sized_new (strlen (sql) + 16);
  gboolean quoted = FALSE;
  int next = 1;

  for (const char *p = sql; *p != '\0'; p++)
    {
      if (*p == '\'')
        quoted = !quoted;
      if (quoted || *p != '?')
        {
          g_string_append_c (out, *p);
          continue;
        }
      g_string_append_c (out, '$');
      if (g_ascii_isdigit (p[1]))
        {
          char *end = NULL;
          next = (int) strtol (p + 1, &end, 10) + 1;
          g_string_append_len (out, p + 1, end - (p + 1));
          p = end - 1;
        }
      else
        g_string_append_printf (out, "%d", next++);
    }
  return g_string_free (out, FALSE);
}

static DsDbRows *
rows_new (void)
{
  DsDbRows *rows = g_new0 (DsDbRows, 1);

  rows->names = g_ptr_array_new_with_free_func (g_free);
  rows->cells = g_array_new (FALSE, TRUE, sizeof (Cell));
  return rows;
}

static DsDbRows *
pg_query (DsDb            *db,
          const char      *sql,
          const DsDbValue *params,
          gsize            n_params,
          GError         **error)
{
  g_autofree char *pg_sql = to_pg_placeholders (sql);
  g_autofree Oid *types = g_new0 (Oid, n_params + 1);
  g_autofree const char **values = g_new0 (const char *, n_params + 1);
  g_autofree int *lengths = g_new0 (int, n_params + 1);
  g_autofree int *formats = g_new0 (int, n_params + 1);
  g_autoptr(GPtrArray) ints = g_ptr_array_new_with_free_func (g_free);
  DsDbRows *rows;
  PGresult *res;
  ExecStatusType st;
  int n_rows, n_cols;

  for (gsize i = 0; i < n_params; i++)
    {
      switch (params[i].type)
        {
        case DS_DB_NULL:
          break;
        case DS_DB_INT:
          types[i] = PG_OID_INT8;
          values[i] = g_strdup_printf ("%" G_GINT64_FORMAT, params[i].i);
          g_ptr_array_add (ints, (gpointer) values[i]);
          break;
        case DS_DB_TEXT:
          types[i] = PG_OID_TEXT;
          values[i] = params[i].s;
          break;
        case DS_DB_BLOB:
          {
            gsize len = 0;
            const char *data = params[i].b != NULL ? g_bytes_get_data (params[i].b, &len) : NULL;

            types[i] = PG_OID_BYTEA;
            values[i] = data != NULL ? data : "";
            lengths[i] = (int) len;
            formats[i] = 1;
          }
          break;
        }
    }

  res = PQexecParams (db->pg, pg_sql, (int) n_params, types, values, lengths, formats, 0);
  st = PQresultStatus (res);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
    {
      pg_error (db, error, res);
      PQclear (res);
      return NULL;
    }
  rows = rows_new ();
  n_rows = PQntuples (res);
  n_cols = PQnfields (res);
  rows->n_rows = n_rows;
  rows->changed = g_ascii_strtoll (PQcmdTuples (res), NULL, 10);
  for (int c = 0; c < n_cols; c++)
    g_ptr_array_add (rows->names, g_strdup (PQfname (res, c)));
  for (int r = 0; r < n_rows; r++)
    for (int c = 0; c < n_cols; c++)
      {
        Cell cell = { NULL, 0 };

        if (!PQgetisnull (res, r, c))
          {
            if (PQftype (res, c) == PG_OID_BYTEA)
              {
                size_t len = 0;
                unsigned char *raw = PQunescapeBytea ((const unsigned char *) PQgetvalue (res, r, c), &len);

                cell.data = g_malloc (len + 1);
                memcpy (cell.data, raw, len);
                cell.data[len] = '\0';
                cell.len = len;
                PQfreemem (raw);
              }
            else
              {
                cell.len = PQgetlength (res, r, c);
                cell.data = g_strndup (PQgetvalue (res, r, c), cell.len);
              }
          }
        g_array_append_val (rows->cells, cell);
      }
  PQclear (res);
  return rows;
}

static void
finalize_stmt (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static DsDbRows *
sqlite_query (DsDb            *db,
              const char      *sql,
              const DsDbValue *params,
              gsize            n_params,
              GError         **error)
{
  sqlite3_stmt *stmt = NULL;
  DsDbRows *rows;
  int rc, n_cols;

  if (db->stmts == NULL)
    db->stmts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, finalize_stmt);
  stmt = g_hash_table_lookup (db->stmts, sql);
  if (stmt == NULL)
    {
      if (sqlite3_prepare_v3 (db->sqlite, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, NULL) != SQLITE_OK)
        {
          sqlite_error (db, error);
          return NULL;
        }
      if (g_hash_table_size (db->stmts) >= MAX_STMTS)
        g_hash_table_remove_all (db->stmts);
      g_hash_table_insert (db->stmts, g_strdup (sql), stmt);
    }
  for (gsize i = 0; i < n_params; i++)
    {
      int idx = (int) i + 1;

      switch (params[i].type)
        {
        case DS_DB_NULL:
          sqlite3_bind_null (stmt, idx);
          break;
        case DS_DB_INT:
          sqlite3_bind_int64 (stmt, idx, params[i].i);
          break;
        case DS_DB_TEXT:
          sqlite3_bind_text (stmt, idx, params[i].s, -1, SQLITE_TRANSIENT);
          break;
        case DS_DB_BLOB:
          {
            gsize len = 0;
            const void *data = params[i].b != NULL ? g_bytes_get_data (params[i].b, &len) : NULL;

            if (data != NULL)
              sqlite3_bind_blob (stmt, idx, data, (int) len, SQLITE_TRANSIENT);
            else
              sqlite3_bind_zeroblob (stmt, idx, 0);
          }
          break;
        }
    }

  rows = rows_new ();
  n_cols = sqlite3_column_count (stmt);
  for (int c = 0; c < n_cols; c++)
    g_ptr_array_add (rows->names, g_strdup (sqlite3_column_name (stmt, c)));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      for (int c = 0; c < n_cols; c++)
        {
          Cell cell = { NULL, 0 };
          int type = sqlite3_column_type (stmt, c);

          if (type == SQLITE_BLOB)
            {
              const void *blob = sqlite3_column_blob (stmt, c);

              cell.len = sqlite3_column_bytes (stmt, c);
              cell.data = g_malloc (cell.len + 1);
              if (cell.len > 0)
                memcpy (cell.data, blob, cell.len);
              cell.data[cell.len] = '\0';
            }
          else if (type != SQLITE_NULL)
            {
              const char *text = (const char *) sqlite3_column_text (stmt, c);

              cell.len = sqlite3_column_bytes (stmt, c);
              cell.data = g_strndup (text, cell.len);
            }
          g_array_append_val (rows->cells, cell);
        }
      rows->n_rows++;
    }
  if (rc != SQLITE_DONE)
    {
      sqlite_error (db, error);
      sqlite3_reset (stmt);
      sqlite3_clear_bindings (stmt);
      ds_db_rows_free (rows);
      return NULL;
    }
  rows->changed = sqlite3_stmt_readonly (stmt) ? 0 : sqlite3_changes (db->sqlite);
  /* Done with: no read lock or bound copy outlives the call. */
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
  return rows;
}

DsDbRows *
ds_db_query (DsDb            *db,
             const char      *sql,
             const DsDbValue *params,
             gsize            n_params,
             GError         **error)
{
  if (db->kind == DS_DB_POSTGRES)
    return pg_query (db, sql, params, n_params, error);
  return sqlite_query (db, sql, params, n_params, error);
}

gboolean
ds_db_begin_write (DsDb    *db,
                   GError **error)
{
  if (db->kind == DS_DB_SQLITE)
    return ds_db_exec (db, "BEGIN IMMEDIATE", error);

  /* A connection the server dropped (a restart, a network cut) is made
   * again before a transaction, never inside one. */
  if (PQstatus (db->pg) != CONNECTION_OK)
    {
      PQreset (db->pg);
      if (PQstatus (db->pg) != CONNECTION_OK ||
          !ds_db_exec (db, "SET synchronous_commit = on; SET lock_timeout = '30s'", error))
        return pg_error (db, error, NULL);
    }
  /* Every write extends the audit chain, whose next link depends on the
   * last one: one writer at a time across all stations keeps it linear. */
  if (!ds_db_exec (db, "BEGIN; SELECT pg_advisory_xact_lock(" G_STRINGIFY (PG_LOCK_CLASS) ", "
                       G_STRINGIFY (PG_LOCK_WRITER) ")", error))
    {
      ds_db_rollback (db);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_db_commit (DsDb    *db,
              GError **error)
{
  if (db->kind == DS_DB_POSTGRES)
    {
      /* COMMIT of an aborted transaction rolls it back and still answers
       * PGRES_COMMAND_OK: only the command tag tells. */
      PGresult *res = PQexec (db->pg, "COMMIT");
      gboolean ok = PQresultStatus (res) == PGRES_COMMAND_OK && g_strcmp0 (PQcmdStatus (res), "COMMIT") == 0;

      if (!ok && PQresultStatus (res) == PGRES_COMMAND_OK)
        g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Record store %s: the transaction was rolled back"), db->name);
      else if (!ok)
        pg_error (db, error, res);
      PQclear (res);
      return ok;
    }
  return ds_db_exec (db, "COMMIT", error);
}

gboolean
ds_db_in_transaction (DsDb *db)
{
  if (db->kind == DS_DB_POSTGRES)
    return PQtransactionStatus (db->pg) == PQTRANS_INTRANS;
  return sqlite3_get_autocommit (db->sqlite) == 0;
}

void
ds_db_rollback (DsDb *db)
{
  ds_db_exec (db, "ROLLBACK", NULL);
}

guint
ds_db_rows_count (DsDbRows *rows)
{
  return rows->n_rows;
}

guint
ds_db_rows_columns (DsDbRows *rows)
{
  return rows->names->len;
}

const char *
ds_db_rows_name (DsDbRows *rows,
                 guint     column)
{
  g_return_val_if_fail (column < rows->names->len, NULL);
  return g_ptr_array_index (rows->names, column);
}

static Cell *
cell_at (DsDbRows *rows,
         guint     row,
         guint     column)
{
  g_return_val_if_fail (row < rows->n_rows && column < rows->names->len, NULL);
  return &g_array_index (rows->cells, Cell, row * rows->names->len + column);
}

const char *
ds_db_rows_text (DsDbRows *rows,
                 guint     row,
                 guint     column)
{
  Cell *cell = cell_at (rows, row, column);

  return cell != NULL ? cell->data : NULL;
}

gint64
ds_db_rows_int (DsDbRows *rows,
                guint     row,
                guint     column)
{
  const char *text = ds_db_rows_text (rows, row, column);

  if (text == NULL)
    return 0;
  /* PostgreSQL's booleans, as SQLite's 0 and 1 */
  if (g_str_equal (text, "t"))
    return 1;
  return g_ascii_strtoll (text, NULL, 10);
}

GBytes *
ds_db_rows_bytes (DsDbRows *rows,
                  guint     row,
                  guint     column)
{
  Cell *cell = cell_at (rows, row, column);

  if (cell == NULL || cell->data == NULL)
    return g_bytes_new (NULL, 0);
  return g_bytes_new (cell->data, cell->len);
}

gint64
ds_db_rows_changed (DsDbRows *rows)
{
  return rows->changed;
}

void
ds_db_rows_free (DsDbRows *rows)
{
  if (rows == NULL)
    return;
  for (guint i = 0; i < rows->cells->len; i++)
    g_free (g_array_index (rows->cells, Cell, i).data);
  g_array_unref (rows->cells);
  g_ptr_array_unref (rows->names);
  g_free (rows);
}

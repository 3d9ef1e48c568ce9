/* The audit chain of the record store: the station key, the keyed event
 * hash, row digests, the checkpoint file and verification. */
#include "config.h"

#include "ds-audit.h"
#include "ds-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds-db.h"
#include "ds-error.h"
#include "ds-store-schema.h"

#define KEY_FILE   "audit.key"
#define KEY_BYTES  32
#define CHECKPOINT_MAGIC "dac-station audit checkpoint 1"

/* Verification reads the chain and the rows a page at a time, in key
 * order, so that a long chain is never held in memory whole. */
#define PAGE_ROWS  128

static const struct {
  const char *table;
  const char *columns;
  const char *key;       /* the first column, which names the row */
  gboolean    text_key;
  int         since;     /* the schema version that made the table */
} audited[] = {
  { "boards", DS_AUDIT_BOARDS_COLUMNS, "uid", TRUE, 1 },
  { "jobs", DS_AUDIT_JOBS_COLUMNS, "id", FALSE, 1 },
  { "steps", DS_AUDIT_STEPS_COLUMNS, "id", FALSE, 1 },
  { "certificates", DS_AUDIT_CERTS_COLUMNS, "id", FALSE, 1 },
  { "onboarding", DS_AUDIT_ONBOARDING_COLUMNS, "id", FALSE, 4 },
  { "onboarding_labels", DS_AUDIT_ONBOARDING_LABELS_COLUMNS, "onboarding_id", FALSE, 5 },
};

/* The schema version of @db, for the tables it has: a store that was not
 * migrated yet (verified read-only) lacks the newer ones. */
static gboolean
schema_version (DsDb    *db,
                int     *version,
                GError **error)
{
  return ds_store_schema_read_version (db, version, error);
}

char *
ds_audit_default_key_dir (const char *db_path)
{
  const char *env;

  if (!ds_db_is_uri (db_path))
    return g_path_get_dirname (db_path);
  env = g_getenv ("DS_AUDIT_KEY_DIR");
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "dac-station", NULL);
}

char *
ds_audit_key_path (const char *dir)
{
  return g_build_filename (dir, KEY_FILE, NULL);
}

/* Refuses a file that anybody but its owner may read or write. */
static gboolean
check_private (int         fd,
               const char *path,
               GError    **error)
{
  struct stat st;

  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  if ((st.st_mode & 077) != 0)
    {
      g_autofree char *mode = g_strdup_printf ("%04o", (unsigned) (st.st_mode & 07777));
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The station key %s has mode %s: others may read it; make it 0600 (chmod 600) and "
                     "check that nobody copied it"), path, mode);
      return FALSE;
    }
  return TRUE;
}

static GBytes *
read_key (int         fd,
          const char *path,
          GError    **error)
{
  char text[2 * KEY_BYTES + 2] = { 0 };
  guint8 key[KEY_BYTES];
  ssize_t n;

  if (!check_private (fd, path, error))
    return NULL;
  n = read (fd, text, sizeof text - 1);
  if (n >= 2 * KEY_BYTES)
    {
      for (int i = 0; i < KEY_BYTES; i++)
        {
          int hi = g_ascii_xdigit_value (text[2 * i]);
          int lo = g_ascii_xdigit_value (text[2 * i + 1]);

          if (hi < 0 || lo < 0)
            {
              n = -1;
              break;
            }
          key[i] = (guint8) (hi << 4 | lo);
        }
      if (n > 0)
        return g_bytes_new (key, sizeof key);
    }
  g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The station key %s is damaged: it is not 64 hex digits"),
               path);
  return NULL;
}

/* Puts @len bytes at @path only if nothing is there, and whole: a reader
 * never sees the file empty or half written, which a create followed by a
 * write would show a station that opens the same store at that moment.
 * 0 when published, EEXIST when a file was there first, else the errno. */
static int
publish_new_file (const char *path,
                  const void *data,
                  gsize       len,
                  gboolean    sync)
{
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  int fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, 0600);
  int errsv = 0;

  if (fd < 0)
    return errno;
  if (write (fd, data, len) != (ssize_t) len || (sync && fsync (fd) != 0))
    errsv = errno != 0 ? errno : EIO;
  if (close (fd) != 0 && errsv == 0)
    errsv = errno;
  if (errsv == 0 && link (tmp, path) != 0)
    errsv = errno;
  g_unlink (tmp);
  return errsv;
}

GBytes *
ds_audit_key_load (const char *dir,
                   gboolean    create,
                   GError    **error)
{
  g_autofree char *path = ds_audit_key_path (dir);
  guint8 key[KEY_BYTES];
  g_autoptr(GString) text = g_string_new (NULL);
  GBytes *bytes;
  int fd;
  int errsv;

  fd = open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0)
    {
      bytes = read_key (fd, path, error);
      close (fd);
      return bytes;
    }
  if (errno != ENOENT)
    {
      errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot read the station key %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  if (!create)
    return NULL;

  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      getrandom (key, sizeof key, 0) != (ssize_t) sizeof key)
    {
      errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot make the station key %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  for (gsize i = 0; i < sizeof key; i++)
    g_string_append_printf (text, "%02x", key[i]);
  g_string_append_c (text, '\n');
  /* Two stations starting at once keep the key that was there first,
   * never half of each. */
  errsv = publish_new_file (path, text->str, text->len, TRUE);
  if (errsv == EEXIST)
    return ds_audit_key_load (dir, FALSE, error);
  if (errsv != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the station key %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  g_debug ("Made a new station key for the audit chain: %s", path);
  return g_bytes_new (key, sizeof key);
}

char *
ds_audit_checkpoint_path (const char *key_dir,
                          const char *db_path)
{
  g_autofree char *name = NULL;

  if (!ds_db_is_uri (db_path))
    {
      g_autofree char *base = g_path_get_basename (db_path);
      name = g_strconcat (base, ".audit-checkpoint", NULL);
    }
  else
    {
      /* One per database, named by the URI without its password. */
      g_autofree char *shown = ds_db_display_name (db_path);
      g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, shown, -1);
      name = g_strdup_printf ("pg-%.16s.audit-checkpoint", sum);
    }
  return g_build_filename (key_dir, name, NULL);
}

static char *
hmac_hex (GBytes     *key,
          const char *data,
          gsize       len)
{
  return g_compute_hmac_for_data (G_CHECKSUM_SHA256, g_bytes_get_data (key, NULL), g_bytes_get_size (key),
                                  (const guchar *) data, len);
}

static char *
checkpoint_mac (GBytes     *key,
                gint64      count,
                const char *head)
{
  g_autofree char *in = g_strdup_printf ("checkpoint;%" G_GINT64_FORMAT ";%s", count, head);

  return hmac_hex (key, in, strlen (in));
}

/* The checkpoint file has two slots of SLOT bytes, both written with the
 * same record, one after the other, in place: a rename per write would
 * cost a metadata write (and on ext4 a flush of the new file), where
 * overwriting a page in place costs a system call.  A write torn by a power
 * cut spoils one slot, never both; the valid slot with the higher count
 * wins. */
#define SLOT 256

static gboolean
parse_slot (const char  *slot,
            GBytes      *key,
            gint64      *count,
            char       **head)
{
  g_autofree char *text = g_strndup (slot, SLOT);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *mac = NULL;

  if (g_strv_length (lines) < 4 || !g_str_equal (lines[0], CHECKPOINT_MAGIC) ||
      !g_str_has_prefix (lines[1], "events ") || !g_str_has_prefix (lines[2], "head ") ||
      !g_str_has_prefix (lines[3], "mac "))
    return FALSE;
  *count = g_ascii_strtoll (lines[1] + 7, NULL, 10);
  mac = checkpoint_mac (key, *count, lines[2] + 5);
  if (*count <= 0 || !g_str_equal (mac, lines[3] + 4))
    return FALSE;
  *head = g_strdup (lines[2] + 5);
  return TRUE;
}

gboolean
ds_audit_checkpoint_read (const char *path,
                          GBytes     *key,
                          gint64     *count,
                          char      **head,
                          GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;

  *count = 0;
  *head = NULL;
  /* Two slots and nothing else; a FIFO or a device put in its place is
   * refused, not waited on. */
  if (!ds_util_read_file (path, 2 * SLOT, &contents, &len, &local))
    {
      g_set_error (error, DS_ERROR, g_error_matches (local, DS_ERROR, DS_ERROR_NOT_FOUND) ? DS_ERROR_NOT_FOUND
                                                                                              : DS_ERROR_IO,
                   _("Cannot read the audit checkpoint %s: %s"), path, local->message);
      return FALSE;
    }
  for (gsize off = 0; off + SLOT <= len; off += SLOT)
    {
      gint64 n = 0;
      g_autofree char *h = NULL;

      if (parse_slot (contents + off, key, &n, &h) && n > *count)
        {
          *count = n;
          g_free (*head);
          *head = g_steal_pointer (&h);
        }
    }
  if (*head != NULL)
    return TRUE;
  g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
               _("The audit checkpoint %s was not written with this station key"), path);
  return FALSE;
}

gboolean
ds_audit_checkpoint_write (const char *path,
                           GBytes     *key,
                           gint64      count,
                           const char *head,
                           GError    **error)
{
  g_autofree char *mac = checkpoint_mac (key, count, head);
  g_autofree char *text = g_strdup_printf (CHECKPOINT_MAGIC "\nevents %" G_GINT64_FORMAT "\nhead %s\nmac %s\n",
                                           count, head, mac);
  char slot[SLOT];
  gsize len = strlen (text);
  int fd;

  g_return_val_if_fail (len < SLOT, FALSE);
  memset (slot, '\n', sizeof slot);
  memcpy (slot, text, len);
  /* The first checkpoint appears whole, both slots at once: a station
   * opening the store meanwhile must not find an empty file. */
  fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0 && errno == ENOENT)
    {
      char both[2 * SLOT];
      int errsv;

      memcpy (both, slot, SLOT);
      memcpy (both + SLOT, slot, SLOT);
      errsv = publish_new_file (path, both, sizeof both, FALSE);
      if (errsv == 0)
        return TRUE;
      if (errsv != EEXIST)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the audit checkpoint %s: %s"), path,
                       g_strerror (errsv));
          return FALSE;
        }
      fd = open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    }
  /* Not synced: it is written after the commit it records, so after a
   * power cut it may be older than the database (an earlier end of the
   * chain, which verifies), never newer. */
  if (fd < 0 || pwrite (fd, slot, SLOT, 0) != SLOT || pwrite (fd, slot, SLOT, SLOT) != SLOT || close (fd) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the audit checkpoint %s: %s"), path,
                   g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

/* Each field length-prefixed, so no two different events encode alike. */
static void
append_fields (GString           *in,
               const char *const *fields,
               gsize              n)
{
  for (gsize i = 0; i < n; i++)
    {
      if (fields[i] == NULL)
        g_string_append (in, "-;");
      else
        g_string_append_printf (in, "%" G_GSIZE_FORMAT ":%s;", strlen (fields[i]), fields[i]);
    }
}

char *
ds_audit_event_hash (GBytes     *key,
                     gint64      id,
                     gint64      time_us,
                     gint64      job_id,
                     const char *board_uid,
                     const char *kind,
                     const char *message,
                     const char *digests,
                     const char *prev_hash)
{
  g_autoptr(GString) in = g_string_new (NULL);

  if (key == NULL)
    {
      /* The formula of schema version 1, kept to verify the events written
       * before the chain was keyed. */
      const char *fields[] = { board_uid, kind, message, prev_hash };

      g_string_append_printf (in, "%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";",
                              id, time_us, job_id);
      append_fields (in, fields, G_N_ELEMENTS (fields));
      return g_compute_checksum_for_string (G_CHECKSUM_SHA256, in->str, in->len);
    }
  else
    {
      const char *fields[] = { board_uid, kind, message, digests, prev_hash };

      g_string_append_printf (in, "event2;%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";%" G_GINT64_FORMAT ";",
                              id, time_us, job_id);
      append_fields (in, fields, G_N_ELEMENTS (fields));
      return hmac_hex (key, in->str, in->len);
    }
}

/* SHA-256 over one row's columns, each length-prefixed, NULL apart; bytes
 * as stored (integers are read as their decimal text on both databases). */
static char *
row_digest (DsDbRows *rows,
            guint     r)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  for (guint c = 0; c < ds_db_rows_columns (rows); c++)
    {
      g_autoptr(GBytes) b = NULL;
      char len[32];

      if (ds_db_rows_text (rows, r, c) == NULL)
        {
          g_checksum_update (sum, (const guchar *) "-;", 2);
          continue;
        }
      b = ds_db_rows_bytes (rows, r, c);
      g_snprintf (len, sizeof len, "%" G_GSIZE_FORMAT ":", g_bytes_get_size (b));
      g_checksum_update (sum, (const guchar *) len, strlen (len));
      g_checksum_update (sum, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      g_checksum_update (sum, (const guchar *) ";", 1);
    }
  return g_strdup (g_checksum_get_string (sum));
}

void
ds_audit_note_rows (GString    *digests,
                    const char *table,
                    DsDbRows   *rows)
{
  for (guint r = 0; r < ds_db_rows_count (rows); r++)
    {
      g_autofree char *name = g_uri_escape_string (ds_db_rows_text (rows, r, 0), NULL, FALSE);
      g_autofree char *digest = row_digest (rows, r);

      g_string_append_printf (digests, "%s %s %s\n", table, name != NULL ? name : "", digest);
    }
}

gboolean
ds_audit_snapshot (DsDb    *db,
                   GString *digests,
                   GError **error)
{
  int version = 0;

  if (!schema_version (db, &version, error))
    return FALSE;
  for (gsize t = 0; t < G_N_ELEMENTS (audited); t++)
    {
      g_autofree char *sql = g_strdup_printf ("SELECT %s FROM %s", audited[t].columns, audited[t].table);
      g_autoptr(DsDbRows) rows = NULL;

      if (audited[t].since > version)
        continue;
      rows = ds_db_query (db, sql, NULL, 0, error);

      if (rows == NULL)
        return FALSE;
      ds_audit_note_rows (digests, audited[t].table, rows);
    }
  return TRUE;
}

static void
mark_free (DsAuditMark *m)
{
  g_free (m->kind);
  g_free (m->message);
  g_free (m);
}

void
ds_audit_result_clear (DsAuditResult *result)
{
  g_clear_pointer (&result->head_hash, g_free);
  g_clear_pointer (&result->checkpoint_head, g_free);
  g_clear_pointer (&result->reason, g_free);
  g_clear_pointer (&result->events_sha256, g_free);
  g_clear_pointer (&result->marks, g_ptr_array_unref);
  memset (result, 0, sizeof *result);
}

typedef struct {
  char   *digest;
  gint64  event_id;
} RowMark;

static void
row_mark_free (RowMark *m)
{
  g_free (m->digest);
  g_free (m);
}

/* Applies an event's digest lines: the newest event to name a row holds
 * the digest the row must have now. */
static void
apply_digests (GHashTable *map,
               const char *digests,
               gint64      event_id)
{
  g_auto(GStrv) lines = NULL;

  if (digests == NULL)
    return;
  lines = g_strsplit (digests, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], " ", 3);
      RowMark *m;

      if (g_strv_length (f) != 3)
        continue;
      m = g_new0 (RowMark, 1);
      m->digest = g_strdup (f[2]);
      m->event_id = event_id;
      g_hash_table_replace (map, g_strdup_printf ("%s %s", f[0], f[1]), m);
    }
}

/* Compares one row, as a digest line, with the digest the chain holds for
 * it, and forgets it. */
static void
check_row (GHashTable    *map,
           const char    *line,
           DsAuditResult *result)
{
  g_auto(GStrv) f = g_strsplit (line, " ", 3);
  g_autofree char *name = NULL;
  g_autofree char *shown = NULL;
  RowMark *m;

  if (g_strv_length (f) != 3)
    return;
  name = g_strdup_printf ("%s %s", f[0], f[1]);
  shown = g_uri_unescape_string (f[1], NULL);
  m = g_hash_table_lookup (map, name);
  if (m == NULL)
    {
      result->broken_id = MAX (result->head_id, 1);
      result->reason = g_strdup_printf (_("%s row %s is in no audit event: it was added outside the "
                                          "station"), f[0], shown);
    }
  else if (!g_str_equal (m->digest, f[2]))
    {
      g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, m->event_id);
      result->broken_id = m->event_id;
      result->reason = g_strdup_printf (_("%s row %s was changed after event %s recorded it"),
                                        f[0], shown, id);
    }
  g_hash_table_remove (map, name);
}

/* Compares every audited row with the digest the chain holds for it. */
static gboolean
check_rows (DsDb          *db,
            GHashTable    *map,
            DsAuditResult *result,
            GError       **error)
{
  int version = 0;

  if (!schema_version (db, &version, error))
    return FALSE;
  for (gsize t = 0; t < G_N_ELEMENTS (audited) && result->broken_id == 0; t++)
    {
      g_autofree char *first = g_strdup_printf ("SELECT %s FROM %s ORDER BY %s LIMIT %d", audited[t].columns,
                                                audited[t].table, audited[t].key, PAGE_ROWS);
      g_autofree char *next = g_strdup_printf ("SELECT %s FROM %s WHERE %s > ? ORDER BY %s LIMIT %d",
                                               audited[t].columns, audited[t].table, audited[t].key,
                                               audited[t].key, PAGE_ROWS);
      g_autofree char *last_text = NULL;
      gint64 last_int = 0;
      gboolean more = audited[t].since <= version;

      for (guint page = 0; more && result->broken_id == 0; page++)
        {
          g_autoptr(DsDbRows) rows = NULL;
          g_autoptr(GString) lines = g_string_new (NULL);
          g_auto(GStrv) split = NULL;
          guint n;

          if (page == 0)
            rows = ds_db_query (db, first, NULL, 0, error);
          else if (audited[t].text_key)
            rows = ds_db_query (db, next, DB_PARAMS (DB_TEXT (last_text)), error);
          else
            rows = ds_db_query (db, next, DB_PARAMS (DB_INT (last_int)), error);
          if (rows == NULL)
            return FALSE;
          n = ds_db_rows_count (rows);
          more = n == PAGE_ROWS;
          if (n > 0)
            {
              g_free (last_text);
              last_text = g_strdup (ds_db_rows_text (rows, n - 1, 0));
              last_int = ds_db_rows_int (rows, n - 1, 0);
            }
          ds_audit_note_rows (lines, audited[t].table, rows);
          split = g_strsplit (lines->str, "\n", -1);
          for (guint i = 0; split[i] != NULL && result->broken_id == 0; i++)
            check_row (map, split[i], result);
        }
    }
  if (result->broken_id == 0)
    {
      /* What is left was recorded but is gone. */
      GHashTableIter iter;
      gpointer k, v;
      gint64 first = G_MAXINT64;
      const char *which = NULL;

      g_hash_table_iter_init (&iter, map);
      while (g_hash_table_iter_next (&iter, &k, &v))
        if (((RowMark *) v)->event_id < first)
          {
            first = ((RowMark *) v)->event_id;
            which = k;
          }
      if (which != NULL)
        {
          g_auto(GStrv) f = g_strsplit (which, " ", 2);
          g_autofree char *shown = g_uri_unescape_string (f[1], NULL);
          g_autofree char *id = g_strdup_printf ("%" G_GINT64_FORMAT, first);

          result->broken_id = first;
          result->reason = g_strdup_printf (_("%s row %s, recorded by event %s, was deleted"), f[0], shown, id);
        }
    }
  return TRUE;
}

/* An acknowledgement's first line pins every event before it. */
static gboolean
ack_pins (const char *message,
          const char *events_sha256)
{
  g_autofree char *want = g_strconcat ("events-sha256 ", events_sha256, NULL);

  return message != NULL && g_str_has_prefix (message, want) &&
         (message[strlen (want)] == '\n' || message[strlen (want)] == '\0');
}

static void
update_events_sum (GChecksum  *sum,
                   DsDbRows   *rows,
                   guint       r)
{
  g_autoptr(GString) in = g_string_new (NULL);
  const char *fields[9];

  for (guint c = 0; c < 9; c++)
    fields[c] = ds_db_rows_text (rows, r, c);
  append_fields (in, fields, G_N_ELEMENTS (fields));
  g_checksum_update (sum, (const guchar *) in->str, in->len);
}

/* The walk along the chain, one event at a time. */
typedef struct {
  GBytes        *key;
  DsAuditResult *result;
  GHashTable    *map;            /* row name: RowMark */
  GChecksum     *sum;            /* over every event as stored */
  char          *expected_prev;
  gint64         expected_id;
  gint64         pending_id;     /* the first break not yet acknowledged */
  char          *pending;
  char          *checkpoint_at;  /* the hash of the event the checkpoint names */
} Walk;

/* Checks the event in row @r of @rows, the next one of the chain. */
static gboolean
walk_event (Walk      *w,
            DsDbRows  *rows,
            guint      r,
            GError   **error)
{
  DsAuditResult *result = w->result;
  gint64 id = ds_db_rows_int (rows, r, 0);
  const char *kind = ds_db_rows_text (rows, r, 4);
  const char *message = ds_db_rows_text (rows, r, 5);
  const char *prev = ds_db_rows_text (rows, r, 6);
  const char *hash = ds_db_rows_text (rows, r, 7);
  const char *digests = ds_db_rows_text (rows, r, 8);
  gboolean anchor = g_strcmp0 (kind, DS_AUDIT_ANCHOR) == 0;
  gboolean ack = g_strcmp0 (kind, DS_AUDIT_ACKNOWLEDGED) == 0;
  g_autofree char *computed = NULL;
  g_autofree char *problem = NULL;
  g_autoptr(GChecksum) before = ack ? g_checksum_copy (w->sum) : NULL;

  if ((anchor || ack) && !result->keyed)
    {
      result->keyed = TRUE;
      result->n_unkeyed = result->n_events;
    }
  if (result->keyed && w->key == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                   _("The audit chain is kept with a station key, and there is none here"));
      return FALSE;
    }
  computed = ds_audit_event_hash (result->keyed ? w->key : NULL, id, ds_db_rows_int (rows, r, 1),
                                  ds_db_rows_int (rows, r, 2), ds_db_rows_text (rows, r, 3), kind, message,
                                  digests, prev);
  if (id != w->expected_id)
    {
      g_autofree char *missing = g_strdup_printf ("%" G_GINT64_FORMAT, w->expected_id);
      problem = id > w->expected_id ? g_strdup_printf (_("event %s is missing"), missing)
                                    : g_strdup (_("events are out of order"));
    }
  else if (g_strcmp0 (prev, w->expected_prev) != 0)
    problem = g_strdup (_("it does not link to the event before it (deleted or reordered events)"));
  else if (g_strcmp0 (computed, hash) != 0)
    problem = g_strdup (_("its contents were changed after it was written"));
  else if (ack && !ack_pins (message, g_checksum_get_string (before)))
    problem = g_strdup (_("events before this acknowledgement were changed after it was written"));

  if (problem != NULL && w->pending_id == 0)
    {
      w->pending_id = id;
      w->pending = g_steal_pointer (&problem);
    }
  if (problem == NULL && (anchor || ack))
    {
      DsAuditMark *m = g_new0 (DsAuditMark, 1);

      m->event_id = id;
      m->time_us = ds_db_rows_int (rows, r, 1);
      m->kind = g_strdup (kind);
      m->message = g_strdup (message);
      if (result->marks == NULL)
        result->marks = g_ptr_array_new_with_free_func ((GDestroyNotify) mark_free);
      g_ptr_array_add (result->marks, m);
      if (ack)
        {
          /* The engineer saw everything before it: earlier breaks are
           * acknowledged, and the rows are as it recorded them. */
          w->pending_id = 0;
          g_clear_pointer (&w->pending, g_free);
        }
      g_hash_table_remove_all (w->map);
    }
  apply_digests (w->map, digests, id);
  update_events_sum (w->sum, rows, r);
  g_free (w->expected_prev);
  w->expected_prev = g_strdup (hash);
  w->expected_id = id + 1;
  if (result->has_checkpoint && id == result->checkpoint_count)
    {
      g_free (w->checkpoint_at);
      w->checkpoint_at = g_strdup (hash);
    }
  result->n_events++;
  result->head_id = id;
  g_free (result->head_hash);
  result->head_hash = g_strdup (hash);
  return TRUE;
}

static void
walk_clear (Walk *w)
{
  g_clear_pointer (&w->map, g_hash_table_unref);
  g_clear_pointer (&w->sum, g_checksum_free);
  g_clear_pointer (&w->expected_prev, g_free);
  g_clear_pointer (&w->pending, g_free);
  g_clear_pointer (&w->checkpoint_at, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Walk, walk_clear)

static gboolean
verify_locked (DsDb          *db,
               GBytes        *key,
               const char    *checkpoint_path,
               gboolean       checkpoint_required,
               const GError  *checkpoint_error,
               DsAuditResult *result,
               GError       **error)
{
  g_auto(Walk) w = { 0 };
  gint64 last_id = G_MININT64;
  gboolean more = TRUE;

  w.key = key;
  w.result = result;
  w.map = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) row_mark_free);
  w.sum = g_checksum_new (G_CHECKSUM_SHA256);
  w.expected_prev = g_strdup (DS_AUDIT_GENESIS_HASH);
  w.expected_id = 1;

  /* A page of events at a time, in the caller's snapshot. */
  while (more)
    {
      g_autoptr(DsDbRows) rows = ds_db_query (db, "SELECT id, time_us, job_id, board_uid, kind, message, "
                                                  "prev_hash, hash, digests FROM events WHERE id > ? "
                                                  "ORDER BY id LIMIT " G_STRINGIFY (PAGE_ROWS),
                                              DB_PARAMS (DB_INT (last_id)), error);
      guint n;

      if (rows == NULL)
        {
          g_prefix_error (error, _("Reading the audit chain: "));
          return FALSE;
        }
      n = ds_db_rows_count (rows);
      for (guint r = 0; r < n; r++)
        if (!walk_event (&w, rows, r, error))
          return FALSE;
      if (n > 0)
        last_id = ds_db_rows_int (rows, n - 1, 0);
      more = n == PAGE_ROWS;
    }
  result->events_sha256 = g_strdup (g_checksum_get_string (w.sum));
  if (w.pending_id > 0)
    {
      result->broken_id = w.pending_id;
      result->reason = g_steal_pointer (&w.pending);
      return TRUE;
    }

  /* Truncation: the checkpoint outside the database says how long the
   * chain was and how it ended. */
  if (checkpoint_path != NULL && key != NULL)
    {
      if (!result->has_checkpoint &&
          ((checkpoint_required && result->keyed) ||
           !g_error_matches (checkpoint_error, DS_ERROR, DS_ERROR_NOT_FOUND)))
        {
          result->broken_id = MAX (result->head_id, 1);
          result->reason = g_strdup (checkpoint_error->message);
          return TRUE;
        }
      if (result->has_checkpoint)
        {
          g_autofree char *count = g_strdup_printf ("%" G_GINT64_FORMAT, result->checkpoint_count);

          if (result->checkpoint_count > result->head_id)
            {
              g_autofree char *cut = g_strdup_printf ("%" G_GINT64_FORMAT,
                                                      result->checkpoint_count - result->head_id);
              result->broken_id = result->head_id + 1;
              result->reason = g_strdup_printf (_("the last %s events are missing: the checkpoint beside the "
                                                  "station key records %s"), cut, count);
              return TRUE;
            }
          /* Ids may skip where an acknowledgement covers a gap: the walk
           * noted the event with the checkpoint's id, if there is one. */
          if (g_strcmp0 (w.checkpoint_at, result->checkpoint_head) != 0)
            {
              result->broken_id = result->checkpoint_count;
              result->reason = g_strdup_printf (_("event %s is not the one the checkpoint beside the station key "
                                                  "records"), count);
              return TRUE;
            }
        }
    }
  if (!result->keyed)
    return TRUE;
  return check_rows (db, w.map, result, error);
}

gboolean
ds_audit_verify (DsDb          *db,
                 GBytes        *key,
                 const char    *checkpoint_path,
                 gboolean       checkpoint_required,
                 DsAuditResult *result,
                 GError       **error)
{
  g_autoptr(GError) checkpoint_error = NULL;
  gboolean own_txn = !ds_db_in_transaction (db);
  gboolean ok;

  memset (result, 0, sizeof *result);
  /* The checkpoint is read before the database: it is written only after
   * the commit it names, so a station committing meanwhile can make the
   * database longer than the checkpoint read, never shorter. */
  if (checkpoint_path != NULL && key != NULL)
    result->has_checkpoint = ds_audit_checkpoint_read (checkpoint_path, key, &result->checkpoint_count,
                                                       &result->checkpoint_head, &checkpoint_error);
  /* One snapshot for the events and the rows, even while another station
   * writes. */
  if (own_txn && !ds_db_exec (db, ds_db_get_kind (db) == DS_DB_POSTGRES
                                    ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY" : "BEGIN", error))
    return FALSE;
  ok = verify_locked (db, key, checkpoint_path, checkpoint_required, checkpoint_error, result, error);
  if (own_txn)
    ds_db_rollback (db);
  if (!ok)
    ds_audit_result_clear (result);
  return ok;
}

/* TRUE when @db holds a record store this station can read. */
static gboolean
is_record_store (DsDb    *db,
                 GError **error)
{
  g_autoptr(DsDbRows) rows = NULL;
  gint64 version = 0;

  if (ds_db_get_kind (db) == DS_DB_SQLITE)
    {
      rows = ds_db_query (db, "SELECT (SELECT user_version FROM pragma_user_version), "
                              "(SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events')",
                          NULL, 0, error);
      if (rows == NULL)
        return FALSE;
      version = ds_db_rows_int (rows, 0, 1) == 1 ? ds_db_rows_int (rows, 0, 0) : 0;
    }
  else
    {
      rows = ds_db_query (db, "SELECT count(*) FROM pg_catalog.pg_tables "
                              "WHERE schemaname = current_schema() AND tablename = 'ds_meta'", NULL, 0, error);
      if (rows == NULL)
        return FALSE;
      if (ds_db_rows_int (rows, 0, 0) == 1)
        {
          g_clear_pointer (&rows, ds_db_rows_free);
          rows = ds_db_query (db, "SELECT value FROM ds_meta WHERE key = 'schema_version'", NULL, 0, error);
          if (rows == NULL)
            return FALSE;
          version = ds_db_rows_count (rows) > 0 ? ds_db_rows_int (rows, 0, 0) : 0;
        }
    }
  if (version < 1 || version > DS_STORE_SCHEMA_VERSION)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("%s is not a DAC Station record store"),
                   ds_db_get_name (db));
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_audit_verify_path (const char    *db_path,
                      const char    *key_dir,
                      DsAuditResult *result,
                      GError       **error)
{
  g_autoptr(DsDb) db = NULL;
  g_autoptr(GBytes) key = NULL;
  g_autofree char *dir = key_dir != NULL ? g_strdup (key_dir) : ds_audit_default_key_dir (db_path);
  g_autofree char *checkpoint = ds_audit_checkpoint_path (dir, db_path);
  g_autoptr(GError) local = NULL;

  memset (result, 0, sizeof *result);
  db = ds_db_open (db_path, TRUE, error);
  if (db == NULL || !is_record_store (db, error))
    return FALSE;
  key = ds_audit_key_load (dir, FALSE, error);
  if (key == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (!ds_audit_verify (db, key, checkpoint, !ds_db_is_uri (db_path), result, &local))
    {
      if (g_error_matches (local, DS_ERROR, DS_ERROR_NOT_FOUND))
        {
          g_autofree char *path = ds_audit_key_path (dir);
          g_set_error (error, DS_ERROR, DS_ERROR_NOT_FOUND,
                       _("The audit chain of %s is kept with a station key, and %s is not there: verify it on the "
                         "station that wrote it, or give its data folder"), ds_db_get_name (db), path);
          return FALSE;
        }
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  return TRUE;
}

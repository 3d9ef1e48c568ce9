/* A fixture file: a key file with one [fixture] group and one [slot LABEL]
 * group per slot.  Parsing is strict: a fixture that could put two boards
 * in one place, or one board in two, is refused whole. */
#include "config.h"

#include "ds-fixture.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"
#include "ds-util.h"

#define BY_PATH_DIR "/dev/serial/by-path/"
/* udev's by-path names are short; this bounds a hostile file. */
#define MAX_PATH_NAME 255

struct _DsFixture
{
  GObject     parent_instance;

  char       *name;
  guint       n_rows;
  guint       n_columns;
  gboolean    allow_unknown;
  GPtrArray  *slots;   /* DsFixtureSlot, in row then column order */
};

G_DEFINE_FINAL_TYPE (DsFixture, ds_fixture, G_TYPE_OBJECT)

static void
slot_free (DsFixtureSlot *slot)
{
  g_free (slot->label);
  g_free (slot->path);
  g_free (slot);
}

static void
ds_fixture_finalize (GObject *object)
{
  DsFixture *self = DS_FIXTURE (object);

  g_free (self->name);
  g_ptr_array_unref (self->slots);
  G_OBJECT_CLASS (ds_fixture_parent_class)->finalize (object);
}

static void
ds_fixture_class_init (DsFixtureClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_fixture_finalize;
}

static void
ds_fixture_init (DsFixture *self)
{
  self->slots = g_ptr_array_new_with_free_func ((GDestroyNotify) slot_free);
}

char *
ds_fixture_path_normalize (const char *port)
{
  g_return_val_if_fail (port != NULL, NULL);

  if (g_str_has_prefix (port, BY_PATH_DIR))
    port += strlen (BY_PATH_DIR);
  return g_strdup (port);
}

/* What udev puts in a by-path name: letters, digits and ":._-+". */
static gboolean
path_name_is_valid (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_PATH_NAME)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr (":._-+", *p) == NULL)
      return FALSE;
  return TRUE;
}

static gboolean
label_is_valid (const char *label)
{
  gsize len = strlen (label);

  if (len == 0 || len > DS_FIXTURE_MAX_LABEL)
    return FALSE;
  for (const char *p = label; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

static gboolean
check_keys (GKeyFile    *kf,
            const char  *group,
            const char  *const *known,
            const char  *origin,
            GError     **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (kf, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    if (!g_strv_contains (known, keys[i]))
      {
        g_autofree char *key = ds_util_sanitize_text (keys[i], -1, 64);
        g_autofree char *grp = ds_util_sanitize_text (group, -1, 64);

        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                     _("%s: [%s] has an unknown setting “%s”"), origin, grp, key);
        return FALSE;
      }
  return TRUE;
}

/* A whole number from @min to @max; a missing key is an error too. */
static gboolean
get_number (GKeyFile    *kf,
            const char  *group,
            const char  *key,
            guint        min,
            guint        max,
            guint       *out,
            const char  *origin,
            GError     **error)
{
  g_autofree char *text = g_key_file_get_value (kf, group, key, NULL);
  guint64 v = 0;

  if (text == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: [%s] has no %s"), origin, group, key);
      return FALSE;
    }
  g_strstrip (text);
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &v, NULL))
    {
      g_autofree char *shown = ds_util_sanitize_text (text, -1, 32);

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: [%s] %s is “%s”; it takes a whole number from %u to %u"),
                   origin, group, key, shown, min, max);
      return FALSE;
    }
  *out = (guint) v;
  return TRUE;
}

static int
slot_compare (gconstpointer a,
              gconstpointer b)
{
  const DsFixtureSlot *x = *(const DsFixtureSlot **) a;
  const DsFixtureSlot *y = *(const DsFixtureSlot **) b;

  if (x->row != y->row)
    return x->row < y->row ? -1 : 1;
  if (x->column != y->column)
    return x->column < y->column ? -1 : 1;
  return 0;
}

static gboolean
parse_fixture_group (DsFixture   *self,
                     GKeyFile    *kf,
                     const char  *origin,
                     GError     **error)
{
  static const char *const known[] = { "name", "rows", "columns", "unknown-ports", NULL };
  g_autofree char *unknown = NULL;

  if (!g_key_file_has_group (kf, "fixture"))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s has no [fixture] group"), origin);
      return FALSE;
    }
  if (!check_keys (kf, "fixture", known, origin, error))
    return FALSE;
  self->name = g_key_file_get_string (kf, "fixture", "name", NULL);
  if (self->name == NULL || *g_strstrip (self->name) == '\0')
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: [fixture] has no name"), origin);
      return FALSE;
    }
  if (!get_number (kf, "fixture", "rows", 1, DS_FIXTURE_MAX_ROWS, &self->n_rows, origin, error)
      || !get_number (kf, "fixture", "columns", 1, DS_FIXTURE_MAX_COLUMNS, &self->n_columns, origin, error))
    return FALSE;
  unknown = g_key_file_get_string (kf, "fixture", "unknown-ports", NULL);
  if (unknown == NULL || g_str_equal (g_strstrip (unknown), "skip"))
    self->allow_unknown = FALSE;
  else if (g_str_equal (unknown, "allow"))
    self->allow_unknown = TRUE;
  else
    {
      g_autofree char *shown = ds_util_sanitize_text (unknown, -1, 32);

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: [fixture] unknown-ports is “%s”; it takes skip or allow"), origin, shown);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_slot_group (DsFixture   *self,
                  GKeyFile    *kf,
                  const char  *group,
                  GHashTable  *by_path,
                  GHashTable  *by_position,
                  const char  *origin,
                  GError     **error)
{
  static const char *const known[] = { "path", "row", "column", NULL };
  const char *label = group + strlen ("slot ");
  g_autofree char *path = NULL;
  g_autofree char *position = NULL;
  DsFixtureSlot *slot;
  const char *other;

  if (!label_is_valid (label))
    {
      g_autofree char *shown = ds_util_sanitize_text (label, -1, 32);

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: the slot label “%s” is not 1 to %d letters, digits, “-” or “.”"),
                   origin, shown, DS_FIXTURE_MAX_LABEL);
      return FALSE;
    }
  if (!check_keys (kf, group, known, origin, error))
    return FALSE;
  path = g_key_file_get_string (kf, group, "path", NULL);
  if (path == NULL || *g_strstrip (path) == '\0')
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: slot %s has no path (its port under /dev/serial/by-path)"), origin, label);
      return FALSE;
    }
  {
    g_autofree char *normal = ds_fixture_path_normalize (path);

    g_free (path);
    path = g_steal_pointer (&normal);
  }
  if (!path_name_is_valid (path))
    {
      g_autofree char *shown = ds_util_sanitize_text (path, -1, 64);

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: slot %s has the path “%s”, which is not a name under /dev/serial/by-path"),
                   origin, label, shown);
      return FALSE;
    }
  if ((other = g_hash_table_lookup (by_path, path)) != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: slots %s and %s both claim the port %s"), origin, other, label, path);
      return FALSE;
    }

  slot = g_new0 (DsFixtureSlot, 1);
  slot->label = g_strdup (label);
  slot->path = g_steal_pointer (&path);
  g_ptr_array_add (self->slots, slot);
  if (!get_number (kf, group, "row", 1, self->n_rows, &slot->row, origin, error)
      || !get_number (kf, group, "column", 1, self->n_columns, &slot->column, origin, error))
    return FALSE;
  position = g_strdup_printf ("%u,%u", slot->row, slot->column);
  if ((other = g_hash_table_lookup (by_position, position)) != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: slots %s and %s are both at row %u, column %u"),
                   origin, other, label, slot->row, slot->column);
      return FALSE;
    }
  g_hash_table_insert (by_path, slot->path, slot->label);
  g_hash_table_insert (by_position, g_steal_pointer (&position), slot->label);
  return TRUE;
}

DsFixture *
ds_fixture_new_from_data (const char  *data,
                          gsize        len,
                          const char  *origin,
                          GError     **error)
{
  g_autoptr(DsFixture) self = g_object_new (DS_TYPE_FIXTURE, NULL);
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GHashTable) by_path = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GHashTable) by_position = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (origin != NULL, NULL);

  if (!g_key_file_load_from_data (kf, data != NULL ? data : "", len, G_KEY_FILE_NONE, &local_error))
    {
      /* GLib quotes the offending line, which may hold anything. */
      g_autofree char *why = ds_util_sanitize_text (local_error->message, -1, DS_UTIL_MAX_PEER_TEXT);

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the fixture %s: %s"), origin, why);
      return NULL;
    }
  if (!parse_fixture_group (self, kf, origin, error))
    return NULL;
  groups = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      if (g_str_equal (groups[i], "fixture"))
        continue;
      if (!g_str_has_prefix (groups[i], "slot "))
        {
          g_autofree char *shown = ds_util_sanitize_text (groups[i], -1, 64);

          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("%s: unknown group [%s]; slots are named [slot LABEL], for example [slot A1]"),
                       origin, shown);
          return NULL;
        }
      if (!parse_slot_group (self, kf, groups[i], by_path, by_position, origin, error))
        return NULL;
    }
  if (self->slots->len == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s has no slots: add a [slot LABEL] group for each board position"), origin);
      return NULL;
    }
  g_ptr_array_sort (self->slots, slot_compare);
  return g_steal_pointer (&self);
}

DsFixture *
ds_fixture_new_from_file (const char  *path,
                          GError     **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *display = NULL;
  gsize len = 0;

  g_return_val_if_fail (path != NULL, NULL);

  if (!ds_util_read_file (path, DS_UTIL_MAX_CONFIG_FILE, &contents, &len, error))
    {
      g_prefix_error (error, _("Cannot read the fixture: "));
      return NULL;
    }
  display = g_filename_display_name (path);
  return ds_fixture_new_from_data (contents, len, display, error);
}

const char *
ds_fixture_get_name (DsFixture *self)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), NULL);
  return self->name;
}

guint
ds_fixture_get_n_rows (DsFixture *self)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), 0);
  return self->n_rows;
}

guint
ds_fixture_get_n_columns (DsFixture *self)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), 0);
  return self->n_columns;
}

gboolean
ds_fixture_get_allow_unknown (DsFixture *self)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), FALSE);
  return self->allow_unknown;
}

guint
ds_fixture_get_n_slots (DsFixture *self)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), 0);
  return self->slots->len;
}

const DsFixtureSlot *
ds_fixture_get_slot (DsFixture *self,
                     guint      index)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), NULL);
  g_return_val_if_fail (index < self->slots->len, NULL);
  return g_ptr_array_index (self->slots, index);
}

const DsFixtureSlot *
ds_fixture_lookup_label (DsFixture  *self,
                         const char *label)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), NULL);
  g_return_val_if_fail (label != NULL, NULL);

  for (guint i = 0; i < self->slots->len; i++)
    {
      const DsFixtureSlot *slot = g_ptr_array_index (self->slots, i);

      if (g_ascii_strcasecmp (slot->label, label) == 0)
        return slot;
    }
  return NULL;
}

const DsFixtureSlot *
ds_fixture_lookup_path (DsFixture  *self,
                        const char *port)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (DS_IS_FIXTURE (self), NULL);
  g_return_val_if_fail (port != NULL, NULL);

  name = ds_fixture_path_normalize (port);
  for (guint i = 0; i < self->slots->len; i++)
    {
      const DsFixtureSlot *slot = g_ptr_array_index (self->slots, i);

      if (g_str_equal (slot->path, name))
        return slot;
    }
  return NULL;
}

const DsFixtureSlot *
ds_fixture_lookup_position (DsFixture *self,
                            guint      row,
                            guint      column)
{
  g_return_val_if_fail (DS_IS_FIXTURE (self), NULL);

  for (guint i = 0; i < self->slots->len; i++)
    {
      const DsFixtureSlot *slot = g_ptr_array_index (self->slots, i);

      if (slot->row == row && slot->column == column)
        return slot;
    }
  return NULL;
}

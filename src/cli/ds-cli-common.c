/* What the commands of dac-station-cli share: options, JSON output, usage errors. */
#include "config.h"

#include "ds-cli-common.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ds-store-location.h"

/* Options shared by the commands. */
char *opt_data_dir;
char *opt_db;
gboolean opt_json;

/* --data-dir '' would put a PKI and records in the current directory, and
 * --db '' a database there: both are refused. */
static gboolean
set_nonempty (const char  *option_name,
              const char  *value,
              gpointer     data,
              GError     **error)
{
  char **target = g_str_equal (option_name, "--db") ? &opt_db : &opt_data_dir;

  if (value == NULL || *value == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, _("%s takes a non-empty path"), option_name);
      return FALSE;
    }
  g_free (*target);
  *target = g_strdup (value);
  return TRUE;
}

GOptionEntry common_entries[] = {
  { "data-dir", 0, G_OPTION_FLAG_FILENAME, G_OPTION_ARG_CALLBACK, set_nonempty,
    N_("Where records, the test PKI and issued certificates live (default: the XDG data directory)"), N_("DIR") },
  { "db", 0, 0, G_OPTION_ARG_CALLBACK, set_nonempty,
    N_("The record store: a SQLite file, or a postgresql:// URI to share one database among the stations of a line "
       "(default: records.sqlite3 in the data directory)"), N_("FILE|URI") },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json, N_("Print one JSON object per line"), NULL },
  { NULL }
};

char *
data_dir (void)
{
  if (opt_data_dir != NULL)
    return g_canonicalize_filename (opt_data_dir, NULL);
  return g_build_filename (g_get_user_data_dir (), "dac-station", NULL);
}

char *
store_location (void)
{
  g_autofree char *dir = NULL;

  if (opt_db != NULL)
    return ds_store_location_is_uri (opt_db) ? g_strdup (opt_db) : g_canonicalize_filename (opt_db, NULL);
  dir = data_dir ();
  return g_build_filename (dir, "records.sqlite3", NULL);
}

void
print_store_problem (const char *db)
{
  if (!g_file_test (db, G_FILE_TEST_EXISTS))
    g_printerr (_("No record store at %s: provision some boards first, or name an existing one with --db\n"), db);
  else if (g_file_test (db, G_FILE_TEST_IS_DIR))
    g_printerr (_("The record store %s is a directory, not a database file\n"), db);
  else
    g_printerr (_("The record store %s is not a regular file (a FIFO, socket or device)\n"), db);
}

void
print_json (JsonBuilder *builder)
{
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
  fflush (stdout);
}

void
json_add_string (JsonBuilder *b,
                 const char  *name,
                 const char  *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

void
json_add_int (JsonBuilder *b,
              const char  *name,
              gint64       value)
{
  json_builder_set_member_name (b, name);
  json_builder_add_int_value (b, value);
}

gboolean
parse_hex16 (const char *text,
             guint16    *out)
{
  guint64 v;

  if (text == NULL)
    return TRUE;
  if (g_str_has_prefix (text, "0x") || g_str_has_prefix (text, "0X"))
    text += 2;
  if (!g_ascii_string_to_unsigned (text, 16, 0, 0xFFFF, &v, NULL))
    return FALSE;
  *out = (guint16) v;
  return TRUE;
}

gboolean
check_int_option (const char *name,
                  int         value,
                  int         min,
                  int         max)
{
  if (value == OPT_INT_UNSET || (value >= min && value <= max))
    return TRUE;
  g_printerr (_("%s takes a number from %d to %d, not %d\n"), name, min, max, value);
  return FALSE;
}

int
usage_error (GOptionContext *context,
             const char     *message)
{
  g_printerr ("%s\n\n", message);
  if (context != NULL)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);
      g_printerr ("%s", help);
    }
  return EXIT_USAGE;
}


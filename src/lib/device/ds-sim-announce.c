/* Announcement files of simulated boards (docs/simulator.md). */
#include "ds-sim-announce.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "ds-error.h"

void
ds_sim_announcement_free (DsSimAnnouncement *a)
{
  if (a == NULL)
    return;
  g_free (a->name);
  g_free (a->port);
  g_free (a->uid);
  g_free (a->fw_version);
  g_free (a->usb_path);
  g_free (a->probe_serial);
  g_free (a);
}

char *
ds_sim_announce_dir_default (void)
{
  const char *env = g_getenv ("DAC_STATION_SIM_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_runtime_dir (), "dac-station", "sim", NULL);
}

gboolean
ds_sim_announce_write (const char              *dir,
                       const DsSimAnnouncement *a,
                       GError                 **error)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  g_autofree char *fname = g_strconcat (a->name, ".json", NULL);
  g_autofree char *path = g_build_filename (dir, fname, NULL);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, "cannot create announce directory %s: %s",
                   dir, g_strerror (errsv));
      return FALSE;
    }

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "name");
  json_builder_add_string_value (b, a->name);
  json_builder_set_member_name (b, "port");
  json_builder_add_string_value (b, a->port);
  json_builder_set_member_name (b, "uid");
  json_builder_add_string_value (b, a->uid);
  json_builder_set_member_name (b, "fw_version");
  json_builder_add_string_value (b, a->fw_version != NULL ? a->fw_version : "");
  json_builder_set_member_name (b, "pid");
  json_builder_add_int_value (b, a->pid);
  if (a->usb_path != NULL)
    {
      json_builder_set_member_name (b, "usb_path");
      json_builder_add_string_value (b, a->usb_path);
    }
  if (a->probe_serial != NULL)
    {
      json_builder_set_member_name (b, "probe_serial");
      json_builder_add_string_value (b, a->probe_serial);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json = json_generator_to_data (gen, NULL);

  if (!g_file_set_contents_full (path, json, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, error))
    return FALSE;
  return TRUE;
}

DsSimAnnouncement *
ds_sim_announce_read (const char *path,
                      GError    **error)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(DsSimAnnouncement) a = g_new0 (DsSimAnnouncement, 1);
  JsonObject *obj;
  JsonNode *root;

  if (!json_parser_load_from_file (parser, path, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s is not a board announcement", path);
      return NULL;
    }
  obj = json_node_get_object (root);
  if (!json_object_has_member (obj, "name") || !json_object_has_member (obj, "port") ||
      !json_object_has_member (obj, "uid") || !json_object_has_member (obj, "pid"))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s lacks name, port, uid or pid", path);
      return NULL;
    }
  a->name = g_strdup (json_object_get_string_member (obj, "name"));
  a->port = g_strdup (json_object_get_string_member (obj, "port"));
  a->uid = g_strdup (json_object_get_string_member (obj, "uid"));
  a->fw_version = g_strdup (json_object_get_string_member_with_default (obj, "fw_version", ""));
  a->pid = json_object_get_int_member (obj, "pid");
  if (a->name == NULL || a->port == NULL || a->uid == NULL || a->pid <= 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s has an empty or wrong-typed field", path);
      return NULL;
    }
  /* The emulated USB topology (docs/fixtures.md): optional. */
  a->usb_path = g_strdup (json_object_get_string_member_with_default (obj, "usb_path", NULL));
  a->probe_serial = g_strdup (json_object_get_string_member_with_default (obj, "probe_serial", NULL));
  if (a->probe_serial != NULL)
    {
      if (!ds_sim_probe_serial_is_valid (a->probe_serial))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, "%s: probe_serial is not hex bytes", path);
          return NULL;
        }
    }
  return g_steal_pointer (&a);
}

void
ds_sim_announce_remove (const char *dir,
                        const char *name)
{
  g_autofree char *fname = g_strconcat (name, ".json", NULL);
  g_autofree char *path = g_build_filename (dir, fname, NULL);

  g_unlink (path);
}

gboolean
ds_sim_announcement_alive (const DsSimAnnouncement *a)
{
  if (a->pid <= 0 || a->pid > G_MAXINT)
    return FALSE;
  return kill ((pid_t) a->pid, 0) == 0 || errno == EPERM;
}

gboolean
ds_sim_probe_serial_is_valid (const char *hex)
{
  gsize n;

  if (hex == NULL)
    return FALSE;
  n = strlen (hex);
  if (n == 0 || n % 2 != 0 || n > 2 * 126)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isxdigit (hex[i]))
      return FALSE;
  return TRUE;
}

GBytes *
ds_sim_probe_serial_decode (const char *hex)
{
  gsize n;
  guint8 *bytes;

  if (!ds_sim_probe_serial_is_valid (hex))
    return NULL;
  n = strlen (hex) / 2;
  bytes = g_malloc (n);
  for (gsize i = 0; i < n; i++)
    bytes[i] = (guint8) ((g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (bytes, n);
}

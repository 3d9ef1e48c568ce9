/* Board discovery and hot-plug. */
#include "ds-board-monitor.h"

#include <gio/gio.h>
#include <stdlib.h>
#include <string.h>

#include "ds-board-identity.h"
#include "ds-serial-transport.h"
#include "ds-sim-announce.h"
#include "ds-util.h"

#define POLL_INTERVAL_MS 1000
#define BY_PATH_DIR "/dev/serial/by-path"

struct _DsBoardMonitor
{
  GObject       parent_instance;

  char         *sim_dir;
  GHashTable   *boards;      /* port -> DsBoard */
  GFileMonitor *dir_monitor;
  guint         poll_id;
  guint         rescan_id;
  gboolean      serial_enabled;
  DsFixture    *fixture;     /* NULL: every board, no slots */
  GHashTable   *skipped;     /* port -> DsBoard outside the fixture */
};

G_DEFINE_FINAL_TYPE (DsBoardMonitor, ds_board_monitor, G_TYPE_OBJECT)

enum {
  BOARD_ADDED,
  BOARD_REMOVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
ds_board_monitor_dispose (GObject *object)
{
  DsBoardMonitor *self = DS_BOARD_MONITOR (object);

  g_clear_handle_id (&self->poll_id, g_source_remove);
  g_clear_handle_id (&self->rescan_id, g_source_remove);
  if (self->dir_monitor != NULL)
    g_file_monitor_cancel (self->dir_monitor);
  g_clear_object (&self->dir_monitor);
  G_OBJECT_CLASS (ds_board_monitor_parent_class)->dispose (object);
}

static void
ds_board_monitor_finalize (GObject *object)
{
  DsBoardMonitor *self = DS_BOARD_MONITOR (object);

  g_hash_table_unref (self->boards);
  g_hash_table_unref (self->skipped);
  g_clear_object (&self->fixture);
  g_free (self->sim_dir);
  G_OBJECT_CLASS (ds_board_monitor_parent_class)->finalize (object);
}

static void
ds_board_monitor_class_init (DsBoardMonitorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = ds_board_monitor_dispose;
  object_class->finalize = ds_board_monitor_finalize;

  signals[BOARD_ADDED] =
    g_signal_new ("board-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, DS_TYPE_BOARD);
  signals[BOARD_REMOVED] =
    g_signal_new ("board-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, DS_TYPE_BOARD);
}

static void
ds_board_monitor_init (DsBoardMonitor *self)
{
  self->boards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->skipped = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->serial_enabled = TRUE;
}

DsBoardMonitor *
ds_board_monitor_new (const char *sim_dir)
{
  DsBoardMonitor *self = g_object_new (DS_TYPE_BOARD_MONITOR, NULL);

  self->sim_dir = sim_dir != NULL ? g_strdup (sim_dir) : ds_sim_announce_dir_default ();
  return self;
}

const char *
ds_board_monitor_get_sim_dir (DsBoardMonitor *self)
{
  return self->sim_dir;
}

void
ds_board_monitor_set_serial_enabled (DsBoardMonitor *self,
                                     gboolean        enabled)
{
  self->serial_enabled = enabled;
}

/* Collects the simulated boards announced by living simulators. */
static void
scan_simulated (DsBoardMonitor *self,
                GHashTable     *seen)
{
  g_autoptr(GDir) dir = g_dir_open (self->sim_dir, 0, NULL);
  const char *entry;

  if (dir == NULL)
    return;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      g_autoptr(DsSimAnnouncement) a = NULL;
      g_autoptr(GError) error = NULL;
      DsBoard *board;

      if (!g_str_has_suffix (entry, ".json"))
        continue;
      path = g_build_filename (self->sim_dir, entry, NULL);
      a = ds_sim_announce_read (path, &error);
      if (a == NULL)
        {
          g_debug ("ignoring announcement %s: %s", path, error->message);
          continue;
        }
      if (!ds_sim_announcement_alive (a) || !g_file_test (a->port, G_FILE_TEST_EXISTS))
        continue;
      board = ds_board_new (DS_BOARD_KIND_SIMULATED, a->port, a->name);
      ds_board_set_uid (board, a->uid);
      ds_board_set_description (board, "simulated STM32WB55");
      if (a->usb_path != NULL || a->probe_serial != NULL)
        {
          /* Checked by ds_sim_announce_read(). */
          g_autoptr(GBytes) serial = ds_sim_probe_serial_decode (a->probe_serial);

          ds_board_set_usb (board, a->usb_path, serial);
        }
      g_hash_table_replace (seen, g_strdup (a->port), board);
    }
}

/* The name under /dev/serial/by-path of the link that leads to @port:
 * the USB topology a fixture names its slots by. */
static char *
by_path_name (const char *port)
{
  g_autoptr(GDir) dir = g_dir_open (BY_PATH_DIR, 0, NULL);
  g_autofree char *target = realpath (port, NULL);
  const char *entry;

  if (dir == NULL || target == NULL)
    return NULL;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *link = g_build_filename (BY_PATH_DIR, entry, NULL);
      g_autofree char *resolved = realpath (link, NULL);

      if (resolved != NULL && g_str_equal (resolved, target))
        return g_strdup (entry);
    }
  return NULL;
}

static void
scan_serial (DsBoardMonitor *self,
             GHashTable     *seen)
{
  g_autoptr(GPtrArray) ports = NULL;
  g_autoptr(GError) error = NULL;

  if (!self->serial_enabled)
    return;
  ports = ds_serial_list_boards (&error);
  if (ports == NULL)
    {
      g_debug ("serial enumeration failed: %s", error->message);
      return;
    }
  for (guint i = 0; i < ports->len; i++)
    {
      DsSerialPortInfo *info = g_ptr_array_index (ports, i);
      DsBoard *board = ds_board_new (DS_BOARD_KIND_SERIAL, info->port, NULL);
      g_autofree char *desc = g_strdup_printf ("%s (USB %04x:%04x, serial %s)",
                                               info->description != NULL ? info->description : "ST-LINK",
                                               info->usb_vid, info->usb_pid,
                                               info->usb_serial != NULL ? info->usb_serial : "?");
      /* The probe's USB strings are the device's words. */
      g_autofree char *safe = ds_util_sanitize_text (desc, -1, DS_UTIL_MAX_PEER_TEXT);

      ds_board_set_description (board, safe);
      {
        g_autofree char *by_path = by_path_name (info->port);
        g_autoptr(GBytes) serial = info->usb_serial != NULL
                                   ? g_bytes_new (info->usb_serial, strlen (info->usb_serial)) : NULL;

        ds_board_set_usb (board, by_path, serial);
      }
      g_hash_table_replace (seen, g_strdup (info->port), board);
    }
}

/* Gives each board its slot; a board outside the fixture is set aside
 * ("skipped, not failed") unless the fixture allows unknown ports. */
static void
apply_fixture (DsBoardMonitor *self,
               GHashTable     *seen)
{
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_remove_all (self->skipped);
  if (self->fixture == NULL)
    return;
  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      DsBoard *board = value;
      const char *usb = ds_board_get_usb_path (board);
      const DsFixtureSlot *slot = usb != NULL ? ds_fixture_lookup_path (self->fixture, usb) : NULL;

      if (slot != NULL)
        ds_board_set_slot (board, slot->label);
      else if (!ds_fixture_get_allow_unknown (self->fixture))
        {
          g_hash_table_insert (self->skipped, g_strdup (key), g_object_ref (board));
          g_hash_table_iter_remove (&iter);
        }
    }
}

void
ds_board_monitor_scan (DsBoardMonitor *self)
{
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  g_autoptr(GPtrArray) removed = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) added = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key, value;

  scan_simulated (self, seen);
  scan_serial (self, seen);
  apply_fixture (self, seen);

  g_hash_table_iter_init (&iter, self->boards);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (seen, key))
      {
        g_ptr_array_add (removed, g_object_ref (value));
        g_hash_table_iter_remove (&iter);
      }

  g_hash_table_iter_init (&iter, seen);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (self->boards, key))
      {
        g_hash_table_insert (self->boards, g_strdup (key), g_object_ref (value));
        g_ptr_array_add (added, g_object_ref (value));
      }

  for (guint i = 0; i < removed->len; i++)
    g_signal_emit (self, signals[BOARD_REMOVED], 0, g_ptr_array_index (removed, i));
  for (guint i = 0; i < added->len; i++)
    g_signal_emit (self, signals[BOARD_ADDED], 0, g_ptr_array_index (added, i));
}

static gboolean
poll_cb (gpointer user_data)
{
  ds_board_monitor_scan (DS_BOARD_MONITOR (user_data));
  return G_SOURCE_CONTINUE;
}

static gboolean
rescan_cb (gpointer user_data)
{
  DsBoardMonitor *self = DS_BOARD_MONITOR (user_data);

  self->rescan_id = 0;
  ds_board_monitor_scan (self);
  return G_SOURCE_REMOVE;
}

static void
dir_changed_cb (GFileMonitor      *monitor,
                GFile             *file,
                GFile             *other,
                GFileMonitorEvent  event,
                gpointer           user_data)
{
  DsBoardMonitor *self = DS_BOARD_MONITOR (user_data);

  /* A simulator writes several files at once: coalesce into one rescan. */
  if (self->rescan_id == 0)
    self->rescan_id = g_timeout_add (50, rescan_cb, self);
}

void
ds_board_monitor_start (DsBoardMonitor *self)
{
  g_autoptr(GFile) dir = g_file_new_for_path (self->sim_dir);
  g_autoptr(GError) error = NULL;

  g_mkdir_with_parents (self->sim_dir, 0700);
  if (self->dir_monitor == NULL)
    {
      self->dir_monitor = g_file_monitor_directory (dir, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
      if (self->dir_monitor != NULL)
        g_signal_connect_object (self->dir_monitor, "changed", G_CALLBACK (dir_changed_cb), self, 0);
      else
        g_warning ("Cannot watch %s for simulated boards: %s", self->sim_dir, error->message);
    }
  /* USB hot-plug and simulators that die without cleaning up are seen by
   * polling; libserialport has no change notification. */
  if (self->poll_id == 0)
    self->poll_id = g_timeout_add (POLL_INTERVAL_MS, poll_cb, self);
  ds_board_monitor_scan (self);
}

static gint
compare_by_name (gconstpointer a,
                 gconstpointer b)
{
  DsBoard *ba = *(DsBoard **) a;
  DsBoard *bb = *(DsBoard **) b;

  return g_strcmp0 (ds_board_get_name (ba), ds_board_get_name (bb));
}

/* Fixture order (row, then column); boards outside it after, by name. */
static gint
compare_by_slot (gconstpointer a,
                 gconstpointer b,
                 gpointer      user_data)
{
  DsFixture *fixture = user_data;
  DsBoard *ba = *(DsBoard **) a;
  DsBoard *bb = *(DsBoard **) b;
  const DsFixtureSlot *sa = ds_board_get_slot (ba) != NULL ? ds_fixture_lookup_label (fixture, ds_board_get_slot (ba)) : NULL;
  const DsFixtureSlot *sb = ds_board_get_slot (bb) != NULL ? ds_fixture_lookup_label (fixture, ds_board_get_slot (bb)) : NULL;

  if (sa != NULL && sb != NULL)
    {
      if (sa->row != sb->row)
        return sa->row < sb->row ? -1 : 1;
      if (sa->column != sb->column)
        return sa->column < sb->column ? -1 : 1;
      return compare_by_name (a, b);
    }
  if (sa != NULL || sb != NULL)
    return sa != NULL ? -1 : 1;
  return compare_by_name (a, b);
}

static GPtrArray *
list_sorted (DsBoardMonitor *self,
             GHashTable     *table)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, g_object_ref (value));
  if (self->fixture != NULL)
    g_ptr_array_sort_with_data (list, compare_by_slot, self->fixture);
  else
    g_ptr_array_sort (list, compare_by_name);
  return list;
}

void
ds_board_monitor_set_fixture (DsBoardMonitor *self,
                              DsFixture      *fixture)
{
  g_return_if_fail (DS_IS_BOARD_MONITOR (self));
  g_return_if_fail (fixture == NULL || DS_IS_FIXTURE (fixture));

  g_set_object (&self->fixture, fixture);
}

DsFixture *
ds_board_monitor_get_fixture (DsBoardMonitor *self)
{
  g_return_val_if_fail (DS_IS_BOARD_MONITOR (self), NULL);
  return self->fixture;
}

GPtrArray *
ds_board_monitor_list_skipped (DsBoardMonitor *self)
{
  g_return_val_if_fail (DS_IS_BOARD_MONITOR (self), NULL);
  return list_sorted (self, self->skipped);
}

GPtrArray *
ds_board_monitor_find_conflicts (DsBoardMonitor *self)
{
  g_autoptr(GPtrArray) boards = NULL;
  g_autofree DsBoardIdentity *ids = NULL;
  g_autoptr(GPtrArray) uids = g_ptr_array_new_with_free_func (g_free);

  g_return_val_if_fail (DS_IS_BOARD_MONITOR (self), NULL);

  boards = list_sorted (self, self->boards);
  ids = g_new0 (DsBoardIdentity, boards->len + 1);
  for (guint i = 0; i < boards->len; i++)
    {
      DsBoard *board = g_ptr_array_index (boards, i);
      GBytes *serial = ds_board_get_probe_serial (board);
      char *uid = ds_board_dup_uid (board);

      g_ptr_array_add (uids, uid);
      ids[i].slot = ds_board_get_label (board);
      ids[i].probe_serial = serial != NULL ? g_bytes_get_data (serial, &ids[i].probe_serial_len) : NULL;
      ids[i].uid = uid;
    }
  return ds_board_identity_find_conflicts (ids, boards->len);
}

GPtrArray *
ds_board_monitor_list (DsBoardMonitor *self)
{
  return list_sorted (self, self->boards);
}

DsBoard *
ds_board_monitor_find (DsBoardMonitor *self,
                       const char     *port_or_name)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->boards);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      DsBoard *board = value;

      if (g_strcmp0 (ds_board_get_port (board), port_or_name) == 0 ||
          g_strcmp0 (ds_board_get_name (board), port_or_name) == 0 ||
          (ds_board_get_slot (board) != NULL && g_ascii_strcasecmp (ds_board_get_slot (board), port_or_name) == 0))
        return board;
    }
  return NULL;
}

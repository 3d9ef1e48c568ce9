/* Board discovery and hot-plug. */
#include "ds-board-monitor.h"

#include <gio/gio.h>

#include "ds-serial-transport.h"
#include "ds-sim-announce.h"
#include "ds-util.h"

#define POLL_INTERVAL_MS 1000

struct _DsBoardMonitor
{
  GObject       parent_instance;

  char         *sim_dir;
  GHashTable   *boards;      /* port -> DsBoard */
  GFileMonitor *dir_monitor;
  guint         poll_id;
  guint         rescan_id;
  gboolean      serial_enabled;
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
      g_hash_table_replace (seen, g_strdup (a->port), board);
    }
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
      g_hash_table_replace (seen, g_strdup (info->port), board);
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

GPtrArray *
ds_board_monitor_list (DsBoardMonitor *self)
{
  GPtrArray *list = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->boards);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, g_object_ref (value));
  g_ptr_array_sort (list, compare_by_name);
  return list;
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
          g_strcmp0 (ds_board_get_name (board), port_or_name) == 0)
        return board;
    }
  return NULL;
}

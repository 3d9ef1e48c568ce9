/* dac-station-cli boards: what the station sees, slot by slot. */
#include "config.h"

#include "ds-cli-boards.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "ds-board-identity.h"
#include "ds-cli-common.h"
#include "ds-store-location.h"
#include "ds-store.h"
#include "ds-util.h"

gboolean
ds_cli_boards_set_fixture (DsBoardMonitor *monitor,
                           const char     *fixture_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFixture) fixture = NULL;

  if (fixture_path == NULL)
    return TRUE;
  fixture = ds_fixture_new_from_file (fixture_path, &error);
  if (fixture == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  ds_board_monitor_set_fixture (monitor, fixture);
  return TRUE;
}

GPtrArray *
ds_cli_boards_by_slot (DsBoardMonitor  *monitor,
                       char           **slots)
{
  g_autoptr(GPtrArray) boards = g_ptr_array_new_with_free_func (g_object_unref);
  DsFixture *fixture = ds_board_monitor_get_fixture (monitor);

  if (fixture == NULL)
    {
      g_printerr (_("--slots needs --fixture: the fixture file names the slots\n"));
      return NULL;
    }
  for (guint i = 0; slots != NULL && slots[i] != NULL; i++)
    {
      g_auto(GStrv) labels = g_strsplit (slots[i], ",", -1);

      for (guint j = 0; labels[j] != NULL; j++)
        {
          const char *label = g_strstrip (labels[j]);
          const DsFixtureSlot *slot;
          DsBoard *board;

          if (*label == '\0')
            continue;
          slot = ds_fixture_lookup_label (fixture, label);
          if (slot == NULL)
            {
              g_autofree char *shown = ds_util_sanitize_text (label, -1, 32);

              g_printerr (_("The fixture %s has no slot %s\n"), ds_fixture_get_name (fixture), shown);
              return NULL;
            }
          board = ds_board_monitor_find (monitor, slot->label);
          if (board == NULL)
            {
              g_printerr (_("Slot %s is empty: no board is plugged into %s\n"), slot->label, slot->path);
              return NULL;
            }
          if (!g_ptr_array_find (boards, board, NULL))
            g_ptr_array_add (boards, g_object_ref (board));
        }
    }
  if (boards->len == 0)
    {
      g_printerr (_("--slots names no slot, for example --slots A1,A2\n"));
      return NULL;
    }
  return g_steal_pointer (&boards);
}

static void
print_conflict_json (const DsIdentityConflict *c,
                     const char               *message)
{
  g_autoptr(JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_add_string (b, "event", "duplicate");
  json_add_string (b, "kind", c->kind == DS_IDENTITY_CONFLICT_PROBE_SERIAL ? "probe-serial" : "uid");
  json_add_string (b, "value", c->value);
  json_builder_set_member_name (b, "slots");
  json_builder_begin_array (b);
  json_builder_add_string_value (b, c->slot_a);
  json_builder_add_string_value (b, c->slot_b);
  json_builder_end_array (b);
  json_add_string (b, "message", message);
  json_builder_end_object (b);
  print_json (b);
}

/* Every alarm, as JSON events or on stderr. */
static void
print_conflicts (GPtrArray *conflicts,
                 gboolean   json)
{
  for (guint i = 0; i < conflicts->len; i++)
    {
      const DsIdentityConflict *c = g_ptr_array_index (conflicts, i);
      g_autofree char *message = ds_identity_conflict_describe (c);

      if (json)
        print_conflict_json (c, message);
      else
        g_printerr (_("ALARM: %s\n"), message);
    }
}

GPtrArray *
ds_cli_boards_unblocked (DsBoardMonitor *monitor,
                         GPtrArray      *boards,
                         gboolean        json,
                         guint          *n_blocked)
{
  g_autoptr(GPtrArray) conflicts = ds_board_monitor_find_conflicts (monitor);
  GPtrArray *ok = g_ptr_array_new_with_free_func (g_object_unref);

  *n_blocked = 0;
  print_conflicts (conflicts, json);
  for (guint i = 0; i < boards->len; i++)
    {
      DsBoard *board = g_ptr_array_index (boards, i);

      if (ds_board_identity_is_blocked (conflicts, ds_board_get_label (board)))
        (*n_blocked)++;
      else
        g_ptr_array_add (ok, g_object_ref (board));
    }
  return ok;
}

/* "provisioned" when the records hold a live DAC for the board's UID. */
static const char *
board_state (DsBoard   *board,
             DsStore   *store,
             GPtrArray *conflicts)
{
  g_autofree char *uid = ds_board_dup_uid (board);

  if (ds_board_identity_is_blocked (conflicts, ds_board_get_label (board)))
    return "duplicate";
  if (store != NULL && uid != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(DsCertRecord) cert = ds_store_find_board_certificate (store, uid, &error);

      if (cert != NULL)
        return "provisioned";
    }
  return "ready";
}

static const char *
state_text (const char *state)
{
  /* TRANSLATORS: a board's state in `dac-station-cli boards` */
  if (g_str_equal (state, "duplicate"))
    return C_("board state", "duplicate");
  if (g_str_equal (state, "provisioned"))
    return C_("board state", "provisioned");
  if (g_str_equal (state, "skipped"))
    return C_("board state", "skipped (outside the fixture)");
  return C_("board state", "ready");
}

static void
print_board (DsBoard    *board,
             const char *state)
{
  g_autofree char *uid = ds_board_dup_uid (board);
  g_autofree char *serial = ds_board_dup_probe_serial_text (board);
  g_autofree char *usb = ds_util_sanitize_text (ds_board_get_usb_path (board), -1, DS_UTIL_MAX_PEER_TEXT);

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "board");
      json_add_string (b, "name", ds_board_get_name (board));
      json_add_string (b, "slot", ds_board_get_slot (board));
      json_add_string (b, "port", ds_board_get_port (board));
      json_add_string (b, "usb_path", usb);
      json_add_string (b, "probe_serial", serial);
      json_add_string (b, "kind", ds_board_get_kind_string (board));
      json_add_string (b, "uid", uid);
      json_add_string (b, "state", state);
      json_add_string (b, "description", ds_board_get_description (board));
      json_builder_end_object (b);
      print_json (b);
    }
  else
    g_print ("%-6s %-10s %-14s %-26s %-24s %s\n",
             ds_board_get_slot (board) != NULL ? ds_board_get_slot (board) : "-",
             ds_board_get_name (board), ds_board_get_port (board),
             serial != NULL ? serial : "-", uid != NULL ? uid : "-", state_text (state));
}

int
ds_cli_boards (int    argc,
               char **argv)
{
  g_autofree char *fixture_path = NULL;
  GOptionEntry entries[] = {
    { "fixture", 0, 0, G_OPTION_ARG_FILENAME, &fixture_path, N_("The fixture file that names the slots (docs/fixtures.md)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— list the boards the station sees"));
  g_autoptr(GError) error = NULL;
  g_autoptr(DsBoardMonitor) monitor = NULL;
  g_autoptr(GPtrArray) boards = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  g_autoptr(GPtrArray) conflicts = NULL;
  g_autoptr(DsStore) store = NULL;
  g_autofree char *db = NULL;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("Unexpected arguments"));

  monitor = ds_board_monitor_new (NULL);
  if (!ds_cli_boards_set_fixture (monitor, fixture_path))
    return EXIT_USAGE;
  ds_board_monitor_scan (monitor);
  boards = ds_board_monitor_list (monitor);
  skipped = ds_board_monitor_list_skipped (monitor);
  conflicts = ds_board_monitor_find_conflicts (monitor);

  /* The records say which boards already hold a DAC; without records,
   * every board is only "ready". */
  db = store_location ();
  if (ds_store_location_is_uri (db) || g_file_test (db, G_FILE_TEST_IS_REGULAR))
    {
      g_autofree char *dir = data_dir ();

      store = ds_store_open_full (db, ds_store_location_is_uri (db) ? dir : NULL, DS_STORE_OPEN_DEFAULT, &error);
      if (store == NULL)
        {
          g_printerr (_("Cannot read the records, so no board is shown as provisioned: %s\n"), error->message);
          g_clear_error (&error);
        }
    }

  if (!opt_json && boards->len + skipped->len > 0)
    /* TRANSLATORS: column headings of `dac-station-cli boards` */
    g_print ("%-6s %-10s %-14s %-26s %-24s %s\n", _("SLOT"), _("NAME"), _("PORT"), _("PROBE SERIAL"), _("UID"), _("STATE"));
  for (guint i = 0; i < boards->len; i++)
    {
      DsBoard *board = g_ptr_array_index (boards, i);

      print_board (board, board_state (board, store, conflicts));
    }
  for (guint i = 0; i < skipped->len; i++)
    print_board (g_ptr_array_index (skipped, i), "skipped");
  print_conflicts (conflicts, opt_json);
  if (boards->len + skipped->len == 0 && !opt_json)
    g_print (_("No boards found. Plug in an ST-LINK board, or start simulated ones with dac-station-sim.\n"));
  return conflicts->len > 0 ? EXIT_FAILED : EXIT_OK;
}

/* ---- re-provisioning ------------------------------------------------------ */

static char **reprovision_uids = NULL;
static char *reprovision_engineer = NULL;
static char *reprovision_reason = NULL;

GOptionEntry ds_cli_reprovision_entries[] = {
  { "reprovision", 0, 0, G_OPTION_ARG_STRING_ARRAY, &reprovision_uids,
    N_("Authorise a second DAC for the board with this chip UID, whose UID already holds one (repeatable; needs --engineer and --reason)"), N_("UID") },
  { "engineer", 0, 0, G_OPTION_ARG_STRING, &reprovision_engineer, N_("The engineer who authorises --reprovision"), N_("ID") },
  { "reason", 0, 0, G_OPTION_ARG_STRING, &reprovision_reason, N_("Why the boards of --reprovision get a second DAC"), N_("TEXT") },
  { NULL }
};

gboolean
ds_cli_reprovision_apply (DsStationSetup *setup)
{
  if (reprovision_uids == NULL)
    {
      if (reprovision_engineer != NULL || reprovision_reason != NULL)
        {
          g_printerr (_("--engineer and --reason go with --reprovision UID\n"));
          return FALSE;
        }
      return TRUE;
    }
  if (reprovision_engineer == NULL || *g_strstrip (reprovision_engineer) == '\0'
      || reprovision_reason == NULL || *g_strstrip (reprovision_reason) == '\0')
    {
      g_printerr (_("--reprovision needs --engineer ID and --reason TEXT: a second DAC is authorised by a person, on the record\n"));
      return FALSE;
    }
  for (guint i = 0; reprovision_uids[i] != NULL; i++)
    if (!ds_board_uid_is_valid (reprovision_uids[i]))
      {
        g_autofree char *shown = ds_util_sanitize_text (reprovision_uids[i], -1, 64);

        g_printerr (_("--reprovision %s: a chip UID is 24 hex digits\n"), shown);
        return FALSE;
      }
  ds_station_setup_set_reprovision (setup, (const char *const *) reprovision_uids,
                                    reprovision_engineer, reprovision_reason);
  return TRUE;
}

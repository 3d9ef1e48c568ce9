/* dac-station-cli identify: asks one board, by fixture slot or port, to
 * blink its LED, so the operator finds it on the fixture. */
#include "config.h"

#include "ds-cli-identify.h"

#include <glib/gi18n.h>

#include "ds-board-identify.h"
#include "ds-board-monitor.h"
#include "ds-cli-boards.h"
#include "ds-cli-common.h"
#include "ds-util.h"

int
ds_cli_identify (int    argc,
                 char **argv)
{
  g_autofree char *fixture_path = NULL;
  g_autofree char *slot = NULL;
  g_autofree char *port = NULL;
  int seconds = OPT_INT_UNSET;
  gboolean stop = FALSE;
  GOptionEntry entries[] = {
    { "slot", 's', 0, G_OPTION_ARG_STRING, &slot, N_("The fixture slot of the board, e.g. A3 (needs --fixture)"), N_("SLOT") },
    { "port", 'p', 0, G_OPTION_ARG_FILENAME, &port, N_("The board's port or name"), N_("PORT") },
    { "fixture", 0, 0, G_OPTION_ARG_FILENAME, &fixture_path, N_("The fixture file that names the slots (docs/fixtures.md)"), N_("FILE") },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, N_("Blink this long, 1 to 60 seconds (default 10)"), N_("N") },
    { "stop", 0, 0, G_OPTION_ARG_NONE, &stop, N_("Stop the blinking"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— make a board's LED blink, to find it on the fixture"));
  g_autoptr(GError) error = NULL;
  g_autoptr(DsBoardMonitor) monitor = NULL;
  g_autoptr(DsBoard) board = NULL;
  guint blink;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc > 1)
    return usage_error (context, _("Unexpected arguments"));
  if ((slot == NULL) == (port == NULL))
    return usage_error (context, _("Say which board: --slot SLOT (with --fixture) or --port PORT"));
  if (stop && seconds != OPT_INT_UNSET)
    return usage_error (context, _("--stop and --seconds do not go together"));
  if (!check_int_option ("--seconds", seconds, 1, DS_BOARD_IDENTIFY_MAX_SECONDS))
    return EXIT_USAGE;
  blink = stop ? 0 : seconds != OPT_INT_UNSET ? (guint) seconds : DS_BOARD_IDENTIFY_SECONDS;

  monitor = ds_board_monitor_new (NULL);
  if (!ds_cli_boards_set_fixture (monitor, fixture_path))
    return EXIT_USAGE;
  ds_board_monitor_scan (monitor);
  if (slot != NULL)
    {
      char *slots[] = { slot, NULL };
      g_autoptr(GPtrArray) boards = ds_cli_boards_by_slot (monitor, slots);

      if (boards == NULL)
        return EXIT_USAGE;
      if (boards->len != 1)
        return usage_error (context, _("--slot names one slot"));
      board = g_object_ref (g_ptr_array_index (boards, 0));
    }
  else if (ds_board_monitor_find (monitor, port) != NULL)
    board = g_object_ref (ds_board_monitor_find (monitor, port));
  else if (g_file_test (port, G_FILE_TEST_EXISTS))
    board = ds_board_new_for_port (port);
  else
    {
      g_autofree char *shown = ds_util_sanitize_text (port, -1, 256);

      g_printerr (_("No board on %s\n"), shown);
      return EXIT_USAGE;
    }

  if (!ds_board_identify (board, blink, NULL, &error))
    {
      if (opt_json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          json_add_string (b, "event", "identify-failed");
          json_add_string (b, "board", ds_board_get_name (board));
          json_add_string (b, "slot", ds_board_get_slot (board));
          json_add_string (b, "message", error->message);
          json_builder_end_object (b);
          print_json (b);
        }
      else
        g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "identify");
      json_add_string (b, "board", ds_board_get_name (board));
      json_add_string (b, "slot", ds_board_get_slot (board));
      json_add_string (b, "port", ds_board_get_port (board));
      json_add_int (b, "seconds", blink);
      json_builder_end_object (b);
      print_json (b);
    }
  else if (blink == 0)
    /* TRANSLATORS: %s is a fixture slot ("A3") or a board's name */
    g_print (_("%s: the LED stopped blinking\n"), ds_board_get_label (board));
  else
    g_print (g_dngettext (GETTEXT_PACKAGE, "%s: the LED blinks for %u second\n",
                          "%s: the LED blinks for %u seconds\n", blink),
             ds_board_get_label (board), blink);
  return EXIT_OK;
}

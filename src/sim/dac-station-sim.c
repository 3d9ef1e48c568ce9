/* dac-station-sim: simulated boards on pseudo-terminals, for tests and demos
 * without hardware (docs/simulator.md). */
#include "config.h"

#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ds-firmware-image.h"
#include "ds-sim-announce.h"
#include "ds-sim-board.h"
#include "ds-util.h"

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

typedef enum { SPEC_USB_PATH, SPEC_PROBE_SERIAL, SPEC_UID } SpecKind;

/* INDEX:VALUE options that set one board's USB identity. */
static gboolean
apply_usb_specs (GPtrArray  *boards,
                 char      **specs,
                 const char *option,
                 SpecKind    kind)
{
  for (guint i = 0; specs != NULL && specs[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (specs[i], ":", 2);
      g_autoptr(GError) error = NULL;
      guint64 index;
      DsSimBoard *board;

      if (parts[0] == NULL || parts[1] == NULL || *parts[1] == '\0' ||
          !g_ascii_string_to_unsigned (parts[0], 10, 0, boards->len - 1, &index, NULL))
        {
          g_printerr ("%s %s: start with a board index from 0 to %u, e.g. 1:VALUE\n", option, specs[i], boards->len - 1);
          return FALSE;
        }
      board = g_ptr_array_index (boards, index);
      switch (kind)
        {
        case SPEC_USB_PATH:
          ds_sim_board_set_usb (board, parts[1], ds_sim_board_get_probe_serial (board));
          break;
        case SPEC_PROBE_SERIAL:
          if (!ds_sim_probe_serial_is_valid (parts[1]))
            {
              g_printerr ("%s %s: the serial is hex of its bytes, e.g. 0:55FF6B06\n", option, specs[i]);
              return FALSE;
            }
          ds_sim_board_set_usb (board, ds_sim_board_get_usb_path (board), parts[1]);
          break;
        case SPEC_UID:
          if (!ds_sim_board_set_uid (board, parts[1], &error))
            {
              g_printerr ("%s %s: %s\n", option, specs[i], error->message);
              return FALSE;
            }
          break;
        }
    }
  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  int n_boards = 1;
  int baud = 0;
  gint64 seed = 0;
  g_autofree char *state_dir = NULL;
  g_autofree char *announce_dir = NULL;
  g_autofree char *fw_version = NULL;
  g_auto(GStrv) fault_specs = NULL;
  g_autofree char *product_id_s = NULL;
  int flash_kib = 0;
  int page_size = 0;
  gboolean blank = FALSE;
  gboolean legacy_erase = FALSE;
  g_autofree char *make_firmware = NULL;
  int firmware_kib = 32;
  g_auto(GStrv) usb_paths = NULL;
  g_auto(GStrv) probe_serials = NULL;
  g_auto(GStrv) uids = NULL;
  GOptionEntry entries[] = {
    { "boards", 'n', 0, G_OPTION_ARG_INT, &n_boards, "How many boards (default 1)", "N" },
    { "state-dir", 's', 0, G_OPTION_ARG_FILENAME, &state_dir, "Where the boards keep their flash and secure storage (required)", "DIR" },
    { "announce-dir", 0, 0, G_OPTION_ARG_FILENAME, &announce_dir, "Where to announce the boards (default $DAC_STATION_SIM_DIR or $XDG_RUNTIME_DIR/dac-station/sim)", "DIR" },
    { "baud", 'b', 0, G_OPTION_ARG_INT, &baud, "Throttle each direction to a UART at this baud rate, 8E1 (default 0: no limit)", "RATE" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed for new boards' UIDs and for random faults (default: random)", "N" },
    { "fw-version", 0, 0, G_OPTION_ARG_STRING, &fw_version, "Provisioning firmware version (default 1.0.0-sim)", "VERSION" },
    { "make-firmware", 0, 0, G_OPTION_ARG_FILENAME, &make_firmware, "Write a provisioning firmware image for simulated boards (with --fw-version) to FILE and exit", "FILE" },
    { "firmware-size", 0, 0, G_OPTION_ARG_INT, &firmware_kib, "Size of the image --make-firmware writes, in KiB (default 32)", "KIB" },
    { "blank", 0, 0, G_OPTION_ARG_NONE, &blank, "New boards have erased flash and start in their ROM bootloader", NULL },
    { "legacy-erase", 0, 0, G_OPTION_ARG_NONE, &legacy_erase, "The bootloader knows Erase (0x43), as older parts, not Extended Erase", NULL },
    { "product-id", 0, 0, G_OPTION_ARG_STRING, &product_id_s, "Bootloader product ID in hex (default 495, STM32WB5x; 410 is one stm32flash knows)", "PID" },
    { "flash-size", 0, 0, G_OPTION_ARG_INT, &flash_kib, "Flash size in KiB (default: the part's)", "KIB" },
    { "page-size", 0, 0, G_OPTION_ARG_INT, &page_size, "Flash page size in bytes (default: the part's)", "BYTES" },
    { "fault", 'f', 0, G_OPTION_ARG_STRING_ARRAY, &fault_specs,
      "Inject a fault: INDEX:corrupt:RATE, INDEX:drop:RATE, INDEX:stall:CMD, INDEX:disconnect:CMD, INDEX:wrong-key, INDEX:refuse-install (repeatable)", "SPEC" },
    { "usb-path", 0, 0, G_OPTION_ARG_STRING_ARRAY, &usb_paths,
      "The board's port under /dev/serial/by-path, as a fixture names it: INDEX:NAME (repeatable; default platform-dac-station-sim-usb-0:1.N:1.0)", "SPEC" },
    { "probe-serial", 0, 0, G_OPTION_ARG_STRING_ARRAY, &probe_serials,
      "The board's probe serial, hex of its raw bytes: INDEX:HEX (repeatable; default the bytes of SIMSTLNNNN)", "SPEC" },
    { "uid", 0, 0, G_OPTION_ARG_STRING_ARRAY, &uids,
      "Give a board this chip UID for this run, as a cloned chip: INDEX:HEX24 (repeatable)", "SPEC" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("— simulated boards for DAC Station");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) boards = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GRand) rand = NULL;
  DsSimBoardConfig config = { 0 };

  setlocale (LC_ALL, "");
  signal (SIGPIPE, SIG_IGN);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (make_firmware != NULL)
    {
      g_autoptr(GBytes) fw = NULL;

      if (fw_version == NULL)
        fw_version = g_strdup ("1.0.0-sim");
      if (firmware_kib < 1 || firmware_kib > 1024 || strlen (fw_version) >= DS_FW_VERSION_LEN)
        {
          g_printerr ("--firmware-size takes 1 to 1024 KiB; a version has at most 15 characters\n");
          return 2;
        }
      fw = ds_fw_image_make (fw_version, (gsize) firmware_kib * 1024);
      if (!g_file_set_contents (make_firmware, g_bytes_get_data (fw, NULL), g_bytes_get_size (fw), &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
      return 0;
    }
  if (state_dir == NULL)
    {
      g_printerr ("--state-dir is required: the boards keep their keys and certificates there\n");
      return 2;
    }
  if (n_boards < 1 || n_boards > 256)
    {
      g_printerr ("--boards takes a number from 1 to 256\n");
      return 2;
    }
  if (baud < 0)
    {
      g_printerr ("--baud takes a positive rate, or 0 for no limit\n");
      return 2;
    }
  if (announce_dir == NULL)
    announce_dir = ds_sim_announce_dir_default ();
  if (fw_version == NULL)
    fw_version = g_strdup ("1.0.0-sim");
  {
    guint64 pid = 0x495;

    if (product_id_s != NULL &&
        !g_ascii_string_to_unsigned (g_str_has_prefix (product_id_s, "0x") ? product_id_s + 2 : product_id_s,
                                     16, 1, 0xFFFF, &pid, NULL))
      {
        g_printerr ("--product-id takes a hex number such as 495\n");
        return 2;
      }
    if (flash_kib < 0 || page_size < 0 || (page_size > 0 && (page_size & (page_size - 1)) != 0))
      {
        g_printerr ("--flash-size and --page-size take positive sizes; a page size is a power of two\n");
        return 2;
      }
    config.product_id = (guint16) pid;
    config.flash_size = (guint32) flash_kib * 1024;
    config.page_size = (guint32) page_size;
    config.blank = blank;
    config.legacy_erase = legacy_erase;
    config.fw_version = fw_version;
  }
  rand = seed != 0 ? g_rand_new_with_seed ((guint32) seed) : g_rand_new ();

  for (int i = 0; i < n_boards; i++)
    {
      DsSimBoard *board = ds_sim_board_new (i, state_dir, &config, rand, &error);

      if (board == NULL)
        {
          g_printerr ("sim-%d: %s\n", i, error->message);
          return 1;
        }
      ds_sim_board_set_baud (board, (guint) baud);
      g_ptr_array_add (boards, board);
    }

  for (guint i = 0; fault_specs != NULL && fault_specs[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (fault_specs[i], ":", 2);
      guint64 index;
      DsSimFault fault;

      if (parts[0] == NULL || parts[1] == NULL ||
          !g_ascii_string_to_unsigned (parts[0], 10, 0, boards->len - 1, &index, NULL))
        {
          g_printerr ("--fault %s: start with a board index from 0 to %u, e.g. 2:stall:INSTALL\n",
                      fault_specs[i], boards->len - 1);
          return 2;
        }
      if (!ds_sim_fault_parse (parts[1], &fault, &error))
        {
          g_printerr ("--fault %s: %s\n", fault_specs[i], error->message);
          return 2;
        }
      ds_sim_board_add_fault (g_ptr_array_index (boards, index), &fault);
    }

  /* The emulated USB topology: by default every board has a port and a
   * probe of its own; the options make duplicates, moves and unprintable
   * serials (docs/fixtures.md). */
  for (guint i = 0; i < boards->len; i++)
    {
      g_autofree char *path = g_strdup_printf ("platform-dac-station-sim-usb-0:1.%u:1.0", i + 1);
      g_autofree char *serial_text = g_strdup_printf ("SIMSTL%04u", i);
      g_autofree char *serial = ds_hex_encode ((const guint8 *) serial_text, strlen (serial_text));

      ds_sim_board_set_usb (g_ptr_array_index (boards, i), path, serial);
    }
  if (!apply_usb_specs (boards, usb_paths, "--usb-path", SPEC_USB_PATH)
      || !apply_usb_specs (boards, probe_serials, "--probe-serial", SPEC_PROBE_SERIAL)
      || !apply_usb_specs (boards, uids, "--uid", SPEC_UID))
    return 2;

  for (guint i = 0; i < boards->len; i++)
    {
      DsSimBoard *board = g_ptr_array_index (boards, i);

      if (!ds_sim_board_start (board, announce_dir, &error))
        {
          g_printerr ("%s: %s\n", ds_sim_board_get_name (board), error->message);
          g_ptr_array_set_size (boards, 0);
          return 1;
        }
      g_print ("%s %s %s\n", ds_sim_board_get_name (board), ds_sim_board_get_port (board),
               ds_sim_board_get_uid (board));
    }
  /* The handlers first: a SIGTERM right after "ready" must still remove
   * the announcements. */
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGHUP, quit_cb, loop);
  g_print ("ready\n");
  fflush (stdout);
  g_main_loop_run (loop);

  /* Stopping removes the announcements before the ptys go. */
  for (guint i = 0; i < boards->len; i++)
    ds_sim_board_stop (g_ptr_array_index (boards, i));
  return 0;
}

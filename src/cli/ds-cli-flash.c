/* dac-station-cli flash: put a firmware image on one board. */
#include "config.h"

#include "ds-cli-flash.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "ds-board-flash.h"
#include "ds-board-identity.h"
#include "ds-board.h"
#include "ds-cli-boards.h"
#include "ds-cli-common.h"
#include "ds-cube-flasher.h"
#include "ds-openocd-flasher.h"
#include "ds-serial-transport.h"
#include "ds-transport.h"
#include "ds-uart-flasher.h"
#include "ds-util.h"

typedef struct {
  GMainLoop       *loop;
  DsTransport     *transport;
  DsFirmwareImage *image;
  DsFlasher       *flasher;
  GCancellable    *cancellable;
  gboolean         force;
  char            *last_phase;
  int              last_percent;
  /* the worker's result */
  gboolean         ok;
  GError          *error;
  DsBoardFlashResult result;
} Flash;

typedef struct {
  Flash   *flash;
  char    *phase;
  guint64  done, total;
} Progress;

static gboolean
show_progress (gpointer data)
{
  Progress *p = data;
  Flash *f = p->flash;
  int percent = p->total > 0 ? (int) (100 * p->done / p->total) : 100;

  /* A line per 10 % and per phase is plenty; JSON gets the same events. */
  if (g_strcmp0 (p->phase, f->last_phase) != 0 || percent / 10 != f->last_percent / 10)
    {
      if (opt_json)
        {
          g_autoptr(JsonBuilder) b = json_builder_new ();

          json_builder_begin_object (b);
          json_add_string (b, "event", "progress");
          json_add_string (b, "phase", p->phase);
          json_add_int (b, "done", (gint64) p->done);
          json_add_int (b, "total", (gint64) p->total);
          json_builder_end_object (b);
          print_json (b);
        }
      else
        g_print ("%-7s %3d %%  (%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes)\n",
                 p->phase, percent, p->done, p->total);
      g_free (f->last_phase);
      f->last_phase = g_strdup (p->phase);
      f->last_percent = percent;
    }
  g_free (p->phase);
  g_free (p);
  return G_SOURCE_REMOVE;
}

/* Worker thread: hands progress to the main context. */
static void
progress_cb (const char *phase,
             guint64     done,
             guint64     total,
             gpointer    user_data)
{
  Progress *p = g_new0 (Progress, 1);

  p->flash = user_data;
  p->phase = g_strdup (phase);
  p->done = done;
  p->total = total;
  g_main_context_invoke (NULL, show_progress, p);
}

static gboolean
quit_idle (gpointer loop)
{
  g_main_loop_quit (loop);
  return G_SOURCE_REMOVE;
}

static gpointer
flash_thread (gpointer data)
{
  Flash *f = data;

  f->ok = ds_board_flash (f->transport, f->flasher, f->image, !f->force, progress_cb, f, &f->result, f->cancellable,
                          &f->error);
  g_idle_add (quit_idle, f->loop);
  return NULL;
}

static gboolean
on_sigint (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_CONTINUE;
}

/* The board of --slot (or --port) and the probe that reaches it over SWD.
 * The ST-LINK and its virtual COM port share a USB serial number, so the
 * board's probe serial names the probe; a serial that two connected probes
 * share names neither, and is refused (cloned ST-LINKs do that).  @probe
 * NULL: only the port is wanted. */
static gboolean
choose_probe (const char  *fixture_path,
              char       **port,
              const char  *slot,
              char       **probe)
{
  g_autoptr(DsBoardMonitor) monitor = ds_board_monitor_new (NULL);
  g_autoptr(GPtrArray) boards = NULL;
  DsBoard *board = NULL;

  if (!ds_cli_boards_set_fixture (monitor, fixture_path))
    return FALSE;
  ds_board_monitor_scan (monitor);
  if (slot != NULL)
    {
      char *slots[] = { (char *) slot, NULL };
      g_autoptr(GPtrArray) found = ds_cli_boards_by_slot (monitor, slots);

      if (found == NULL)
        return FALSE;
      board = g_ptr_array_index (found, 0);
      g_free (*port);
      *port = g_strdup (ds_board_get_port (board));
    }
  else
    board = ds_board_monitor_find (monitor, *port);
  if (probe == NULL)
    return TRUE;

  if (*probe == NULL)
    {
      if (board == NULL || ds_board_get_probe_serial (board) == NULL)
        {
          g_printerr (_("%s is not an ST-LINK virtual COM port: name the probe with --probe SN\n"), *port);
          return FALSE;
        }
      *probe = ds_board_dup_probe_serial_text (board);
    }
  /* The programmer picks a probe by serial alone: it must be one probe. */
  boards = ds_board_monitor_list (monitor);
  {
    g_autoptr(GString) holders = g_string_new (NULL);
    guint n = 0;

    for (guint i = 0; i < boards->len; i++)
      {
        DsBoard *other = g_ptr_array_index (boards, i);
        g_autofree char *serial = ds_board_dup_probe_serial_text (other);

        if (g_strcmp0 (serial, *probe) != 0)
          continue;
        n++;
        g_string_append_printf (holders, "%s%s", holders->len > 0 ? ", " : "",
                                ds_board_get_slot (other) != NULL ? ds_board_get_slot (other) : ds_board_get_port (other));
      }
    if (n > 1)
      {
        g_autofree char *shown = ds_util_sanitize_text (*probe, -1, 64);

        g_printerr (_("The probe serial number %s is shared by %s: the programmer cannot tell these probes apart, "
                      "so none is flashed; replace the cloned probe\n"), shown, holders->str);
        return FALSE;
      }
  }
  return TRUE;
}

int
ds_cli_flash (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— flash a firmware image onto a board"));
  g_autofree char *port = NULL;
  g_autofree char *image_path = NULL;
  g_autofree char *address_s = NULL;
  g_autofree char *backend = NULL;
  gboolean force = FALSE;
  gboolean mass_erase = FALSE;
  g_autofree char *probe = NULL;
  g_autofree char *fixture_path = NULL;
  g_autofree char *slot = NULL;
  g_autoptr(DsFlasher) flasher = NULL;
  GOptionEntry entries[] = {
    { "port", 'p', 0, G_OPTION_ARG_FILENAME, &port, N_("The board's serial port"), N_("PORT") },
    { "fixture", 0, 0, G_OPTION_ARG_FILENAME, &fixture_path, N_("The fixture file that names the slots (docs/fixtures.md)"), N_("FILE") },
    { "slot", 0, 0, G_OPTION_ARG_STRING, &slot, N_("The board in this fixture slot, instead of --port"), N_("SLOT") },
    { "image", 'i', 0, G_OPTION_ARG_FILENAME, &image_path, N_("Firmware image: .hex (Intel HEX) or raw .bin"), N_("FILE") },
    { "address", 0, 0, G_OPTION_ARG_STRING, &address_s, N_("Where a .bin goes (default 0x08000000)"), N_("ADDR") },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend,
      N_("uart: the ROM bootloader over the port (default); cubeprogrammer: STM32_Programmer_CLI over SWD; openocd: OpenOCD over SWD"), N_("NAME") },
    { "probe", 0, 0, G_OPTION_ARG_STRING, &probe,
      N_("With cubeprogrammer or openocd: the ST-LINK's serial number (default: the one whose virtual COM port is --port)"), N_("SN") },
    { "mass-erase", 0, 0, G_OPTION_ARG_NONE, &mass_erase, N_("With uart: erase the whole flash, not only the pages the image covers"), NULL },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force, N_("Flash even when the board already runs this version"), NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsFirmwareImage) image = NULL;
  g_autoptr(DsBoard) board = NULL;
  g_autoptr(DsTransport) transport = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GMainLoop) loop = NULL;
  GThread *thread;
  guint64 address = DS_FIRMWARE_ADDRESS;
  guint sigint_id;
  Flash f = { 0 };
  int ret;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (slot != NULL && fixture_path == NULL)
    return usage_error (context, _("--slot needs --fixture: the fixture file names the slots"));
  if ((port == NULL && slot == NULL) || image_path == NULL)
    return usage_error (context, _("Say which board and which image: --port PORT (or --fixture FILE --slot SLOT) --image FILE"));
  if (backend != NULL && g_strcmp0 (backend, "uart") != 0 && g_strcmp0 (backend, "cubeprogrammer") != 0 &&
      g_strcmp0 (backend, "openocd") != 0)
    return usage_error (context, _("--backend takes uart, cubeprogrammer or openocd"));
  if (address_s != NULL &&
      !g_ascii_string_to_unsigned (g_str_has_prefix (address_s, "0x") ? address_s + 2 : address_s, 16, 0,
                                   G_MAXUINT32, &address, NULL))
    return usage_error (context, _("--address takes a hex address such as 0x08000000"));

  /* A malformed image is refused before any byte goes to the board. */
  image = ds_firmware_image_load (image_path, (guint32) address, &error);
  if (image == NULL)
    {
      g_printerr (_("Cannot use the image: %s\n"), error->message);
      return EXIT_USAGE;
    }
  if (g_strcmp0 (backend, "cubeprogrammer") == 0 || g_strcmp0 (backend, "openocd") == 0)
    {
      gboolean openocd = g_strcmp0 (backend, "openocd") == 0;
      g_autofree char *program = openocd ? ds_openocd_flasher_find_program () : ds_cube_flasher_find_program ();

      if (program == NULL)
        {
          if (openocd)
            g_printerr (_("OpenOCD is not installed (or set DS_OPENOCD to it)\n"));
          else
            g_printerr (_("STM32_Programmer_CLI is not installed (or set DS_CUBE_PROGRAMMER to it)\n"));
          return EXIT_USAGE;
        }
      if (!choose_probe (fixture_path, &port, slot, &probe))
        return EXIT_USAGE;
      if (openocd)
        flasher = DS_FLASHER (ds_openocd_flasher_new (program, probe, NULL));
      else
        flasher = DS_FLASHER (ds_cube_flasher_new (program, probe));
    }
  if (port == NULL && !choose_probe (fixture_path, &port, slot, NULL))
    return EXIT_USAGE;
  board = ds_board_new_for_port (port);
  transport = ds_board_new_transport (board);
  if (!ds_transport_open (transport, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  if (flasher == NULL && mass_erase)
    {
      DsUartFlasher *uart = ds_uart_flasher_new (transport);

      ds_uart_flasher_set_mass_erase (uart, TRUE);
      flasher = DS_FLASHER (uart);
    }

  loop = g_main_loop_new (NULL, FALSE);
  f.loop = loop;
  f.transport = transport;
  f.image = image;
  f.flasher = flasher;
  f.cancellable = cancellable;
  f.force = force;
  f.last_percent = -100;
  sigint_id = g_unix_signal_add (SIGINT, on_sigint, cancellable);
  thread = g_thread_new ("flash", flash_thread, &f);
  g_main_loop_run (loop);
  g_thread_join (thread);
  /* Show the progress the worker posted last. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_source_remove (sigint_id);

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", f.ok ? (f.result.skipped ? "skipped" : "flashed") : "fail");
      json_add_string (b, "port", port);
      json_add_string (b, "old_version", f.result.old_version);
      json_add_string (b, "version", f.result.new_version);
      if (!f.ok)
        json_add_string (b, "cause", f.error->message);
      json_builder_end_object (b);
      print_json (b);
    }
  else if (!f.ok)
    g_printerr (_("Flashing %s failed: %s\n"), port, f.error->message);
  else if (f.result.skipped)
    g_print (_("%s already runs firmware %s: nothing to flash (--force flashes anyway)\n"), port,
             f.result.new_version);
  else
    g_print (_("%s flashed, verified and started%s%s\n"), port,
             f.result.new_version != NULL ? _(": firmware ") : "",
             f.result.new_version != NULL ? f.result.new_version : "");
  ret = f.ok ? EXIT_OK : EXIT_FAILED;
  g_clear_error (&f.error);
  g_free (f.last_phase);
  ds_board_flash_result_clear (&f.result);
  return ret;
}

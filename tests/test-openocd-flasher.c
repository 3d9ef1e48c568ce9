/* Tests of the OpenOCD backend with Debian's real openocd.  No ST-LINK or
 * chip is attached on a test machine (and OpenOCD cannot drive QEMU), so
 * the runs here end at OpenOCD's own errors: they check that the command
 * line reaches OpenOCD as meant and that its errors come back as the
 * operator's.  A write on a real board has not been run. */
#include <glib/gstdio.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "ds-error.h"
#include "ds-openocd-flasher.h"
#include "ds-sim-announce.h"
#include "ds-test-util.h"

static DsFirmwareImage *
image (void)
{
  g_autoptr(GBytes) fw = ds_fw_image_make ("1.2.3", 8192);

  return ds_firmware_image_new_bin (fw, 0x08000000, NULL);
}

static guint
count_temp_bins (void)
{
  g_autoptr(GDir) dir = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const char *name;
  guint n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "ds-image-") && g_str_has_suffix (name, ".bin"))
      n++;
  return n;
}

/* The command line: the ST-LINK interface, the probe, the target, then per
 * segment an erasing write and a verification, then reset and quit; file
 * names quoted as Tcl words. */
static void
test_argv (void)
{
  const char *bins[] = { "/tmp/a b.bin", "/tmp/x\"[y]$z.bin" };
  const guint32 addresses[] = { 0x08000000, 0x08010000 };
  g_auto(GStrv) argv = ds_openocd_build_argv ("openocd", "066DFF53", NULL, bins, addresses, 2);
  g_autofree char *joined = g_strjoinv ("|", argv);

  g_assert_cmpstr (joined, ==,
                   "openocd|-f|interface/stlink.cfg|-c|adapter serial \"066DFF53\"|-f|target/stm32wbx.cfg|"
                   "-c|init|-c|reset halt|"
                   "-c|flash write_image erase \"/tmp/a b.bin\" 0x08000000 bin|"
                   "-c|flash write_image erase \"/tmp/x\\\"\\[y\\]\\$z.bin\" 0x08010000 bin|"
                   "-c|verify_image \"/tmp/a b.bin\" 0x08000000 bin|"
                   "-c|verify_image \"/tmp/x\\\"\\[y\\]\\$z.bin\" 0x08010000 bin|"
                   "-c|reset run|-c|shutdown");
}

static char *
openocd_or_skip (void)
{
  char *prog = ds_openocd_flasher_find_program ();

  if (prog == NULL)
    g_test_skip ("openocd is not installed (tools/run installs it)");
  return prog;
}

/* No probe with that serial number: OpenOCD's own error, and no file left. */
static void
test_no_probe (void)
{
  g_autofree char *prog = openocd_or_skip ();
  g_autoptr(DsOpenocdFlasher) flasher = NULL;
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;
  guint before = count_temp_bins ();

  if (prog == NULL)
    return;
  flasher = ds_openocd_flasher_new (prog, "DS0000NOSUCHPROBE", NULL);
  g_assert_cmpstr (ds_flasher_get_name (DS_FLASHER (flasher)), ==, "openocd");
  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, NULL, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "OpenOCD reported: "));
  g_assert_nonnull (strstr (error->message, "open failed"));
  g_assert_cmpuint (count_temp_bins (), ==, before);
}

/* The target script goes to OpenOCD: one it does not know is its error. */
static void
test_unknown_target (void)
{
  g_autofree char *prog = openocd_or_skip ();
  g_autoptr(DsOpenocdFlasher) flasher = NULL;
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;

  if (prog == NULL)
    return;
  flasher = ds_openocd_flasher_new (prog, NULL, "target/ds-no-such-chip.cfg");
  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, NULL, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "ds-no-such-chip.cfg"));
}

/* A program that cannot be run. */
static void
test_missing_program (void)
{
  g_autoptr(DsOpenocdFlasher) flasher = ds_openocd_flasher_new ("/nonexistent/openocd", NULL, NULL);
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;
  guint before = count_temp_bins ();

  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, NULL, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "Cannot run OpenOCD"));
  g_assert_cmpuint (count_temp_bins (), ==, before);
}

/* dac-station-cli flash --backend openocd on a simulated board's port,
 * named probe absent: the failure and OpenOCD's reason in the JSON line. */
static void
test_cli (void)
{
  g_autofree char *prog = openocd_or_skip ();
  g_autofree char *tmp = NULL;
  g_autofree char *state = NULL;
  g_autofree char *announce = NULL;
  g_autofree char *json_path = NULL;
  g_autofree char *json = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *o, *fail;
  const char *port;
  GPid sim;

  if (prog == NULL)
    return;
  tmp = g_dir_make_tmp ("ds-test-openocd-XXXXXX", NULL);
  state = g_build_filename (tmp, "boards", NULL);
  announce = g_build_filename (tmp, "announce", NULL);
  sim = ds_test_start_sim (state, announce, 1, NULL);
  json_path = g_build_filename (announce, "sim-0.json", NULL);
  g_assert_true (g_file_get_contents (json_path, &json, NULL, NULL));
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  port = json_object_get_string_member (o, "port");
  {
    const char *args[] = { "flash", "--backend", "openocd", "--probe", "DS0000NOSUCHPROBE", "--port", port,
                           "--image", g_getenv ("DS_SIM_FW"), "--force", "--json", NULL };

    r = ds_test_run_cli (announce, args);
  }
  g_assert_cmpint (r->exit_status, ==, 1);
  fail = ds_test_find_event (r->events, "fail", NULL);
  g_assert_nonnull (fail);
  g_assert_nonnull (strstr (json_object_get_string_member (fail, "cause"), "OpenOCD reported: open failed"));
  ds_test_stop (&sim, SIGTERM);
  ds_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/openocd/argv", test_argv);
  g_test_add_func ("/openocd/no-probe", test_no_probe);
  g_test_add_func ("/openocd/unknown-target", test_unknown_target);
  g_test_add_func ("/openocd/missing-program", test_missing_program);
  g_test_add_func ("/openocd/cli", test_cli);
  return g_test_run ();
}

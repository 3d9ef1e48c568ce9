/* Integration tests of flashing: the station's AN3155 client against the
 * simulator's ROM bootloader on real ptys, and stm32flash as an independent
 * peer (suite peer). */
#include <glib/gstdio.h>
#include <string.h>

#include "ds-test-util.h"

typedef struct {
  DsTestTree tree;  /* the temporary tree and its simulator */
} Fixture;

static void
setup (Fixture       *f,
       gconstpointer  data)
{
  ds_test_tree_setup (&f->tree, NULL);
}

static void
teardown (Fixture       *f,
          gconstpointer  data)
{
  ds_test_tree_teardown (&f->tree, NULL);
}

static const char *
firmware (void)
{
  const char *p = g_getenv ("DS_SIM_FW");

  g_assert_nonnull (p);
  return p;
}

/* The pty of board @index, from its announcement. */
static char *
port_of (Fixture *f,
         guint    index)
{
  g_autofree char *name = g_strdup_printf ("sim-%u.json", index);
  g_autofree char *path = g_build_filename (f->tree.announce_dir, name, NULL);
  g_autofree char *json = NULL;
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);

  g_assert_true (g_file_get_contents (path, &json, NULL, NULL));
  ds_test_parse_json_line (json, events);
  return g_strdup (json_object_get_string_member (g_ptr_array_index (events, 0), "port"));
}

static DsCliResult *
flash (Fixture    *f,
       guint       index,
       const char *image)
{
  g_autofree char *port = port_of (f, index);
  const char *args[] = { "flash", "--json", "--port", port, "--image", image, NULL };

  return ds_test_run_cli (f->tree.announce_dir, args);
}

static void
test_blank_board (Fixture       *f,
                  gconstpointer  data)
{
  const char *sim_args[] = { "--blank", "--baud", "230400", NULL };
  const char *provision[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir, NULL };
  g_autoptr(DsCliResult) first = NULL;
  g_autoptr(DsCliResult) second = NULL;
  g_autoptr(DsCliResult) prov = NULL;
  JsonObject *o;

  ds_test_tree_start_sim (&f->tree, 1, sim_args);
  first = flash (f, 0, firmware ());
  g_assert_cmpint (first->exit_status, ==, 0);
  o = ds_test_find_event (first->events, "flashed", NULL);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "version"), ==, "1.0.0-sim");
  g_assert_nonnull (ds_test_find_event (first->events, "progress", NULL));
  /* Progress is thinned out, but every phase still ends at 100 %. */
  {
    const char *phases[] = { "erase", "write", "verify" };

    for (gsize p = 0; p < G_N_ELEMENTS (phases); p++)
      {
        JsonObject *last = NULL;

        for (guint i = 0; i < first->events->len; i++)
          {
            JsonObject *e = g_ptr_array_index (first->events, i);

            if (g_strcmp0 (json_object_get_string_member_with_default (e, "event", ""), "progress") == 0 &&
                g_strcmp0 (json_object_get_string_member_with_default (e, "phase", ""), phases[p]) == 0)
              last = e;
          }
        g_assert_nonnull (last);
        g_assert_cmpint (json_object_get_int_member (last, "done"), ==, json_object_get_int_member (last, "total"));
      }
  }

  /* Already current: nothing is written. */
  second = flash (f, 0, firmware ());
  g_assert_cmpint (second->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (second->events, "skipped", NULL));

  prov = ds_test_run_cli (f->tree.announce_dir, provision);
  g_assert_cmpint (prov->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (prov), "passed"), ==, 1);
}

/* An older bootloader (Erase, not Extended Erase), page and mass erase. */
static void
test_legacy_erase (Fixture       *f,
                   gconstpointer  data)
{
  const char *sim_args[] = { "--blank", "--legacy-erase", "--product-id", "410", NULL };
  g_autofree char *port = NULL;
  g_autoptr(DsCliResult) pages = NULL;
  g_autoptr(DsCliResult) mass = NULL;

  ds_test_tree_start_sim (&f->tree, 1, sim_args);
  pages = flash (f, 0, firmware ());
  g_assert_cmpint (pages->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (pages->events, "flashed", NULL));

  port = port_of (f, 0);
  {
    const char *args[] = { "flash", "--json", "--force", "--mass-erase", "--port", port, "--image", firmware (), NULL };
    mass = ds_test_run_cli (f->tree.announce_dir, args);
  }
  g_assert_cmpint (mass->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (mass->events, "flashed", NULL));
}

static void
test_nack_names_address (Fixture       *f,
                         gconstpointer  data)
{
  const char *sim_args[] = { "--blank", "--fault", "0:nack-write:0x08000400", NULL };
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *o;

  ds_test_tree_start_sim (&f->tree, 1, sim_args);
  r = flash (f, 0, firmware ());
  g_assert_cmpint (r->exit_status, ==, 1);
  o = ds_test_find_event (r->events, "fail", NULL);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "refused the write at 0x08000400"));
}

static void
test_unplugged_then_retry (Fixture       *f,
                           gconstpointer  data)
{
  const char *faulty[] = { "--blank", "--fault", "0:unplug-flashing", NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) again = NULL;
  JsonObject *o;

  ds_test_tree_start_sim (&f->tree, 1, faulty);
  r = flash (f, 0, firmware ());
  g_assert_cmpint (r->exit_status, ==, 1);
  o = ds_test_find_event (r->events, "fail", NULL);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "cause"), "disconnected"));

  /* Plugged back in: half a firmware does not start, so the board is in its
   * bootloader, and a retry flashes it. */
  ds_test_tree_stop_sim (&f->tree);
  ds_test_tree_start_sim (&f->tree, 1, NULL);
  again = flash (f, 0, firmware ());
  g_assert_cmpint (again->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (again->events, "flashed", NULL));
}

static void
test_bad_image_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *hex = g_build_filename (f->tree.tmp, "broken.hex", NULL);
  const char *args[] = { "flash", "--port", "/dev/null", "--image", hex, NULL };
  g_autoptr(DsCliResult) r = NULL;

  g_assert_true (g_file_set_contents (hex, ":10000000000102030405060708090A0B0C0D0E0F79\n:00000001FF\n", -1, NULL));
  r = ds_test_run_cli (f->tree.tmp, args);
  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_nonnull (strstr (r->err, "checksum"));
}

static void
test_provision_flashes_first (Fixture       *f,
                              gconstpointer  data)
{
  const char *args[] = { "demo", "--boards", "3", "--blank", "--json", "--data-dir", f->tree.data_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->tree.announce_dir, args);
  JsonObject *o;

  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (r), "passed"), ==, 3);
  o = ds_test_find_step (r->events, "sim-0", "flash");
  g_assert_cmpstr (json_object_get_string_member (o, "status"), ==, "pass");
}

/* The STM32CubeProgrammer backend from the CLI, against the stand-in
 * STM32_Programmer_CLI (the real one cannot be installed here): the
 * station asks the firmware its version before and after, over the port. */
static void
test_cubeprogrammer_backend (Fixture       *f,
                             gconstpointer  data)
{
  g_autofree char *standin = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "stand-ins", "STM32_Programmer_CLI", NULL);
  g_autofree char *port = NULL;
  g_autoptr(DsCliResult) ok = NULL;
  g_autoptr(DsCliResult) no_probe = NULL;
  JsonObject *o;

  ds_test_tree_start_sim (&f->tree, 1, NULL);
  port = port_of (f, 0);
  g_setenv ("DS_CUBE_PROGRAMMER", standin, TRUE);
  g_setenv ("STANDIN_MODE", "ok", TRUE);
  {
    const char *args[] = { "flash", "--json", "--force", "--backend", "cubeprogrammer", "--probe",
                           "066DFF535254887767184522", "--port", port, "--image", firmware (), NULL };
    ok = ds_test_run_cli (f->tree.announce_dir, args);
  }
  g_assert_cmpint (ok->exit_status, ==, 0);
  o = ds_test_find_event (ok->events, "flashed", NULL);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "version"), ==, "1.0.0-sim");
  g_assert_nonnull (ds_test_find_event (ok->events, "progress", NULL));

  /* A port no probe is known for: without --probe there is nothing to match. */
  {
    const char *args[] = { "flash", "--backend", "cubeprogrammer", "--port", "/dev/null", "--image", firmware (), NULL };
    no_probe = ds_test_run_cli (f->tree.announce_dir, args);
  }
  g_assert_cmpint (no_probe->exit_status, ==, 2);
  g_assert_nonnull (strstr (no_probe->err, "--probe"));
  g_unsetenv ("DS_CUBE_PROGRAMMER");
}

/* The probe is the one of the board's slot (its emulated ST-LINK serial);
 * a serial two connected probes share is refused, whoever names it. */
static void
test_probe_by_slot (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *standin = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "stand-ins", "STM32_Programmer_CLI", NULL);
  g_autofree char *fixture = g_build_filename (f->tree.tmp, "bed.fixture", NULL);
  g_autofree char *log = g_build_filename (f->tree.tmp, "standin.log", NULL);
  g_autofree char *logged = NULL;
  /* The stand-in's one probe, "066DFF535254887767184522", as the bytes
   * the USB descriptor would carry. */
  const char *sn_hex = "303636444646353335323534383837373637313834353232";
  g_autofree char *own = g_strdup_printf ("0:%s", sn_hex);
  g_autofree char *clone = g_strdup_printf ("1:%s", sn_hex);
  const char *fixture_text = "[fixture]\nname=Bed\nrows=1\ncolumns=2\n"
                             "[slot A1]\npath=platform-dac-station-sim-usb-0:1.1:1.0\nrow=1\ncolumn=1\n"
                             "[slot A2]\npath=platform-dac-station-sim-usb-0:1.2:1.0\nrow=1\ncolumn=2\n";
  const char *args[] = { "flash", "--json", "--force", "--backend", "cubeprogrammer", "--fixture", fixture,
                         "--slot", "A1", "--image", firmware (), NULL };

  g_assert_true (g_file_set_contents (fixture, fixture_text, -1, NULL));
  g_setenv ("DS_CUBE_PROGRAMMER", standin, TRUE);
  g_setenv ("STANDIN_MODE", "ok", TRUE);
  g_setenv ("STANDIN_LOG", log, TRUE);
  {
    const char *const extra[] = { "--probe-serial", own, NULL };
    g_autoptr(DsCliResult) r = NULL;

    ds_test_tree_start_sim (&f->tree, 2, extra);
    r = ds_test_run_cli (f->tree.announce_dir, args);
    g_assert_cmpint (r->exit_status, ==, 0);
    g_assert_nonnull (ds_test_find_event (r->events, "flashed", NULL));
    g_assert_true (g_file_get_contents (log, &logged, NULL, NULL));
    g_assert_nonnull (strstr (logged, "sn=066DFF535254887767184522"));
    ds_test_tree_stop_sim (&f->tree);
  }
  {
    const char *const extra[] = { "--probe-serial", own, "--probe-serial", clone, NULL };
    const char *named[] = { "flash", "--backend", "cubeprogrammer", "--probe", "066DFF535254887767184522",
                            "--fixture", fixture, "--slot", "A2", "--image", firmware (), NULL };
    g_autoptr(DsCliResult) r = NULL;
    g_autoptr(DsCliResult) n = NULL;

    g_assert_cmpint (g_unlink (log), ==, 0);
    ds_test_tree_start_sim (&f->tree, 2, extra);
    r = ds_test_run_cli (f->tree.announce_dir, args);
    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "shared by A1, A2"));
    n = ds_test_run_cli (f->tree.announce_dir, named);
    g_assert_cmpint (n->exit_status, ==, 2);
    g_assert_nonnull (strstr (n->err, "shared by A1, A2"));
    /* The programmer was never started. */
    g_assert_false (g_file_test (log, G_FILE_TEST_EXISTS));
  }
  g_unsetenv ("STANDIN_LOG");
  g_unsetenv ("DS_CUBE_PROGRAMMER");
}

/* stm32flash, an independent implementation of AN3155, against the
 * simulator's bootloader; and reading back what our flasher wrote.
 * stm32flash 0.7 does not know 0x495, so the part is an STM32F10x (0x410). */
static void
test_stm32flash_peer (Fixture       *f,
                      gconstpointer  data)
{
  const char *sim_args[] = { "--blank", "--product-id", "410", NULL };
  const char *provision[] = { "provision", "--all", "--json", "--data-dir", f->tree.data_dir, NULL };
  g_autofree char *stm32flash = g_find_program_in_path ("stm32flash");
  g_autofree char *port0 = NULL;
  g_autofree char *port1 = NULL;
  g_autofree char *readback = g_build_filename (f->tree.tmp, "readback.bin", NULL);
  g_autofree char *image = NULL;
  g_autofree char *back = NULL;
  gsize image_len = 0, back_len = 0;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCliResult) ours = NULL;
  g_autoptr(DsCliResult) prov = NULL;
  g_autofree char *size_arg = NULL;
  int status = 0;

  if (stm32flash == NULL)
    {
      g_test_skip ("stm32flash is not installed (Debian package stm32flash)");
      return;
    }
  ds_test_tree_start_sim (&f->tree, 2, sim_args);
  port0 = port_of (f, 0);
  port1 = port_of (f, 1);

  {
    const char *argv[] = { stm32flash, "-b", "115200", "-m", "8n1", "-w", firmware (), "-v", "-g", "0x08000000",
                           port0, NULL };
    g_autofree char *out = NULL;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error);
    g_assert_no_error (error);
    g_test_message ("%s", out);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }

  /* Our flasher on the other board; stm32flash reads it back. */
  ours = flash (f, 1, firmware ());
  g_assert_cmpint (ours->exit_status, ==, 0);
  g_assert_true (g_file_get_contents (firmware (), &image, &image_len, NULL));
  size_arg = g_strdup_printf ("0x08000000:%" G_GSIZE_FORMAT, image_len);

  /* Both boards now run the provisioning firmware: provision them. */
  prov = ds_test_run_cli (f->tree.announce_dir, provision);
  g_assert_cmpint (prov->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (prov), "passed"), ==, 2);

  /* Read back with stm32flash what our flasher wrote on a fresh blank
   * board.  The image is the firmware with its magic broken, so the board
   * stays in its bootloader after Go and stm32flash can talk to it. */
  ds_test_tree_stop_sim (&f->tree);
  ds_test_rm_rf (f->tree.state_dir);
  ds_test_tree_start_sim (&f->tree, 1, sim_args);
  g_clear_pointer (&port0, g_free);
  port0 = port_of (f, 0);
  {
    g_autoptr(DsCliResult) again = NULL;
    const char *args[] = { "flash", "--json", "--port", port0, "--image", firmware (), NULL };
    g_autofree char *plain = g_build_filename (f->tree.tmp, "plain.bin", NULL);
    g_autofree char *copy = g_memdup2 (image, image_len);

    copy[0] = 'X';
    g_assert_true (g_file_set_contents (plain, copy, image_len, NULL));
    args[5] = plain;
    again = ds_test_run_cli (f->tree.announce_dir, args);
    g_assert_cmpint (again->exit_status, ==, 0);
    g_free (image);
    image = g_steal_pointer (&copy);
  }
  {
    const char *argv[] = { stm32flash, "-b", "115200", "-m", "8n1", "-S", size_arg, "-r", readback, port0, NULL };

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                  NULL, NULL, NULL, NULL, &status, &error);
    g_assert_no_error (error);
    g_assert_true (g_spawn_check_wait_status (status, NULL));
  }
  g_assert_true (g_file_get_contents (readback, &back, &back_len, NULL));
  g_assert_cmpmem (back, back_len, image, image_len);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  if (g_strcmp0 (g_getenv ("DS_TEST_PEER"), "1") == 0)
    ADD ("/flash/peer/stm32flash", test_stm32flash_peer);
  else
    {
      ADD ("/flash/blank-board", test_blank_board);
      ADD ("/flash/nack-names-address", test_nack_names_address);
      ADD ("/flash/legacy-and-mass-erase", test_legacy_erase);
      ADD ("/flash/unplugged-then-retry", test_unplugged_then_retry);
      ADD ("/flash/bad-image-refused", test_bad_image_refused);
      ADD ("/flash/provision-flashes-first", test_provision_flashes_first);
      ADD ("/flash/cubeprogrammer-backend", test_cubeprogrammer_backend);
      ADD ("/flash/probe-by-slot", test_probe_by_slot);
    }
#undef ADD
  return g_test_run ();
}

/* Tests of the STM32CubeProgrammer backend.  The real STM32_Programmer_CLI
 * cannot be installed here: these tests drive tests/stand-ins/
 * STM32_Programmer_CLI, a stand-in that reproduces its documented command
 * line, output (progress redrawn with \r, "Error:" lines) and exit codes. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "ds-cube-flasher.h"
#include "ds-error.h"

#define SN "066DFF535254887767184522"

static char *
standin (void)
{
  return g_build_filename (g_getenv ("G_TEST_SRCDIR"), "stand-ins", "STM32_Programmer_CLI", NULL);
}

static DsFirmwareImage *
image (void)
{
  g_autoptr(GBytes) fw = ds_fw_image_make ("1.2.3", 8192);

  return ds_firmware_image_new_bin (fw, 0x08000000, NULL);
}

typedef struct {
  GHashTable *phases;
  guint64     last_done;
  guint       calls;
} Seen;

static void
on_progress (const char *phase,
             guint64     done,
             guint64     total,
             gpointer    user_data)
{
  Seen *seen = user_data;

  g_hash_table_add (seen->phases, g_strdup (phase));
  g_assert_cmpuint (done, <=, total);
  seen->last_done = done;
  seen->calls++;
}

static void
test_list_probes (void)
{
  g_autofree char *prog = standin ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) probes = ds_cube_flasher_list_probes (prog, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (probes->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (probes, 0), ==, SN);
}

static void
test_flash_ok (void)
{
  g_autofree char *prog = standin ();
  g_autoptr(DsCubeFlasher) flasher = ds_cube_flasher_new (prog, SN);
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;
  g_autofree char *log = NULL;
  g_autofree char *logged = NULL;
  Seen seen = { g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL) };
  int fd = g_file_open_tmp ("ds-cube-log-XXXXXX", &log, NULL);

  close (fd);
  g_setenv ("STANDIN_MODE", "ok", TRUE);
  g_setenv ("STANDIN_LOG", log, TRUE);
  g_assert_true (ds_flasher_flash (DS_FLASHER (flasher), img, on_progress, &seen, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_hash_table_contains (seen.phases, "write"));
  g_assert_true (g_hash_table_contains (seen.phases, "verify"));
  g_assert_cmpuint (seen.last_done, ==, 8192);
  /* The documented options: SWD, the probe's serial number, write with
   * verification, reset. */
  g_assert_true (g_file_get_contents (log, &logged, NULL, NULL));
  g_assert_nonnull (strstr (logged, "-c port=SWD sn=" SN " -w "));
  g_assert_nonnull (strstr (logged, ".hex -v -rst"));
  g_hash_table_unref (seen.phases);
  g_unsetenv ("STANDIN_LOG");
  g_unlink (log);
}

static void
test_error_line_with_exit_zero (void)
{
  g_autofree char *prog = standin ();
  g_autoptr(DsCubeFlasher) flasher = ds_cube_flasher_new (prog, SN);
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;

  g_setenv ("STANDIN_MODE", "error-exit0", TRUE);
  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, NULL, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "failed to download Segment[0]"));
}

static void
test_wrong_probe (void)
{
  g_autofree char *prog = standin ();
  g_autoptr(DsCubeFlasher) flasher = ds_cube_flasher_new (prog, "0000");
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GError) error = NULL;

  g_setenv ("STANDIN_MODE", "ok", TRUE);
  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, NULL, NULL, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "No debug probe"));
}

/* Cancels once the programmer reports progress: it is downloading. */
static void
cancel_on_progress (const char *phase,
                    guint64     done,
                    guint64     total,
                    gpointer    user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel_kills (void)
{
  g_autofree char *prog = standin ();
  g_autoptr(DsCubeFlasher) flasher = ds_cube_flasher_new (prog, SN);
  g_autoptr(DsFirmwareImage) img = image ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_setenv ("STANDIN_MODE", "hang", TRUE);
  g_assert_false (ds_flasher_flash (DS_FLASHER (flasher), img, cancel_on_progress, cancellable,
                                    cancellable, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CANCELLED);
  /* The stand-in sleeps for ten minutes unless it is killed. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_USEC_PER_SEC);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cube/list-probes", test_list_probes);
  g_test_add_func ("/cube/flash-ok", test_flash_ok);
  g_test_add_func ("/cube/error-line-exit-zero", test_error_line_with_exit_zero);
  g_test_add_func ("/cube/wrong-probe", test_wrong_probe);
  g_test_add_func ("/cube/cancel-kills", test_cancel_kills);
  return g_test_run ();
}

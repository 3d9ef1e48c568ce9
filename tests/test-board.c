/* Unit tests of DsBoard: the kind of a port an operator names, and the
 * transport a board of each kind gets. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "ds-board.h"
#include "ds-pty-transport.h"
#include "ds-serial-transport.h"

/* A pseudo-terminal is a simulated board, whatever its path says. */
static void
test_board_pty_is_simulated (void)
{
  int master = posix_openpt (O_RDWR | O_NOCTTY);
  g_autoptr(DsBoard) board = NULL;
  g_autoptr(DsTransport) transport = NULL;
  const char *name;

  g_assert_cmpint (master, >=, 0);
  g_assert_cmpint (grantpt (master), ==, 0);
  g_assert_cmpint (unlockpt (master), ==, 0);
  name = ptsname (master);
  g_assert_nonnull (name);

  board = ds_board_new_for_port (name);
  g_assert_cmpint (ds_board_get_kind (board), ==, DS_BOARD_KIND_SIMULATED);
  g_assert_cmpstr (ds_board_get_port (board), ==, name);
  transport = ds_board_new_transport (board);
  g_assert_true (DS_IS_PTY_TRANSPORT (transport));
  g_assert_cmpstr (ds_transport_get_port (transport), ==, name);
  close (master);
}

/* Anything else an operator names is tried as a serial port: a character
 * device that is no pseudo-terminal, or a path that is not there. */
static void
test_board_other_is_serial (void)
{
  const char *ports[] = { "/dev/null", "/dev/ttyACM-not-there", "/dev/pts-lookalike" };

  for (guint i = 0; i < G_N_ELEMENTS (ports); i++)
    {
      g_autoptr(DsBoard) board = ds_board_new_for_port (ports[i]);
      g_autoptr(DsTransport) transport = ds_board_new_transport (board);

      g_assert_cmpint (ds_board_get_kind (board), ==, DS_BOARD_KIND_SERIAL);
      g_assert_true (DS_IS_SERIAL_TRANSPORT (transport));
      g_assert_cmpstr (ds_transport_get_port (transport), ==, ports[i]);
    }
}

/* The kind a monitor gave a board decides its transport. */
static void
test_board_kind_decides_transport (void)
{
  g_autoptr(DsBoard) sim = ds_board_new (DS_BOARD_KIND_SIMULATED, "/dev/ttyUSB7", "sim-1");
  g_autoptr(DsBoard) serial = ds_board_new (DS_BOARD_KIND_SERIAL, "/dev/pts/7", NULL);
  g_autoptr(DsTransport) sim_transport = ds_board_new_transport (sim);
  g_autoptr(DsTransport) serial_transport = ds_board_new_transport (serial);

  g_assert_true (DS_IS_PTY_TRANSPORT (sim_transport));
  g_assert_true (DS_IS_SERIAL_TRANSPORT (serial_transport));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/board/pty-is-simulated", test_board_pty_is_simulated);
  g_test_add_func ("/board/other-is-serial", test_board_other_is_serial);
  g_test_add_func ("/board/kind-decides-transport", test_board_kind_decides_transport);
  return g_test_run ();
}

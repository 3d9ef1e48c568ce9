/* Fixture slots end to end: dac-station-cli against the board simulator,
 * which emulates USB paths and probe serials.  Boards are named by slot,
 * boards outside the fixture are skipped, duplicate probe serials and UIDs
 * block both boards, a moved board keeps its history, and --slots
 * provisions only the slots named. */
#include <fcntl.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "ds-test-util.h"

#define SIM_PATH(n) "platform-dac-station-sim-usb-0:1." #n ":1.0"
/* ST-LINK/V2 style: twelve raw bytes, some not printable. */
#define RAW_SERIAL "55FF6B064977535111270687"

typedef struct {
  char *tmp;
  char *data_dir;
  char *state_dir;
  char *announce_dir;
  char *fixture;
  GPid  sim_pid;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  /* Three slots on the first three simulated ports; the fourth port is
   * outside the fixture. */
  const char *text =
    "[fixture]\nname=Bed A\nrows=2\ncolumns=2\n"
    "[slot A1]\npath=" SIM_PATH (1) "\nrow=1\ncolumn=1\n"
    "[slot A2]\npath=/dev/serial/by-path/" SIM_PATH (2) "\nrow=1\ncolumn=2\n"
    "[slot B1]\npath=" SIM_PATH (3) "\nrow=2\ncolumn=1\n";

  f->tmp = g_dir_make_tmp ("ds-test-slots-XXXXXX", &error);
  g_assert_no_error (error);
  f->data_dir = g_build_filename (f->tmp, "data", NULL);
  f->state_dir = g_build_filename (f->tmp, "boards", NULL);
  f->announce_dir = g_build_filename (f->tmp, "announce", NULL);
  f->fixture = g_build_filename (f->tmp, "bed-a.fixture", NULL);
  g_assert_true (g_file_set_contents (f->fixture, text, -1, &error));
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_stop (&f->sim_pid, 0);
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->data_dir);
  g_free (f->state_dir);
  g_free (f->announce_dir);
  g_free (f->fixture);
}

static void
start_sim (Fixture           *f,
           int                n_boards,
           const char *const *extra)
{
  ds_test_stop (&f->sim_pid, 0);
  f->sim_pid = ds_test_start_sim (f->state_dir, f->announce_dir, n_boards, extra);
}

static DsCliResult *
list_boards (Fixture *f)
{
  const char *args[] = { "boards", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };

  return ds_test_run_cli (f->announce_dir, args);
}

/* The "board" event of @slot, or of the board named @name when @slot is NULL. */
static JsonObject *
board_event (DsCliResult *r,
             const char  *slot,
             const char  *name)
{
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", NULL), "board") != 0)
        continue;
      if (slot != NULL && g_strcmp0 (json_object_get_string_member_with_default (o, "slot", NULL), slot) == 0)
        return o;
      if (slot == NULL && g_strcmp0 (json_object_get_string_member_with_default (o, "name", NULL), name) == 0)
        return o;
    }
  return NULL;
}

static guint
count_events (DsCliResult *r,
              const char  *event)
{
  guint n = 0;

  for (guint i = 0; i < r->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (g_ptr_array_index (r->events, i), "event", NULL), event) == 0)
      n++;
  return n;
}

/* Every board has its slot; the one outside the fixture is skipped. */
static void
test_list (Fixture       *f,
           gconstpointer  data)
{
  const char *const extra[] = { "--probe-serial", "1:" RAW_SERIAL, NULL };
  g_autoptr(DsCliResult) r = NULL;
  JsonObject *o;

  start_sim (f, 4, extra);
  r = list_boards (f);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_cmpuint (count_events (r, "board"), ==, 4);

  o = board_event (r, "A1", NULL);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "sim-0");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "ready");
  /* A printable serial as it is; an unprintable one as hex. */
  g_assert_cmpstr (json_object_get_string_member (o, "probe_serial"), ==, "SIMSTL0000");
  o = board_event (r, "A2", NULL);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "probe_serial"), ==, RAW_SERIAL);
  g_assert_nonnull (board_event (r, "B1", NULL));

  o = board_event (r, NULL, "sim-3");
  g_assert_nonnull (o);
  g_assert_true (json_object_get_null_member (o, "slot"));
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "skipped");

  /* Provisioning every board leaves the skipped one alone: skipped, not failed. */
  {
    const char *args[] = { "provision", "--all", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
    g_autoptr(DsCliResult) p = ds_test_run_cli (f->announce_dir, args);
    JsonObject *sum = ds_test_summary (p);
    JsonObject *pass = ds_test_find_event (p->events, "pass", "sim-0");

    g_assert_cmpint (p->exit_status, ==, 0);
    g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 3);
    g_assert_cmpint (json_object_get_int_member (sum, "failed"), ==, 0);
    g_assert_null (ds_test_find_event (p->events, "step", "sim-3"));
    /* The JSON events carry the slot. */
    g_assert_nonnull (pass);
    g_assert_cmpstr (json_object_get_string_member (pass, "slot"), ==, "A1");
  }
}

static void
check_duplicate (DsCliResult *r,
                 const char  *kind,
                 const char  *value)
{
  JsonObject *dup = ds_test_find_event (r->events, "duplicate", NULL);
  JsonArray *slots;

  g_assert_nonnull (dup);
  g_assert_cmpstr (json_object_get_string_member (dup, "kind"), ==, kind);
  g_assert_cmpstr (json_object_get_string_member (dup, "value"), ==, value);
  slots = json_object_get_array_member (dup, "slots");
  g_assert_cmpuint (json_array_get_length (slots), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (slots, 0), ==, "A1");
  g_assert_cmpstr (json_array_get_string_element (slots, 1), ==, "B1");
  g_assert_nonnull (strstr (json_object_get_string_member (dup, "message"), "A1"));
  g_assert_nonnull (strstr (json_object_get_string_member (dup, "message"), "B1"));
}

/* Two probes with one serial (cloned ST-LINKs): an alarm naming both
 * slots, and neither board is provisioned; the third one is. */
static void
test_duplicate_serial (Fixture       *f,
                       gconstpointer  data)
{
  const char *const extra[] = { "--probe-serial", "0:" RAW_SERIAL, "--probe-serial", "2:" RAW_SERIAL, NULL };
  const char *args[] = { "provision", "--all", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) p = NULL;
  JsonObject *sum;

  start_sim (f, 3, extra);
  r = list_boards (f);
  g_assert_cmpint (r->exit_status, ==, 1);
  check_duplicate (r, "probe-serial", RAW_SERIAL);
  g_assert_cmpstr (json_object_get_string_member (board_event (r, "A1", NULL), "state"), ==, "duplicate");
  g_assert_cmpstr (json_object_get_string_member (board_event (r, "B1", NULL), "state"), ==, "duplicate");
  g_assert_cmpstr (json_object_get_string_member (board_event (r, "A2", NULL), "state"), ==, "ready");

  p = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (p->exit_status, ==, 1);
  check_duplicate (p, "probe-serial", RAW_SERIAL);
  sum = ds_test_summary (p);
  g_assert_cmpint (json_object_get_int_member (sum, "passed"), ==, 1);
  g_assert_nonnull (ds_test_find_event (p->events, "pass", "sim-1"));
  /* Not even started: nothing was asked of the blocked boards. */
  g_assert_null (ds_test_find_event (p->events, "step", "sim-0"));
  g_assert_null (ds_test_find_event (p->events, "step", "sim-2"));
}

/* Two boards that report one chip UID (a cloned chip). */
static void
test_duplicate_uid (Fixture       *f,
                    gconstpointer  data)
{
  const char *const extra[] = { "--uid", "0:0028003C3235510F20353836", "--uid", "2:0028003c3235510f20353836", NULL };
  const char *args[] = { "provision", "--all", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) p = NULL;

  start_sim (f, 3, extra);
  r = list_boards (f);
  g_assert_cmpint (r->exit_status, ==, 1);
  check_duplicate (r, "uid", "0028003C3235510F20353836");

  p = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (p->exit_status, ==, 1);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (p), "passed"), ==, 1);
  g_assert_null (ds_test_find_event (p->events, "step", "sim-0"));
  g_assert_null (ds_test_find_event (p->events, "step", "sim-2"));
}

/* --slots provisions only those slots; a board moved to another slot is
 * known by its UID and is still provisioned there. */
static void
test_slots_and_move (Fixture       *f,
                     gconstpointer  data)
{
  const char *only_a2[] = { "provision", "--slots", "A2", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
  const char *unknown[] = { "provision", "--slots", "C9", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
  const char *no_fixture[] = { "provision", "--slots", "A2", "--json", "--data-dir", f->data_dir, NULL };
  /* sim-1 moves from A2 to B1, sim-2 from B1 to A2. */
  const char *const moved[] = { "--usb-path", "1:" SIM_PATH (3), "--usb-path", "2:" SIM_PATH (2), NULL };
  g_autoptr(DsCliResult) p = NULL;
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) bad = NULL;
  g_autofree char *uid = NULL;
  JsonObject *o;

  start_sim (f, 3, NULL);
  p = ds_test_run_cli (f->announce_dir, only_a2);
  g_assert_cmpint (p->exit_status, ==, 0);
  g_assert_cmpint (json_object_get_int_member (ds_test_summary (p), "passed"), ==, 1);
  g_assert_nonnull (ds_test_find_event (p->events, "pass", "sim-1"));
  g_assert_null (ds_test_find_event (p->events, "step", "sim-0"));
  g_assert_null (ds_test_find_event (p->events, "step", "sim-2"));
  uid = g_strdup (json_object_get_string_member (ds_test_find_event (p->events, "pass", "sim-1"), "uid"));

  bad = ds_test_run_cli (f->announce_dir, unknown);
  g_assert_cmpint (bad->exit_status, ==, 2);
  g_assert_nonnull (strstr (bad->err, "no slot C9"));
  g_clear_pointer (&bad, ds_cli_result_free);
  bad = ds_test_run_cli (f->announce_dir, no_fixture);
  g_assert_cmpint (bad->exit_status, ==, 2);
  g_assert_nonnull (strstr (bad->err, "--slots needs --fixture"));

  /* Re-plugged elsewhere: the history follows the UID to slot B1. */
  start_sim (f, 3, moved);
  r = list_boards (f);
  g_assert_cmpint (r->exit_status, ==, 0);
  o = board_event (r, "B1", NULL);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "sim-1");
  g_assert_cmpstr (json_object_get_string_member (o, "uid"), ==, uid);
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "provisioned");
  o = board_event (r, "A2", NULL);
  g_assert_cmpstr (json_object_get_string_member (o, "name"), ==, "sim-2");
  g_assert_cmpstr (json_object_get_string_member (o, "state"), ==, "ready");
}

/* A fixture file that could confuse two boards stops the command before
 * any board is touched, naming the problem. */
static void
test_bad_fixture (Fixture       *f,
                  gconstpointer  data)
{
  const char *text = "[fixture]\nname=Bed\nrows=1\ncolumns=2\n"
                     "[slot A1]\npath=" SIM_PATH (1) "\nrow=1\ncolumn=1\n"
                     "[slot A2]\npath=" SIM_PATH (1) "\nrow=1\ncolumn=2\n";
  const char *args[] = { "provision", "--all", "--json", "--fixture", f->fixture, "--data-dir", f->data_dir, NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsCliResult) p = NULL;

  g_assert_true (g_file_set_contents (f->fixture, text, -1, &error));
  start_sim (f, 1, NULL);
  p = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (p->exit_status, ==, 2);
  g_assert_nonnull (strstr (p->err, "slots A1 and A2 both claim the port " SIM_PATH (1)));
  g_assert_null (ds_test_find_event (p->events, "step", NULL));
}

/* What simulated board @name's LED was asked to do (led.log), or NULL. */
static char *
led_log (Fixture    *f,
         const char *name)
{
  g_autofree char *path = g_build_filename (f->state_dir, name, "led.log", NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* identify --slot blinks that board's LED, and only that one's; firmware
 * without IDENTIFY is named as such; a port another program holds (a
 * running job) is not talked over; bad options are usage errors. */
static void
test_identify (Fixture       *f,
               gconstpointer  data)
{
  const char *const v1[] = { "--fault", "2:protocol-v1", NULL };
  const char *a2[] = { "identify", "--slot", "A2", "--seconds", "5", "--json", "--fixture", f->fixture, NULL };
  const char *a1[] = { "identify", "--slot", "A1", "--fixture", f->fixture, NULL };
  const char *a1_stop[] = { "identify", "--slot", "A1", "--stop", "--fixture", f->fixture, NULL };
  const char *b1[] = { "identify", "--slot", "B1", "--fixture", f->fixture, NULL };
  const char *too_long[] = { "identify", "--slot", "A1", "--seconds", "61", "--fixture", f->fixture, NULL };
  const char *zero[] = { "identify", "--slot", "A1", "--seconds", "0", "--fixture", f->fixture, NULL };
  const char *which[] = { "identify", "--fixture", f->fixture, NULL };
  const char *no_fixture[] = { "identify", "--slot", "A1", NULL };
  const char *empty[] = { "identify", "--slot", "C9", "--fixture", f->fixture, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autofree char *log = NULL;
  g_autofree char *port = NULL;
  JsonObject *o;

  start_sim (f, 3, v1);

  r = ds_test_run_cli (f->announce_dir, a2);
  g_assert_cmpint (r->exit_status, ==, 0);
  o = ds_test_find_event (r->events, "identify", "sim-1");
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "slot"), ==, "A2");
  g_assert_cmpint (json_object_get_int_member (o, "seconds"), ==, 5);
  port = g_strdup (json_object_get_string_member (o, "port"));
  log = led_log (f, "sim-1");
  g_assert_cmpstr (log, ==, "blink 5\n");
  g_clear_pointer (&log, g_free);
  log = led_log (f, "sim-0");
  g_assert_null (log);

  /* The default, then stop. */
  g_clear_pointer (&r, ds_cli_result_free);
  r = ds_test_run_cli (f->announce_dir, a1);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (strstr (r->out, "A1: the LED blinks for 10 seconds"));
  g_clear_pointer (&r, ds_cli_result_free);
  r = ds_test_run_cli (f->announce_dir, a1_stop);
  g_assert_cmpint (r->exit_status, ==, 0);
  log = led_log (f, "sim-0");
  g_assert_cmpstr (log, ==, "blink 10\noff\n");
  g_clear_pointer (&log, g_free);

  /* Firmware of protocol 1 does not know IDENTIFY. */
  g_clear_pointer (&r, ds_cli_result_free);
  r = ds_test_run_cli (f->announce_dir, b1);
  g_assert_cmpint (r->exit_status, ==, 1);
  g_assert_nonnull (strstr (r->err, "cannot identify itself"));
  log = led_log (f, "sim-2");
  g_assert_null (log);

  /* A port held by another program, as a running job holds it: refused,
   * and the board hears nothing. */
  {
    int fd = open (port, O_RDWR | O_NOCTTY | O_CLOEXEC);

    g_assert_cmpint (fd, >=, 0);
    g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
    g_clear_pointer (&r, ds_cli_result_free);
    r = ds_test_run_cli (f->announce_dir, a2);
    close (fd);
  }
  g_assert_cmpint (r->exit_status, ==, 1);
  o = ds_test_find_event (r->events, "identify-failed", "sim-1");
  g_assert_nonnull (o);
  g_assert_nonnull (strstr (json_object_get_string_member (o, "message"), "in use"));
  log = led_log (f, "sim-1");
  g_assert_cmpstr (log, ==, "blink 5\n");
  g_clear_pointer (&log, g_free);

  /* Usage errors. */
  for (guint i = 0; i < 5; i++)
    {
      const char *const *args[] = { too_long, zero, which, no_fixture, empty };

      g_clear_pointer (&r, ds_cli_result_free);
      r = ds_test_run_cli (f->announce_dir, args[i]);
      g_assert_cmpint (r->exit_status, ==, 2);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/slots/list-and-skip", Fixture, NULL, fixture_setup, test_list, fixture_teardown);
  g_test_add ("/slots/duplicate-serial", Fixture, NULL, fixture_setup, test_duplicate_serial, fixture_teardown);
  g_test_add ("/slots/duplicate-uid", Fixture, NULL, fixture_setup, test_duplicate_uid, fixture_teardown);
  g_test_add ("/slots/only-and-moved", Fixture, NULL, fixture_setup, test_slots_and_move, fixture_teardown);
  g_test_add ("/slots/bad-fixture", Fixture, NULL, fixture_setup, test_bad_fixture, fixture_teardown);
  g_test_add ("/slots/identify", Fixture, NULL, fixture_setup, test_identify, fixture_teardown);
  return g_test_run ();
}

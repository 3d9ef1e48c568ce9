/* dac-station-cli: the headless front end, for batch runs and automation. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ds-board-monitor.h"
#include "ds-cli-boards.h"
#include "ds-cli-identify.h"
#include "ds-cli-ca.h"
#include "ds-cli-common.h"
#include "ds-cli-flash.h"
#include "ds-cli-labels.h"
#include "ds-cli-onboarding.h"
#include "ds-cli-label.h"
#include "ds-cli-profile.h"
#include "ds-cli-records.h"
#include "ds-cli-verify.h"
#include "ds-cli-serve-ca.h"
#include "ds-error.h"
#include "ds-firmware-image.h"
#include "ds-sim-announce.h"
#include "ds-simulator.h"
#include "ds-station.h"
#include "ds-store-location.h"
#include "ds-station-setup.h"
#include "ds-store.h"
#include "ds-test-ca.h"
#include "ds-util.h"

/* ---- boards ------------------------------------------------------------ */

/* ---- pki --------------------------------------------------------------- */

static int
cmd_pki (int    argc,
         char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— show (and create) the test PKI"));
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *pki = NULL;
  g_autoptr(DsTestCa) ca = NULL;

  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);

  dir = data_dir ();
  pki = g_build_filename (dir, "pki", NULL);
  ca = ds_test_ca_new (pki, &error);
  if (ca == NULL)
    {
      g_printerr (_("Cannot set up the test PKI: %s\n"), error->message);
      return EXIT_USAGE;
    }
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "pki");
      json_add_string (b, "dir", ds_test_ca_get_pki_dir (ca));
      json_add_string (b, "paa", ds_test_ca_get_paa_path (ca));
      json_add_string (b, "pai", ds_test_ca_get_pai_path (ca));
      json_add_string (b, "vid", "FFF1");
      json_builder_set_member_name (b, "test");
      json_builder_add_boolean_value (b, TRUE);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_print (_("Test PKI (NOT FOR PRODUCTION), vendor ID 0x%04X\n"), ds_test_ca_get_vid (ca));
      g_print ("  PAA: %s\n", ds_test_ca_get_paa_path (ca));
      g_print ("  PAI: %s\n", ds_test_ca_get_pai_path (ca));
    }
  return EXIT_OK;
}

/* ---- provisioning run, shared by provision and demo --------------------- */

typedef struct {
  GMainLoop      *loop;
  DsStation      *station;
  DsStore        *store;
  gboolean        json;
  gboolean        live;          /* redraw a table on a terminal */
  guint           live_lines;
  guint           redraw_id;
  gint64          started;
  guint           sigint_id;
  guint           sigterm_id;
  gboolean        cancelled;
  gboolean        show_codes;    /* print passed boards' QR and manual codes (the demo's are test data) */
  guint           label_errors;  /* labels --label-dir could not take */
  DsSimulator    *simulator;     /* demo: the simulator, NULL otherwise */
  char           *sim_tmp_dir;   /* demo: removed at the end */
} Run;

static void
job_json (Run        *run,
          DsJob      *job,
          const char *event,
          JsonBuilder *b)
{
  DsBoard *board = ds_job_get_board (job);

  json_builder_begin_object (b);
  json_add_string (b, "event", event);
  json_add_string (b, "board", ds_board_get_name (board));
  json_add_string (b, "slot", ds_board_get_slot (board));
  json_add_string (b, "port", ds_board_get_port (board));
  json_add_string (b, "uid", ds_job_get_uid (job));
}

static void
step_started_cb (DsJob *job,
                 int    step,
                 Run   *run)
{
  g_autoptr(JsonBuilder) b = NULL;

  if (!run->json)
    return;
  b = json_builder_new ();
  job_json (run, job, "step", b);
  json_add_string (b, "step", ds_step_to_string (step));
  json_add_string (b, "status", "started");
  json_builder_end_object (b);
  print_json (b);
}

static void
step_finished_cb (DsJob      *job,
                  int         step,
                  const char *outcome,
                  const char *message,
                  Run        *run)
{
  if (run->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      job_json (run, job, "step", b);
      json_add_string (b, "step", ds_step_to_string (step));
      json_add_string (b, "status", outcome);
      json_add_string (b, "message", message);
      json_builder_set_member_name (b, "fraction");
      json_builder_add_double_value (b, ds_job_get_fraction (job));
      json_builder_end_object (b);
      print_json (b);
    }
  else if (!run->live && g_strcmp0 (outcome, "fail") != 0)
    g_print ("%-8s %-16s %-8s %s\n", ds_board_get_name (ds_job_get_board (job)),
             ds_step_get_label (step), outcome, message != NULL ? message : "");
}

static void
job_finished_cb (DsJob *job,
                 Run   *run)
{
  DsBoard *board = ds_job_get_board (job);
  DsJobState state = ds_job_get_state (job);
  double duration = (ds_job_get_finished (job) - ds_job_get_started (job)) / 1e6;

  if (run->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      const GError *error = ds_job_get_error (job);

      switch (state)
        {
        case DS_JOB_STATE_PASSED:
        case DS_JOB_STATE_ALREADY_PROVISIONED:
          job_json (run, job, state == DS_JOB_STATE_PASSED ? "pass" : "already-provisioned", b);
          json_add_string (b, "dac_serial", ds_job_get_dac_serial (job));
          json_add_string (b, "dac_fingerprint", ds_job_get_dac_fingerprint (job));
          json_add_string (b, "dac_file", ds_job_get_dac_path (job));
          json_add_string (b, "pai_file", ds_job_get_pai_path (job));
          /* The codes hold the passcode: in JSON only when asked for. */
          if (state == DS_JOB_STATE_PASSED && !ds_cli_onboarding_passed (job, opt_show_codes, b))
            run->label_errors++;
          break;
        case DS_JOB_STATE_CANCELLED:
          job_json (run, job, "cancelled", b);
          break;
        case DS_JOB_STATE_FAILED:
        default:
          job_json (run, job, "fail", b);
          /* No step when the job failed before its first one. */
          json_add_string (b, "step", ds_job_get_failed_step (job) < DS_N_STEPS
                                      ? ds_step_to_string (ds_job_get_failed_step (job)) : NULL);
          json_add_string (b, "code", ds_job_get_error_code (job));
          json_add_string (b, "cause", error != NULL ? error->message : NULL);
          break;
        }
      json_add_int (b, "job_id", ds_job_get_id (job));
      json_builder_set_member_name (b, "duration_s");
      json_builder_add_double_value (b, duration);
      json_builder_end_object (b);
      print_json (b);
    }
  else if (!run->live)
    {
      g_print ("%-8s %s\n", ds_board_get_name (board), ds_job_get_message (job));
      if (state == DS_JOB_STATE_PASSED && !ds_cli_onboarding_passed (job, run->show_codes, NULL))
        run->label_errors++;
    }
  ds_cli_label_print_job (job, run->json);
}

static void
job_added_cb (DsStation *station,
              DsJob     *job,
              Run       *run)
{
  g_signal_connect (job, "step-started", G_CALLBACK (step_started_cb), run);
  g_signal_connect (job, "step-finished", G_CALLBACK (step_finished_cb), run);
  g_signal_connect (job, "finished", G_CALLBACK (job_finished_cb), run);
}

/* The live table on a terminal: one line per board, redrawn in place. */
static void
redraw (Run *run)
{
  GPtrArray *jobs = ds_station_get_jobs (run->station);
  g_autoptr(GString) out = g_string_new (NULL);
  struct winsize ws = { 0 };
  glong width = 70;
  gint64 now = g_get_monotonic_time ();

  /* Messages fill the line after the name and the bar, never wrap. */
  if (ioctl (STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 40)
    width = ws.ws_col - 33;
  if (run->live_lines > 0)
    g_string_append_printf (out, "\033[%uA", run->live_lines);
  for (guint i = 0; i < jobs->len; i++)
    {
      DsJob *job = g_ptr_array_index (jobs, i);
      DsJobState state = ds_job_get_state (job);
      int filled = (int) (ds_job_get_fraction (job) * 20 + 0.5);
      const char *colour = state == DS_JOB_STATE_PASSED ? "\033[32m"
                           : state == DS_JOB_STATE_FAILED ? "\033[31m"
                           : state == DS_JOB_STATE_ALREADY_PROVISIONED ? "\033[36m" : "";
      gint64 left = ds_job_get_time_left (job, now);
      g_autofree char *eta = left >= 0 ? ds_job_format_time_left (left) : NULL;
      g_autofree char *msg = eta != NULL
                               ? g_strdup_printf ("%s · %s", eta, ds_job_get_message (job) != NULL ? ds_job_get_message (job) : "")
                               : g_strdup (ds_job_get_message (job) != NULL ? ds_job_get_message (job) : "");

      if (g_utf8_strlen (msg, -1) > width)
        *g_utf8_offset_to_pointer (msg, width) = '\0';
      g_string_append_printf (out, "\033[2K%-8s [", ds_board_get_name (ds_job_get_board (job)));
      for (int k = 0; k < 20; k++)
        g_string_append_c (out, k < filled ? '#' : '.');
      g_string_append_printf (out, "] %s%s\033[0m\n", colour, msg);
    }
  run->live_lines = jobs->len;
  if (run->cancelled)
    {
      g_string_append_printf (out, "\033[2K%s\n", _("Cancelling: finishing the current step of every board…"));
      run->live_lines++;
    }
  fputs (out->str, stdout);
  fflush (stdout);
}

static gboolean
redraw_cb (gpointer user_data)
{
  redraw (user_data);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer user_data)
{
  Run *run = user_data;

  if (run->cancelled)
    return G_SOURCE_CONTINUE;
  run->cancelled = TRUE;
  if (!run->json && !run->live)
    g_printerr (_("\nCancelling: finishing the current step of every board…\n"));
  ds_station_cancel_all (run->station);
  if (ds_station_get_n_active (run->station) == 0)
    g_main_loop_quit (run->loop);
  return G_SOURCE_CONTINUE;
}

static void
station_idle_cb (DsStation *station,
                 Run       *run)
{
  g_main_loop_quit (run->loop);
}

static char *opt_lot = NULL;

/* When the command started: the summary reports the whole run. */
static gint64 command_started;

static int
summarise (Run *run)
{
  GPtrArray *jobs = ds_station_get_jobs (run->station);
  guint passed = 0, failed = 0, already = 0, cancelled = 0;
  gint64 now = g_get_monotonic_time ();
  /* The run's real duration, as the person who started it waited for it;
   * the provisioning alone is reported beside it. */
  double elapsed = (now - command_started) / 1e6;
  double provisioning = (now - run->started) / 1e6;
  /* A URI's password is never printed. */
  g_autofree char *records = ds_store_location_display_name (ds_store_get_path (run->store));

  for (guint i = 0; i < jobs->len; i++)
    switch (ds_job_get_state (g_ptr_array_index (jobs, i)))
      {
      case DS_JOB_STATE_PASSED: passed++; break;
      case DS_JOB_STATE_ALREADY_PROVISIONED: already++; break;
      case DS_JOB_STATE_CANCELLED: cancelled++; break;
      default: failed++; break;
      }

  if (run->live)
    redraw (run);
  if (run->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "summary");
      json_add_int (b, "passed", passed);
      json_add_int (b, "failed", failed);
      json_add_int (b, "already_provisioned", already);
      json_add_int (b, "cancelled", cancelled);
      json_add_int (b, "total", jobs->len);
      json_builder_set_member_name (b, "elapsed_s");
      json_builder_add_double_value (b, elapsed);
      json_builder_set_member_name (b, "provisioning_s");
      json_builder_add_double_value (b, provisioning);
      json_add_string (b, "database", records);
      json_add_string (b, "label_dir", opt_label_dir);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_print (_("\n%u passed, %u failed"), passed, failed);
      if (already > 0)
        g_print (_(", %u already provisioned"), already);
      if (cancelled > 0)
        g_print (_(", %u cancelled"), cancelled);
      /* TRANSLATORS: the whole run's time, then the provisioning's alone */
      g_print (_(" in %.1f s (provisioning %.1f s). Records: %s\n"), elapsed, provisioning, records);
      if (opt_label_dir != NULL && passed > 0)
        /* TRANSLATORS: %s is a folder */
        g_print (_("Labels and the lot's onboarding codes (CSV): %s\n"), opt_label_dir);
      for (guint i = 0; i < jobs->len; i++)
        {
          DsJob *job = g_ptr_array_index (jobs, i);
          if (ds_job_get_state (job) == DS_JOB_STATE_FAILED)
            g_print ("  %s: %s\n", ds_board_get_name (ds_job_get_board (job)), ds_job_get_message (job));
        }
      /* The live table had no room for them while it ran. */
      for (guint i = 0; run->live && i < jobs->len; i++)
        {
          DsJob *job = g_ptr_array_index (jobs, i);
          if (ds_job_get_state (job) == DS_JOB_STATE_PASSED && !ds_cli_onboarding_passed (job, run->show_codes, NULL))
            run->label_errors++;
        }
    }
  if (!ds_cli_onboarding_write_csv (ds_store_get_path (run->store), opt_lot))
    run->label_errors++;
  return (failed == 0 && cancelled == 0 && run->label_errors == 0) ? EXIT_OK : EXIT_FAILED;
}

/* Options of a provisioning run. */
static int opt_jobs = OPT_INT_UNSET;
static char *opt_profile = NULL;
static char *opt_vid = NULL;
static char *opt_pid = NULL;
static char *opt_operator = NULL;
static int opt_timeout_ms = OPT_INT_UNSET;
static int opt_retries = OPT_INT_UNSET;
static char *opt_image = NULL;
static char *opt_station_name = NULL;

static GOptionEntry run_entries[] = {
  { "profile", 0, 0, G_OPTION_ARG_FILENAME, &opt_profile,
    N_("The product profile to run (options given here win)"), N_("FILE") },
  { "station", 0, 0, G_OPTION_ARG_STRING, &opt_station_name,
    N_("This station's name in the records, where several stations share one database (default: the host name)"),
    N_("NAME") },
  { "jobs", 'j', 0, G_OPTION_ARG_INT, &opt_jobs, N_("Boards provisioned at once (default 8)"), N_("N") },
  { "vid", 0, 0, G_OPTION_ARG_STRING, &opt_vid, N_("Vendor ID in hex (default FFF1)"), N_("VID") },
  { "pid", 0, 0, G_OPTION_ARG_STRING, &opt_pid, N_("Product ID in hex (default 8000)"), N_("PID") },
  { "operator", 0, 0, G_OPTION_ARG_STRING, &opt_operator, N_("Operator ID recorded with every job"), N_("ID") },
  { "lot", 0, 0, G_OPTION_ARG_STRING, &opt_lot, N_("Lot or work order recorded with every job"), N_("LOT") },
  { "command-timeout", 0, 0, G_OPTION_ARG_INT, &opt_timeout_ms, N_("Wait this long for each board answer (default: per command)"), N_("MS") },
  { "retries", 0, 0, G_OPTION_ARG_INT, &opt_retries, N_("Attempts per board command (default 3)"), N_("N") },
  { "image", 0, 0, G_OPTION_ARG_FILENAME, &opt_image, N_("Provisioning firmware to flash first (.hex, or .bin at 0x08000000); boards already running it are not flashed again"), N_("FILE") },
  { NULL }
};

/* The profile to run: --profile, or today's defaults (a test run), with
 * the options given laid over it.  NULL with a message on stderr. */
static DsProfile *
run_profile (void)
{
  g_autoptr(DsProfile) profile = NULL;
  g_autoptr(GError) error = NULL;

  if (opt_profile != NULL)
    {
      profile = ds_profile_load (opt_profile, &error);
      if (profile == NULL)
        {
          g_printerr ("%s\n", error->message);
          return NULL;
        }
    }
  else
    profile = ds_profile_new ();
  if (!parse_hex16 (opt_vid, &profile->vid) || !parse_hex16 (opt_pid, &profile->pid))
    {
      g_printerr (_("--vid and --pid take four hex digits, for example --vid FFF1 --pid 8000\n"));
      return NULL;
    }
  /* Out of range is refused, never silently replaced by the default. */
  if (opt_jobs != OPT_INT_UNSET && (opt_jobs < 1 || opt_jobs > 256))
    {
      g_printerr (_("--jobs takes a number from 1 to 256\n"));
      return NULL;
    }
  if (!check_int_option ("--command-timeout", opt_timeout_ms, 1, 600000) ||
      !check_int_option ("--retries", opt_retries, 1, 100))
    return NULL;
  if (opt_jobs != OPT_INT_UNSET)
    profile->jobs = (guint) opt_jobs;
  if (opt_timeout_ms != OPT_INT_UNSET)
    profile->timeout_ms = (guint) opt_timeout_ms;
  if (opt_retries != OPT_INT_UNSET)
    profile->retries = (guint) opt_retries;
  if (opt_image != NULL)
    {
      g_free (profile->firmware_image);
      profile->firmware_image = g_canonicalize_filename (opt_image, NULL);
    }
  if (opt_db != NULL || profile->store == NULL)
    {
      g_free (profile->store);
      profile->store = store_location ();
    }
  if (!ds_cli_ca_apply (profile->ca, &error))
    {
      g_printerr ("%s\n", error->message);
      return NULL;
    }
  ds_cli_gate_apply (profile);
  return g_steal_pointer (&profile);
}

/* Builds the station from the profile and the options; FALSE with a
 * message on stderr on a configuration error. */
static gboolean
setup_run (Run *run)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = data_dir ();
  g_autoptr(DsProfile) profile = run_profile ();
  g_autoptr(DsStationSetup) setup = NULL;
  g_autofree char *login = NULL;
  g_autofree char *event = NULL;
  const DsJobOptions *options;
  gint closed;

  if (profile == NULL)
    return FALSE;
  /* A new store is made where there is none; anything else but a file is
   * refused, naming it. */
  if (!ds_store_location_is_uri (profile->store) && g_file_test (profile->store, G_FILE_TEST_EXISTS) &&
      !g_file_test (profile->store, G_FILE_TEST_IS_REGULAR))
    {
      print_store_problem (profile->store);
      return FALSE;
    }
  setup = ds_station_setup_new (profile);
  ds_station_setup_set_data_dir (setup, dir);
  ds_station_setup_set_operator (setup, opt_operator);
  ds_station_setup_set_lot (setup, opt_lot);
  ds_station_setup_set_station_name (setup, opt_station_name);
  if (!ds_cli_reprovision_apply (setup) || !ds_cli_onboarding_apply (setup))
    return FALSE;
  ds_cli_label_print_apply (profile);
  if (ds_station_setup_open_store (setup, &error) == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  run->store = g_object_ref (ds_station_setup_open_store (setup, NULL));
  closed = ds_store_close_interrupted_jobs (run->store, &error);
  if (closed < 0)
    {
      g_printerr (_("Cannot check the record store: %s\n"), error->message);
      return FALSE;
    }
  /* No operator, no login to record (and no NULL for %s). */
  if (opt_operator != NULL)
    {
      login = g_strdup_printf ("%s lot %s", opt_operator, opt_lot != NULL ? opt_lot : "-");
      if (!ds_store_log_event (run->store, 0, NULL, "operator-login", login, &error))
        {
          g_printerr (_("Cannot record the operator: %s\n"), error->message);
          return FALSE;
        }
    }
  if (closed > 0 && !run->json)
    g_printerr (_("%d job(s) were interrupted last time; their boards resume where they stopped.\n"), closed);
  if (profile->path != NULL)
    event = g_strdup_printf ("%s sha256 %s %s", ds_profile_get_mode (profile), profile->sha256, profile->path);
  /* The profile run is in the audit trail, by the file's digest. */
  if (event != NULL && !ds_store_log_event (run->store, 0, NULL, "profile", event, &error))
    {
      g_printerr (_("Cannot record the profile: %s\n"), error->message);
      return FALSE;
    }

  run->station = ds_station_setup_build (setup, &error);
  if (run->station == NULL)
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  options = ds_station_get_options (run->station);
  if (ds_ca_is_test (options->ca) && !run->json)
    {
      if (DS_IS_TEST_CA (options->ca))
        g_printerr (_("TEST MODE: the test CA issues test DACs (vendor 0x%04X) that no production device may carry.\n"),
                    ds_test_ca_get_vid (DS_TEST_CA (options->ca)));
      else
        g_printerr (_("TEST MODE: the %s CA issues test DACs (a test vendor ID) that no production device may carry.\n"),
                    ds_ca_get_name (options->ca));
    }
  if (options->cd_builtin_test && !run->json)
    g_printerr (_("TEST MODE: every board gets the built-in test Certification Declaration for %04X:%04X, "
                  "signed with the Matter test CD-signing key (--cd FILE installs another one, --cd none installs none).\n"),
                options->vid, options->pid);
  g_signal_connect (run->station, "job-added", G_CALLBACK (job_added_cb), run);
  g_signal_connect (run->station, "idle", G_CALLBACK (station_idle_cb), run);

  run->loop = g_main_loop_new (NULL, FALSE);
  run->live = !run->json && isatty (STDOUT_FILENO);
  run->sigint_id = g_unix_signal_add (SIGINT, on_signal, run);
  run->sigterm_id = g_unix_signal_add (SIGTERM, on_signal, run);
  return TRUE;
}

static void
run_clear (Run *run)
{
  g_clear_handle_id (&run->redraw_id, g_source_remove);
  g_clear_handle_id (&run->sigint_id, g_source_remove);
  g_clear_handle_id (&run->sigterm_id, g_source_remove);
  g_clear_object (&run->station);
  g_clear_object (&run->store);
  g_clear_pointer (&run->loop, g_main_loop_unref);
}

/* Provisions @boards and returns the exit code. */
static int
provision_boards (Run       *run,
                  GPtrArray *boards)
{
  /* The summary's elapsed time is the provisioning, not the set-up. */
  run->started = g_get_monotonic_time ();
  for (guint i = 0; i < boards->len; i++)
    {
      g_autoptr(GError) error = NULL;

      if (ds_station_provision (run->station, g_ptr_array_index (boards, i), &error) == NULL)
        g_printerr ("%s\n", error->message);
    }
  if (ds_station_get_n_active (run->station) > 0)
    {
      if (run->live)
        run->redraw_id = g_timeout_add (200, redraw_cb, run);
      g_main_loop_run (run->loop);
    }
  ds_cli_label_wait ();
  return summarise (run);
}

/* A port the operator named must be a terminal: a serial port or a
 * pseudo-terminal, not a directory, a file or /dev/null. */
static gboolean
check_port (const char *port,
            GError    **error)
{
  struct stat st;
  int fd = g_open (port, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC, 0);

  if (fd < 0)
    {
      int errsv = errno;

      if (errsv == EISDIR)
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s is a directory, not a serial port"), port);
      else
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot open the port %s: %s"), port, g_strerror (errsv));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISCHR (st.st_mode) || !isatty (fd))
    {
      close (fd);
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s is not a serial port or a pseudo-terminal"), port);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

static char **opt_ports = NULL;
static gboolean opt_all = FALSE;
static char *opt_fixture = NULL;
static char **opt_slots = NULL;

static int
cmd_provision (int    argc,
               char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— provision boards with DACs"));
  GOptionEntry entries[] = {
    { "all", 'a', 0, G_OPTION_ARG_NONE, &opt_all, N_("Every board the station sees"), NULL },
    { "port", 'p', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_ports, N_("A board's port or name (repeatable)"), N_("PORT") },
    { "fixture", 0, 0, G_OPTION_ARG_FILENAME, &opt_fixture, N_("The fixture file that names the slots; boards outside it are skipped unless it allows them (docs/fixtures.md)"), N_("FILE") },
    { "slots", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_slots, N_("Only the boards in these fixture slots, e.g. A1,A2 (repeatable)"), N_("SLOTS") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsBoardMonitor) monitor = NULL;
  g_autoptr(GPtrArray) boards = NULL;
  Run run = { 0 };
  int ret;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, run_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_label_print_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_gate_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ca_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_reprovision_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_onboarding_run_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (!opt_all && (opt_ports == NULL || opt_ports[0] == NULL) && opt_slots == NULL)
    return usage_error (context, _("Say which boards: --all, --slots A1,A2 or --port PORT for each"));
  if (opt_slots != NULL && opt_fixture == NULL)
    return usage_error (context, _("--slots needs --fixture: the fixture file names the slots"));
  if (argc > 1)
    return usage_error (context, _("Unexpected arguments"));

  run.json = opt_json;
  run.show_codes = opt_show_codes;
  if (!setup_run (&run))
    {
      run_clear (&run);
      return EXIT_USAGE;
    }

  monitor = ds_board_monitor_new (NULL);
  if (!ds_cli_boards_set_fixture (monitor, opt_fixture))
    {
      run_clear (&run);
      return EXIT_USAGE;
    }
  ds_board_monitor_scan (monitor);
  if (opt_all)
    boards = ds_board_monitor_list (monitor);
  else if (opt_slots != NULL)
    {
      boards = ds_cli_boards_by_slot (monitor, opt_slots);
      if (boards == NULL)
        {
          run_clear (&run);
          return EXIT_USAGE;
        }
    }
  else
    {
      boards = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; opt_ports[i] != NULL; i++)
        {
          DsBoard *board = ds_board_monitor_find (monitor, opt_ports[i]);

          if (board != NULL)
            g_ptr_array_add (boards, g_object_ref (board));
          else if (g_file_test (opt_ports[i], G_FILE_TEST_EXISTS))
            {
              if (!check_port (opt_ports[i], &error))
                {
                  g_printerr ("%s\n", error->message);
                  run_clear (&run);
                  return EXIT_USAGE;
                }

              /* A port the monitor does not list (not an ST-LINK ID): the
               * operator named it, so try it. */
              g_ptr_array_add (boards, ds_board_new_for_port (opt_ports[i]));
            }
          else
            {
              g_printerr (_("No board on %s\n"), opt_ports[i]);
              run_clear (&run);
              return EXIT_USAGE;
            }
        }
    }
  if (boards->len == 0)
    g_printerr (_("No boards found. Plug in an ST-LINK board, or start simulated ones with dac-station-sim.\n"));

  {
    /* Two boards that cannot be told apart are neither provisioned. */
    g_autoptr(GPtrArray) all = g_steal_pointer (&boards);
    guint n_blocked = 0;

    boards = ds_cli_boards_unblocked (monitor, all, run.json, &n_blocked);
    ret = provision_boards (&run, boards);
    if (boards->len == 0 || n_blocked > 0)
      ret = EXIT_FAILED;
  }
  run_clear (&run);
  return ret;
}

/* ---- demo -------------------------------------------------------------- */

/* Starts the simulator and waits for its "ready" line. */
static gboolean
start_simulator (Run         *run,
                 int          n_boards,
                 gboolean     blank,
                 int          baud,
                 const char  *state_dir,
                 const char  *announce_dir,
                 GError     **error)
{
  const char *blank_args[] = { "--blank", NULL };

  run->simulator = ds_simulator_new (announce_dir);
  ds_simulator_set_state_dir (run->simulator, state_dir);
  if (blank)
    ds_simulator_add_arguments (run->simulator, blank_args);
  return ds_simulator_start_sync (run->simulator, (guint) n_boards, (guint) baud, NULL, error);
}

static void
stop_simulator (Run *run)
{
  if (run->simulator == NULL)
    return;
  ds_simulator_stop_sync (run->simulator, SIGTERM);
  g_clear_object (&run->simulator);
}

static int
cmd_demo (int    argc,
          char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("— provision simulated boards with the test CA"));
  int n_boards = 8;
  int baud = 0;
  char *keep_state = NULL;
  gboolean blank = FALSE;
  GOptionEntry entries[] = {
    { "blank", 0, 0, G_OPTION_ARG_NONE, &blank, N_("Boards arrive with erased flash: flash the provisioning firmware first"), NULL },
    { "boards", 'n', 0, G_OPTION_ARG_INT, &n_boards, N_("How many simulated boards (default 8)"), N_("N") },
    { "baud", 0, 0, G_OPTION_ARG_INT, &baud, N_("Throttle the simulated UARTs to this baud rate (default: no limit)"), N_("RATE") },
    { "sim-state-dir", 0, 0, G_OPTION_ARG_FILENAME, &keep_state, N_("Keep the simulated boards' state here (default: new boards every run)"), N_("DIR") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(DsBoardMonitor) monitor = NULL;
  g_autoptr(GPtrArray) boards = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *state_dir = NULL;
  g_autofree char *announce_dir = NULL;
  Run run = { 0 };
  int ret;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, run_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_label_print_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_gate_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ca_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_onboarding_run_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (n_boards < 1 || n_boards > 64)
    return usage_error (context, _("--boards takes a number from 1 to 64"));
  if (baud < 0)
    return usage_error (context, _("--baud takes a positive rate, or 0 for no limit"));

  run.json = opt_json;
  /* The demo's boards carry test data: their codes are printed always. */
  run.show_codes = TRUE;
  if (blank && opt_image == NULL)
    {
      /* The simulated boards' own firmware image, built beside the simulator. */
      g_autofree char *sim = ds_simulator_find_program ();
      g_autofree char *dir = sim != NULL ? g_path_get_dirname (sim) : NULL;

      if (dir != NULL)
        opt_image = g_build_filename (dir, "dac-station-sim-firmware.bin", NULL);
    }
  if (!setup_run (&run))
    {
      run_clear (&run);
      return EXIT_USAGE;
    }
  /* The demo's boards leave with their labels, as a line's would: beside
   * its records unless --label-dir or the profile says where. */
  if (opt_label_dir == NULL)
    {
      g_autofree char *dir = data_dir ();

      opt_label_dir = g_build_filename (dir, "labels", NULL);
    }

  tmp = g_dir_make_tmp ("dac-station-demo-XXXXXX", &error);
  if (tmp == NULL)
    {
      g_printerr ("%s\n", error->message);
      run_clear (&run);
      return EXIT_USAGE;
    }
  state_dir = keep_state != NULL ? g_strdup (keep_state) : g_build_filename (tmp, "boards", NULL);
  announce_dir = g_build_filename (tmp, "announce", NULL);
  if (!run.json)
    {
      g_printerr (_("Starting %d simulated boards…\n"), n_boards);
      g_printerr (_("The demo prints each board's QR and manual pairing codes: they are test data. "
                    "provision prints them only with --show-codes.\n"));
    }
  if (!start_simulator (&run, n_boards, blank, baud, state_dir, announce_dir, &error))
    {
      g_printerr (_("Cannot start the board simulator: %s\n"), error->message);
      stop_simulator (&run);
      ds_util_remove_tree (tmp);
      run_clear (&run);
      return EXIT_USAGE;
    }

  monitor = ds_board_monitor_new (announce_dir);
  ds_board_monitor_set_serial_enabled (monitor, FALSE);
  ds_board_monitor_scan (monitor);
  boards = ds_board_monitor_list (monitor);
  ret = provision_boards (&run, boards);
  if ((int) boards->len != n_boards)
    {
      g_printerr (_("Only %u of %d simulated boards appeared\n"), boards->len, n_boards);
      ret = EXIT_FAILED;
    }

  stop_simulator (&run);
  if (keep_state == NULL)
    ds_util_remove_tree (tmp);
  else
    {
      g_autofree char *ann = g_build_filename (tmp, "announce", NULL);
      ds_util_remove_tree (ann);
      g_rmdir (tmp);
    }
  g_free (keep_state);
  run_clear (&run);
  return ret;
}

/* ---- main -------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*func) (int argc, char **argv);
  const char *summary;
} commands[] = {
  { "boards", ds_cli_boards, N_("List the boards the station sees") },
  { "identify", ds_cli_identify, N_("Make a board's LED blink, to find it on the fixture") },
  { "provision", cmd_provision, N_("Provision boards with DACs") },
  { "demo", cmd_demo, N_("Provision simulated boards with the test CA") },
  { "pki", cmd_pki, N_("Show where the test PAA and PAI are") },
  { "serve-ca", ds_cli_serve_ca, N_("Run a development EST server over the test CA") },
  { "flash", ds_cli_flash, N_("Flash a firmware image onto a board") },
  { "stats", ds_cli_stats, N_("Yield statistics from the records") },
  { "export", ds_cli_export, N_("Export the records as CSV or JSON lines") },
  { "export-onboarding", ds_cli_export_onboarding, N_("A lot's onboarding codes and serial numbers as CSV") },
  { "audit", ds_cli_audit, N_("Check the records' audit chain (audit verify)") },
  { "verify", ds_cli_verify, N_("Check a DAC chain against the Matter attestation rules") },
  { "profile", ds_cli_profile, N_("Make, show or check a product profile (profile new|show|check FILE)") },
  { "onboarding", ds_cli_onboarding, N_("Parse a Matter QR or manual code, check factory data, or make onboarding data") },
  { "label", ds_cli_label, N_("List the label printers, or print or write a board's label, from the records too (label printers|print|write)") },
};

static void
print_usage (FILE *out)
{
  int width = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    width = MAX (width, (int) strlen (commands[i].name));
  fprintf (out, _("Usage: dac-station-cli COMMAND [OPTION…]\n\nCommands:\n"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-*s  %s\n", width, commands[i].name, _(commands[i].summary));
  fprintf (out, _("\nRun “dac-station-cli COMMAND --help” for a command's options.\n"));
}

int
main (int    argc,
      char **argv)
{
  command_started = g_get_monotonic_time ();
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  /* A board that hangs up while we write must be an error, not a signal. */
  signal (SIGPIPE, SIG_IGN);

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    {
      g_print ("dac-station-cli %s\n", PACKAGE_VERSION);
      return EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prgname = g_strdup_printf ("dac-station-cli %s", commands[i].name);
        g_set_prgname (prgname);
        return commands[i].func (argc - 1, argv + 1);
      }
  g_printerr (_("Unknown command “%s”\n\n"), argv[1]);
  print_usage (stderr);
  return EXIT_USAGE;
}

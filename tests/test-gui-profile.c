/* One product profile, two front ends: the CLI (--profile) and the GTK
 * station (the "profile" setting) refuse the same test material in
 * production and run the same test profile the same way. */
#include "config.h"

#include <glib/gstdio.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-crypto.h"
#include "ds-login-dialog.h"
#include "ds-preferences-dialog.h"
#include "ds-test-util.h"
#include "test-gui-util.h"

typedef struct {
  char          *tmp;
  char          *sim_dir;
  DsApplication *app;
  DsWindow      *window;
  TestSim       *sim;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("dac-station-gui-profile-XXXXXX", &error);
  g_assert_no_error (error);
  f->sim_dir = g_build_filename (f->tmp, "announce", NULL);
  g_assert_cmpint (g_mkdir_with_parents (f->sim_dir, 0700), ==, 0);
}

static void
close_app (Fixture *f)
{
  if (f->app != NULL)
    test_app_close (f->app);
  g_clear_object (&f->app);
  f->window = NULL;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.dacstation.Station");

  close_app (f);
  g_clear_pointer (&f->sim, test_sim_stop);
  g_settings_reset (settings, "profile");
  test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->sim_dir);
}

/* Fresh simulated boards (their own state) for one front end. */
static void
start_sim (Fixture    *f,
           const char *name,
           guint       n)
{
  g_autofree char *state = g_build_filename (f->tmp, name, NULL);

  g_clear_pointer (&f->sim, test_sim_stop);
  f->sim = test_sim_start (state, f->sim_dir, n, 0, NULL);
}

/* The GTK station with @profile, signed in, its @n boards shown. */
static void
start_gui (Fixture    *f,
           const char *profile,
           const char *data_name,
           guint       n)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.dacstation.Station");
  g_autofree char *data_dir = g_build_filename (f->tmp, data_name, NULL);

  g_settings_set_string (settings, "profile", profile);
  f->app = test_app_new (data_dir, f->sim_dir, "op-1", "LOT-P", FALSE);
  f->window = test_app_get_window (f->app);
  test_wait_cards (f->window, n, 30);
}

static char *
write_profile (Fixture    *f,
               const char *name,
               const char *text)
{
  g_autoptr(GString) contents = g_string_new (text);
  char *path = g_build_filename (f->tmp, name, NULL);

  g_string_replace (contents, "@TMP@", f->tmp, 0);
  g_assert_true (g_file_set_contents (path, contents->str, -1, NULL));
  return path;
}

#define PRODUCTION_CA "[ca]\nca=est:https://127.0.0.1:9\nuser=station\nca-bundle=@TMP@/good-paa/paa.pem\n"

/* Each production refusal, through the CLI and through the GUI, from the
 * same file: nothing is provisioned and both say the same cause. */
static void
test_production_refusals (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *good = g_build_filename (f->tmp, "good-paa", NULL);
  g_autofree char *good_paa = g_build_filename (good, "paa.pem", NULL);
  g_autofree char *test_paa = g_build_filename (f->tmp, "test-paa.pem", NULL);
  g_autofree char *test_cd = g_build_filename (f->tmp, "test-cd.der", NULL);
  const struct {
    const char *text;
    const char *needle;
  } cases[] = {
    { "[gate]\nproduction=true\n", "Production mode refuses the test CA" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n[product]\nvid=FFF1\npid=0001\n" PRODUCTION_CA,
      "test vendor ID 0xFFF1" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/test-paa.pem\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA,
      "trust store that holds test PAAs" },
    { "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\ncd=@TMP@/test-cd.der\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA,
      "signed with the Matter test key" },
  };

  g_assert_cmpint (g_mkdir_with_parents (good, 0700), ==, 0);
  ds_test_make_paa (good_paa, "Acme Production PAA");
  ds_test_make_paa (test_paa, "Matter Test PAA");
  ds_test_make_cd (test_cd, ds_cd_test_kid);

  /* profile new writes what profile check then refuses. */
  {
    g_autofree char *made = g_build_filename (f->tmp, "made.profile", NULL);
    const char *make[] = { "profile", "new", made, "--name", "Made", "--vid", "1234", "--pid", "0001",
                           "--production", NULL };
    const char *check[] = { "profile", "check", made, NULL };
    g_autoptr(DsCliResult) m = ds_test_run_cli (f->sim_dir, make);
    g_autoptr(DsCliResult) again = ds_test_run_cli (f->sim_dir, make);
    g_autoptr(DsCliResult) c = ds_test_run_cli (f->sim_dir, check);

    g_assert_cmpint (m->exit_status, ==, 0);
    g_assert_cmpint (again->exit_status, ==, 2);
    g_assert_nonnull (strstr (again->err, "--force"));
    g_assert_cmpint (c->exit_status, ==, 1);
    g_assert_nonnull (strstr (c->err, "Production mode refuses the test CA"));
  }
  g_setenv ("DS_CA_PASSWORD", "not-a-real-password", TRUE);
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = g_strdup_printf ("refused-%zu.profile", i);
      g_autofree char *profile = write_profile (f, name, cases[i].text);
      g_autofree char *cli_data = g_strdup_printf ("%s/cli-%zu", f->tmp, i);
      g_autofree char *gui_data = g_strdup_printf ("gui-%zu", i);
      const char *args[] = { "provision", "--all", "--json", "--data-dir", cli_data, "--profile", profile, NULL };
      g_autoptr(DsCliResult) r = NULL;
      const char *shown;
      g_autofree char *boards = g_strdup_printf ("boards-%zu", i);

      start_sim (f, boards, 1);
      r = ds_test_run_cli (f->sim_dir, args);
      g_test_message ("CLI %zu → %d: %s", i, r->exit_status, r->err);
      g_assert_cmpint (r->exit_status, ==, 2);
      g_assert_nonnull (strstr (r->err, cases[i].needle));
      g_assert_null (ds_test_find_event (r->events, "step", "sim-0"));

      start_gui (f, profile, gui_data, 1);
      g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
      test_wait_station (f->window, 30);
      shown = ds_window_get_error (f->window);
      g_test_message ("GUI %zu → %s", i, shown);
      g_assert_nonnull (shown);
      g_assert_nonnull (strstr (shown, cases[i].needle));
      g_assert_null (ds_window_get_station (f->window));
      g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_IDLE), ==, 1);
      close_app (f);
    }
  g_unsetenv ("DS_CA_PASSWORD");
}

/* A production profile done right: the GUI builds its station (the CA is
 * asked by the first job) and refuses the simulated board before its job
 * starts; its badge is the gate's.  The CLI asks the CA first, which is
 * not there: it stops before any board is touched. */
static void
test_simulated_boards (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *good = g_build_filename (f->tmp, "good-paa", NULL);
  g_autofree char *good_paa = g_build_filename (good, "paa.pem", NULL);
  g_autofree char *profile = NULL;
  g_autofree char *cli_data = g_build_filename (f->tmp, "cli", NULL);
  const char *args[] = { "provision", "--all", "--json", "--data-dir", cli_data, NULL, NULL, NULL };
  g_autoptr(DsCliResult) r = NULL;
  DsStation *station;

  g_assert_cmpint (g_mkdir_with_parents (good, 0700), ==, 0);
  ds_test_make_paa (good_paa, "Acme Production PAA");
  profile = write_profile (f, "acme.profile",
                           "[profile]\nname=Acme Widget\n"
                           "[gate]\nproduction=true\ntrust-store=@TMP@/good-paa\n[product]\nvid=1234\npid=0001\n" PRODUCTION_CA);
  g_setenv ("DS_CA_PASSWORD", "not-a-real-password", TRUE);
  start_sim (f, "boards", 1);

  start_gui (f, profile, "gui", 1);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_station (f->window, 30);
  station = ds_window_get_station (f->window);
  g_assert_nonnull (station);
  g_assert_true (ds_station_get_options (station)->production);
  g_assert_nonnull (ds_window_get_error (f->window));
  g_assert_nonnull (strstr (ds_window_get_error (f->window), "refuses the simulated board sim-0"));
  g_assert_cmpuint (ds_station_get_jobs (station)->len, ==, 0);
  close_app (f);

  args[5] = "--profile";
  args[6] = profile;
  r = ds_test_run_cli (f->sim_dir, args);
  g_test_message ("CLI → %d: %s", r->exit_status, r->err);
  g_assert_cmpint (r->exit_status, ==, 2);
  g_assert_null (ds_test_find_event (r->events, "step", "sim-0"));
  g_unsetenv ("DS_CA_PASSWORD");
}

/* How many events of @kind in the store of @data_dir hold @needle. */
static guint
count_events (Fixture    *f,
              const char *data_dir,
              const char *kind,
              const char *needle)
{
  const char *args[] = { "export", "--json", "--table", "events", "--data-dir", data_dir, NULL };
  g_autoptr(DsCliResult) r = ds_test_run_cli (f->sim_dir, args);
  guint n = 0;

  g_assert_cmpint (r->exit_status, ==, 0);
  for (guint i = 0; i < r->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (r->events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "kind", NULL), kind) == 0 &&
          strstr (json_object_get_string_member_with_default (o, "message", ""), needle) != NULL)
        n++;
    }
  return n;
}

/* The same test profile runs the same way in both: the product, the mode,
 * the run limits and the onboarding settings come from the file, and both
 * pass the board. */
static void
test_same_behaviour (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *profile = write_profile (f, "demo.profile",
                                            "[profile]\nname=Demo Widget\n[product]\nvid=FFF1\npid=8001\n"
                                            "[gate]\nproduction=false\n[run]\njobs=3\nretries=4\n"
                                            "[onboarding]\nserial-pattern=DEMO-{seq:03}\ndiscriminator=3840\n");
  g_autofree char *cli_data = g_build_filename (f->tmp, "cli", NULL);
  const char *args[] = { "provision", "--all", "--json", "--data-dir", cli_data, "--operator", "op-1",
                         "--profile", profile, NULL };
  const char *show[] = { "profile", "show", "--json", profile, NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(DsCliResult) s = NULL;
  JsonObject *pass;
  const DsJobOptions *o;
  DsJob *job;

  start_sim (f, "cli-boards", 1);
  r = ds_test_run_cli (f->sim_dir, args);
  g_test_message ("CLI → %d: %s", r->exit_status, r->err);
  g_assert_cmpint (r->exit_status, ==, 0);
  pass = ds_test_find_event (r->events, "pass", "sim-0");
  g_assert_nonnull (pass);
  g_assert_cmpstr (json_object_get_string_member (pass, "serial_number"), ==, "DEMO-001");

  s = ds_test_run_cli (f->sim_dir, show);
  g_assert_cmpint (s->exit_status, ==, 0);
  g_assert_cmpstr (json_object_get_string_member (ds_test_find_event (s->events, "profile", NULL), "mode"), ==, "test");
  g_assert_cmpstr (json_object_get_string_member (ds_test_find_event (s->events, "profile", NULL), "name"), ==,
                   "Demo Widget");

  start_sim (f, "gui-boards", 1);
  start_gui (f, profile, "gui", 1);
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_finished (f->window, 1, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 1);
  o = ds_station_get_options (ds_window_get_station (f->window));
  g_assert_false (o->production);
  g_assert_cmpuint (o->vid, ==, 0xFFF1);
  g_assert_cmpuint (o->pid, ==, 0x8001);
  g_assert_cmpuint (o->retries, ==, 4);
  job = g_ptr_array_index (ds_station_get_jobs (ds_window_get_station (f->window)), 0);
  g_assert_cmpint (ds_job_get_state (job), ==, DS_JOB_STATE_PASSED);
  g_assert_nonnull (ds_job_get_label_info (job));
  g_assert_cmpstr (ds_job_get_label_info (job)->serial_number, ==, "DEMO-001");

  /* Both records name the profile by its digest, and the configuration
   * names the CA and the legacy-CN setting. */
  {
    g_autofree char *contents = NULL;
    g_autofree char *sha = NULL;
    g_autofree char *gui_data = g_build_filename (f->tmp, "gui", NULL);
    gsize len = 0;

    g_assert_true (g_file_get_contents (profile, &contents, &len, NULL));
    sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
    g_assert_cmpuint (count_events (f, cli_data, "profile", sha), ==, 1);
    g_assert_cmpuint (count_events (f, gui_data, "profile", sha), ==, 1);
    g_assert_cmpuint (count_events (f, cli_data, "config-change", "legacy-cn no"), ==, 1);
    g_assert_cmpuint (count_events (f, gui_data, "config-change", "legacy-cn no"), ==, 1);
    g_assert_cmpuint (count_events (f, cli_data, "config-change", "\nonboarding discriminator 3840\n"), ==, 1);
    g_assert_cmpuint (count_events (f, gui_data, "config-change", "\nonboarding discriminator 3840\n"), ==, 1);
  }
}

static gboolean
login_shown (gpointer data)
{
  return test_find_toplevel (DS_TYPE_LOGIN_DIALOG) != NULL;
}

/* The operator chooses the profile at sign-in: it becomes the "profile"
 * setting and the station is built from it. */
static void
test_chosen_at_sign_in (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *profile = write_profile (f, "sign-in.profile",
                                            "[profile]\nname=Sign-in Widget\n[product]\nvid=FFF1\npid=8002\n"
                                            "[gate]\nproduction=false\n");
  g_autofree char *data_dir = g_build_filename (f->tmp, "gui", NULL);
  g_autoptr(GSettings) settings = g_settings_new ("org.dacstation.Station");
  g_autofree char *chosen = NULL;
  DsLoginDialog *login;
  DsStation *station;

  g_settings_set_string (settings, "last-operator", "op-9");
  g_settings_set_string (settings, "last-lot", "LOT-9");
  start_sim (f, "boards", 1);
  f->app = test_app_new (data_dir, f->sim_dir, NULL, NULL, FALSE);
  f->window = test_app_get_window (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
  g_assert_true (test_wait_until (login_shown, NULL, 10));
  test_wait_cards (f->window, 1, 30);

  login = DS_LOGIN_DIALOG (test_find_toplevel (DS_TYPE_LOGIN_DIALOG));
  ds_login_dialog_set_profile (login, profile);
  gtk_dialog_response (GTK_DIALOG (login), GTK_RESPONSE_OK);
  g_assert_true (ds_window_is_signed_in (f->window));
  chosen = g_settings_get_string (settings, "profile");
  g_assert_cmpstr (chosen, ==, profile);

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "start-all", NULL);
  test_wait_station (f->window, 30);
  station = ds_window_get_station (f->window);
  g_assert_nonnull (station);
  g_assert_cmpuint (ds_station_get_options (station)->pid, ==, 0x8002);
  test_wait_finished (f->window, 1, 60);
  g_assert_cmpuint (test_count_cards (f->window, DS_CARD_STATUS_PASSED), ==, 1);
  g_settings_reset (settings, "last-operator");
  g_settings_reset (settings, "last-lot");
}

static void
find_label_cb (GtkWidget *widget,
               gpointer   data)
{
  GtkWidget **found = data;

  if (*found != NULL)
    return;
  if (GTK_IS_BUTTON (widget) && g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), "_Unlock for Editing…") == 0)
    *found = widget;
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), find_label_cb, data);
}

/* A production profile's Preferences open locked, nothing focused that a
 * scan could overwrite; an engineer unlocks them on purpose. */
static void
test_preferences_locked (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.dacstation.Station");
  GtkWidget *dialog = NULL;
  GtkWidget *unlock = NULL;
  GtkWidget *focus;
  GtkWidget *confirm;

  dialog = GTK_WIDGET (ds_preferences_dialog_new (NULL, settings, f->tmp));
  g_assert_false (ds_preferences_dialog_get_locked (DS_PREFERENCES_DIALOG (dialog)));
  gtk_widget_destroy (dialog);

  g_settings_set_boolean (settings, "production", TRUE);
  dialog = GTK_WIDGET (ds_preferences_dialog_new (NULL, settings, f->tmp));
  gtk_widget_show (dialog);
  g_assert_true (ds_preferences_dialog_get_locked (DS_PREFERENCES_DIALOG (dialog)));
  focus = gtk_window_get_focus (GTK_WINDOW (dialog));
  g_assert_false (focus != NULL && GTK_IS_ENTRY (focus));
  find_label_cb (dialog, &unlock);
  g_assert_nonnull (unlock);
  gtk_button_clicked (GTK_BUTTON (unlock));
  confirm = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (confirm);
  /* Cancel keeps the lock; Unlock lifts it. */
  gtk_dialog_response (GTK_DIALOG (confirm), GTK_RESPONSE_CANCEL);
  g_assert_true (ds_preferences_dialog_get_locked (DS_PREFERENCES_DIALOG (dialog)));
  gtk_button_clicked (GTK_BUTTON (unlock));
  confirm = test_find_toplevel (GTK_TYPE_MESSAGE_DIALOG);
  g_assert_nonnull (confirm);
  gtk_dialog_response (GTK_DIALOG (confirm), GTK_RESPONSE_ACCEPT);
  g_assert_false (ds_preferences_dialog_get_locked (DS_PREFERENCES_DIALOG (dialog)));
  gtk_widget_destroy (dialog);
  g_settings_reset (settings, "production");
}

static void
find_chooser_entry_cb (GtkWidget *widget,
                       gpointer   data)
{
  GtkWidget **found = data;

  if (*found != NULL)
    return;
  if (GTK_IS_ENTRY (widget) &&
      g_strcmp0 (g_object_get_data (G_OBJECT (widget), "ds-chooser-title"), "Certification Declaration") == 0)
    *found = widget;
  else if (GTK_IS_CONTAINER (widget))
    gtk_container_forall (GTK_CONTAINER (widget), find_chooser_entry_cb, data);
}

static gboolean
chooser_has_file (gpointer data)
{
  g_autofree char *path = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (data));

  return path != NULL;
}

/* A path in Preferences is chosen with a file chooser, not typed. */
static void
test_preferences_choosers (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GSettings) settings = g_settings_new ("org.dacstation.Station");
  g_autofree char *cd = g_build_filename (f->tmp, "product-cd.der", NULL);
  g_autofree char *value = NULL;
  GtkWidget *dialog;
  GtkWidget *entry = NULL;
  GtkWidget *chooser;

  g_assert_true (g_file_set_contents (cd, "cd", -1, NULL));
  dialog = GTK_WIDGET (ds_preferences_dialog_new (NULL, settings, f->tmp));
  gtk_widget_show (dialog);
  find_chooser_entry_cb (dialog, &entry);
  g_assert_nonnull (entry);
  g_assert_cmpstr (gtk_entry_get_icon_name (GTK_ENTRY (entry), GTK_ENTRY_ICON_SECONDARY), ==, "document-open-symbolic");
  g_signal_emit_by_name (entry, "icon-press", GTK_ENTRY_ICON_SECONDARY, NULL);
  chooser = test_find_toplevel (GTK_TYPE_FILE_CHOOSER_DIALOG);
  g_assert_nonnull (chooser);
  g_assert_true (gtk_file_chooser_set_filename (GTK_FILE_CHOOSER (chooser), cd));
  /* The chooser selects the file once it has read the folder. */
  g_assert_true (test_wait_until (chooser_has_file, chooser, 10));
  gtk_dialog_response (GTK_DIALOG (chooser), GTK_RESPONSE_ACCEPT);
  value = g_settings_get_string (settings, "certification-declaration");
  g_assert_cmpstr (value, ==, cd);
  gtk_widget_destroy (dialog);
  g_settings_reset (settings, "certification-declaration");
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  gtk_test_init (&argc, &argv, NULL);
  g_test_add ("/gui-profile/production-refusals", Fixture, NULL, fixture_setup, test_production_refusals, fixture_teardown);
  g_test_add ("/gui-profile/simulated-boards", Fixture, NULL, fixture_setup, test_simulated_boards, fixture_teardown);
  g_test_add ("/gui-profile/chosen-at-sign-in", Fixture, NULL, fixture_setup, test_chosen_at_sign_in, fixture_teardown);
  g_test_add ("/gui-profile/preferences-locked", Fixture, NULL, fixture_setup, test_preferences_locked, fixture_teardown);
  g_test_add ("/gui-profile/preferences-choosers", Fixture, NULL, fixture_setup, test_preferences_choosers, fixture_teardown);
  g_test_add ("/gui-profile/same-behaviour", Fixture, NULL, fixture_setup, test_same_behaviour, fixture_teardown);
  return g_test_run ();
}

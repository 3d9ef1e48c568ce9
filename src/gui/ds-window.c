/* The station's main window.  It owns the station's objects (record store,
 * CA, board monitor, station, demo simulator) and renders them; every
 * command is a win. action. */
#include "config.h"

#include "ds-window.h"

#include <errno.h>
#include <glib/gi18n.h>

#include "ds-board-details-dialog.h"
#include "ds-board-identify.h"
#include "ds-identify-ui.h"
#include "ds-label-print.h"
#include "ds-board-monitor.h"
#include "ds-error.h"
#include "ds-login-dialog.h"
#include "ds-board-identity.h"
#include "ds-simulator.h"
#include "ds-slot-placeholder.h"
#include "ds-statistics-window.h"
#include "ds-tooltip.h"
#include "ds-settings-profile.h"
#include "ds-station-setup.h"
#include "ds-util.h"
#include "ds-window-fit.h"

struct _DsWindow
{
  GtkApplicationWindow parent_instance;

  /* template */
  GtkLabel       *mode_badge;
  GtkLabel       *subtitle_label;
  GtkLabel       *operator_label;
  GtkWidget      *menu_button;
  GtkWidget      *add_sim_button;
  GtkWidget      *statistics_button;
  GtkButton      *alarm_button;
  GtkInfoBar     *error_bar;
  GtkLabel       *error_label;
  DsYieldPanel   *yield_panel;
  GtkStack       *main_stack;
  GtkFlowBox     *flowbox;
  GtkLabel       *summary_label;

  GtkApplication *app;            /* its run options are properties (ds-application.c) */
  GSettings      *settings;
  char           *data_dir;
  DsStore        *store;
  DsProfile      *profile;        /* the profile of the settings; NULL: unusable */
  char           *profile_error;  /* why the profile cannot be used */
  char           *logged_profile; /* SHA-256 of the profile last named in the records */
  DsBoardMonitor *monitor;
  DsStation      *station;
  DsSimulator    *simulator;
  GHashTable     *cards;          /* port -> DsBoardCard (owned by the flow box) */
  /* Cards whose board went, by slot label (or UID outside a fixture): a
   * board that comes back to the slot, or with the UID, takes its card. */
  GHashTable     *gone;           /* key -> DsBoardCard (owned by the flow box) */
  GHashTable     *placeholders;   /* "row:column" -> DsSlotPlaceholder (owned by the flow box) */
  DsFixture      *fixture;
  gboolean        conflict_shown; /* the error bar shows the duplicate alarm */
  GPtrArray      *batch;          /* DsBoardCard: started by the last Start All */
  gboolean        collect_batch;
  gboolean        started;        /* the monitor watches */
  char           *batch_summary;
  /* Per board (board_key()), not per job: the station lets finished
   * jobs go, and the window keeps only what its cards need. */
  GHashTable     *latest_jobs;    /* board UID -> its latest DsJob */
  GHashTable     *attempts;       /* board key -> jobs that ended PASS or FAIL */
  char           *operator_id;
  char           *lot;
  char           *station_name;
  char           *error;
  gint64          shift_start;
  gboolean        station_stale;  /* settings changed: rebuild when idle */
  /* The next station, built in a thread (the test PKI is created then);
   * the boards started meanwhile wait for it. */
  GCancellable   *station_cancellable; /* non-NULL while it is built */
  GPtrArray      *waiting_station;     /* DsBoardCard: Start pressed meanwhile */
  gboolean        station_batch;       /* they were started by Start All */
  gboolean        station_report;      /* say in the error bar how it went */
  gboolean        closing;
  guint           tick_id;
  guint           beep_id;
  guint           n_beeps;        /* since the window opened */
  GHashTable     *unacknowledged; /* ports whose failure the alarm shows */
  guint           auto_start_id;
  guint           close_deadline_id;
  guint           add_cards_id;
  guint           add_cards_tick_id; /* a card every other frame while shown */
  gint64          next_card_frame;   /* the first frame that may show one */
  gint64          held_frame;        /* a frame that shows a card draws nothing... */
  GPtrArray      *held;              /* ...and what it was to draw waits for the next (Held) */
  gboolean        page_switched;  /* the grid comes in the next frame: no card in it */
  GQueue          pending_boards; /* DsBoard: seen, card not made yet */
  /* Cards of pending boards made and measured in idle time, before the
   * frame that shows them: that frame only lays them out and draws them. */
  GHashTable     *prebuilt;       /* port -> DsBoardCard (a reference; hidden in the grid) */
  guint           warm_up_id;
  guint           prebuild_id;
  guint           destroy_id;
  GtkWidget      *login_dialog;
  GtkWidget      *confirm_close;  /* "Cancel the running boards?" while shown */
  GtkWidget      *statistics;     /* the statistics window while it is open */
};

G_DEFINE_FINAL_TYPE (DsWindow, ds_window, GTK_TYPE_APPLICATION_WINDOW)

/* How long Quit waits for cancelled jobs to be recorded before the window
 * goes regardless: the station must end within 5 s whatever happens. */
#define DS_CLOSE_DEADLINE_MS 4000

static void update_actions (DsWindow *self);
static void update_batch (DsWindow *self);
static void update_summary (DsWindow *self);

/* ---- errors ------------------------------------------------------------ */

static void
show_error (DsWindow   *self,
            const char *message)
{
  g_free (self->error);
  self->error = g_strdup (message);
  gtk_label_set_text (self->error_label, message);
  gtk_info_bar_set_revealed (self->error_bar, TRUE);
}

static void
clear_error (DsWindow *self)
{
  g_clear_pointer (&self->error, g_free);
  gtk_info_bar_set_revealed (self->error_bar, FALSE);
}

static void
error_bar_response_cb (DsWindow *self)
{
  clear_error (self);
}

/* ---- header ------------------------------------------------------------- */

static guint16
setting_vid (DsWindow *self)
{
  g_autoptr(GVariant) v = g_settings_get_value (self->settings, "vendor-id");

  return g_variant_get_uint16 (v);
}

static guint16
setting_pid (DsWindow *self)
{
  g_autoptr(GVariant) v = g_settings_get_value (self->settings, "product-id");

  return g_variant_get_uint16 (v);
}

/* What the TEST badge says: test DACs, and the built-in test CD when the
 * station gives it (or, before it is built, its profile will). */
static char *
test_mode_tooltip (DsWindow *self)
{
  const char *test_dacs = _("Test mode: the built-in test CA issues test DACs (test vendor ID) that no product may carry");
  gboolean test_cd = self->station != NULL ? ds_station_get_options (self->station)->cd_builtin_test
                                            : ds_profile_gives_test_cd (self->profile);

  if (!test_cd)
    return g_strdup (test_dacs);
  return g_strconcat (test_dacs, "\n",
                      _("Every board gets the built-in test Certification Declaration, signed with the Matter test key"),
                      NULL);
}

static void
update_header (DsWindow *self)
{
  GtkStyleContext *badge = gtk_widget_get_style_context (GTK_WIDGET (self->mode_badge));
  g_autofree char *product = NULL;
  g_autofree char *subtitle = NULL;
  g_autofree char *tip = NULL;

  gtk_style_context_remove_class (badge, "test");
  gtk_style_context_remove_class (badge, "production");
  gtk_style_context_remove_class (badge, "unusable");
  if (self->profile == NULL)
    {
      /* TRANSLATORS: the station mode badge when no CA can be used */
      gtk_label_set_text (self->mode_badge, C_("mode", "NO CA"));
      gtk_style_context_add_class (badge, "unusable");
      ds_tooltip_set_text (GTK_WIDGET (self->mode_badge),
                           _("No certificate authority is usable: see Preferences"));
    }
  /* The gate the station applies when there is one, else the profile's
   * explicit mode: never a guess from the kind of CA. */
  else if (!(self->station != NULL ? ds_station_get_options (self->station)->production : self->profile->production))
    {
      /* TRANSLATORS: the station mode badge: test certificates only */
      gtk_label_set_text (self->mode_badge, C_("mode", "TEST"));
      gtk_style_context_add_class (badge, "test");
      ds_tooltip_set_text (GTK_WIDGET (self->mode_badge), tip = test_mode_tooltip (self));
    }
  else
    {
      /* TRANSLATORS: the station mode badge: real DACs for products */
      gtk_label_set_text (self->mode_badge, C_("mode", "PRODUCTION"));
      gtk_style_context_add_class (badge, "production");
      ds_tooltip_set_text (GTK_WIDGET (self->mode_badge),
                           _("Production mode: DACs are issued for products"));
    }
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self->mode_badge)),
                       gtk_label_get_text (self->mode_badge));

  /* TRANSLATORS: the product profile in the header, vendor and product ID */
  if (self->profile != NULL && self->profile->path != NULL)
    /* TRANSLATORS: the product profile in the header: its name, vendor and product ID */
    product = g_strdup_printf (_("%s (%04X:%04X)"), ds_profile_get_display_name (self->profile),
                               self->profile->vid, self->profile->pid);
  else
    product = g_strdup_printf (_("Product %04X:%04X"), setting_vid (self), setting_pid (self));
  if (self->lot != NULL)
    /* TRANSLATORS: header subtitle, e.g. "Product FFF1:8000 · Lot WO-1234" */
    subtitle = g_strdup_printf (_("%s · Lot %s"), product, self->lot);
  else
    /* TRANSLATORS: header subtitle before anybody signed in */
    subtitle = g_strdup_printf (_("%s · no lot yet"), product);
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_label_set_text (self->operator_label, self->operator_id != NULL ? self->operator_id : _("Sign In"));
}

/* ---- the station ------------------------------------------------------- */

static DsCardStatus
card_status (DsBoardCard *card)
{
  return ds_board_card_get_status (card);
}

/* The application's run options (its command line) are properties of it:
 * the window does not include ds-application.h, which includes this file. */
static int
app_get_int (DsWindow   *self,
             const char *name)
{
  int value = -1;

  g_object_get (self->app, name, &value, NULL);
  return value;
}

static gboolean
app_get_boolean (DsWindow   *self,
                 const char *name)
{
  gboolean value = FALSE;

  g_object_get (self->app, name, &value, NULL);
  return value;
}

static gboolean
auto_start (DsWindow *self)
{
  return app_get_boolean (self, "auto-start") || g_settings_get_boolean (self->settings, "auto-start");
}

static guint
n_active (DsWindow *self)
{
  return self->station != NULL ? ds_station_get_n_active (self->station) : 0;
}

/* What a board's jobs share across replugs: its UID, else its port. */
static char *
board_key (DsBoard *board,
           DsJob   *job)
{
  char *uid = job != NULL && ds_job_get_uid (job) != NULL ? g_strdup (ds_job_get_uid (job))
                                                         : ds_board_dup_uid (board);

  return uid != NULL ? uid : g_strdup (ds_board_get_port (board));
}

/* Which attempt at its board the card's job is: one more than the jobs of
 * the same board that ended PASS or FAIL before it (cancelled ones do not
 * count). */
static void
update_attempts (DsWindow    *self,
                 DsBoardCard *card)
{
  DsJob *job = ds_board_card_get_job (card);
  DsBoard *board = ds_board_card_get_board (card);
  g_autofree char *key = NULL;
  guint attempt = 1;

  if (job == NULL)
    {
      ds_board_card_set_attempts (card, 0, g_settings_get_uint (self->settings, "max-attempts"));
      return;
    }
  key = board_key (board, job);
  attempt += GPOINTER_TO_UINT (g_hash_table_lookup (self->attempts, key));
  /* The card's own job, once it ended, is one of those counted. */
  if (g_object_get_data (G_OBJECT (job), "ds-window-counted") != NULL)
    attempt--;
  ds_board_card_set_attempts (card, attempt, g_settings_get_uint (self->settings, "max-attempts"));
}

static void
update_all_attempts (DsWindow *self)
{
  GHashTableIter iter;
  gpointer card;

  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    update_attempts (self, card);
}

static gboolean
tick_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  GHashTableIter iter;
  gpointer card;

  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    ds_board_card_tick (card);
  if (n_active (self) == 0)
    {
      self->tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  return G_SOURCE_CONTINUE;
}

static void
beep (DsWindow *self)
{
  self->n_beeps++;
  gdk_display_beep (gtk_widget_get_display (GTK_WIDGET (self)));
}

static gboolean
beep_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  self->beep_id = 0;
  beep (self);
  return G_SOURCE_REMOVE;
}

/* The red "N failed" in the header bar, seen from across the bench. */
static void
update_alarm (DsWindow *self)
{
  guint n = g_hash_table_size (self->unacknowledged);
  g_autofree char *text = NULL;

  gtk_widget_set_visible (GTK_WIDGET (self->alarm_button), n > 0);
  if (n == 0)
    return;
  /* TRANSLATORS: the alarm in the header bar after boards failed; a click
   * acknowledges it */
  text = g_strdup_printf (ngettext ("%u failed — see the red card",
                                    "%u failed — see the red cards", n), n);
  gtk_button_set_label (self->alarm_button, text);
}

static void
acknowledge_failures_activated (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  g_hash_table_remove_all (self->unacknowledged);
  update_alarm (self);
}

/* A label printed on a pass (the "label-auto-print" preference): a
 * failure to print is the operator's to see. */
static void
auto_label_printed_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GPtrArray) pair = user_data;
  DsWindow *self = g_ptr_array_index (pair, 0);
  DsJob *job = g_ptr_array_index (pair, 1);
  g_autoptr(GError) error = NULL;

  if (ds_label_print_job_finish (result, &error) <= 0 && gtk_widget_get_realized (GTK_WIDGET (self)))
    {
      /* TRANSLATORS: %s is the board's name, the second %s the reason */
      g_autofree char *text = g_strdup_printf (_("The label of board %s was not printed: %s"),
                                               ds_board_get_name (ds_job_get_board (job)), error->message);

      show_error (self, text);
    }
}

static void
job_finished_cb (DsStation *station,
                 DsJob     *job,
                 DsWindow  *self)
{
  DsJobState state = ds_job_get_state (job);

  if (state == DS_JOB_STATE_FAILED || state == DS_JOB_STATE_PASSED)
    {
      g_autofree char *key = board_key (ds_job_get_board (job), job);
      guint n = GPOINTER_TO_UINT (g_hash_table_lookup (self->attempts, key));

      g_object_set_data (G_OBJECT (job), "ds-window-counted", GUINT_TO_POINTER (1));
      g_hash_table_insert (self->attempts, g_steal_pointer (&key), GUINT_TO_POINTER (n + 1));
    }
  if (ds_job_get_uid (job) != NULL)
    g_hash_table_insert (self->latest_jobs, g_strdup (ds_job_get_uid (job)), g_object_ref (job));
  /* The cards hold the jobs they show; the station need not keep them. */
  ds_station_release_finished (station);

  if (state == DS_JOB_STATE_FAILED)
    {
      /* Boards, as the red cards: a board that failed twice is one. */
      g_hash_table_add (self->unacknowledged, g_strdup (ds_board_get_port (ds_job_get_board (job))));
      update_alarm (self);
    }

  /* One beep for a pass, two for a failure. */
  if (g_settings_get_boolean (self->settings, "sound") &&
      (state == DS_JOB_STATE_PASSED || state == DS_JOB_STATE_FAILED))
    {
      beep (self);
      if (state == DS_JOB_STATE_FAILED && self->beep_id == 0)
        self->beep_id = g_timeout_add (250, beep_cb, self);
    }

  if (state == DS_JOB_STATE_PASSED && g_settings_get_boolean (self->settings, "label-auto-print"))
    {
      GPtrArray *pair = g_ptr_array_new_with_free_func (g_object_unref);

      g_ptr_array_add (pair, g_object_ref (self));
      g_ptr_array_add (pair, g_object_ref (job));
      ds_label_print_job_async (self->settings, job, NULL, auto_label_printed_cb, pair);
    }

  update_all_attempts (self);
  update_batch (self);
  ds_yield_panel_refresh (self->yield_panel);
  if (self->statistics != NULL)
    ds_statistics_window_refresh (DS_STATISTICS_WINDOW (self->statistics));
  update_actions (self);
}

static gboolean
destroy_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  self->destroy_id = 0;
  gtk_widget_destroy (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* The window goes from the main loop, never from inside a signal of the
 * station or an event handler that still uses it. */
static void
schedule_destroy (DsWindow *self)
{
  if (self->destroy_id == 0)
    self->destroy_id = g_idle_add_full (G_PRIORITY_HIGH, destroy_cb, g_object_ref (self), g_object_unref);
}

static void
station_idle_cb (DsStation *station,
                 DsWindow  *self)
{
  update_actions (self);
  if (self->closing)
    schedule_destroy (self);
}

static guint
timeout_ms (DsWindow *self)
{
  int from_app = app_get_int (self, "timeout-ms");

  if (from_app >= 0)
    return (guint) from_app;
  return g_settings_get_uint (self->settings, "command-timeout");
}

/* The station for the next job: built at sign-in, and again when the
 * settings changed and no job is running. */
static void load_profile (DsWindow *self);

static gboolean
station_ready (DsWindow *self)
{
  return self->station != NULL && self->station_cancellable == NULL &&
         (!self->station_stale || n_active (self) > 0);
}

static void station_built_cb (GObject      *object,
                              GAsyncResult *result,
                              gpointer      user_data);

/* Starts building the station for the next job in a thread, unless one is
 * being built already: creating the test PKI on the main thread stalled
 * the first Start by a frame or more.  FALSE with @error when the settings
 * cannot make a station, as far as can be told at once. */
static gboolean
build_station (DsWindow  *self,
               GError   **error)
{
  g_autoptr(DsStationSetup) setup = NULL;

  if (self->operator_id == NULL || self->lot == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Sign in with your operator ID and the lot first"));
      return FALSE;
    }
  if (self->station_cancellable != NULL)
    return TRUE;
  if (self->store == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The record store cannot be used: nothing can be provisioned without records"));
      return FALSE;
    }
  load_profile (self);
  if (self->profile == NULL)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_CONFIG, self->profile_error);
      return FALSE;
    }
  if (g_strcmp0 (self->logged_profile, self->profile->sha256) != 0)
    {
      g_autoptr(GError) log_error = NULL;
      g_autofree char *event = g_strdup_printf ("%s sha256 %s %s", ds_profile_get_mode (self->profile),
                                                self->profile->sha256,
                                                self->profile->path != NULL ? self->profile->path : "settings");

      /* Switching profiles is in the audit trail, by the file's digest. */
      if (!ds_store_log_event (self->store, 0, NULL, "profile", event, &log_error))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&log_error), _("Cannot record the profile: "));
          return FALSE;
        }
      g_free (self->logged_profile);
      self->logged_profile = g_strdup (self->profile->sha256);
    }

  /* One library call builds what the CLI builds from the same profile.
   * The GUI's overrides: who, which lot, this station, its store. */
  setup = ds_station_setup_new (self->profile);
  ds_station_setup_set_data_dir (setup, self->data_dir);
  ds_station_setup_set_store (setup, self->store);
  ds_station_setup_set_operator (setup, self->operator_id);
  ds_station_setup_set_lot (setup, self->lot);
  ds_station_setup_set_station_name (setup, self->station_name);
  /* No network on the main thread: the first job asks the CA. */
  ds_station_setup_set_contact_ca (setup, FALSE);
  /* The jobs' bursts of work wait for the operator's screen, never the
   * other way round (BENCHMARKS.md, GUI stall). */
  ds_station_setup_set_background (setup, TRUE);
  if (app_get_int (self, "timeout-ms") >= 0)
    self->profile->timeout_ms = timeout_ms (self);
  /* A change of settings from now on makes this one stale in turn. */
  self->station_stale = FALSE;
  self->station_cancellable = g_cancellable_new ();
  ds_station_setup_build_async (setup, self->station_cancellable, station_built_cb, g_object_ref (self));
  update_summary (self);
  return TRUE;
}

static void provision (DsWindow *self, DsBoardCard *card);
static gboolean can_start (DsBoardCard *card);

static void
station_built_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(DsWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(DsStation) station = ds_station_setup_build_finish (DS_STATION_SETUP (object), result, &error);
  g_autoptr(GPtrArray) waiting = NULL;
  gboolean report = self->station_report;
  gboolean batch = self->station_batch;

  /* The window went meanwhile. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  g_clear_object (&self->station_cancellable);
  if (self->closing && n_active (self) == 0)
    {
      schedule_destroy (self);
      return;
    }
  waiting = g_steal_pointer (&self->waiting_station);
  self->waiting_station = g_ptr_array_new_with_free_func (g_object_unref);
  self->station_report = FALSE;
  self->station_batch = FALSE;
  update_summary (self);
  /* The settings changed again while it was built: the banner says how
   * the next one goes. */
  if (report && self->station_stale && self->operator_id != NULL)
    {
      g_autoptr(GError) next_error = NULL;

      g_clear_object (&station);
      if (!build_station (self, &next_error))
        {
          show_error (self, next_error->message);
          update_actions (self);
          return;
        }
      self->station_report = TRUE;
      g_ptr_array_extend_and_steal (self->waiting_station, g_steal_pointer (&waiting));
      self->station_batch = batch;
      update_summary (self);
      return;
    }
  if (station == NULL)
    {
      if (report || waiting->len > 0)
        show_error (self, error->message);
      update_actions (self);
      return;
    }
  if (report)
    clear_error (self);

  if (self->station != NULL)
    g_signal_handlers_disconnect_by_data (self->station, self);
  g_clear_object (&self->station);
  self->station = g_steal_pointer (&station);
  g_signal_connect (self->station, "job-finished", G_CALLBACK (job_finished_cb), self);
  g_signal_connect (self->station, "idle", G_CALLBACK (station_idle_cb), self);
  update_header (self);

  /* The boards started while it was built, in the order they were. */
  if (!self->closing)
    {
      self->collect_batch = batch;
      for (guint i = 0; i < waiting->len; i++)
        if (can_start (g_ptr_array_index (waiting, i)))
          provision (self, g_ptr_array_index (waiting, i));
      self->collect_batch = FALSE;
      if (batch)
        update_batch (self);
    }
  update_actions (self);
}

static void
provision (DsWindow    *self,
           DsBoardCard *card)
{
  g_autoptr(GError) error = NULL;
  DsStation *station;
  DsJob *job;

  /* A duplicate serial or UID, or a board that went: never started. */
  if (ds_board_card_get_conflict (card) != NULL || !ds_board_card_get_connected (card))
    return;
  /* Identify holds the port for its one request: the job would find it
   * in use. */
  if (ds_board_identify_is_running (ds_board_card_get_board (card)))
    {
      show_error (self, _("Identify is still talking to this board: press Start again in a moment"));
      return;
    }
  /* The station is built in a thread; the board starts once it is. */
  if (!station_ready (self))
    {
      if (!build_station (self, &error))
        {
          show_error (self, error->message);
          return;
        }
      if (!g_ptr_array_find (self->waiting_station, card, NULL))
        g_ptr_array_add (self->waiting_station, g_object_ref (card));
      if (self->collect_batch)
        self->station_batch = TRUE;
      update_summary (self);
      return;
    }
  station = self->station;
  job = ds_station_provision (station, ds_board_card_get_board (card), &error);
  if (job == NULL)
    {
      show_error (self, error->message);
      return;
    }
  {
    g_autofree char *uid = ds_board_dup_uid (ds_board_card_get_board (card));

    if (uid != NULL)
      g_hash_table_insert (self->latest_jobs, g_steal_pointer (&uid), g_object_ref (job));
  }
  ds_board_card_set_job (card, job);
  update_attempts (self, card);
  if (self->collect_batch)
    g_ptr_array_add (self->batch, g_object_ref (card));
  if (self->tick_id == 0)
    self->tick_id = g_timeout_add_seconds (1, tick_cb, self);
  update_actions (self);
}

static gboolean
can_start (DsBoardCard *card)
{
  DsCardStatus status = card_status (card);

  if (ds_board_card_get_conflict (card) != NULL || !ds_board_card_get_connected (card))
    return FALSE;
  /* A board that failed its last allowed attempt is set aside. */
  return status == DS_CARD_STATUS_IDLE ||
         (status == DS_CARD_STATUS_FAILED && !ds_board_card_is_set_aside (card)) ||
         status == DS_CARD_STATUS_CANCELLED;
}

static void
start_waiting_boards (DsWindow *self,
                      gboolean  also_failed)
{
  g_autoptr(GList) cards = ds_window_get_cards (self);

  for (GList *l = cards; l != NULL; l = l->next)
    {
      DsCardStatus status = card_status (l->data);

      if (can_start (l->data) && (status == DS_CARD_STATUS_IDLE || also_failed))
        provision (self, l->data);
    }
}

/* ---- boards coming and going ------------------------------------------- */

static void
update_page (DsWindow *self)
{
  gtk_stack_set_visible_child_name (self->main_stack,
                                    g_hash_table_size (self->cards) > 0 || g_hash_table_size (self->gone) > 0 ||
                                    !g_queue_is_empty (&self->pending_boards) ||
                                    self->fixture != NULL ? "boards" : "empty");
}

/* A board plugged in again shows how its last job ended, so that the
 * operator sees why it was taken off and can retry it. */
static DsJob *
latest_job_for (DsWindow *self,
                DsBoard  *board)
{
  g_autofree char *uid = ds_board_dup_uid (board);

  if (uid == NULL)
    return NULL;
  return g_hash_table_lookup (self->latest_jobs, uid);
}

static gboolean
auto_start_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  /* Still pending while the boards start: Start All stays off meanwhile. */
  if (self->operator_id != NULL && auto_start (self) && !self->closing)
    start_waiting_boards (self, FALSE);
  self->auto_start_id = 0;
  update_actions (self);
  return G_SOURCE_REMOVE;
}

/* ---- the fixture, gone boards, duplicates ------------------------------- */

/* What a card is kept by when its board goes: the slot, else the UID
 * (a board outside a fixture with no UID known is not kept). */
static char *
gone_key_for_slot (const char *slot)
{
  return slot != NULL ? g_strconcat ("slot:", slot, NULL) : NULL;
}

static char *
gone_key_for_uid (const char *uid)
{
  return uid != NULL ? g_strconcat ("uid:", uid, NULL) : NULL;
}

static void
keep_gone_card (DsWindow    *self,
                DsBoardCard *card)
{
  DsBoard *board = ds_board_card_get_board (card);
  DsJob *job = ds_board_card_get_job (card);
  g_autofree char *uid = job != NULL && ds_job_get_uid (job) != NULL ? g_strdup (ds_job_get_uid (job))
                                                                   : ds_board_dup_uid (board);
  g_autofree char *key = ds_board_get_slot (board) != NULL ? gone_key_for_slot (ds_board_get_slot (board))
                                                         : gone_key_for_uid (uid);
  DsCardStatus status = card_status (card);
  DsBoardCard *old;

  /* A board taken off once it is done (or before it started) just goes:
   * its slot shows empty.  One that went mid-job, failed or was cancelled
   * keeps its card until it is plugged in again. */
  if (key == NULL || job == NULL || status == DS_CARD_STATUS_IDLE || status == DS_CARD_STATUS_PASSED ||
      status == DS_CARD_STATUS_ALREADY_PROVISIONED)
    {
      gtk_widget_destroy (GTK_WIDGET (card));
      return;
    }
  old = g_hash_table_lookup (self->gone, key);
  if (old != NULL && old != card)
    gtk_widget_destroy (GTK_WIDGET (old));
  ds_board_card_set_conflict (card, NULL);
  ds_board_card_set_connected (card, FALSE);
  g_hash_table_insert (self->gone, g_steal_pointer (&key), card);
}

/* The card a board that came back takes: its slot's, else its UID's. */
static DsBoardCard *
take_gone_card (DsWindow *self,
                DsBoard  *board)
{
  g_autofree char *uid = ds_board_dup_uid (board);
  g_autofree char *by_slot = gone_key_for_slot (ds_board_get_slot (board));
  g_autofree char *by_uid = gone_key_for_uid (uid);
  const char *keys[] = { by_slot, by_uid };

  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    {
      DsBoardCard *card;

      if (keys[i] == NULL)
        continue;
      card = g_hash_table_lookup (self->gone, keys[i]);
      if (card == NULL)
        continue;
      /* A card kept by UID stays in its own slot. */
      if (i == 1 && g_strcmp0 (ds_board_get_slot (ds_board_card_get_board (card)), ds_board_get_slot (board)) != 0)
        continue;
      g_hash_table_remove (self->gone, keys[i]);
      return card;
    }
  return NULL;
}

/* The UID a card's board was known by: its job's, else its board's. */
static char *
card_dup_uid (DsBoardCard *card)
{
  DsJob *job = ds_board_card_get_job (card);

  if (job != NULL && ds_job_get_uid (job) != NULL)
    return g_strdup (ds_job_get_uid (job));
  return ds_board_dup_uid (ds_board_card_get_board (card));
}

/* A board that came back in another slot than the one it went from: its
 * history goes with it, so the old slot's card goes (the slot shows
 * empty, or the board now in it). */
static void
drop_gone_card_of (DsWindow *self,
                   DsBoard  *board)
{
  g_autofree char *uid = ds_board_dup_uid (board);
  GHashTableIter iter;
  gpointer card;

  if (uid == NULL)
    return;
  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    {
      g_autofree char *gone_uid = card_dup_uid (card);

      if (g_strcmp0 (gone_uid, uid) == 0)
        {
          g_hash_table_iter_remove (&iter);
          gtk_widget_destroy (card);
        }
    }
}

static void
forget_gone_cards (DsWindow *self)
{
  GHashTableIter iter;
  gpointer card;

  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    {
      g_hash_table_iter_remove (&iter);
      gtk_widget_destroy (card);
    }
}

static void
add_taken_position (DsWindow   *self,
                    GHashTable *taken,
                    DsBoardCard *card)
{
  const char *label = ds_board_get_slot (ds_board_card_get_board (card));
  const DsFixtureSlot *slot = label != NULL ? ds_fixture_lookup_label (self->fixture, label) : NULL;

  if (slot != NULL)
    g_hash_table_add (taken, g_strdup_printf ("%u:%u", slot->row, slot->column));
}

/* Every place of the fixture's grid that no card holds shows its slot's
 * label (or nothing, where the fixture has no slot), so that the flow box
 * with as many columns as the fixture lays the cards out as it is. */
static void
update_placeholders (DsWindow *self)
{
  g_autoptr(GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  gboolean compact = g_settings_get_boolean (self->settings, "compact-view");
  GHashTableIter iter;
  gpointer card;

  if (self->fixture == NULL)
    return;
  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    add_taken_position (self, taken, card);
  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    add_taken_position (self, taken, card);

  for (guint row = 1; row <= ds_fixture_get_n_rows (self->fixture); row++)
    for (guint column = 1; column <= ds_fixture_get_n_columns (self->fixture); column++)
      {
        g_autofree char *key = g_strdup_printf ("%u:%u", row, column);
        GtkWidget *placeholder = g_hash_table_lookup (self->placeholders, key);

        if (g_hash_table_contains (taken, key))
          {
            if (placeholder != NULL)
              {
                g_hash_table_remove (self->placeholders, key);
                gtk_widget_destroy (placeholder);
              }
          }
        else if (placeholder == NULL)
          {
            const DsFixtureSlot *slot = ds_fixture_lookup_position (self->fixture, row, column);

            placeholder = ds_slot_placeholder_new (slot != NULL ? slot->label : NULL, row, column);
            ds_slot_placeholder_set_compact (DS_SLOT_PLACEHOLDER (placeholder), compact);
            gtk_container_add (GTK_CONTAINER (self->flowbox), placeholder);
            g_hash_table_insert (self->placeholders, g_steal_pointer (&key), placeholder);
          }
      }
}

static void
clear_placeholders (DsWindow *self)
{
  GHashTableIter iter;
  gpointer placeholder;

  g_hash_table_iter_init (&iter, self->placeholders);
  while (g_hash_table_iter_next (&iter, NULL, &placeholder))
    {
      g_hash_table_iter_remove (&iter);
      gtk_widget_destroy (placeholder);
    }
}

/* A duplicate probe serial or UID among the boards present: an alarm
 * naming both slots, and neither board can be started. */
static void
update_conflicts (DsWindow *self)
{
  g_autoptr(GPtrArray) conflicts = ds_board_monitor_find_conflicts (self->monitor);
  g_autoptr(GString) alarm = g_string_new (NULL);
  GHashTableIter iter;
  gpointer card;

  for (guint i = 0; i < conflicts->len; i++)
    {
      g_autofree char *text = ds_identity_conflict_describe (g_ptr_array_index (conflicts, i));

      if (alarm->len > 0)
        g_string_append_c (alarm, '\n');
      g_string_append (alarm, text);
    }
  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    {
      DsBoard *board = ds_board_card_get_board (card);
      const char *name = ds_board_get_label (board);
      g_autoptr(GString) text = g_string_new (NULL);

      for (guint i = 0; i < conflicts->len; i++)
        {
          DsIdentityConflict *conflict = g_ptr_array_index (conflicts, i);

          if (g_strcmp0 (conflict->slot_a, name) == 0 || g_strcmp0 (conflict->slot_b, name) == 0)
            {
              g_autofree char *line = ds_identity_conflict_describe (conflict);

              if (text->len > 0)
                g_string_append_c (text, '\n');
              g_string_append (text, line);
            }
        }
      ds_board_card_set_conflict (card, text->len > 0 ? text->str : NULL);
    }
  if (alarm->len > 0)
    {
      show_error (self, alarm->str);
      gtk_info_bar_set_message_type (self->error_bar, GTK_MESSAGE_ERROR);
      self->conflict_shown = TRUE;
    }
  else if (self->conflict_shown)
    {
      clear_error (self);
      self->conflict_shown = FALSE;
    }
}

static void
update_columns (DsWindow *self)
{
  guint columns = self->fixture != NULL ? ds_fixture_get_n_columns (self->fixture) : 12;

  /* With a fixture the columns are the fixture's, whatever the width:
   * nothing reflows during a run. */
  gtk_flow_box_set_min_children_per_line (self->flowbox, 1);
  gtk_flow_box_set_max_children_per_line (self->flowbox, columns);
  gtk_flow_box_set_min_children_per_line (self->flowbox, self->fixture != NULL ? columns : 1);
}

/* The fixture of the "fixture" setting; a bad file is said in the error
 * bar, and boards are shown by port. */
static void
apply_fixture (DsWindow *self)
{
  g_autofree char *path = g_settings_get_string (self->settings, "fixture");
  g_autoptr(DsFixture) fixture = NULL;
  GHashTableIter iter;
  gpointer card;

  if (*path != '\0')
    {
      g_autoptr(GError) error = NULL;

      fixture = ds_fixture_new_from_file (path, &error);
      if (fixture == NULL)
        {
          /* TRANSLATORS: %s says what is wrong with the fixture file */
          g_autofree char *message = g_strdup_printf (_("The fixture cannot be used, boards are shown by port: %s"),
                                                      error->message);

          show_error (self, message);
        }
    }
  g_set_object (&self->fixture, fixture);
  ds_board_monitor_set_fixture (self->monitor, fixture);
  forget_gone_cards (self);
  clear_placeholders (self);
  update_columns (self);
  if (self->started)
    ds_board_monitor_scan (self->monitor);
  /* The slots may have changed under the cards. */
  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    ds_board_card_set_board (card, ds_board_card_get_board (card));
  update_placeholders (self);
  gtk_flow_box_invalidate_sort (self->flowbox);
  update_summary (self);
  update_page (self);
}

/* The line above the grid: the last batch's summary, else which fixture
 * the grid is.  With a fixture it is always there, so that the summary
 * moves no card when it comes. */
static void
update_summary (DsWindow *self)
{
  g_autofree char *text = NULL;

  if (self->waiting_station->len > 0 && self->station_cancellable != NULL)
    text = g_strdup (_("Preparing the station…"));
  else if (self->batch_summary != NULL)
    text = g_strdup (self->batch_summary);
  else if (self->fixture != NULL)
    {
      const char *name = ds_fixture_get_name (self->fixture);
      guint n = ds_fixture_get_n_slots (self->fixture);

      /* TRANSLATORS: above the board grid before the first Start All,
       * e.g. "Line 3, bed A: 16 slots" */
      text = g_strdup_printf (ngettext ("%s: %u slot", "%s: %u slots", n),
                              name != NULL && *name != '\0' ? name : _("Fixture"), n);
    }
  gtk_label_set_text (self->summary_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->summary_label), text != NULL);
}

static void
apply_compact (DsWindow *self)
{
  gboolean compact = g_settings_get_boolean (self->settings, "compact-view");
  GHashTableIter iter;
  gpointer child;
  GtkStyleContext *style = gtk_widget_get_style_context (GTK_WIDGET (self->flowbox));

  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &child))
    ds_board_card_set_compact (child, compact);
  g_hash_table_iter_init (&iter, self->gone);
  while (g_hash_table_iter_next (&iter, NULL, &child))
    ds_board_card_set_compact (child, compact);
  g_hash_table_iter_init (&iter, self->placeholders);
  while (g_hash_table_iter_next (&iter, NULL, &child))
    ds_slot_placeholder_set_compact (child, compact);
  gtk_flow_box_set_column_spacing (self->flowbox, compact ? 6 : 16);
  gtk_flow_box_set_row_spacing (self->flowbox, compact ? 6 : 16);
  if (compact)
    gtk_style_context_add_class (style, "compact");
  else
    gtk_style_context_remove_class (style, "compact");
}

/* ---- the batch summary -------------------------------------------------- */

static const char *
card_label (DsBoardCard *card)
{
  return ds_board_get_label (ds_board_card_get_board (card));
}

/* Once every board of the last Start All has a verdict: "14 passed · 2 to
 * set aside (A3, B1)". */
static void
update_batch (DsWindow *self)
{
  guint passed = 0, cancelled = 0;
  g_autoptr(GPtrArray) aside = g_ptr_array_new ();
  g_autoptr(GString) summary = g_string_new (NULL);

  if (self->batch->len == 0)
    return;
  for (guint i = 0; i < self->batch->len; i++)
    {
      DsBoardCard *card = g_ptr_array_index (self->batch, i);

      switch (card_status (card))
        {
        case DS_CARD_STATUS_QUEUED:
        case DS_CARD_STATUS_RUNNING:
        case DS_CARD_STATUS_IDLE:
          return;
        case DS_CARD_STATUS_PASSED:
        case DS_CARD_STATUS_ALREADY_PROVISIONED:
          passed++;
          break;
        case DS_CARD_STATUS_CANCELLED:
          cancelled++;
          break;
        case DS_CARD_STATUS_FAILED:
        default:
          g_ptr_array_add (aside, (gpointer) card_label (card));
          break;
        }
    }
  /* TRANSLATORS: the batch summary after Start All, first part */
  g_string_append_printf (summary, ngettext ("%u passed", "%u passed", passed), passed);
  if (aside->len > 0)
    {
      g_autofree char *names = NULL;

      g_ptr_array_add (aside, NULL);
      names = g_strjoinv (", ", (char **) aside->pdata);
      /* TRANSLATORS: the batch summary after Start All: the failed boards
       * by slot, e.g. "14 passed · 2 to set aside (A3, B1)" */
      g_string_append_printf (summary, ngettext (" · %u to set aside (%s)", " · %u to set aside (%s)", aside->len - 1),
                              aside->len - 1, names);
    }
  if (cancelled > 0)
    /* TRANSLATORS: the batch summary after Start All, the cancelled boards */
    g_string_append_printf (summary, ngettext (" · %u cancelled", " · %u cancelled", cancelled), cancelled);
  g_free (self->batch_summary);
  self->batch_summary = g_string_free (g_steal_pointer (&summary), FALSE);
  update_summary (self);
  g_ptr_array_set_size (self->batch, 0);
}

/* Budget for making cards in one main-loop turn: a scan that finds 16
 * boards must not hold up a frame. */
#define DS_ADD_CARDS_BUDGET_US 4000

static void add_card (DsWindow *self, DsBoard *board);
static int  compare_boards (gconstpointer a, gconstpointer b, gpointer user_data);

static gboolean
add_cards_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  gint64 end = g_get_monotonic_time () + DS_ADD_CARDS_BUDGET_US;

  do
    {
      g_autoptr(DsBoard) board = g_queue_pop_head (&self->pending_boards);

      if (board == NULL)
        break;
      add_card (self, board);
    }
  while (g_get_monotonic_time () < end);
  if (!g_queue_is_empty (&self->pending_boards))
    return G_SOURCE_CONTINUE;
  self->add_cards_id = 0;
  return G_SOURCE_REMOVE;
}

static gboolean
is_pending (DsWindow   *self,
            const char *port)
{
  for (GList *l = self->pending_boards.head; l != NULL; l = l->next)
    if (g_strcmp0 (ds_board_get_port (l->data), port) == 0)
      return TRUE;
  return FALSE;
}

/* While the window is shown, cards come one every other frame: a new card
 * is styled, measured and placed in the frame that shows it, and drawn in
 * the next; the 16 of one scan in one frame took 20-30 ms (BENCHMARKS.md). */
static gboolean
add_cards_tick_cb (GtkWidget     *widget,
                   GdkFrameClock *clock,
                   gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (widget);
  g_autoptr(DsBoard) board = NULL;
  gint64 frame;

  /* The frame that brings the grid in instead of the empty page does
   * not also add a card: the two took 12-17 ms together.  Nor do the
   * frames of the cross-fade that follows, each of which draws the whole
   * window. */
  if (self->page_switched)
    {
      self->page_switched = FALSE;
      return G_SOURCE_CONTINUE;
    }
  if (gtk_stack_get_transition_running (self->main_stack))
    return G_SOURCE_CONTINUE;
  /* A card every other frame: the frame that shows a card draws nothing,
   * the next draws it (hold_cb(), give_back_cb()).  A frame that shows a
   * card renders no other, the one that draws it one; one where a card
   * rendered already shows none. */
  frame = gdk_frame_clock_get_frame_counter (clock);
  if (frame < self->next_card_frame)
    return G_SOURCE_CONTINUE;
  if (!ds_board_card_frame_is_free (clock))
    {
      self->next_card_frame = frame + 1;
      ds_board_card_reserve_frame (clock, self->next_card_frame, 0);
      return G_SOURCE_CONTINUE;
    }
  ds_board_card_reserve_frame (clock, frame, 0);
  ds_board_card_reserve_frame (clock, frame + 1, 1);
  self->held_frame = frame;
  board = g_queue_pop_head (&self->pending_boards);
  if (board != NULL)
    add_card (self, board);
  self->next_card_frame = frame + 2;
  if (!g_queue_is_empty (&self->pending_boards))
    {
      ds_board_card_reserve_frame (clock, self->next_card_frame, 0);
      return G_SOURCE_CONTINUE;
    }
  self->add_cards_tick_id = 0;
  return G_SOURCE_REMOVE;
}

static void
drop_card (gpointer card)
{
  gtk_widget_destroy (card);
  g_object_unref (card);
}

/* A card made in advance waits in the grid, hidden, and is measured there
 * (its styles looked up and its texts shaped as the grid will show them):
 * the frame that shows it then no longer measures its labels, which with
 * the card's first styles took 4-11 ms of that frame (BENCHMARKS.md). */
static void
prepare_card (DsWindow    *self,
              DsBoardCard *card)
{
  GtkWidget *widget = GTK_WIDGET (card);
  int min, nat;

  gtk_widget_set_no_show_all (widget, TRUE);
  gtk_widget_hide (widget);
  gtk_container_add (GTK_CONTAINER (self->flowbox), widget);
  gtk_widget_get_preferred_width (widget, &min, &nat);
  gtk_widget_get_preferred_height_for_width (widget, nat, &min, &nat);
  ds_board_card_prepare (card);
}

/* One card a call, for the first pending board without one, between the
 * frames: building a card from its template takes 2-3 ms, and measuring
 * it as much again, which the frame that adds it then no longer spends. */
static gboolean
prebuild_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  for (GList *l = self->pending_boards.head; l != NULL; l = l->next)
    {
      const char *port = ds_board_get_port (l->data);
      DsBoardCard *card;

      if (g_hash_table_contains (self->prebuilt, port))
        continue;
      card = g_object_ref_sink (ds_board_card_new (l->data));
      ds_board_card_set_compact (card, g_settings_get_boolean (self->settings, "compact-view"));
      g_hash_table_insert (self->prebuilt, g_strdup (port), card);
      prepare_card (self, card);
      return G_SOURCE_CONTINUE;
    }
  self->prebuild_id = 0;
  return G_SOURCE_REMOVE;
}

/* The first card the process makes loads what every card shares (its
 * icons, its fonts at their sizes, its styles): 10-15 ms, a stall of its
 * own when the first board is plugged in (BENCHMARKS.md).  A card made and
 * thrown away once the window is up, while nothing else happens, loads it
 * instead. */
static gboolean
warm_up_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  self->warm_up_id = 0;
  if (g_hash_table_size (self->cards) == 0 && g_hash_table_size (self->prebuilt) == 0 &&
      g_queue_is_empty (&self->pending_boards))
    {
      g_autoptr(DsBoard) board = ds_board_new (DS_BOARD_KIND_SIMULATED, "", "");
      DsBoardCard *card = g_object_ref_sink (ds_board_card_new (board));

      ds_board_card_set_compact (card, g_settings_get_boolean (self->settings, "compact-view"));
      prepare_card (self, card);
      drop_card (card);
    }
  return G_SOURCE_REMOVE;
}

/* The frame that shows a card lays it out (styles, sizes, places: and a
 * card that starts a row resizes the grid, which has GTK draw all of it);
 * the next draws it: the two took 8-13 ms together on the 2-core machine
 * of BENCHMARKS.md, as much as a frame has.  So what the frame that shows
 * a card was to draw is taken from the window once it is laid out: from
 * each of its windows (the grid's are windows of their own, whose areas
 * the window's own does not hold)... */
typedef struct {
  GdkWindow      *window;
  cairo_region_t *region;
} Held;

static void
held_free (gpointer data)
{
  Held *held = data;

  g_object_unref (held->window);
  cairo_region_destroy (held->region);
  g_free (held);
}

static void
hold_window (DsWindow  *self,
             GdkWindow *window)
{
  g_autoptr(GList) children = gdk_window_get_children (window);
  cairo_region_t *region = gdk_window_get_update_area (window);

  if (region != NULL)
    {
      Held *held = g_new (Held, 1);

      held->window = g_object_ref (window);
      held->region = region;
      g_ptr_array_add (self->held, held);
    }
  for (GList *l = children; l != NULL; l = l->next)
    if (!gdk_window_has_native (l->data) && gdk_window_is_viewable (l->data))
      hold_window (self, l->data);
}

static void
hold_cb (GdkFrameClock *clock,
         DsWindow      *self)
{
  GdkWindow *window = gtk_widget_get_window (GTK_WIDGET (self));

  /* (No more once the window is disposed of.) */
  if (self->held != NULL && gdk_frame_clock_get_frame_counter (clock) == self->held_frame && window != NULL)
    hold_window (self, window);
}

/* ...and given back once the frame is over, for the next. */
static void
give_back_cb (GdkFrameClock *clock,
              DsWindow      *self)
{
  if (self->held == NULL)
    return;
  for (guint i = 0; i < self->held->len; i++)
    {
      Held *held = g_ptr_array_index (self->held, i);

      if (!gdk_window_is_destroyed (held->window))
        gdk_window_invalidate_region (held->window, held->region, FALSE);
    }
  g_ptr_array_set_size (self->held, 0);
}

static void
mapped_cb (DsWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  g_signal_handlers_disconnect_by_func (self, mapped_cb, NULL);
  if (self->settings != NULL)
    self->warm_up_id = g_idle_add_full (G_PRIORITY_LOW, warm_up_cb, self, NULL);
  /* After the window's own layout. */
  g_signal_connect_object (clock, "layout", G_CALLBACK (hold_cb), self, G_CONNECT_AFTER);
  g_signal_connect_object (clock, "after-paint", G_CALLBACK (give_back_cb), self, 0);
}

/* The card made in advance for @board, if there is one; transfer full. */
static DsBoardCard *
take_prebuilt (DsWindow *self,
               DsBoard  *board)
{
  g_autofree char *port = NULL;
  DsBoardCard *card = NULL;

  if (!g_hash_table_steal_extended (self->prebuilt, ds_board_get_port (board), (gpointer *) &port, (gpointer *) &card))
    return NULL;
  if (ds_board_card_get_board (card) != board)
    g_clear_pointer (&card, drop_card);
  return card;
}

/* Cards come one every other frame while the window is shown, else a few
 * at a time in idle time. */
static void
board_added_cb (DsBoardMonitor *monitor,
                DsBoard        *board,
                DsWindow       *self)
{
  const char *port = ds_board_get_port (board);

  if (g_hash_table_contains (self->cards, port) || is_pending (self, port))
    return;
  /* In the grid's order: boards found together get their cards from the
   * first to the last, each after the ones shown, so that no card makes
   * the others move (and be drawn again) as it comes. */
  g_queue_insert_sorted (&self->pending_boards, g_object_ref (board), compare_boards, self);
  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    {
      /* The grid comes in a frame of its own, the first card in the next. */
      if (g_strcmp0 (gtk_stack_get_visible_child_name (self->main_stack), "boards") != 0)
        {
          update_page (self);
          self->page_switched = TRUE;
        }
      if (self->add_cards_tick_id == 0)
        self->add_cards_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), add_cards_tick_cb, NULL, NULL);
      if (self->prebuild_id == 0)
        /* Before the frame's own idle (GDK_PRIORITY_REDRAW), but apart
         * from it: a main-loop turn of its own. */
        self->prebuild_id = g_idle_add_full (G_PRIORITY_HIGH_IDLE, prebuild_cb, self, NULL);
    }
  else if (self->add_cards_id == 0)
    self->add_cards_id = g_idle_add (add_cards_cb, self);
}

/* Puts @card in the grid, shown.  GTK 3 answers a child shown in (or
 * added to) a container on screen by drawing the whole container again:
 * the 16 cards of the grid, 6-7 ms of a frame for each card that comes
 * (BENCHMARKS.md).  What the card's coming really changes is drawn anyway:
 * the layout that follows redraws every widget whose place or size it
 * changes, the new card's among them.  So the grid's window keeps only
 * what was to be drawn before. */
static void
show_card (DsWindow    *self,
           DsBoardCard *card)
{
  GtkWidget *widget = GTK_WIDGET (card);
  GdkWindow *window = gtk_widget_get_window (GTK_WIDGET (self->flowbox));
  gboolean on_screen = window != NULL && gtk_widget_get_mapped (GTK_WIDGET (self->flowbox));
  /* NULL: nothing was to be drawn. */
  cairo_region_t *before = on_screen ? gdk_window_get_update_area (window) : NULL;

  if (gtk_widget_get_parent (widget) == NULL)
    gtk_container_add (GTK_CONTAINER (self->flowbox), widget);
  /* A card made in advance waits hidden in the grid (prepare_card()). */
  gtk_widget_set_no_show_all (widget, FALSE);
  gtk_widget_show (widget);
  if (on_screen)
    {
      cairo_region_t *whole_grid = gdk_window_get_update_area (window);

      g_clear_pointer (&whole_grid, cairo_region_destroy);
      if (before != NULL)
        {
          gdk_window_invalidate_region (window, before, TRUE);
          cairo_region_destroy (before);
        }
    }
}

static void
add_card (DsWindow *self,
          DsBoard  *board)
{
  const char *port = ds_board_get_port (board);
  g_autoptr(DsBoardCard) prebuilt = take_prebuilt (self, board);
  DsBoardCard *card;

  if (g_hash_table_contains (self->cards, port))
    {
      if (prebuilt != NULL)
        gtk_widget_destroy (GTK_WIDGET (prebuilt));
      return;
    }
  card = take_gone_card (self, board);
  drop_gone_card_of (self, board);
  if (card != NULL)
    {
      DsJob *latest = latest_job_for (self, board);
      g_autofree char *uid = ds_board_dup_uid (board);
      g_autofree char *gone_uid = card_dup_uid (card);

      /* The card made in advance waits in the grid: it goes. */
      if (prebuilt != NULL)
        gtk_widget_destroy (GTK_WIDGET (prebuilt));
      ds_board_card_set_board (card, board);
      ds_board_card_set_connected (card, TRUE);
      /* Another board in the slot shows its own history, not the one
       * that went. */
      if (latest != NULL || (uid != NULL && gone_uid != NULL && g_strcmp0 (uid, gone_uid) != 0))
        ds_board_card_set_job (card, latest);
    }
  else
    {
      /* The container takes its own reference to a card made in advance. */
      card = prebuilt != NULL ? prebuilt : ds_board_card_new (board);
      ds_board_card_set_compact (card, g_settings_get_boolean (self->settings, "compact-view"));
      ds_board_card_set_job (card, latest_job_for (self, board));
      show_card (self, card);
    }
  ds_board_card_set_can_start (card, self->operator_id != NULL);
  update_attempts (self, card);
  /* The operator sees where a board plugged into the fixture landed. */
  if (ds_board_get_slot (board) != NULL)
    ds_identify_highlight_plugged (GTK_WIDGET (card));
  g_hash_table_insert (self->cards, g_strdup (port), card);
  /* Boards that appear together start together, in the order shown. */
  if (self->operator_id != NULL && auto_start (self) && !self->closing && self->auto_start_id == 0)
    self->auto_start_id = g_idle_add (auto_start_cb, self);
  update_placeholders (self);
  update_conflicts (self);
  update_page (self);
  update_actions (self);
}

static void
board_removed_cb (DsBoardMonitor *monitor,
                  DsBoard        *board,
                  DsWindow       *self)
{
  const char *port = ds_board_get_port (board);
  DsBoardCard *card = g_hash_table_lookup (self->cards, port);

  for (GList *l = self->pending_boards.head; l != NULL; l = l->next)
    if (g_strcmp0 (ds_board_get_port (l->data), port) == 0)
      {
        g_object_unref (l->data);
        g_queue_delete_link (&self->pending_boards, l);
        break;
      }
  g_hash_table_remove (self->prebuilt, port);
  if (card == NULL)
    {
      /* The grid came for a board that went before its card. */
      update_page (self);
      return;
    }
  g_hash_table_remove (self->cards, port);
  keep_gone_card (self, card);
  update_placeholders (self);
  update_conflicts (self);
  update_page (self);
  update_actions (self);
}

/* Where a board sits with a fixture: its slot's row and column.  FALSE
 * for boards outside the fixture (they come after it). */
static gboolean
board_position (DsWindow *self,
                DsBoard  *board,
                guint    *row,
                guint    *column)
{
  const DsFixtureSlot *slot = NULL;

  if (self == NULL || self->fixture == NULL)
    return FALSE;
  if (ds_board_get_slot (board) != NULL)
    slot = ds_fixture_lookup_label (self->fixture, ds_board_get_slot (board));
  if (slot == NULL)
    return FALSE;
  *row = slot->row;
  *column = slot->column;
  return TRUE;
}

/* The same for a child of the grid: a card's board, or an empty slot. */
static gboolean
child_position (DsWindow        *self,
                GtkFlowBoxChild *child,
                guint           *row,
                guint           *column)
{
  if (self == NULL || self->fixture == NULL)
    return FALSE;
  if (DS_IS_SLOT_PLACEHOLDER (child))
    {
      *row = ds_slot_placeholder_get_row (DS_SLOT_PLACEHOLDER (child));
      *column = ds_slot_placeholder_get_column (DS_SLOT_PLACEHOLDER (child));
      return TRUE;
    }
  return board_position (self, ds_board_card_get_board (DS_BOARD_CARD (child)), row, column);
}

/* In the fixture's rows and columns (nothing moves during a run), before
 * the rest; for @pa or @pb TRUE: what has no position comes after. */
static int
compare_positions (gboolean pa,
                   guint    ra,
                   guint    ca,
                   gboolean pb,
                   guint    rb,
                   guint    cb)
{
  if (pa != pb)
    return pa ? -1 : 1;
  return ra != rb ? (ra < rb ? -1 : 1) : (ca != cb ? (ca < cb ? -1 : 1) : 0);
}

static int
compare_names (DsBoard *a,
               DsBoard *b)
{
  g_autofree char *ka = g_utf8_collate_key_for_filename (ds_board_get_name (a), -1);
  g_autofree char *kb = g_utf8_collate_key_for_filename (ds_board_get_name (b), -1);

  return g_strcmp0 (ka, kb);
}

static int
sort_cards (GtkFlowBoxChild *a,
            GtkFlowBoxChild *b,
            gpointer         user_data)
{
  guint ra = 0, ca = 0, rb = 0, cb = 0;
  gboolean pa = child_position (user_data, a, &ra, &ca);
  gboolean pb = child_position (user_data, b, &rb, &cb);

  if (pa || pb)
    return compare_positions (pa, ra, ca, pb, rb, cb);
  if (!DS_IS_BOARD_CARD (a) || !DS_IS_BOARD_CARD (b))
    return DS_IS_BOARD_CARD (a) ? -1 : DS_IS_BOARD_CARD (b) ? 1 : 0;
  return compare_names (ds_board_card_get_board (DS_BOARD_CARD (a)), ds_board_card_get_board (DS_BOARD_CARD (b)));
}

/* Boards in the order of their cards in the grid. */
static int
compare_boards (gconstpointer a,
                gconstpointer b,
                gpointer      user_data)
{
  guint ra = 0, ca = 0, rb = 0, cb = 0;
  gboolean pa = board_position (user_data, (DsBoard *) a, &ra, &ca);
  gboolean pb = board_position (user_data, (DsBoard *) b, &rb, &cb);

  if (pa || pb)
    return compare_positions (pa, ra, ca, pb, rb, cb);
  return compare_names ((DsBoard *) a, (DsBoard *) b);
}

static int
compare_cards (gconstpointer a,
               gconstpointer b,
               gpointer      user_data)
{
  return sort_cards ((GtkFlowBoxChild *) a, (GtkFlowBoxChild *) b, user_data);
}

/* ---- sign-in ------------------------------------------------------------ */

static void
login_response_cb (DsLoginDialog *dialog,
                   int            response,
                   DsWindow      *self)
{
  if (response == GTK_RESPONSE_OK)
    {
      g_autofree char *op = ds_login_dialog_dup_operator (dialog);
      g_autofree char *lot = ds_login_dialog_dup_lot (dialog);
      g_autofree char *profile = ds_login_dialog_dup_profile (dialog);
      g_autofree char *current = g_settings_get_string (self->settings, "profile");

      /* The profile is chosen at sign-in; a change rebuilds the station
       * (and is recorded with its digest) before the next board. */
      if (g_strcmp0 (profile != NULL ? profile : "", current) != 0)
        g_settings_set_string (self->settings, "profile", profile != NULL ? profile : "");
      ds_window_sign_in (self, op, lot);
    }
  self->login_dialog = NULL;
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static void
show_login (DsWindow *self)
{
  g_autofree char *op = NULL;
  g_autofree char *lot = NULL;
  DsLoginDialog *dialog;

  if (self->login_dialog != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->login_dialog));
      return;
    }
  op = self->operator_id != NULL ? g_strdup (self->operator_id)
                                 : g_settings_get_string (self->settings, "last-operator");
  lot = self->lot != NULL ? g_strdup (self->lot) : g_settings_get_string (self->settings, "last-lot");
  dialog = ds_login_dialog_new (GTK_WINDOW (self), op, lot);
  {
    g_autofree char *profile = g_settings_get_string (self->settings, "profile");

    ds_login_dialog_set_profile (dialog, profile);
  }
  self->login_dialog = GTK_WIDGET (dialog);
  g_signal_connect (dialog, "response", G_CALLBACK (login_response_cb), self);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- actions ------------------------------------------------------------ */

static void
set_enabled (DsWindow   *self,
             const char *name,
             gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static DsBoardCard *
selected_card (DsWindow *self)
{
  g_autoptr(GList) selected = gtk_flow_box_get_selected_children (self->flowbox);

  if (selected == NULL)
    {
      GtkWidget *focus = gtk_window_get_focus (GTK_WINDOW (self));
      GtkWidget *card = focus != NULL ? gtk_widget_get_ancestor (focus, DS_TYPE_BOARD_CARD) : NULL;

      return card != NULL ? DS_BOARD_CARD (card) : NULL;
    }
  return DS_IS_BOARD_CARD (selected->data) ? DS_BOARD_CARD (selected->data) : NULL;
}

static void
update_actions (DsWindow *self)
{
  gboolean signed_in = self->operator_id != NULL;
  gboolean any_startable = FALSE;
  gboolean sim_running = ds_simulator_is_running (self->simulator);
  GHashTableIter iter;
  gpointer card;

  g_hash_table_iter_init (&iter, self->cards);
  while (g_hash_table_iter_next (&iter, NULL, &card))
    {
      ds_board_card_set_can_start (card, signed_in);
      if (can_start (card))
        any_startable = TRUE;
    }

  /* Not while the boards just found are about to start on their own: Start
   * All would blink (and be drawn again) for each board that comes. */
  set_enabled (self, "start-all", signed_in && any_startable && self->auto_start_id == 0 && !self->closing);
  set_enabled (self, "provision", signed_in && !self->closing);
  set_enabled (self, "retry-selected", signed_in && !self->closing);
  set_enabled (self, "cancel-all", n_active (self) > 0);
  /* Jobs record the operator and lot they started with: change them only
   * between runs. */
  set_enabled (self, "sign-in", n_active (self) == 0 && !self->closing);
  set_enabled (self, "add-simulated-boards", !sim_running && !self->closing);
  /* A greyed button says why. */
  ds_tooltip_set_text (self->add_sim_button,
                       sim_running ? _("Simulated boards are running already: remove them first from the main menu")
                                   : _("Add simulated boards (a demo without hardware)"));
  set_enabled (self, "remove-simulated-boards", sim_running);
  set_enabled (self, "statistics", self->store != NULL);
}

static void
start_all_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  /* The boards this Start All starts make its batch, summed up once
   * every one has a verdict. */
  g_ptr_array_set_size (self->batch, 0);
  self->collect_batch = TRUE;
  start_waiting_boards (self, TRUE);
  self->collect_batch = FALSE;
  update_batch (self);
}

static void
cancel_all_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  g_ptr_array_set_size (self->waiting_station, 0);
  update_summary (self);
  if (self->station != NULL)
    ds_station_cancel_all (self->station);
}

static void
provision_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = g_hash_table_lookup (self->cards, g_variant_get_string (parameter, NULL));

  if (card != NULL && can_start (card))
    provision (self, card);
}

static void
cancel_card (DsWindow    *self,
             DsBoardCard *card)
{
  DsJob *job = ds_board_card_get_job (card);

  /* A board waiting for the station is never started. */
  if (g_ptr_array_remove (self->waiting_station, card))
    {
      update_summary (self);
      return;
    }
  /* A queued board is taken off the queue, not started to be cancelled. */
  if (job != NULL && self->station != NULL &&
      (ds_job_get_state (job) == DS_JOB_STATE_QUEUED || ds_job_get_state (job) == DS_JOB_STATE_RUNNING))
    ds_station_cancel_job (self->station, job);
  else if (job != NULL && ds_job_get_state (job) == DS_JOB_STATE_RUNNING)
    ds_job_cancel (job);
}

static void
cancel_board_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = g_hash_table_lookup (self->cards, g_variant_get_string (parameter, NULL));

  if (card != NULL)
    cancel_card (self, card);
}

static void
identify_done_cb (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(DsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ds_board_identify_finish (DS_BOARD (source), result, &error) && !self->closing)
    show_error (self, error->message);
}

/* Identify: the board blinks its LED.  Never while its job is queued or
 * running (the card's and the dialog's buttons say so); the port is held
 * for the one request only. */
static void
identify_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = g_hash_table_lookup (self->cards, g_variant_get_string (parameter, NULL));
  DsJob *job;
  const char *why_not;

  if (card == NULL)
    {
      /* A board that went keeps its card and its details dialog. */
      show_error (self, ds_identify_why_not (FALSE, FALSE));
      return;
    }
  job = ds_board_card_get_job (card);
  why_not = ds_identify_why_not (ds_board_card_get_connected (card),
                                 job != NULL && (ds_job_get_state (job) == DS_JOB_STATE_QUEUED ||
                                                 ds_job_get_state (job) == DS_JOB_STATE_RUNNING));
  if (why_not != NULL)
    {
      show_error (self, why_not);
      return;
    }
  ds_board_identify_async (ds_board_card_get_board (card), DS_BOARD_IDENTIFY_SECONDS, NULL,
                           identify_done_cb, g_object_ref (self));
}

static void
show_details (DsWindow    *self,
              DsBoardCard *card)
{
  DsJob *job = ds_board_card_get_job (card);
  DsBoardDetailsDialog *dialog;

  ds_board_card_acknowledge (card);
  if (job == NULL)
    return;
  dialog = ds_board_details_dialog_new (GTK_WINDOW (self), job);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_widget_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
board_details_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  const char *port = g_variant_get_string (parameter, NULL);
  DsBoardCard *card = g_hash_table_lookup (self->cards, port);

  /* A board that went keeps its card, and its Details. */
  if (card == NULL)
    {
      GHashTableIter iter;
      gpointer gone;

      g_hash_table_iter_init (&iter, self->gone);
      while (card == NULL && g_hash_table_iter_next (&iter, NULL, &gone))
        if (g_strcmp0 (ds_board_get_port (ds_board_card_get_board (gone)), port) == 0)
          card = gone;
    }

  if (card != NULL)
    show_details (self, card);
}

static void
card_activated_cb (DsWindow        *self,
                   GtkFlowBoxChild *child)
{
  /* An empty slot has nothing to show. */
  if (DS_IS_BOARD_CARD (child))
    show_details (self, DS_BOARD_CARD (child));
}

static void
retry_selected_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = selected_card (self);

  if (card != NULL && can_start (card))
    provision (self, card);
}

static void
cancel_selected_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = selected_card (self);

  if (card != NULL)
    cancel_card (self, card);
}

static void
details_selected_activated (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  DsBoardCard *card = selected_card (self);

  if (card != NULL)
    show_details (self, card);
}

static void
sign_in_activated (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  show_login (DS_WINDOW (user_data));
}

static void
simulator_started_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(DsWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!ds_simulator_start_finish (DS_SIMULATOR (object), result, &error))
    show_error (self, error->message);
  else
    /* The boards are announced now: look at once rather than wait for the
     * directory monitor. */
    ds_board_monitor_scan (self->monitor);
  update_actions (self);
}

static void
start_simulator (DsWindow *self,
                 guint     n_boards)
{
  int baud = app_get_int (self, "demo-baud");

  if (ds_simulator_is_running (self->simulator))
    return;
  if (baud < 0)
    baud = (int) g_settings_get_uint (self->settings, "demo-baud");
  ds_simulator_start_async (self->simulator, n_boards, (guint) baud, NULL,
                            simulator_started_cb, g_object_ref (self));
  update_actions (self);
}

static void
add_simulated_boards_activated (GSimpleAction *action,
                                GVariant      *parameter,
                                gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  start_simulator (self, g_settings_get_uint (self->settings, "demo-boards"));
}

static void
remove_simulated_boards_activated (GSimpleAction *action,
                                   GVariant      *parameter,
                                   gpointer       user_data)
{
  ds_simulator_stop (DS_WINDOW (user_data)->simulator);
}

static void
simulator_exited_cb (DsSimulator *simulator,
                     DsWindow    *self)
{
  ds_board_monitor_scan (self->monitor);
  update_actions (self);
}

static void
statistics_activated (GSimpleAction *action,
                      GVariant      *parameter,
                      gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  if (self->store == NULL)
    return;
  if (self->statistics == NULL)
    {
      self->statistics = GTK_WIDGET (ds_statistics_window_new (GTK_WINDOW (self), ds_store_get_path (self->store)));
      g_object_add_weak_pointer (G_OBJECT (self->statistics), (gpointer *) &self->statistics);
    }
  gtk_window_present (GTK_WINDOW (self->statistics));
}

static void
show_primary_menu_activated (GSimpleAction *action,
                             GVariant      *parameter,
                             gpointer       user_data)
{
  DsWindow *self = DS_WINDOW (user_data);
  GtkToggleButton *button = GTK_TOGGLE_BUTTON (self->menu_button);

  gtk_toggle_button_set_active (button, !gtk_toggle_button_get_active (button));
}

static void
close_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  gtk_window_close (GTK_WINDOW (user_data));
}

static const GActionEntry win_actions[] = {
  { "start-all", start_all_activated, NULL, NULL, NULL, { 0 } },
  { "cancel-all", cancel_all_activated, NULL, NULL, NULL, { 0 } },
  { "provision", provision_activated, "s", NULL, NULL, { 0 } },
  { "cancel-board", cancel_board_activated, "s", NULL, NULL, { 0 } },
  { "board-details", board_details_activated, "s", NULL, NULL, { 0 } },
  { "identify", identify_activated, "s", NULL, NULL, { 0 } },
  { "retry-selected", retry_selected_activated, NULL, NULL, NULL, { 0 } },
  { "cancel-selected", cancel_selected_activated, NULL, NULL, NULL, { 0 } },
  { "details-selected", details_selected_activated, NULL, NULL, NULL, { 0 } },
  { "sign-in", sign_in_activated, NULL, NULL, NULL, { 0 } },
  { "add-simulated-boards", add_simulated_boards_activated, NULL, NULL, NULL, { 0 } },
  { "remove-simulated-boards", remove_simulated_boards_activated, NULL, NULL, NULL, { 0 } },
  { "statistics", statistics_activated, NULL, NULL, NULL, { 0 } },
  { "show-primary-menu", show_primary_menu_activated, NULL, NULL, NULL, { 0 } },
  { "close", close_activated, NULL, NULL, NULL, { 0 } },
  { "acknowledge-failures", acknowledge_failures_activated, NULL, NULL, NULL, { 0 } },
};

/* ---- settings ----------------------------------------------------------- */

/* The profile the settings name, or make; says why when it cannot be
 * used. */
static void
load_profile (DsWindow *self)
{
  g_autoptr(GError) error = NULL;

  g_clear_pointer (&self->profile, ds_profile_unref);
  g_clear_pointer (&self->profile_error, g_free);
  self->profile = ds_settings_profile_new (self->settings, &error);
  if (self->profile == NULL)
    {
      self->profile_error = g_strdup (error->message);
      show_error (self, error->message);
    }
}

static void
settings_changed_cb (GSettings  *settings,
                     const char *key,
                     DsWindow   *self)
{
  if (g_str_equal (key, "ca-backend") || g_str_has_prefix (key, "est-") ||
      g_str_equal (key, "profile") || g_str_equal (key, "production"))
    {
      load_profile (self);
      self->station_stale = TRUE;
    }
  else if (g_str_equal (key, "vendor-id") || g_str_equal (key, "product-id") ||
           g_str_equal (key, "max-jobs") || g_str_equal (key, "command-timeout") ||
           g_str_equal (key, "firmware-image") || g_str_equal (key, "flasher") ||
           g_str_equal (key, "trust-store") || g_str_equal (key, "certification-declaration"))
    self->station_stale = TRUE;
  else if (g_str_equal (key, "max-attempts"))
    {
      update_all_attempts (self);
      update_actions (self);
    }
  else if (g_str_equal (key, "fixture"))
    apply_fixture (self);
  else if (g_str_equal (key, "compact-view"))
    apply_compact (self);
  else if (g_str_equal (key, "auto-start"))
    {
      if (g_settings_get_boolean (settings, key) && self->operator_id != NULL)
        start_waiting_boards (self, FALSE);
    }
  update_header (self);

  /* A banner about the configuration goes once the configuration is
   * fixed (or says what is wrong now), not when the operator dismisses it. */
  if (self->error != NULL && self->operator_id != NULL && n_active (self) == 0 && !self->closing)
    {
      g_autoptr(GError) error = NULL;

      if (station_ready (self))
        clear_error (self);
      else if (!build_station (self, &error))
        show_error (self, error->message);
      else
        self->station_report = TRUE;
    }
}

/* ---- the window --------------------------------------------------------- */

/* Every dialog of this window goes, whatever it is: a modal one would
 * otherwise swallow the close. */
static void
destroy_dialogs (DsWindow *self)
{
  GList *toplevels = gtk_window_list_toplevels ();

  for (GList *l = toplevels; l != NULL; l = l->next)
    g_object_ref (l->data);
  for (GList *l = toplevels; l != NULL; l = l->next)
    {
      GtkWindow *window = l->data;

      if (window == GTK_WINDOW (self) || gtk_window_get_window_type (window) != GTK_WINDOW_TOPLEVEL)
        continue;
      for (GtkWindow *p = gtk_window_get_transient_for (window); p != NULL; p = gtk_window_get_transient_for (p))
        if (p == GTK_WINDOW (self))
          {
            gtk_widget_destroy (GTK_WIDGET (window));
            break;
          }
    }
  g_list_free_full (toplevels, g_object_unref);
  self->login_dialog = NULL;
  self->confirm_close = NULL;
}

static gboolean
close_deadline_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  self->close_deadline_id = 0;
  g_warning ("%u boards still running %d ms after they were cancelled: closing regardless",
             n_active (self), DS_CLOSE_DEADLINE_MS);
  gtk_widget_destroy (GTK_WIDGET (self));
  return G_SOURCE_REMOVE;
}

/* Cancels what runs and closes once the cancelled jobs are recorded: queued
 * boards are never started, running ones end at their current step.  After
 * DS_CLOSE_DEADLINE_MS the window goes regardless. */
static void
close_now (DsWindow *self)
{
  self->closing = TRUE;
  g_ptr_array_set_size (self->waiting_station, 0);
  if (n_active (self) > 0)
    ds_station_cancel_all (self->station);
  if (n_active (self) == 0)
    {
      /* A station being built (its test PKI and records written in a
       * thread) is waited for, within the same deadline. */
      if (self->station_cancellable == NULL)
        schedule_destroy (self);
      else if (self->close_deadline_id == 0)
        self->close_deadline_id = g_timeout_add (DS_CLOSE_DEADLINE_MS, close_deadline_cb, self);
      return;
    }
  show_error (self, _("Cancelling every board at its current step, then closing…"));
  gtk_widget_set_sensitive (GTK_WIDGET (self->main_stack), FALSE);
  update_actions (self);
  if (self->close_deadline_id == 0)
    self->close_deadline_id = g_timeout_add (DS_CLOSE_DEADLINE_MS, close_deadline_cb, self);
}

static guint
count_jobs (DsWindow   *self,
            DsJobState  state)
{
  guint n = 0;

  if (self->station == NULL)
    return 0;
  for (guint i = 0; i < ds_station_get_jobs (self->station)->len; i++)
    if (ds_job_get_state (g_ptr_array_index (ds_station_get_jobs (self->station), i)) == state)
      n++;
  return n;
}

static void
confirm_close_response_cb (GtkDialog *dialog,
                           int        response,
                           DsWindow  *self)
{
  self->confirm_close = NULL;
  gtk_widget_destroy (GTK_WIDGET (dialog));
  if (response == GTK_RESPONSE_ACCEPT)
    close_now (self);
}

/* Closing the window while boards run asks first, and says how many. */
static void
confirm_close (DsWindow *self)
{
  guint running = count_jobs (self, DS_JOB_STATE_RUNNING);
  guint queued = count_jobs (self, DS_JOB_STATE_QUEUED);
  g_autofree char *text = NULL;
  g_autofree char *secondary = NULL;
  GtkWidget *dialog;
  GtkWidget *button;

  if (self->confirm_close != NULL)
    {
      gtk_window_present (GTK_WINDOW (self->confirm_close));
      return;
    }
  text = g_strdup_printf (ngettext ("%u board is being provisioned. Stop it and close?",
                                    "%u boards are being provisioned. Stop them and close?", running),
                          running);
  if (queued > 0)
    secondary = g_strdup_printf (ngettext ("It stops at its current step and is recorded as cancelled. %u waiting board is not started.",
                                           "They stop at their current step and are recorded as cancelled. %u waiting boards are not started.",
                                           queued), queued);
  else
    secondary = g_strdup (ngettext ("It stops at its current step and is recorded as cancelled.",
                                    "They stop at their current step and are recorded as cancelled.", running));
  dialog = gtk_message_dialog_new (GTK_WINDOW (self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE, "%s", text);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", secondary);
  gtk_dialog_add_button (GTK_DIALOG (dialog), _("_Keep Running"), GTK_RESPONSE_CANCEL);
  /* TRANSLATORS: the button that confirms closing the window while boards
   * are being provisioned; singular for one board */
  button = gtk_dialog_add_button (GTK_DIALOG (dialog), ngettext ("_Stop Board and Close", "_Stop Boards and Close", running),
                                  GTK_RESPONSE_ACCEPT);
  gtk_style_context_add_class (gtk_widget_get_style_context (button), "destructive-action");
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_CANCEL);
  gtk_window_set_application (GTK_WINDOW (dialog), gtk_window_get_application (GTK_WINDOW (self)));
  g_signal_connect (dialog, "response", G_CALLBACK (confirm_close_response_cb), self);
  self->confirm_close = dialog;
  gtk_window_present (GTK_WINDOW (dialog));
}

static gboolean
ds_window_delete_event (GtkWidget   *widget,
                        GdkEventAny *event)
{
  DsWindow *self = DS_WINDOW (widget);

  if (self->closing)
    return GDK_EVENT_STOP;
  if (n_active (self) > 0)
    {
      confirm_close (self);
      return GDK_EVENT_STOP;
    }
  destroy_dialogs (self);
  return GTK_WIDGET_CLASS (ds_window_parent_class)->delete_event != NULL
         ? GTK_WIDGET_CLASS (ds_window_parent_class)->delete_event (widget, event)
         : GDK_EVENT_PROPAGATE;
}

static void
ds_window_dispose (GObject *object)
{
  DsWindow *self = DS_WINDOW (object);

  if (self->settings != NULL)
    {
      int width, height;

      gtk_window_get_size (GTK_WINDOW (self), &width, &height);
      g_settings_set_boolean (self->settings, "window-maximized", gtk_window_is_maximized (GTK_WINDOW (self)));
      if (!gtk_window_is_maximized (GTK_WINDOW (self)))
        {
          g_settings_set_int (self->settings, "window-width", width);
          g_settings_set_int (self->settings, "window-height", height);
        }
      g_signal_handlers_disconnect_by_data (self->settings, self);
    }
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_handle_id (&self->beep_id, g_source_remove);
  g_clear_handle_id (&self->auto_start_id, g_source_remove);
  g_clear_handle_id (&self->close_deadline_id, g_source_remove);
  g_clear_handle_id (&self->add_cards_id, g_source_remove);
  if (self->add_cards_tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->add_cards_tick_id);
      self->add_cards_tick_id = 0;
    }
  g_queue_clear_full (&self->pending_boards, g_object_unref);
  g_clear_handle_id (&self->prebuild_id, g_source_remove);
  g_clear_handle_id (&self->warm_up_id, g_source_remove);
  g_clear_pointer (&self->held, g_ptr_array_unref);
  g_clear_pointer (&self->prebuilt, g_hash_table_unref);
  g_clear_handle_id (&self->destroy_id, g_source_remove);
  g_cancellable_cancel (self->station_cancellable);
  g_clear_object (&self->station_cancellable);
  g_clear_pointer (&self->waiting_station, g_ptr_array_unref);
  if (self->statistics != NULL)
    {
      g_object_remove_weak_pointer (G_OBJECT (self->statistics), (gpointer *) &self->statistics);
      gtk_widget_destroy (g_steal_pointer (&self->statistics));
    }
  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  if (self->station != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->station, self);
      ds_station_cancel_all (self->station);
    }
  if (self->simulator != NULL)
    g_signal_handlers_disconnect_by_data (self->simulator, self);
  g_clear_object (&self->simulator);
  g_clear_object (&self->monitor);
  g_clear_object (&self->station);
  g_clear_pointer (&self->cards, g_hash_table_unref);
  g_clear_pointer (&self->gone, g_hash_table_unref);
  g_clear_pointer (&self->placeholders, g_hash_table_unref);
  g_clear_pointer (&self->batch, g_ptr_array_unref);
  g_clear_object (&self->fixture);
  g_clear_pointer (&self->unacknowledged, g_hash_table_unref);
  g_clear_pointer (&self->latest_jobs, g_hash_table_unref);
  g_clear_pointer (&self->attempts, g_hash_table_unref);
  g_clear_pointer (&self->profile, ds_profile_unref);
  g_clear_pointer (&self->profile_error, g_free);
  g_clear_pointer (&self->logged_profile, g_free);
  g_clear_object (&self->store);
  g_clear_object (&self->settings);
  G_OBJECT_CLASS (ds_window_parent_class)->dispose (object);
}

static void
ds_window_finalize (GObject *object)
{
  DsWindow *self = DS_WINDOW (object);

  g_free (self->data_dir);
  g_free (self->operator_id);
  g_free (self->lot);
  g_free (self->station_name);
  g_free (self->error);
  g_free (self->batch_summary);
  G_OBJECT_CLASS (ds_window_parent_class)->finalize (object);
}

static void
ds_window_class_init (DsWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = ds_window_dispose;
  object_class->finalize = ds_window_finalize;
  widget_class->delete_event = ds_window_delete_event;

  g_type_ensure (DS_TYPE_YIELD_PANEL);
  gtk_widget_class_set_template_from_resource (widget_class, "/org/dacstation/Station/ui/ds-window.ui");
  gtk_widget_class_bind_template_child (widget_class, DsWindow, mode_badge);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, alarm_button);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, operator_label);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, menu_button);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, add_sim_button);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, statistics_button);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, error_bar);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, yield_panel);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, flowbox);
  gtk_widget_class_bind_template_child (widget_class, DsWindow, summary_label);
  gtk_widget_class_bind_template_callback (widget_class, error_bar_response_cb);
  gtk_widget_class_bind_template_callback (widget_class, card_activated_cb);
}

static void
ds_window_init (DsWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_container_add (GTK_CONTAINER (gtk_info_bar_get_content_area (self->error_bar)),
                     GTK_WIDGET (self->error_label));
  /* Accessible names of the icon-only buttons and the board grid (GTK 3
   * templates cannot set them on these children). */
  atk_object_set_name (gtk_widget_get_accessible (self->menu_button), _("Main menu"));
  atk_object_set_name (gtk_widget_get_accessible (self->add_sim_button), _("Add simulated boards"));
  atk_object_set_name (gtk_widget_get_accessible (self->statistics_button), _("Statistics"));
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self->flowbox)), _("Boards"));

  self->cards = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->gone = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->placeholders = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->batch = g_ptr_array_new_with_free_func (g_object_unref);
  self->waiting_station = g_ptr_array_new_with_free_func (g_object_unref);
  self->prebuilt = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, drop_card);
  self->unacknowledged = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->latest_jobs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->attempts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->station_name = g_strdup (g_get_host_name ());
  self->held_frame = -1;
  self->held = g_ptr_array_new_with_free_func (held_free);

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_actions, G_N_ELEMENTS (win_actions), self);
  gtk_flow_box_set_sort_func (self->flowbox, sort_cards, self, NULL);
  g_signal_connect (self, "map", G_CALLBACK (mapped_cb), NULL);
}

static gboolean
ask_sign_in_cb (gpointer user_data)
{
  DsWindow *self = DS_WINDOW (user_data);

  if (self->operator_id == NULL)
    show_login (self);
  return G_SOURCE_REMOVE;
}

static void
open_store (DsWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *db = g_build_filename (self->data_dir, "records.sqlite3", NULL);
  int closed;

  if (g_mkdir_with_parents (self->data_dir, 0700) != 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot create the data folder %s: %s"),
                                              self->data_dir, g_strerror (errno));
      show_error (self, msg);
      return;
    }
  self->store = ds_store_open (db, &error);
  if (self->store == NULL)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot open the record store: %s"), error->message);
      show_error (self, msg);
      return;
    }
  closed = ds_store_close_interrupted_jobs (self->store, &error);
  if (closed < 0)
    {
      g_autofree char *msg = g_strdup_printf (_("Cannot check the record store: %s"), error->message);
      show_error (self, msg);
    }
  else if (closed > 0)
    {
      g_autofree char *msg = g_strdup_printf (ngettext ("%d job was interrupted last time; its board resumes where it stopped.",
                                                        "%d jobs were interrupted last time; their boards resume where they stopped.",
                                                        closed), closed);
      show_error (self, msg);
      gtk_info_bar_set_message_type (self->error_bar, GTK_MESSAGE_INFO);
    }
}

DsWindow *
ds_window_new (GtkApplication *application)
{
  DsWindow *self = g_object_new (DS_TYPE_WINDOW, "application", application, NULL);
  g_autofree char *sim_dir = NULL;
  g_autofree char *operator_id = NULL;
  g_autofree char *lot = NULL;
  guint demo_boards = 0;

  self->app = application;
  g_object_get (application,
                "settings", &self->settings,
                "data-dir", &self->data_dir,
                "sim-dir", &sim_dir,
                "operator", &operator_id,
                "lot", &lot,
                "demo-boards", &demo_boards,
                NULL);

  /* No larger than the screen it opens on. */
  ds_window_fit_default_size (GTK_WINDOW (self),
                              g_settings_get_int (self->settings, "window-width"),
                              g_settings_get_int (self->settings, "window-height"));
  if (g_settings_get_boolean (self->settings, "window-maximized"))
    gtk_window_maximize (GTK_WINDOW (self));

  open_store (self);
  load_profile (self);
  g_signal_connect (self->settings, "changed", G_CALLBACK (settings_changed_cb), self);

  self->monitor = ds_board_monitor_new (sim_dir);
  ds_board_monitor_set_serial_enabled (self->monitor, !app_get_boolean (self, "simulated-only"));
  g_signal_connect (self->monitor, "board-added", G_CALLBACK (board_added_cb), self);
  g_signal_connect (self->monitor, "board-removed", G_CALLBACK (board_removed_cb), self);
  self->simulator = ds_simulator_new (ds_board_monitor_get_sim_dir (self->monitor));
  g_signal_connect (self->simulator, "exited", G_CALLBACK (simulator_exited_cb), self);
  {
    g_autoptr(GAction) compact = g_settings_create_action (self->settings, "compact-view");

    g_action_map_add_action (G_ACTION_MAP (self), compact);
  }
  apply_fixture (self);
  apply_compact (self);

  update_header (self);
  update_page (self);
  update_actions (self);

  if (operator_id != NULL && lot != NULL)
    ds_window_sign_in (self, operator_id, lot);
  else
    g_idle_add_full (G_PRIORITY_LOW, ask_sign_in_cb, g_object_ref (self), g_object_unref);

  ds_board_monitor_start (self->monitor);
  self->started = TRUE;
  if (demo_boards > 0)
    start_simulator (self, demo_boards);
  return self;
}

void
ds_window_sign_in (DsWindow   *self,
                   const char *operator_id,
                   const char *lot)
{
  g_return_if_fail (DS_IS_WINDOW (self));
  g_return_if_fail (operator_id != NULL && *operator_id != '\0');
  g_return_if_fail (lot != NULL && *lot != '\0');

  if (n_active (self) > 0)
    {
      show_error (self, _("Wait for the running boards to finish before changing the operator or the lot"));
      return;
    }
  g_free (self->operator_id);
  self->operator_id = g_strdup (operator_id);
  g_free (self->lot);
  self->lot = g_strdup (lot);
  g_settings_set_string (self->settings, "last-operator", operator_id);
  g_settings_set_string (self->settings, "last-lot", lot);
  if (self->store != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *event = g_strdup_printf ("%s lot %s", operator_id, lot);

      /* The audit trail says who worked the station, and on what. */
      if (!ds_store_log_event (self->store, 0, NULL, "operator-login", event, &error))
        show_error (self, error->message);
    }

  /* Jobs carry the operator and lot of their station: a new one, built
   * now in a thread so that the first Start does not wait for it.  What
   * is wrong with the settings is said when a board is started. */
  self->station_stale = TRUE;
  if (n_active (self) == 0)
    build_station (self, NULL);
  self->shift_start = g_get_real_time ();
  if (self->store != NULL)
    ds_yield_panel_set_source (self->yield_panel, ds_store_get_path (self->store), self->station_name,
                               self->shift_start);
  update_header (self);
  update_actions (self);

  if (auto_start (self))
    start_waiting_boards (self, FALSE);
  gtk_widget_child_focus (GTK_WIDGET (self->flowbox), GTK_DIR_TAB_FORWARD);
}

void
ds_window_quit (DsWindow *self)
{
  g_return_if_fail (DS_IS_WINDOW (self));

  /* No question asked: Quit and the signals end the station within 5 s,
   * whatever dialog is open. */
  destroy_dialogs (self);
  close_now (self);
}

gboolean
ds_window_is_signed_in (DsWindow *self)
{
  return self->operator_id != NULL;
}

GList *
ds_window_get_cards (DsWindow *self)
{
  GList *children = gtk_container_get_children (GTK_CONTAINER (self->flowbox));
  GList *cards = NULL;

  /* Boards' cards only, not the empty slots, nor the cards made in
   * advance that wait hidden for their frame. */
  for (GList *l = children; l != NULL; l = l->next)
    if (DS_IS_BOARD_CARD (l->data) &&
        (self->prebuilt == NULL ||
         g_hash_table_lookup (self->prebuilt, ds_board_get_port (ds_board_card_get_board (l->data))) != l->data))
      cards = g_list_prepend (cards, l->data);
  g_list_free (children);
  /* The flow box sorts on screen; its children list keeps insertion order. */
  return g_list_sort_with_data (cards, compare_cards, self);
}

DsBoardCard *
ds_window_find_card (DsWindow   *self,
                     const char *port_or_name)
{
  g_autoptr(GList) cards = ds_window_get_cards (self);

  /* The boards present first: a gone board's card may share its name. */
  for (int pass = 0; pass < 2; pass++)
    for (GList *l = cards; l != NULL; l = l->next)
      {
        DsBoard *board = ds_board_card_get_board (l->data);

        if (ds_board_card_get_connected (l->data) == (pass == 0) &&
            (g_strcmp0 (ds_board_get_port (board), port_or_name) == 0 ||
             g_strcmp0 (ds_board_get_name (board), port_or_name) == 0 ||
             g_strcmp0 (ds_board_get_slot (board), port_or_name) == 0))
          return l->data;
      }
  return NULL;
}

DsYieldPanel *
ds_window_get_yield_panel (DsWindow *self)
{
  return self->yield_panel;
}

DsStore *
ds_window_get_store (DsWindow *self)
{
  return self->store;
}

DsStatisticsWindow *
ds_window_get_statistics (DsWindow *self)
{
  return self->statistics != NULL ? DS_STATISTICS_WINDOW (self->statistics) : NULL;
}

gboolean
ds_window_is_preparing_station (DsWindow *self)
{
  g_return_val_if_fail (DS_IS_WINDOW (self), FALSE);

  return self->station_cancellable != NULL;
}

DsStation *
ds_window_get_station (DsWindow *self)
{
  return self->station;
}

const char *
ds_window_get_error (DsWindow *self)
{
  return self->error;
}

guint
ds_window_get_n_beeps (DsWindow *self)
{
  return self->n_beeps;
}

/* "14 passed · 2 to set aside (A3, B1)" after the last Start All, or NULL. */
const char *
ds_window_get_batch_summary (DsWindow *self)
{
  return self->batch_summary;
}

/* The empty slots' placeholders shown, in no order. */
GList *
ds_window_get_placeholders (DsWindow *self)
{
  return g_hash_table_get_values (self->placeholders);
}

GtkFlowBox *
ds_window_get_flow_box (DsWindow *self)
{
  return self->flowbox;
}

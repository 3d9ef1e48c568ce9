/* The GTK application: options, settings, the one accelerator table and the
 * application-wide actions. */
#include "config.h"

#include "ds-application.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>

#include "ds-preferences-dialog.h"
#include "ds-window.h"

struct _DsApplication
{
  GtkApplication  parent_instance;

  GSettings      *settings;
  char           *data_dir;
  char           *sim_dir;
  char           *operator_id;
  char           *lot;
  gboolean        simulated_only;
  gboolean        auto_start;
  guint           demo_boards;
  int             demo_baud;
  int             timeout_ms;
  guint           sigint_id;
  guint           sigterm_id;
};

G_DEFINE_FINAL_TYPE (DsApplication, ds_application, GTK_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_DATA_DIR,
  PROP_SIM_DIR,
  PROP_SIMULATED_ONLY,
  PROP_AUTO_START,
  PROP_OPERATOR,
  PROP_LOT,
  PROP_DEMO_BOARDS,
  PROP_DEMO_BAUD,
  PROP_TIMEOUT_MS,
  PROP_SETTINGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Every keyboard shortcut of the station, in one place.  The shortcuts
 * window (ui/help-overlay.ui) shows the same list; a test keeps them equal. */
static const struct {
  const char *action;
  const char *accels[3];
} accelerators[] = {
  { "win.start-all", { "<Primary>Return", "F5", NULL } },
  { "win.cancel-all", { "<Primary>period", NULL } },
  { "win.retry-selected", { "<Primary>r", NULL } },
  { "win.cancel-selected", { "Delete", NULL } },
  { "win.details-selected", { "<Primary>i", NULL } },
  { "win.sign-in", { "<Primary>o", NULL } },
  { "win.statistics", { "<Primary>y", NULL } },
  { "win.compact-view", { "<Primary>k", NULL } },
  { "win.add-simulated-boards", { "<Primary>d", NULL } },
  { "win.remove-simulated-boards", { "<Primary><Shift>d", NULL } },
  { "app.auto-start", { "<Primary><Shift>a", NULL } },
  { "app.sound", { "<Primary>m", NULL } },
  { "app.preferences", { "<Primary>comma", NULL } },
  { "win.show-primary-menu", { "F10", NULL } },
  { "win.show-help-overlay", { "<Primary>question", NULL } },
  { "win.close", { "<Primary>w", NULL } },
  { "app.quit", { "<Primary>q", NULL } },
};

/* The signal sources borrow the application: they go with it (on
 * shutdown, or at the latest when it is disposed, as in the tests, which
 * never run the application), so a later signal never reaches a freed one. */
static void
remove_signal_sources (DsApplication *self)
{
  g_clear_handle_id (&self->sigint_id, g_source_remove);
  g_clear_handle_id (&self->sigterm_id, g_source_remove);
}

static void
ds_application_dispose (GObject *object)
{
  remove_signal_sources (DS_APPLICATION (object));
  G_OBJECT_CLASS (ds_application_parent_class)->dispose (object);
}

static void
ds_application_finalize (GObject *object)
{
  DsApplication *self = DS_APPLICATION (object);

  g_clear_object (&self->settings);
  g_free (self->data_dir);
  g_free (self->sim_dir);
  g_free (self->operator_id);
  g_free (self->lot);
  G_OBJECT_CLASS (ds_application_parent_class)->finalize (object);
}

static void
ds_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  DsApplication *self = DS_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR: g_value_set_string (value, self->data_dir); break;
    case PROP_SIM_DIR: g_value_set_string (value, self->sim_dir); break;
    case PROP_SIMULATED_ONLY: g_value_set_boolean (value, self->simulated_only); break;
    case PROP_AUTO_START: g_value_set_boolean (value, self->auto_start); break;
    case PROP_OPERATOR: g_value_set_string (value, self->operator_id); break;
    case PROP_LOT: g_value_set_string (value, self->lot); break;
    case PROP_DEMO_BOARDS: g_value_set_uint (value, self->demo_boards); break;
    case PROP_DEMO_BAUD: g_value_set_int (value, self->demo_baud); break;
    case PROP_TIMEOUT_MS: g_value_set_int (value, self->timeout_ms); break;
    case PROP_SETTINGS: g_value_set_object (value, self->settings); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_string (char       **field,
            const GValue *value)
{
  const char *s = g_value_get_string (value);

  g_free (*field);
  *field = (s != NULL && *s != '\0') ? g_strdup (s) : NULL;
}

static void
ds_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  DsApplication *self = DS_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_free (self->data_dir);
      self->data_dir = g_value_get_string (value) != NULL
                       ? g_canonicalize_filename (g_value_get_string (value), NULL) : NULL;
      break;
    case PROP_SIM_DIR: set_string (&self->sim_dir, value); break;
    case PROP_SIMULATED_ONLY: self->simulated_only = g_value_get_boolean (value); break;
    case PROP_AUTO_START: self->auto_start = g_value_get_boolean (value); break;
    case PROP_OPERATOR: set_string (&self->operator_id, value); break;
    case PROP_LOT: set_string (&self->lot, value); break;
    case PROP_DEMO_BOARDS: self->demo_boards = g_value_get_uint (value); break;
    case PROP_DEMO_BAUD: self->demo_baud = g_value_get_int (value); break;
    case PROP_TIMEOUT_MS: self->timeout_ms = g_value_get_int (value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  GList *windows = g_list_copy (gtk_application_get_windows (app));

  for (GList *l = windows; l != NULL; l = l->next)
    g_object_ref (l->data);

  /* Each station window closes its dialogs, cancels its jobs, waits (a
   * bounded time) for them to be recorded and stops its simulator; the
   * application ends with the last window.  No delete event: a modal
   * dialog's grab would swallow it. */
  for (GList *l = windows; l != NULL; l = l->next)
    if (DS_IS_WINDOW (l->data))
      ds_window_quit (l->data);
  for (GList *l = windows; l != NULL; l = l->next)
    if (!DS_IS_WINDOW (l->data))
      gtk_widget_destroy (l->data);
  g_list_free_full (windows, g_object_unref);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  DsApplication *self = DS_APPLICATION (user_data);
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *dialog = GTK_WIDGET (ds_preferences_dialog_new (parent, self->settings, self->data_dir));

  gtk_window_present (GTK_WINDOW (dialog));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  GtkApplication *app = GTK_APPLICATION (user_data);
  const char *authors[] = { _("The DAC Station developers"), NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (app),
                         "program-name", _("DAC Station"),
                         "logo-icon-name", DS_APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Puts a unique Device Attestation Certificate on every Matter board that leaves the line"),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* TRANSLATORS: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static gboolean
quit_on_signal (gpointer user_data)
{
  g_action_group_activate_action (G_ACTION_GROUP (user_data), "quit", NULL);
  return G_SOURCE_CONTINUE;
}

static const GActionEntry app_actions[] = {
  { "quit", quit_activated, NULL, NULL, NULL, { 0 } },
  { "preferences", preferences_activated, NULL, NULL, NULL, { 0 } },
  { "about", about_activated, NULL, NULL, NULL, { 0 } },
};

static void
ds_application_startup (GApplication *application)
{
  DsApplication *self = DS_APPLICATION (application);
  g_autoptr(GAction) auto_start = NULL;
  g_autoptr(GAction) sound = NULL;

  G_APPLICATION_CLASS (ds_application_parent_class)->startup (application);

  gtk_window_set_default_icon_name (DS_APP_ID);

  self->settings = g_settings_new (DS_APP_ID);
  if (self->data_dir == NULL)
    self->data_dir = g_build_filename (g_get_user_data_dir (), "dac-station", NULL);

  /* The one stylesheet, once per screen (a process may make the
   * application more than once, as the tests do). */
  if (g_object_get_data (G_OBJECT (gdk_screen_get_default ()), "ds-style") == NULL)
    {
      g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

      gtk_css_provider_load_from_resource (css, "/org/dacstation/Station/style.css");
      gtk_style_context_add_provider_for_screen (gdk_screen_get_default (), GTK_STYLE_PROVIDER (css),
                                                 GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
      g_object_set_data_full (G_OBJECT (gdk_screen_get_default ()), "ds-style",
                              g_steal_pointer (&css), g_object_unref);
    }

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_actions, G_N_ELEMENTS (app_actions), self);
  auto_start = g_settings_create_action (self->settings, "auto-start");
  g_action_map_add_action (G_ACTION_MAP (self), auto_start);
  sound = g_settings_create_action (self->settings, "sound");
  g_action_map_add_action (G_ACTION_MAP (self), sound);

  /* SIGINT and SIGTERM close the station as the Quit command does. */
  if (self->sigint_id == 0)
    self->sigint_id = g_unix_signal_add (SIGINT, quit_on_signal, self);
  if (self->sigterm_id == 0)
    self->sigterm_id = g_unix_signal_add (SIGTERM, quit_on_signal, self);

  for (gsize i = 0; i < G_N_ELEMENTS (accelerators); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accelerators[i].action,
                                           accelerators[i].accels);
}

static void
ds_application_shutdown (GApplication *application)
{
  remove_signal_sources (DS_APPLICATION (application));
  G_APPLICATION_CLASS (ds_application_parent_class)->shutdown (application);
}

static void
ds_application_activate (GApplication *application)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (application));

  if (window == NULL)
    window = GTK_WINDOW (ds_window_new (GTK_APPLICATION (application)));
  gtk_window_present (window);
}

/* A number option, taken as text: GApplication leaves an integer option of
 * 0 out of the options as if it were not given, and 0 means something
 * here ("no limit").  *@value is -1 when the option is not given; FALSE,
 * with @problem said, when it is not a number from @min to @max. */
static gboolean
number_option (GVariantDict *options,
               const char   *name,
               gint64        min,
               gint64        max,
               gint64       *value,
               const char   *problem)
{
  const char *text = NULL;

  *value = -1;
  if (!g_variant_dict_lookup (options, name, "&s", &text))
    return TRUE;
  if (!g_ascii_string_to_signed (text, 10, min, max, value, NULL))
    {
      g_printerr ("%s", problem);
      return FALSE;
    }
  return TRUE;
}

static gint
ds_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  DsApplication *self = DS_APPLICATION (application);
  const char *s = NULL;
  gint64 n;

  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("dac-station %s\n", PACKAGE_VERSION);
      return 0;
    }
  if (g_variant_dict_lookup (options, "data-dir", "^&ay", &s))
    g_object_set (self, "data-dir", s, NULL);
  if (g_variant_dict_lookup (options, "sim-dir", "^&ay", &s))
    g_object_set (self, "sim-dir", s, NULL);
  if (g_variant_dict_lookup (options, "operator", "&s", &s))
    g_object_set (self, "operator", s, NULL);
  if (g_variant_dict_lookup (options, "lot", "&s", &s))
    g_object_set (self, "lot", s, NULL);
  if (g_variant_dict_contains (options, "simulated-only"))
    self->simulated_only = TRUE;
  if (g_variant_dict_contains (options, "auto-start"))
    self->auto_start = TRUE;
  if (!number_option (options, "demo-boards", 1, 64, &n, _("--demo-boards takes a number from 1 to 64\n")))
    return 2;
  if (n >= 0)
    self->demo_boards = (guint) n;
  if (!number_option (options, "demo-baud", 0, G_MAXINT, &n, _("--demo-baud takes a positive rate, or 0 for no limit\n")))
    return 2;
  if (n >= 0)
    self->demo_baud = (int) n;
  if (!number_option (options, "timeout", 0, G_MAXINT, &n,
                      _("--timeout takes milliseconds, or 0 for the per-command defaults\n")))
    return 2;
  if (n >= 0)
    self->timeout_ms = (int) n;

  /* A station run with its own data or boards is a separate instance (a
   * test, a demo, a screenshot run), not a second window of the usual one. */
  if (self->data_dir != NULL || self->sim_dir != NULL || self->demo_boards > 0)
    g_application_set_flags (application, g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);
  return -1;
}

static void
ds_application_class_init (DsApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = ds_application_dispose;
  object_class->finalize = ds_application_finalize;
  object_class->get_property = ds_application_get_property;
  object_class->set_property = ds_application_set_property;
  app_class->startup = ds_application_startup;
  app_class->shutdown = ds_application_shutdown;
  app_class->activate = ds_application_activate;
  app_class->handle_local_options = ds_application_handle_local_options;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIM_DIR] =
    g_param_spec_string ("sim-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_SIMULATED_ONLY] =
    g_param_spec_boolean ("simulated-only", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_AUTO_START] =
    g_param_spec_boolean ("auto-start", NULL, NULL, FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_OPERATOR] =
    g_param_spec_string ("operator", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_LOT] =
    g_param_spec_string ("lot", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEMO_BOARDS] =
    g_param_spec_uint ("demo-boards", NULL, NULL, 0, 64, 0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DEMO_BAUD] =
    g_param_spec_int ("demo-baud", NULL, NULL, -1, G_MAXINT, -1, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TIMEOUT_MS] =
    g_param_spec_int ("timeout-ms", NULL, NULL, -1, G_MAXINT, -1, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /* The station's settings, made at startup. */
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static const GOptionEntry option_entries[] = {
  { "data-dir", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Where records, the test PKI and issued certificates live (default: the XDG data directory)"), N_("DIR") },
  { "sim-dir", 0, 0, G_OPTION_ARG_FILENAME, NULL,
    N_("Where simulated boards are announced (default: $DAC_STATION_SIM_DIR, else $XDG_RUNTIME_DIR/dac-station/sim)"), N_("DIR") },
  { "simulated-only", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Watch simulated boards only, not serial ports"), NULL },
  { "auto-start", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Start every board as soon as it appears, for this run"), NULL },
  { "operator", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Sign in as this operator"), N_("ID") },
  { "lot", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Record jobs under this lot or work order"), N_("LOT") },
  { "demo-boards", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Add this many simulated boards at start"), N_("N") },
  { "demo-baud", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Throttle simulated boards to this baud rate (0: no limit)"), N_("RATE") },
  { "timeout", 0, 0, G_OPTION_ARG_STRING, NULL, N_("Wait this long for each board answer (0: per-command defaults)"), N_("MS") },
  { "version", 0, 0, G_OPTION_ARG_NONE, NULL, N_("Show the version"), NULL },
  { NULL }
};

static void
ds_application_init (DsApplication *self)
{
  self->demo_baud = -1;
  self->timeout_ms = -1;
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
}

DsApplication *
ds_application_new (void)
{
  return g_object_new (DS_TYPE_APPLICATION,
                       "application-id", DS_APP_ID,
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

GSettings *
ds_application_get_settings (DsApplication *self)
{
  return self->settings;
}

const char *
ds_application_get_data_dir (DsApplication *self)
{
  return self->data_dir;
}

const char *
ds_application_get_sim_dir (DsApplication *self)
{
  return self->sim_dir;
}

gboolean
ds_application_get_simulated_only (DsApplication *self)
{
  return self->simulated_only;
}

gboolean
ds_application_get_auto_start (DsApplication *self)
{
  return self->auto_start;
}

const char *
ds_application_get_operator (DsApplication *self)
{
  return self->operator_id;
}

const char *
ds_application_get_lot (DsApplication *self)
{
  return self->lot;
}

guint
ds_application_get_demo_boards (DsApplication *self)
{
  return self->demo_boards;
}

int
ds_application_get_demo_baud (DsApplication *self)
{
  return self->demo_baud;
}

int
ds_application_get_timeout_ms (DsApplication *self)
{
  return self->timeout_ms;
}

/* dac-station-cli profile new|show|check: product profiles. */
#include "config.h"

#include "ds-cli-profile.h"

#include <glib/gi18n.h>
#include <stdio.h>

#include "ds-cli-ca.h"
#include "ds-cli-common.h"
#include "ds-cli-verify.h"
#include "ds-onboarding.h"
#include "ds-station-setup.h"

static char *opt_name;
static char *opt_vid;
static char *opt_pid;
static char *opt_vendor_name;
static char *opt_product_name;
static char *opt_image;
static gboolean opt_force;

static GOptionEntry new_entries[] = {
  { "name", 0, 0, G_OPTION_ARG_STRING, &opt_name, N_("The profile's name, shown to operators"), N_("NAME") },
  { "vid", 0, 0, G_OPTION_ARG_STRING, &opt_vid, N_("Vendor ID in hex (default FFF1)"), N_("VID") },
  { "pid", 0, 0, G_OPTION_ARG_STRING, &opt_pid, N_("Product ID in hex (default 8000)"), N_("PID") },
  { "vendor-name", 0, 0, G_OPTION_ARG_STRING, &opt_vendor_name, N_("The vendor's name"), N_("NAME") },
  { "product-name", 0, 0, G_OPTION_ARG_STRING, &opt_product_name, N_("The product's name"), N_("NAME") },
  { "image", 0, 0, G_OPTION_ARG_FILENAME, &opt_image, N_("Provisioning firmware to flash first"), N_("FILE") },
  { "force", 'f', 0, G_OPTION_ARG_NONE, &opt_force, N_("Replace an existing file"), NULL },
  { NULL }
};

/* "random", "N" or "LO-HI". */
static char *
discriminator_text (const DsOnboardingConfig *c)
{
  if (c->has_discriminator)
    return g_strdup_printf ("%u", c->discriminator);
  if (c->discriminator_lo != 0 || c->discriminator_hi != 0)
    return g_strdup_printf ("%u-%u", c->discriminator_lo, c->discriminator_hi);
  return g_strdup ("0-4095");
}

static void
print_profile (DsProfile *profile)
{
  g_autoptr(DsOnboardingConfig) c = ds_profile_get_onboarding (profile);
  g_autofree char *discriminator = discriminator_text (c);
  guint iterations = c->iterations != 0 ? c->iterations : DS_SPAKE2P_DEFAULT_ITERATIONS;
  guint salt_len = c->salt_len != 0 ? c->salt_len : DS_SPAKE2P_DEFAULT_SALT_LEN;
  const char *label_format = profile->label_format != NULL ? profile->label_format : "png";

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autofree char *vid = g_strdup_printf ("%04X", profile->vid);
      g_autofree char *pid = g_strdup_printf ("%04X", profile->pid);

      json_builder_begin_object (b);
      json_add_string (b, "event", "profile");
      json_add_string (b, "path", profile->path);
      json_add_string (b, "name", ds_profile_get_display_name (profile));
      json_add_string (b, "mode", ds_profile_get_mode (profile));
      json_add_string (b, "sha256", profile->sha256);
      json_add_string (b, "vid", vid);
      json_add_string (b, "pid", pid);
      json_add_string (b, "ca", profile->ca->ca);
      json_add_string (b, "trust_store", profile->trust_store);
      /* A fixed passcode is said to be fixed, never given. */
      json_add_string (b, "passcode", c->passcode != 0 ? "fixed" : "random");
      json_add_string (b, "discriminator", discriminator);
      json_add_int (b, "iterations", iterations);
      json_add_int (b, "salt_length", salt_len);
      json_add_string (b, "serial_pattern", ds_onboarding_config_get_serial_pattern (c));
      json_add_int (b, "factory_data_address", ds_onboarding_config_get_fd_address (c));
      json_add_int (b, "factory_data_size", ds_onboarding_config_get_fd_size (c));
      json_builder_set_member_name (b, "passcode_tag");
      json_builder_add_boolean_value (b, !c->no_passcode_tag);
      json_add_string (b, "label_format", label_format);
      json_add_string (b, "label_dir", profile->label_dir);
      json_add_string (b, "label_printer", profile->label_printer);
      json_builder_end_object (b);
      print_json (b);
      return;
    }
  g_print (_("Profile:  %s\n"), ds_profile_get_display_name (profile));
  /* TRANSLATORS: %s is "production" or "test" */
  g_print (_("Mode:     %s\n"), profile->production ? _("production") : _("test"));
  g_print (_("Product:  %04X:%04X\n"), profile->vid, profile->pid);
  g_print (_("CA:       %s\n"), profile->ca->ca);
  /* TRANSLATORS: the setup passcode is "random per board" or "fixed"; the
   * discriminator a number or a range like 0-4095 */
  g_print (_("Onboarding: passcode %s, discriminator %s, SPAKE2+ %u iterations and a %u-byte salt\n"),
           c->passcode != 0 ? _("fixed") : _("random per board"), discriminator, iterations, salt_len);
  g_print (_("Serial numbers: %s\n"), ds_onboarding_config_get_serial_pattern (c));
  if (c->no_passcode_tag)
    /* TRANSLATORS: the factory-data region's address and size */
    g_print (_("Factory data: at 0x%08X, %u bytes, without the passcode tag\n"),
             ds_onboarding_config_get_fd_address (c), ds_onboarding_config_get_fd_size (c));
  else
    /* TRANSLATORS: the factory-data region's address and size */
    g_print (_("Factory data: at 0x%08X, %u bytes, with the passcode tag\n"),
             ds_onboarding_config_get_fd_address (c), ds_onboarding_config_get_fd_size (c));
  /* TRANSLATORS: the label format (png, pdf or zpl) and where labels go */
  g_print (_("Labels:   %s, %s\n"), label_format,
           profile->label_dir != NULL ? profile->label_dir : _("only with --label-dir (the demo: labels/ in its data folder)"));
  if (profile->label_printer != NULL)
    g_print (_("Printer:  %s\n"), profile->label_printer);
  if (profile->path != NULL)
    g_print (_("File:     %s\nSHA-256:  %s\n"), profile->path, profile->sha256);
}

static int
profile_new (const char *path)
{
  g_autoptr(DsProfile) profile = ds_profile_new ();
  g_autoptr(GError) error = NULL;

  if (!opt_force && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_("%s exists already: say --force to replace it\n"), path);
      return EXIT_USAGE;
    }
  if (!parse_hex16 (opt_vid, &profile->vid) || !parse_hex16 (opt_pid, &profile->pid))
    {
      g_printerr (_("--vid and --pid take four hex digits, for example --vid FFF1 --pid 8000\n"));
      return EXIT_USAGE;
    }
  profile->name = g_strdup (opt_name);
  profile->vendor_name = g_strdup (opt_vendor_name);
  profile->product_name = g_strdup (opt_product_name);
  if (opt_image != NULL)
    profile->firmware_image = g_canonicalize_filename (opt_image, NULL);
  if (!ds_cli_ca_apply (profile->ca, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  ds_cli_gate_apply (profile);
  /* The onboarding, factory-data and label defaults, commented, so that
   * a reviewer sees them. */
  if (!ds_profile_save_new (profile, path, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  print_profile (profile);
  return EXIT_OK;
}

int
ds_cli_profile (int    argc,
                char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("new|show|check FILE — product profiles"));
  g_autoptr(GError) error = NULL;
  g_autoptr(DsProfile) profile = NULL;
  g_autoptr(DsStationSetup) setup = NULL;

  g_option_context_set_summary (context,
                                _("new FILE: write a profile from the options given\n"
                                  "show FILE: say what a profile holds\n"
                                  "check FILE: read a profile and apply the production refusals that need no CA"));
  g_option_context_add_main_entries (context, new_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ds_cli_gate_entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, ca_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (argc != 3 || (!g_str_equal (argv[1], "new") && !g_str_equal (argv[1], "show") && !g_str_equal (argv[1], "check")))
    return usage_error (context, _("Say new, show or check, and the profile's file"));
  if (g_str_equal (argv[1], "new"))
    return profile_new (argv[2]);

  profile = ds_profile_load (argv[2], &error);
  if (profile == NULL)
    {
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "show"))
    {
      print_profile (profile);
      return EXIT_OK;
    }
  setup = ds_station_setup_new (profile);
  if (!ds_station_setup_check (setup, &error))
    {
      g_printerr ("%s\n", error->message);
      return EXIT_FAILED;
    }
  print_profile (profile);
  return EXIT_OK;
}

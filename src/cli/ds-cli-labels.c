/* dac-station-cli: each board's onboarding settings, codes, label and the
 * lot's CSV of onboarding codes (docs/onboarding.md). */
#include "config.h"

#include "ds-cli-labels.h"

#include <glib/gi18n.h>
#include <errno.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <stdio.h>

#include "ds-cli-common.h"
#include "ds-label.h"
#include "ds-onboarding.h"
#include "ds-store-location.h"
#include "ds-store-onboarding.h"

char *opt_label_dir = NULL;
gboolean opt_show_codes = FALSE;
static char *opt_label_format = NULL;
static char *opt_serial_pattern = NULL;
static int opt_passcode = OPT_INT_UNSET;
static char *opt_discriminator = NULL;
static int opt_iterations = OPT_INT_UNSET;
static int opt_salt_length = OPT_INT_UNSET;
static char *opt_fd_address = NULL;
static int opt_fd_size = OPT_INT_UNSET;
static char *opt_vendor_name = NULL;
static char *opt_product_name = NULL;
static int opt_hw_version = OPT_INT_UNSET;
static char *opt_hw_version_string = NULL;
static gboolean opt_no_passcode_tag = FALSE;

GOptionEntry ds_cli_onboarding_run_entries[] = {
  { "serial-pattern", 0, 0, G_OPTION_ARG_STRING, &opt_serial_pattern,
    N_("Serial numbers from this pattern, with {seq} the store's sequence (default DS-{yyyy}{mm}{dd}-{seq:06})"), N_("PATTERN") },
  { "passcode", 0, 0, G_OPTION_ARG_INT, &opt_passcode, N_("One setup passcode for every board (default: random per board)"), N_("N") },
  { "discriminator", 0, 0, G_OPTION_ARG_STRING, &opt_discriminator,
    N_("One discriminator for every board, or a random one in LO-HI (default: random, 0-4095)"), N_("N|LO-HI") },
  { "iterations", 0, 0, G_OPTION_ARG_INT, &opt_iterations, N_("SPAKE2+ iteration count, 1000-100000 (default 10000)"), N_("N") },
  { "salt-length", 0, 0, G_OPTION_ARG_INT, &opt_salt_length, N_("SPAKE2+ salt length in bytes, 16-32 (default 32)"), N_("N") },
  { "factory-data-address", 0, 0, G_OPTION_ARG_STRING, &opt_fd_address,
    N_("Where the product's Matter application reads its factory data (default 0x901C0000)"), N_("ADDR") },
  { "factory-data-size", 0, 0, G_OPTION_ARG_INT, &opt_fd_size, N_("Size of the factory-data region in bytes (default 65536)"), N_("N") },
  { "vendor-name", 0, 0, G_OPTION_ARG_STRING, &opt_vendor_name, N_("Vendor name in the factory data"), N_("NAME") },
  { "product-name", 0, 0, G_OPTION_ARG_STRING, &opt_product_name, N_("Product name in the factory data and on the label"), N_("NAME") },
  { "hw-version", 0, 0, G_OPTION_ARG_INT, &opt_hw_version, N_("Hardware version, 0-65535 (default 0)"), N_("N") },
  { "hw-version-string", 0, 0, G_OPTION_ARG_STRING, &opt_hw_version_string, N_("Hardware version string (default 1.0)"), N_("TEXT") },
  { "no-passcode-tag", 0, 0, G_OPTION_ARG_NONE, &opt_no_passcode_tag, N_("Leave the passcode out of the factory data (the verifier suffices)"), NULL },
  { "label-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_label_dir,
    N_("Write each passed board's label here (SERIAL.png) and the lot's onboarding codes (onboarding-LOT.csv); "
       "default: the profile's [label] directory, for the demo labels/ in the data folder"), N_("DIR") },
  { "label-format", 0, 0, G_OPTION_ARG_STRING, &opt_label_format, N_("Label format: png, pdf or zpl (default: the profile's, else png)"), N_("FORMAT") },
  { "show-codes", 0, 0, G_OPTION_ARG_NONE, &opt_show_codes,
    N_("Print each passed board's QR and manual pairing codes, which hold its passcode (also in --json)"), NULL },
  { NULL }
};

static DsLabelFormat
label_format (void)
{
  DsLabelFormat format = DS_LABEL_PNG;

  /* Checked by ds_cli_onboarding_apply(); not given: png. */
  ds_label_format_from_name (opt_label_format, &format);
  return format;
}

static const char *
label_extension (void)
{
  return opt_label_format != NULL ? opt_label_format : "png";
}

/* An option given replaces the profile's value. */
static void
override_string (char      **field,
                 const char *option)
{
  if (option == NULL)
    return;
  g_free (*field);
  *field = g_strdup (option);
}

gboolean
ds_cli_onboarding_apply (DsStationSetup *setup)
{
  DsProfile *profile = ds_station_setup_get_profile (setup);
  DsLabelFormat format;
  /* The profile's settings, with the options given laid over them. */
  g_autoptr(DsOnboardingConfig) c = ds_onboarding_config_copy (ds_station_setup_get_onboarding (setup));
  g_autoptr(GError) error = NULL;

  if (opt_label_dir == NULL && profile->label_dir != NULL)
    opt_label_dir = g_strdup (profile->label_dir);
  if (opt_label_format == NULL && profile->label_format != NULL)
    opt_label_format = g_strdup (profile->label_format);

  if (opt_label_format != NULL && !ds_label_format_from_name (opt_label_format, &format))
    {
      g_printerr (_("--label-format takes png, pdf or zpl\n"));
      return FALSE;
    }
  /* Out of range is refused here, not replaced by a default. */
  if (!check_int_option ("--passcode", opt_passcode, 0, G_MAXINT) ||
      !check_int_option ("--iterations", opt_iterations, 0, G_MAXINT) ||
      !check_int_option ("--salt-length", opt_salt_length, 0, G_MAXINT) ||
      !check_int_option ("--factory-data-size", opt_fd_size, 1, G_MAXINT) ||
      !check_int_option ("--hw-version", opt_hw_version, 0, G_MAXUINT16))
    return FALSE;
  if (opt_passcode != OPT_INT_UNSET)
    {
      /* 0 would mean "random": a configured 0 is refused as the spec does. */
      if (opt_passcode == 0 && !ds_passcode_check (0, &error))
        {
          g_printerr ("--passcode: %s\n", error->message);
          return FALSE;
        }
      c->passcode = (guint32) opt_passcode;
    }
  if (opt_discriminator != NULL && !ds_onboarding_config_set_discriminator (c, opt_discriminator, &error))
    {
      g_printerr ("--discriminator: %s\n", error->message);
      return FALSE;
    }
  /* 0 is out of range, not "the default". */
  if (opt_iterations != OPT_INT_UNSET)
    c->iterations = opt_iterations > 0 ? (guint) opt_iterations : 1;
  if (opt_salt_length != OPT_INT_UNSET)
    c->salt_len = opt_salt_length > 0 ? (guint) opt_salt_length : 1;
  if (opt_fd_address != NULL)
    {
      guint64 v = 0;

      if (!g_ascii_string_to_unsigned (g_str_has_prefix (opt_fd_address, "0x") ? opt_fd_address + 2 : opt_fd_address,
                                       16, 1, G_MAXUINT32, &v, NULL))
        {
          g_printerr (_("--factory-data-address takes a hex address, for example 0x901C0000\n"));
          return FALSE;
        }
      c->fd_address = (guint32) v;
    }
  if (opt_fd_size != OPT_INT_UNSET)
    c->fd_size = (guint32) opt_fd_size;
  override_string (&c->serial_pattern, opt_serial_pattern);
  override_string (&c->vendor_name, opt_vendor_name);
  override_string (&c->product_name, opt_product_name);
  override_string (&c->hardware_version_string, opt_hw_version_string);
  if (opt_hw_version != OPT_INT_UNSET)
    c->hardware_version = (guint16) opt_hw_version;
  if (opt_no_passcode_tag)
    c->no_passcode_tag = TRUE;
  if (!ds_onboarding_config_check (c, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  ds_station_setup_set_onboarding (setup, c);
  return TRUE;
}

/* A serial number as a file name: what is not a letter, digit, dot, dash
 * or underscore becomes _, and it never starts with a dot. */
static char *
label_file_name (const char *serial)
{
  g_autoptr(GString) name = g_string_new (NULL);

  for (const char *p = serial; *p != '\0'; p++)
    g_string_append_c (name, g_ascii_isalnum (*p) || *p == '-' || *p == '_' || (*p == '.' && p != serial) ? *p : '_');
  g_string_append_printf (name, ".%s", label_extension ());
  return g_string_free (g_steal_pointer (&name), FALSE);
}

gboolean
ds_cli_onboarding_passed (DsJob       *job,
                          gboolean     show_codes,
                          JsonBuilder *b)
{
  const DsLabelInfo *label = ds_job_get_label_info (job);
  g_autofree char *path = NULL;
  g_autoptr(GError) error = NULL;

  if (label == NULL)
    return TRUE;
  if (opt_label_dir != NULL)
    {
      g_autofree char *name = label_file_name (label->serial_number);

      path = g_build_filename (opt_label_dir, name, NULL);
      if (g_mkdir_with_parents (opt_label_dir, 0755) != 0 || !ds_label_write (label, label_format (), path, &error))
        {
          g_printerr (_("%s: cannot write the label of serial number %s: %s\n"),
                      ds_board_get_name (ds_job_get_board (job)), label->serial_number,
                      error != NULL ? error->message : g_strerror (errno));
          g_clear_pointer (&path, g_free);
        }
    }
  if (b != NULL)
    {
      json_add_string (b, "serial_number", label->serial_number);
      if (show_codes)
        {
          json_add_string (b, "qr_code", label->qr);
          json_add_string (b, "manual_code", label->manual_code);
        }
      json_add_string (b, "label_file", path);
    }
  else if (show_codes)
    {
      g_autofree char *manual = ds_manual_code_format (label->manual_code);

      /* TRANSLATORS: a passed board's serial number, QR payload and manual pairing code */
      g_print (_("%-8s serial number %s  QR %s  manual code %s\n"), ds_board_get_name (ds_job_get_board (job)),
               label->serial_number, label->qr, manual);
    }
  else
    /* TRANSLATORS: a passed board's serial number */
    g_print (_("%-8s serial number %s\n"), ds_board_get_name (ds_job_get_board (job)), label->serial_number);
  return opt_label_dir == NULL || path != NULL;
}

static gboolean
write_csv (const char *db_path,
           const char *lot,
           const char *path,
           guint64    *n_rows,
           GError    **error)
{
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFileOutputStream) stream = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_PRIVATE, NULL, error);

  if (stream == NULL ||
      !ds_onboarding_export_csv (db_path, lot, G_OUTPUT_STREAM (stream), n_rows, error) ||
      !g_output_stream_close (G_OUTPUT_STREAM (stream), NULL, error))
    return FALSE;
  return TRUE;
}

gboolean
ds_cli_onboarding_write_csv (const char *db_path,
                             const char *lot)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;

  if (opt_label_dir == NULL)
    return TRUE;
  if (lot != NULL)
    {
      g_autofree char *safe = label_file_name (lot);

      /* label_file_name() adds the label's extension: cut it off. */
      *g_strrstr (safe, ".") = '\0';
      name = g_strdup_printf ("onboarding-%s.csv", safe);
    }
  else
    name = g_strdup ("onboarding.csv");
  path = g_build_filename (opt_label_dir, name, NULL);
  if (g_mkdir_with_parents (opt_label_dir, 0755) != 0 || !write_csv (db_path, lot, path, NULL, &error))
    {
      g_printerr (_("Cannot write the onboarding codes to %s: %s\n"), path,
                  error != NULL ? error->message : g_strerror (errno));
      return FALSE;
    }
  return TRUE;
}

int
ds_cli_export_onboarding (int    argc,
                          char **argv)
{
  g_autoptr(GOptionContext) context =
    g_option_context_new (_("— the onboarding codes and serial numbers of a lot's passed boards, as CSV"));
  char *lot = NULL;
  char *output = NULL;
  GOptionEntry entries[] = {
    { "lot", 0, 0, G_OPTION_ARG_STRING, &lot, N_("The lot (required)"), N_("LOT") },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, N_("Write the CSV here (default: standard output)"), N_("FILE") },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *db = NULL;
  guint64 n = 0;

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (lot == NULL)
    return usage_error (context, _("Name the lot with --lot"));
  db = store_location ();
  if (!ds_store_location_is_uri (db) && !g_file_test (db, G_FILE_TEST_IS_REGULAR))
    {
      print_store_problem (db);
      return EXIT_USAGE;
    }
  if (output != NULL)
    {
      if (!write_csv (db, lot, output, &n, &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_USAGE;
        }
      g_printerr (_("%u boards of lot %s written to %s\n"), (guint) n, lot, output);
    }
  else
    {
      g_autoptr(GOutputStream) out = g_unix_output_stream_new (1, FALSE);

      if (!ds_onboarding_export_csv (db, lot, out, &n, &error))
        {
          g_printerr ("%s\n", error->message);
          return EXIT_USAGE;
        }
    }
  g_free (lot);
  g_free (output);
  return EXIT_OK;
}

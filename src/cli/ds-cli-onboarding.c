/* dac-station-cli onboarding CODE | --check FILE | new --vid V --pid P …
 * Exit 0: fine; 2: the code, the blob or the options are not valid. */
#include "config.h"

#include "ds-cli-onboarding.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

#include "ds-cli-common.h"
#include "ds-crypto.h"
#include "ds-factory-data.h"
#include "ds-label.h"
#include "ds-onboarding.h"
#include "ds-util.h"

static const char *
flow_name (DsCommissioningFlow flow)
{
  switch (flow)
    {
    case DS_FLOW_STANDARD:
      return "standard";
    case DS_FLOW_USER_INTENT:
      return "user-intent";
    case DS_FLOW_CUSTOM:
      return "custom";
    default:
      return "reserved";
    }
}

static char *
discovery_names (guint8 bits)
{
  g_autoptr(GString) s = g_string_new (NULL);
  const char *names[] = { "SoftAP", "BLE", "OnNetwork", "WiFiPAF" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (bits & (1u << i))
      g_string_append_printf (s, "%s%s", s->len > 0 ? ", " : "", names[i]);
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- parse ---------------------------------------------------------------- */

static int
parse_code (const char *code)
{
  g_autoptr(GError) error = NULL;
  DsSetupPayload p;
  gboolean qr = g_str_has_prefix (code, "MT:");

  if (!ds_setup_payload_parse (code, &p, &error))
    {
      g_printerr (_("Not a valid Matter onboarding code: %s\n"), error->message);
      return EXIT_USAGE;
    }
  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "payload");
      json_add_string (b, "kind", qr ? "qr" : "manual");
      if (qr)
        json_add_int (b, "version", p.version);
      if (p.has_vid_pid)
        {
          json_add_int (b, "vid", p.vid);
          json_add_int (b, "pid", p.pid);
        }
      json_add_string (b, "flow", flow_name (p.flow));
      if (p.has_discovery)
        json_add_int (b, "discovery", p.discovery);
      json_add_int (b, p.short_discriminator ? "short_discriminator" : "discriminator", p.discriminator);
      json_add_int (b, "passcode", p.passcode);
      if (qr)
        json_add_int (b, "tlv_bytes", (gint64) p.tlv_len);
      json_builder_end_object (b);
      print_json (b);
      return EXIT_OK;
    }

  /* The fields chip-tool's "payload parse-setup-payload" shows. */
  if (qr)
    g_print ("%-22s %u\n", _("Version:"), p.version);
  if (p.has_vid_pid)
    {
      g_print ("%-22s %u (0x%04X)\n", _("Vendor ID:"), p.vid, p.vid);
      g_print ("%-22s %u (0x%04X)\n", _("Product ID:"), p.pid, p.pid);
    }
  g_print ("%-22s %u (%s)\n", _("Commissioning flow:"), p.flow, flow_name (p.flow));
  if (p.has_discovery)
    {
      g_autofree char *names = discovery_names (p.discovery);

      g_print ("%-22s 0x%02X (%s)\n", _("Discovery:"), p.discovery, names);
    }
  if (p.short_discriminator)
    g_print ("%-22s %u (0x%X)\n", _("Short discriminator:"), p.discriminator, p.discriminator);
  else
    g_print ("%-22s %u (0x%03X)\n", _("Long discriminator:"), p.discriminator, p.discriminator);
  g_print ("%-22s %u\n", _("Passcode:"), p.passcode);
  if (qr && p.tlv_len > 0)
    g_print ("%-22s %zu\n", _("Optional TLV bytes:"), p.tlv_len);
  return EXIT_OK;
}

/* ---- check ---------------------------------------------------------------- */

static int
check_blob (const char *path,
            gsize       region_size,
            gboolean    show_secrets)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();

  /* Bounded well above any factory-data region, so that a blob larger
   * than the region is reported as such by the parser. */
  blob = ds_util_read_bytes (path, DS_UTIL_MAX_IMAGE_FILE, &error);
  if (blob == NULL)
    {
      g_printerr (_("Cannot read the factory data: %s\n"), error->message);
      return EXIT_USAGE;
    }
  records = ds_factory_data_parse (blob, region_size, &error);
  if (records == NULL)
    {
      if (opt_json)
        {
          json_builder_begin_object (b);
          json_add_string (b, "event", "factory-data");
          json_builder_set_member_name (b, "valid");
          json_builder_add_boolean_value (b, FALSE);
          json_add_string (b, "error", error->message);
          json_builder_end_object (b);
          print_json (b);
        }
      g_printerr (_("INVALID factory data in %s: %s\n"), path, error->message);
      return EXIT_USAGE;
    }

  if (opt_json)
    {
      json_builder_begin_object (b);
      json_add_string (b, "event", "factory-data");
      json_builder_set_member_name (b, "valid");
      json_builder_add_boolean_value (b, TRUE);
      json_add_int (b, "bytes", (gint64) g_bytes_get_size (blob));
      json_builder_set_member_name (b, "records");
      json_builder_begin_array (b);
    }
  else
    g_print (_("Factory data in %s: %u records, %zu bytes of a %zu-byte region\n"),
             path, records->len, g_bytes_get_size (blob), region_size);
  for (guint i = 0; i < records->len; i++)
    {
      DsFactoryRecord *r = records->pdata[i];
      g_autofree char *value = NULL;
      /* The rotating device ID's unique ID must stay on the device (Matter
       * core 5.4.2.4.5), like the passcode. */
      gboolean hide = ((r->tag == DS_FACTORY_TAG_PASSCODE || r->tag == DS_FACTORY_TAG_ROTATING_ID) && !show_secrets)
                      || r->tag == DS_FACTORY_TAG_DAC_PRIVATE_KEY;

      value = hide ? g_strdup (_("(present, hidden)")) : ds_factory_record_describe (r);
      if (opt_json)
        {
          json_builder_begin_object (b);
          json_add_int (b, "tag", r->tag);
          json_add_string (b, "name", ds_factory_tag_name (r->tag));
          json_add_int (b, "length", (gint64) g_bytes_get_size (r->value));
          if (!hide)
            json_add_string (b, "value", value);
          json_builder_end_object (b);
        }
      else
        g_print ("%3u %-31s %4zu  %s\n", r->tag, ds_factory_tag_name (r->tag), g_bytes_get_size (r->value), value);
    }
  if (opt_json)
    {
      json_builder_end_array (b);
      json_builder_end_object (b);
      print_json (b);
    }
  return EXIT_OK;
}

/* ---- new ------------------------------------------------------------------- */

/* A certificate file (PEM or DER) as DER. */
static GBytes *
read_cert_der (const char *path,
               GError    **error)
{
  g_autoptr(GBytes) bytes = ds_util_read_bytes (path, DS_UTIL_MAX_CERT_FILE, error);
  g_autoptr(X509) cert = NULL;

  if (bytes == NULL)
    return NULL;
  cert = ds_cert_parse (bytes, error);
  if (cert == NULL)
    {
      g_prefix_error (error, "%s: ", path);
      return NULL;
    }
  return ds_cert_to_der (cert);
}

static gboolean
parse_uint (const char *text,
            guint64     max,
            guint64    *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL);
}

static int
cmd_new (int    argc,
         char **argv)
{
  g_autofree char *vid_s = NULL, *pid_s = NULL, *passcode_s = NULL, *disc_s = NULL, *salt_hex = NULL;
  g_autofree char *flow_s = NULL, *serial_pattern = NULL, *vendor_name = NULL, *product_name = NULL;
  g_autofree char *hw_string = NULL, *date_s = NULL, *label = NULL, *fd_out = NULL;
  g_autofree char *dac_path = NULL, *pai_path = NULL, *cd_path = NULL;
  int iterations = 0, discovery = DS_DISCOVERY_BLE, hw_version = 0, region = DS_FACTORY_DATA_REGION_STM32WB5MM_DK;
  gint64 seq = 1;
  gboolean show_passcode = FALSE, no_passcode_tag = FALSE;
  GOptionEntry entries[] = {
    { "vid", 0, 0, G_OPTION_ARG_STRING, &vid_s, N_("Vendor ID in hex (required)"), N_("VID") },
    { "pid", 0, 0, G_OPTION_ARG_STRING, &pid_s, N_("Product ID in hex (required)"), N_("PID") },
    { "passcode", 0, 0, G_OPTION_ARG_STRING, &passcode_s, N_("Setup passcode (default: random)"), N_("N") },
    { "discriminator", 0, 0, G_OPTION_ARG_STRING, &disc_s, N_("Discriminator, or a range LO-HI (default: random 0-4095)"), N_("N") },
    { "salt-hex", 0, 0, G_OPTION_ARG_STRING, &salt_hex, N_("SPAKE2+ salt in hex, 16 to 32 bytes (default: 32 random bytes)"), N_("HEX") },
    { "iterations", 0, 0, G_OPTION_ARG_INT, &iterations, N_("SPAKE2+ iteration count, 1000 to 100000 (default 10000)"), N_("N") },
    { "flow", 0, 0, G_OPTION_ARG_STRING, &flow_s, N_("Commissioning flow: standard, user-intent or custom (default standard)"), N_("FLOW") },
    { "discovery", 0, 0, G_OPTION_ARG_INT, &discovery, N_("Discovery capabilities bits: 1 SoftAP, 2 BLE, 4 on network, 8 Wi-Fi PAF (default 2)"), N_("BITS") },
    { "show-passcode", 0, 0, G_OPTION_ARG_NONE, &show_passcode, N_("Print the setup passcode too"), NULL },
    { "serial-pattern", 0, 0, G_OPTION_ARG_STRING, &serial_pattern, N_("Serial number pattern (default DS-{yyyy}{mm}{dd}-{seq:06})"), N_("PATTERN") },
    { "seq", 0, 0, G_OPTION_ARG_INT64, &seq, N_("Sequence number for the serial pattern (default 1)"), N_("N") },
    { "vendor-name", 0, 0, G_OPTION_ARG_STRING, &vendor_name, N_("Vendor name (default: Test Vendor)"), N_("NAME") },
    { "product-name", 0, 0, G_OPTION_ARG_STRING, &product_name, N_("Product name (default: Test Product)"), N_("NAME") },
    { "hw-version", 0, 0, G_OPTION_ARG_INT, &hw_version, N_("Hardware version (default 0)"), N_("N") },
    { "hw-version-string", 0, 0, G_OPTION_ARG_STRING, &hw_string, N_("Hardware version string (default: the version number)"), N_("TEXT") },
    { "date", 0, 0, G_OPTION_ARG_STRING, &date_s, N_("Manufacturing date YYYY-MM-DD (default: today, UTC)"), N_("DATE") },
    { "label", 0, 0, G_OPTION_ARG_FILENAME, &label, N_("Write the board's label here (.png, .pdf or .zpl)"), N_("FILE") },
    { "factory-data", 0, 0, G_OPTION_ARG_FILENAME, &fd_out, N_("Write the factory data blob here (needs --dac and --pai)"), N_("FILE") },
    { "dac", 0, 0, G_OPTION_ARG_FILENAME, &dac_path, N_("The board's DAC (PEM or DER)"), N_("FILE") },
    { "pai", 0, 0, G_OPTION_ARG_FILENAME, &pai_path, N_("The PAI (PEM or DER)"), N_("FILE") },
    { "cd", 0, 0, G_OPTION_ARG_FILENAME, &cd_path, N_("The Certification Declaration (DER)"), N_("FILE") },
    { "region-size", 0, 0, G_OPTION_ARG_INT, &region, N_("Factory data region size in bytes (default 65536)"), N_("BYTES") },
    { "no-passcode-tag", 0, 0, G_OPTION_ARG_NONE, &no_passcode_tag, N_("Leave the passcode out of the factory data"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (_("— make a board's onboarding data"));
  g_autoptr(GError) error = NULL;
  DsOnboardingRequest req = { 0 };
  DsOnboarding onb;
  DsSetupPayload payload = { 0 };
  g_autofree guint8 *salt = NULL;
  gsize salt_len = 0;
  guint16 vid, pid;
  guint64 v;
  g_autofree char *qr = NULL, *manual = NULL, *serial = NULL, *salt_out = NULL, *verifier_b64 = NULL;
  g_autofree char *date = NULL, *hw_default = NULL;
  guint8 rotating_id[16];

  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (vid_s == NULL || pid_s == NULL || !parse_hex16 (vid_s, &vid) || !parse_hex16 (pid_s, &pid))
    return usage_error (context, _("--vid and --pid take four hex digits each"));

  if (passcode_s != NULL)
    {
      if (!parse_uint (passcode_s, G_MAXUINT32, &v))
        return usage_error (context, _("--passcode takes a number"));
      if (!ds_passcode_check ((guint32) v, &error))
        return usage_error (context, error->message);
      req.passcode = (guint32) v;
    }
  if (disc_s != NULL)
    {
      g_auto(GStrv) parts = g_strsplit (disc_s, "-", 2);
      guint64 lo, hi;

      if (!parse_uint (parts[0], G_MAXUINT32, &lo) || (parts[1] != NULL && !parse_uint (parts[1], G_MAXUINT32, &hi)))
        return usage_error (context, _("--discriminator takes a number or a range LO-HI"));
      if (!ds_discriminator_check ((guint) MIN (lo, G_MAXUINT), &error)
          || (parts[1] != NULL && !ds_discriminator_check ((guint) MIN (hi, G_MAXUINT), &error)))
        return usage_error (context, error->message);
      if (parts[1] == NULL)
        {
          req.has_discriminator = TRUE;
          req.discriminator = (guint16) lo;
        }
      else
        {
          if (lo > hi)
            return usage_error (context, _("--discriminator: the range is empty"));
          req.discriminator_lo = (guint16) lo;
          req.discriminator_hi = (guint16) hi;
          if (lo == 0 && hi == 0)
            {
              req.has_discriminator = TRUE;
              req.discriminator = 0;
            }
        }
    }
  if (salt_hex != NULL)
    {
      gsize n = strlen (salt_hex);

      if (n % 2 != 0 || n == 0)
        return usage_error (context, _("--salt-hex takes an even number of hex digits"));
      salt = g_malloc (n / 2);
      for (gsize i = 0; i < n / 2; i++)
        {
          int hi = g_ascii_xdigit_value (salt_hex[2 * i]), lo = g_ascii_xdigit_value (salt_hex[2 * i + 1]);

          if (hi < 0 || lo < 0)
            return usage_error (context, _("--salt-hex takes an even number of hex digits"));
          salt[i] = (guint8) (hi << 4 | lo);
        }
      salt_len = n / 2;
      req.salt = salt;
      req.salt_len = salt_len;
    }
  if (iterations < 0)
    return usage_error (context, _("--iterations takes a positive number"));
  req.iterations = (guint) iterations;
  if (!ds_spake2p_check (salt != NULL ? salt_len : DS_SPAKE2P_DEFAULT_SALT_LEN,
                         iterations != 0 ? (guint) iterations : DS_SPAKE2P_DEFAULT_ITERATIONS, &error))
    return usage_error (context, error->message);
  if (flow_s == NULL || g_str_equal (flow_s, "standard"))
    payload.flow = DS_FLOW_STANDARD;
  else if (g_str_equal (flow_s, "user-intent"))
    payload.flow = DS_FLOW_USER_INTENT;
  else if (g_str_equal (flow_s, "custom"))
    payload.flow = DS_FLOW_CUSTOM;
  else
    return usage_error (context, _("--flow is standard, user-intent or custom"));
  if (discovery < 0 || discovery > 255)
    return usage_error (context, _("--discovery takes 0 to 255"));
  if (hw_version < 0 || hw_version > 0xffff)
    return usage_error (context, _("--hw-version takes 0 to 65535"));
  if (seq < 0)
    return usage_error (context, _("--seq takes a positive number"));
  if (fd_out != NULL && (dac_path == NULL || pai_path == NULL))
    return usage_error (context, _("--factory-data needs --dac and --pai"));
  if (region <= 0)
    return usage_error (context, _("--region-size takes a positive number"));

  serial = ds_serial_format (serial_pattern != NULL ? serial_pattern : "DS-{yyyy}{mm}{dd}-{seq:06}",
                             (guint64) seq, NULL, &error);
  if (serial == NULL)
    return usage_error (context, error->message);

  if (!ds_onboarding_make (&req, &onb, &error))
    return usage_error (context, error->message);

  payload.vid = vid;
  payload.pid = pid;
  payload.discovery = (guint8) discovery;
  payload.discriminator = onb.discriminator;
  payload.passcode = onb.passcode;
  qr = ds_setup_payload_to_qr (&payload, &error);
  if (qr != NULL)
    manual = ds_setup_payload_to_manual (&payload, &error);
  if (manual == NULL || !ds_random_bytes (rotating_id, sizeof rotating_id, &error))
    {
      ds_onboarding_clear (&onb);
      g_printerr ("%s\n", error->message);
      return EXIT_USAGE;
    }
  {
    GString *s = g_string_new (NULL);

    for (gsize i = 0; i < onb.salt_len; i++)
      g_string_append_printf (s, "%02x", onb.salt[i]);
    salt_out = g_string_free (s, FALSE);
  }
  verifier_b64 = g_base64_encode (onb.verifier, sizeof onb.verifier);
  if (date_s != NULL)
    date = g_strdup (date_s);
  else
    {
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();

      date = g_date_time_format (now, "%Y-%m-%d");
    }
  hw_default = g_strdup_printf ("%d", hw_version);

  if (fd_out != NULL)
    {
      g_autoptr(GBytes) dac = read_cert_der (dac_path, &error);
      g_autoptr(GBytes) pai = dac != NULL ? read_cert_der (pai_path, &error) : NULL;
      g_autoptr(GBytes) cd = cd_path != NULL && pai != NULL
                             ? ds_util_read_bytes (cd_path, DS_UTIL_MAX_CERT_FILE, &error) : NULL;
      g_autoptr(GBytes) salt_b = g_bytes_new (onb.salt, onb.salt_len);
      g_autoptr(GBytes) verifier_b = g_bytes_new (onb.verifier, sizeof onb.verifier);
      g_autoptr(GBytes) rid = g_bytes_new (rotating_id, sizeof rotating_id);
      g_autoptr(GBytes) blob = NULL;
      DsFactoryDataInfo info = {
        .cd = cd, .dac = dac, .pai = pai, .discriminator = onb.discriminator, .iterations = onb.iterations,
        .salt = salt_b, .verifier = verifier_b, .has_passcode = !no_passcode_tag, .passcode = onb.passcode,
        .vendor_name = vendor_name != NULL ? vendor_name : "Test Vendor", .vid = vid,
        .product_name = product_name != NULL ? product_name : "Test Product", .pid = pid,
        .serial_number = serial, .manufacturing_date = date, .hardware_version = (guint16) hw_version,
        .hardware_version_string = hw_string != NULL ? hw_string : hw_default, .rotating_id = rid,
      };

      if (dac != NULL && pai != NULL && (cd_path == NULL || cd != NULL))
        blob = ds_factory_data_build (&info, (gsize) region, &error);
      if (blob == NULL
          || !g_file_set_contents (fd_out, g_bytes_get_data (blob, NULL), (gssize) g_bytes_get_size (blob), &error))
        {
          ds_onboarding_clear (&onb);
          g_printerr (_("Cannot write the factory data: %s\n"), error->message);
          return EXIT_USAGE;
        }
    }
  if (label != NULL)
    {
      DsLabelFormat format;
      DsLabelInfo li = {
        .qr = qr, .manual_code = manual, .serial_number = serial, .vid = vid, .pid = pid,
        .product_name = product_name != NULL ? product_name : "Test Product",
      };

      if (!ds_label_format_for_path (label, &format, &error) || !ds_label_write (&li, format, label, &error))
        {
          ds_onboarding_clear (&onb);
          g_printerr (_("Cannot write the label: %s\n"), error->message);
          return EXIT_USAGE;
        }
    }

  if (opt_json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();

      json_builder_begin_object (b);
      json_add_string (b, "event", "onboarding");
      json_add_string (b, "qr", qr);
      json_add_string (b, "manual", manual);
      json_add_int (b, "vid", vid);
      json_add_int (b, "pid", pid);
      json_add_int (b, "discriminator", onb.discriminator);
      json_add_int (b, "iterations", onb.iterations);
      json_add_string (b, "salt", salt_out);
      json_add_string (b, "verifier", verifier_b64);
      json_add_string (b, "serial", serial);
      if (show_passcode)
        json_add_int (b, "passcode", onb.passcode);
      json_builder_end_object (b);
      print_json (b);
    }
  else
    {
      g_autofree char *manual_formatted = ds_manual_code_format (manual);

      g_print ("%-22s %s\n", _("QR payload:"), qr);
      g_print ("%-22s %s\n", _("Manual code:"), manual_formatted);
      g_print ("%-22s %s\n", _("Serial number:"), serial);
      g_print ("%-22s %u (0x%03X)\n", _("Long discriminator:"), onb.discriminator, onb.discriminator);
      if (show_passcode)
        g_print ("%-22s %u\n", _("Passcode:"), onb.passcode);
      g_print ("%-22s %u\n", _("SPAKE2+ iterations:"), onb.iterations);
      g_print ("%-22s %s\n", _("SPAKE2+ salt:"), salt_out);
      g_print ("%-22s %s\n", _("SPAKE2+ verifier:"), verifier_b64);
    }
  ds_onboarding_clear (&onb);
  return EXIT_OK;
}

/* ---- the command ----------------------------------------------------------- */

int
ds_cli_onboarding (int    argc,
                   char **argv)
{
  g_autofree char *check = NULL;
  int region = DS_FACTORY_DATA_REGION_STM32WB5MM_DK;
  gboolean show_secrets = FALSE;
  GOptionEntry entries[] = {
    { "check", 0, 0, G_OPTION_ARG_FILENAME, &check, N_("Check a factory data blob and print every record"), N_("FILE") },
    { "region-size", 0, 0, G_OPTION_ARG_INT, &region, N_("Factory data region size in bytes (default 65536)"), N_("BYTES") },
    { "show-secrets", 0, 0, G_OPTION_ARG_NONE, &show_secrets, N_("--check: print the passcode and the rotating device ID too"), NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;

  if (argc > 1 && g_str_equal (argv[1], "new"))
    return cmd_new (argc - 1, argv + 1);

  context = g_option_context_new (_("[CODE] — parse a QR payload (MT:…) or a manual pairing code; or --check FILE; "
                                    "or “new” to make a board's onboarding data"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  g_option_context_add_main_entries (context, common_entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error (context, error->message);
  if (region <= 0)
    return usage_error (context, _("--region-size takes a positive number"));
  if (check != NULL)
    {
      if (argc > 1)
        return usage_error (context, _("Give either a code or --check FILE"));
      return check_blob (check, (gsize) region, show_secrets);
    }
  if (argc != 2)
    return usage_error (context, _("Give one QR payload or manual pairing code"));
  return parse_code (argv[1]);
}

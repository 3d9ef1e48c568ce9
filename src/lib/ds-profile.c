/* A product profile: one key file per product. */
#include "config.h"

#include "ds-profile.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ds-error.h"
#include "ds-label.h"
#include "ds-onboarding.h"
#include "ds-pkcs11.h"
#include "ds-test-ca.h"
#include "ds-util.h"

G_DEFINE_BOXED_TYPE (DsProfile, ds_profile, ds_profile_ref, ds_profile_unref)

/* Upper bounds the CLI applies to the same settings. */
#define MAX_JOBS       256
#define MAX_TIMEOUT_MS 600000
#define MAX_RETRIES    100

/* Matter's lengths for the names in the factory data (ST's generator
 * and the Matter SDK's device instance info provider). */
#define MAX_NAME_BYTES       32
#define MAX_HW_STRING_BYTES  64

DsProfile *
ds_profile_new (void)
{
  DsProfile *self = g_new0 (DsProfile, 1);

  self->ref_count = 1;
  self->vid = DS_TEST_CA_VID;
  self->pid = 0x8000;
  self->ca = g_new0 (DsCaConfig, 1);
  self->ca->ca = g_strdup ("test");
  self->flasher = g_strdup ("bootloader");
  self->onboarding = ds_onboarding_config_new ();
  return self;
}

DsProfile *
ds_profile_ref (DsProfile *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_atomic_int_inc (&self->ref_count);
  return self;
}

void
ds_profile_unref (DsProfile *self)
{
  if (self == NULL || !g_atomic_int_dec_and_test (&self->ref_count))
    return;
  g_free (self->path);
  g_free (self->sha256);
  g_free (self->name);
  g_free (self->vendor_name);
  g_free (self->product_name);
  g_free (self->hardware_version_string);
  ds_ca_config_free (self->ca);
  g_free (self->trust_store);
  g_free (self->cd);
  g_strfreev (self->cd_signers);
  g_free (self->firmware_image);
  g_free (self->flasher);
  g_free (self->store);
  ds_onboarding_config_free (self->onboarding);
  g_free (self->label_format);
  g_free (self->label_dir);
  g_free (self->label_printer);
  g_free (self);
}

DsOnboardingConfig *
ds_profile_get_onboarding (DsProfile *self)
{
  DsOnboardingConfig *c = ds_onboarding_config_copy (self->onboarding);

  if (c->vendor_name == NULL)
    c->vendor_name = g_strdup (self->vendor_name);
  if (c->product_name == NULL)
    c->product_name = g_strdup (self->product_name);
  if (c->hardware_version == 0)
    c->hardware_version = (guint16) self->hardware_version;
  if (c->hardware_version_string == NULL)
    c->hardware_version_string = g_strdup (self->hardware_version_string);
  return c;
}

const char *
ds_profile_get_mode (DsProfile *self)
{
  return self->production ? "production" : "test";
}

gboolean
ds_profile_gives_test_cd (DsProfile *self)
{
  return self->cd == NULL && !self->production && (self->ca->ca == NULL || g_str_equal (self->ca->ca, "test"));
}

const char *
ds_profile_get_display_name (DsProfile *self)
{
  if (self->name != NULL)
    return self->name;
  if (self->product_name != NULL)
    return self->product_name;
  /* TRANSLATORS: the name of a product profile that names nothing */
  return _("Unnamed profile");
}

/* ---- parsing --------------------------------------------------------------- */

typedef struct {
  GKeyFile   *kf;
  const char *origin;
  const char *base_dir;
} Parser;

static gboolean
bad_value (const Parser *p,
           const char   *group,
           const char   *key,
           const char   *expected,
           GError      **error)
{
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: [%s] %s: %s"), p->origin, group, key, expected);
  return FALSE;
}

static gboolean
get_string (const Parser *p,
            const char   *group,
            const char   *key,
            char        **out,
            GError      **error)
{
  g_autofree char *value = g_key_file_get_string (p->kf, group, key, NULL);

  if (value == NULL || *value == '\0')
    return bad_value (p, group, key, _("takes a non-empty value"), error);
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
get_path (const Parser *p,
          const char   *group,
          const char   *key,
          char        **out,
          GError      **error)
{
  g_autofree char *value = NULL;

  if (!get_string (p, group, key, &value, error))
    return FALSE;
  g_free (*out);
  if (!g_path_is_absolute (value) && p->base_dir != NULL)
    *out = g_build_filename (p->base_dir, value, NULL);
  else
    *out = g_steal_pointer (&value);
  return TRUE;
}

static gboolean
get_hex16 (const Parser *p,
           const char   *group,
           const char   *key,
           guint16      *out,
           GError      **error)
{
  g_autofree char *value = g_key_file_get_string (p->kf, group, key, NULL);
  guint64 v = 0;

  if (value == NULL || strlen (value) != 4 ||
      !g_ascii_string_to_unsigned (value, 16, 0, 0xFFFF, &v, NULL))
    return bad_value (p, group, key, _("takes four hex digits, for example FFF1"), error);
  *out = (guint16) v;
  return TRUE;
}

static gboolean
get_uint (const Parser *p,
          const char   *group,
          const char   *key,
          guint         min,
          guint         max,
          guint        *out,
          GError      **error)
{
  g_autofree char *value = g_key_file_get_string (p->kf, group, key, NULL);
  guint64 v = 0;

  if (value == NULL || !g_ascii_string_to_unsigned (value, 10, min, max, &v, NULL))
    {
      g_autofree char *expected = g_strdup_printf (_("takes a number from %u to %u"), min, max);

      return bad_value (p, group, key, expected, error);
    }
  *out = (guint) v;
  return TRUE;
}

static gboolean
get_bool (const Parser *p,
          const char   *group,
          const char   *key,
          gboolean     *out,
          GError      **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean v = g_key_file_get_boolean (p->kf, group, key, &local_error);

  if (local_error != NULL)
    return bad_value (p, group, key, _("takes true or false"), error);
  *out = v;
  return TRUE;
}

static gboolean unknown_key (const Parser *p,
                             const char   *group,
                             const char   *key,
                             GError      **error);

/* A name that goes into the factory data: UTF-8 of 1 to @max bytes. */
static gboolean
get_name (const Parser *p,
          const char   *group,
          const char   *key,
          gsize         max,
          char        **out,
          GError      **error)
{
  g_autofree char *value = NULL;

  if (!get_string (p, group, key, &value, error))
    return FALSE;
  if (strlen (value) > max || !g_utf8_validate (value, -1, NULL))
    {
      g_autofree char *expected = g_strdup_printf (_("takes UTF-8 text of 1 to %u bytes"), (guint) max);

      return bad_value (p, group, key, expected, error);
    }
  g_free (*out);
  *out = g_steal_pointer (&value);
  return TRUE;
}

/* The library's own reason (a forbidden passcode, a discriminator over
 * 4095) under the file, group and key. */
static gboolean
bad_value_error (const Parser *p,
                 const char   *group,
                 const char   *key,
                 GError       *local_error,
                 GError      **error)
{
  return bad_value (p, group, key, local_error->message, error);
}

static gboolean
parse_onboarding_key (const Parser       *p,
                      DsOnboardingConfig *c,
                      const char         *group,
                      const char         *key,
                      GError            **error)
{
  g_autoptr(GError) local_error = NULL;

  if (g_str_equal (key, "passcode"))
    {
      guint v = 0;

      /* 0 would read as "random": it is refused as the specification does. */
      if (!get_uint (p, group, key, 0, G_MAXUINT32, &v, error))
        return FALSE;
      if (!ds_passcode_check (v, &local_error))
        return bad_value_error (p, group, key, local_error, error);
      c->passcode = v;
      return TRUE;
    }
  if (g_str_equal (key, "discriminator"))
    {
      g_autofree char *value = g_key_file_get_string (p->kf, group, key, NULL);
      g_autoptr(DsOnboardingConfig) d = ds_onboarding_config_new ();

      if (value == NULL || !ds_onboarding_config_set_discriminator (d, value, &local_error))
        return bad_value (p, group, key, _("takes a number from 0 to 4095, or a range LO-HI within it, LO first"),
                          error);
      c->has_discriminator = d->has_discriminator;
      c->discriminator = d->discriminator;
      c->discriminator_lo = d->discriminator_lo;
      c->discriminator_hi = d->discriminator_hi;
      return TRUE;
    }
  if (g_str_equal (key, "iterations"))
    return get_uint (p, group, key, DS_SPAKE2P_ITERATIONS_MIN, DS_SPAKE2P_ITERATIONS_MAX, &c->iterations, error);
  if (g_str_equal (key, "salt-length"))
    return get_uint (p, group, key, DS_SPAKE2P_SALT_MIN, DS_SPAKE2P_SALT_MAX, &c->salt_len, error);
  if (g_str_equal (key, "serial-pattern"))
    {
      g_autofree char *value = NULL;
      g_autofree char *example = NULL;

      if (!get_string (p, group, key, &value, error))
        return FALSE;
      /* Unique serial numbers come from the store's sequence. */
      if (strstr (value, "{seq") == NULL)
        return bad_value (p, group, key, _("needs {seq}, or every board gets the same serial number"), error);
      example = ds_serial_format (value, G_GUINT64_CONSTANT (999999999), NULL, &local_error);
      if (example == NULL)
        return bad_value_error (p, group, key, local_error, error);
      g_free (c->serial_pattern);
      c->serial_pattern = g_steal_pointer (&value);
      return TRUE;
    }
  return unknown_key (p, group, key, error);
}

static gboolean
parse_factory_data_key (const Parser       *p,
                        DsOnboardingConfig *c,
                        const char         *group,
                        const char         *key,
                        GError            **error)
{
  if (g_str_equal (key, "address"))
    {
      g_autofree char *value = g_key_file_get_string (p->kf, group, key, NULL);
      const char *digits = value;
      guint64 v = 0;

      if (digits != NULL && (g_str_has_prefix (digits, "0x") || g_str_has_prefix (digits, "0X")))
        digits += 2;
      if (digits == NULL || *digits == '\0' || strlen (digits) > 8 ||
          !g_ascii_string_to_unsigned (digits, 16, 1, G_MAXUINT32, &v, NULL))
        return bad_value (p, group, key, _("takes a hex address, for example 0x901C0000"), error);
      c->fd_address = (guint32) v;
      return TRUE;
    }
  if (g_str_equal (key, "size"))
    /* 64 bytes hold the smallest blob's headers; 16 MiB is more flash
     * than an STM32WB has. */
    return get_uint (p, group, key, 64, 16 * 1024 * 1024, &c->fd_size, error);
  if (g_str_equal (key, "passcode-tag"))
    {
      gboolean v = TRUE;

      if (!get_bool (p, group, key, &v, error))
        return FALSE;
      c->no_passcode_tag = !v;
      return TRUE;
    }
  return unknown_key (p, group, key, error);
}

static gboolean
parse_label_key (const Parser *p,
                 DsProfile    *self,
                 const char   *group,
                 const char   *key,
                 GError      **error)
{
  if (g_str_equal (key, "format"))
    {
      DsLabelFormat format;

      if (!get_string (p, group, key, &self->label_format, error))
        return FALSE;
      if (!ds_label_format_from_name (self->label_format, &format))
        return bad_value (p, group, key, _("takes png, pdf or zpl"), error);
      return TRUE;
    }
  if (g_str_equal (key, "directory"))
    return get_path (p, group, key, &self->label_dir, error);
  if (g_str_equal (key, "printer"))
    return get_string (p, group, key, &self->label_printer, error);
  return unknown_key (p, group, key, error);
}

static gboolean
unknown_key (const Parser *p,
             const char   *group,
             const char   *key,
             GError      **error)
{
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: unknown setting “%s” in [%s]"), p->origin, key, group);
  return FALSE;
}

static gboolean
parse_group (const Parser *p,
             DsProfile    *self,
             const char   *group,
             GError      **error)
{
  g_auto(GStrv) keys = g_key_file_get_keys (p->kf, group, NULL, NULL);

  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      gboolean ok;

      if (g_str_equal (group, "profile") && g_str_equal (key, "name"))
        ok = get_string (p, group, key, &self->name, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "vid"))
        ok = get_hex16 (p, group, key, &self->vid, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "pid"))
        ok = get_hex16 (p, group, key, &self->pid, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "vendor-name"))
        ok = get_name (p, group, key, MAX_NAME_BYTES, &self->vendor_name, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "product-name"))
        ok = get_name (p, group, key, MAX_NAME_BYTES, &self->product_name, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "hardware-version"))
        ok = get_uint (p, group, key, 0, G_MAXUINT16, &self->hardware_version, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "hardware-version-string"))
        ok = get_name (p, group, key, MAX_HW_STRING_BYTES, &self->hardware_version_string, error);
      else if (g_str_equal (group, "onboarding"))
        ok = parse_onboarding_key (p, self->onboarding, group, key, error);
      else if (g_str_equal (group, "factory-data"))
        ok = parse_factory_data_key (p, self->onboarding, group, key, error);
      else if (g_str_equal (group, "label"))
        ok = parse_label_key (p, self, group, key, error);
      else if (g_str_equal (group, "gate") && g_str_equal (key, "production"))
        ok = get_bool (p, group, key, &self->production, error);
      else if (g_str_equal (group, "gate") && g_str_equal (key, "trust-store"))
        ok = get_path (p, group, key, &self->trust_store, error);
      else if (g_str_equal (group, "gate") && g_str_equal (key, "cd"))
        {
          g_autofree char *value = g_key_file_get_value (p->kf, group, key, NULL);

          ok = get_path (p, group, key, &self->cd, error);
          /* The word, not a file beside the profile. */
          if (ok && g_strcmp0 (value, DS_PROFILE_CD_NONE) == 0)
            {
              g_free (self->cd);
              self->cd = g_strdup (DS_PROFILE_CD_NONE);
            }
        }
      else if (g_str_equal (group, "gate") && g_str_equal (key, "cd-signers"))
        {
          g_auto(GStrv) list = g_key_file_get_string_list (p->kf, group, key, NULL, NULL);
          g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

          ok = TRUE;
          for (guint k = 0; list != NULL && list[k] != NULL; k++)
            {
              if (*list[k] == '\0')
                {
                  ok = bad_value (p, group, key, _("takes a list of files separated by ;"), error);
                  break;
                }
              if (!g_path_is_absolute (list[k]) && p->base_dir != NULL)
                {
                  g_autofree char *path = g_build_filename (p->base_dir, list[k], NULL);

                  g_strv_builder_add (b, path);
                }
              else
                g_strv_builder_add (b, list[k]);
            }
          g_strfreev (self->cd_signers);
          self->cd_signers = g_strv_builder_end (b);
        }
      else if (g_str_equal (group, "firmware") && g_str_equal (key, "image"))
        ok = get_path (p, group, key, &self->firmware_image, error);
      else if (g_str_equal (group, "firmware") && g_str_equal (key, "flasher"))
        {
          ok = get_string (p, group, key, &self->flasher, error);
          if (ok && !g_str_equal (self->flasher, "bootloader") && !g_str_equal (self->flasher, "cube"))
            ok = bad_value (p, group, key, _("takes bootloader or cube"), error);
        }
      else if (g_str_equal (group, "store") && g_str_equal (key, "location"))
        {
          g_autofree char *value = NULL;

          ok = get_string (p, group, key, &value, error);
          if (ok && !g_str_has_prefix (value, "postgresql:") && !g_str_has_prefix (value, "postgres:"))
            ok = get_path (p, group, key, &self->store, error);
          else if (ok)
            {
              g_autofree char *password = NULL;

              /* A password in the URI would sit in a reviewed file. */
              g_uri_split_with_user (value, G_URI_FLAGS_HAS_PASSWORD, NULL, NULL, &password,
                                     NULL, NULL, NULL, NULL, NULL, NULL, NULL);
              if (password != NULL || strstr (value, "password=") != NULL)
                ok = bad_value (p, group, key, _("holds a password; use PGPASSFILE or PGPASSWORD"), error);
              else
                self->store = g_steal_pointer (&value);
            }
        }
      else if (g_str_equal (group, "run") && g_str_equal (key, "jobs"))
        ok = get_uint (p, group, key, 1, MAX_JOBS, &self->jobs, error);
      else if (g_str_equal (group, "run") && g_str_equal (key, "command-timeout-ms"))
        ok = get_uint (p, group, key, 1, MAX_TIMEOUT_MS, &self->timeout_ms, error);
      else if (g_str_equal (group, "run") && g_str_equal (key, "retries"))
        ok = get_uint (p, group, key, 1, MAX_RETRIES, &self->retries, error);
      else
        ok = unknown_key (p, group, key, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

DsProfile *
ds_profile_parse (const char  *data,
                  gsize        len,
                  const char  *origin,
                  const char  *base_dir,
                  GError     **error)
{
  static const char *const groups[] = { "profile", "product", "gate", "firmware", "store", "run",
                                        "onboarding", "factory-data", "label", NULL };
  g_autoptr(DsProfile) self = ds_profile_new ();
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_auto(GStrv) names = NULL;
  Parser p = { kf, origin, base_dir };

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_KEEP_COMMENTS, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the profile %s: %s"), origin, local_error->message);
      return NULL;
    }
  names = g_key_file_get_groups (kf, NULL);
  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_str_equal (names[i], "ca"))
        {
          ds_ca_config_free (self->ca);
          self->ca = ds_ca_config_parse (data, len, origin, base_dir, error);
          if (self->ca == NULL)
            return NULL;
        }
      else if (g_strv_contains (groups, names[i]))
        {
          if (!parse_group (&p, self, names[i], error))
            return NULL;
        }
      else
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: unknown group [%s]"), origin, names[i]);
          return NULL;
        }
    }
  /* The mode is never a default: a reviewer reads it in the file. */
  if (!g_key_file_has_key (kf, "gate", "production", NULL))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("%s: [gate] production is missing: say production=true or production=false"), origin);
      return NULL;
    }
  if (self->ca->ca == NULL)
    self->ca->ca = g_strdup ("test");
  /* Each key was checked alone; what needs two (none today, but the
   * library's rules may grow) is checked once more as a whole. */
  {
    g_autoptr(DsOnboardingConfig) c = ds_profile_get_onboarding (self);

    if (!ds_onboarding_config_check (c, &local_error))
      {
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, "%s: %s", origin, local_error->message);
        return NULL;
      }
  }
  return g_steal_pointer (&self);
}

DsProfile *
ds_profile_load (const char *path,
                 GError    **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *absolute = g_canonicalize_filename (path, NULL);
  g_autofree char *dir = g_path_get_dirname (absolute);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(DsProfile) self = NULL;
  gsize len = 0;

  if (!ds_util_read_file (absolute, DS_UTIL_MAX_CONFIG_FILE, &contents, &len, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the profile %s: %s"), path, local_error->message);
      return NULL;
    }
  self = ds_profile_parse (contents, len, absolute, dir, error);
  if (self == NULL)
    return NULL;
  self->path = g_steal_pointer (&absolute);
  self->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
  return g_steal_pointer (&self);
}

/* ---- writing --------------------------------------------------------------- */

static void
set_string (GKeyFile   *kf,
            const char *group,
            const char *key,
            const char *value)
{
  if (value != NULL)
    g_key_file_set_string (kf, group, key, value);
}

/* The defaults the comments below show, kept in step with the library's. */
G_STATIC_ASSERT (DS_SPAKE2P_DEFAULT_ITERATIONS == 10000);
G_STATIC_ASSERT (DS_SPAKE2P_DEFAULT_SALT_LEN == 32);
G_STATIC_ASSERT (DS_FACTORY_DATA_ADDRESS_DEFAULT == 0x901C0000u);
G_STATIC_ASSERT (DS_FACTORY_DATA_SIZE_DEFAULT == 65536);

/* The [onboarding], [factory-data] and [label] keys as set, each group
 * followed, with @commented, by its unset keys' defaults as comments. */
static void
append_run_groups (DsProfile *self,
                   gboolean   commented,
                   GString   *out)
{
  const DsOnboardingConfig *c = self->onboarding;
  const struct {
    const char *group;
    const char *key;
    gboolean    set;
    const char *comment;
  } defaults[] = {
    { "onboarding", "passcode", c->passcode != 0,
      "# passcode=N: one setup passcode for every board (default: random per board)" },
    { "onboarding", "discriminator", c->has_discriminator || c->discriminator_lo != 0 || c->discriminator_hi != 0,
      "# discriminator=N or LO-HI (default: random, 0-4095)" },
    { "onboarding", "iterations", c->iterations != 0, "#iterations=10000" },
    { "onboarding", "salt-length", c->salt_len != 0, "#salt-length=32" },
    { "onboarding", "serial-pattern", c->serial_pattern != NULL, "#serial-pattern=" DS_SERIAL_PATTERN_DEFAULT },
    { "factory-data", "address", c->fd_address != 0, "#address=0x901C0000" },
    { "factory-data", "size", c->fd_size != 0, "#size=65536" },
    { "factory-data", "passcode-tag", c->no_passcode_tag, "#passcode-tag=true" },
    { "label", "format", self->label_format != NULL, "#format=png" },
    { "label", "directory", self->label_dir != NULL,
      "# directory=DIR: each passed board's label and the lot's onboarding CSV (default: none written)" },
    { "label", "printer", self->label_printer != NULL, "# printer=QUEUE: the CUPS printer runs print each passed board's label on without --print (default: none)" },
  };
  static const char *const groups[] = { "onboarding", "factory-data", "label" };
  g_autoptr(GKeyFile) kf = g_key_file_new ();

  if (c->passcode != 0)
    g_key_file_set_uint64 (kf, "onboarding", "passcode", c->passcode);
  if (c->has_discriminator)
    g_key_file_set_uint64 (kf, "onboarding", "discriminator", c->discriminator);
  else if (c->discriminator_lo != 0 || c->discriminator_hi != 0)
    {
      g_autofree char *range = g_strdup_printf ("%u-%u", c->discriminator_lo, c->discriminator_hi);

      g_key_file_set_string (kf, "onboarding", "discriminator", range);
    }
  if (c->iterations != 0)
    g_key_file_set_uint64 (kf, "onboarding", "iterations", c->iterations);
  if (c->salt_len != 0)
    g_key_file_set_uint64 (kf, "onboarding", "salt-length", c->salt_len);
  set_string (kf, "onboarding", "serial-pattern", c->serial_pattern);
  if (c->fd_address != 0)
    {
      g_autofree char *address = g_strdup_printf ("0x%08X", c->fd_address);

      g_key_file_set_string (kf, "factory-data", "address", address);
    }
  if (c->fd_size != 0)
    g_key_file_set_uint64 (kf, "factory-data", "size", c->fd_size);
  if (c->no_passcode_tag)
    g_key_file_set_boolean (kf, "factory-data", "passcode-tag", FALSE);
  set_string (kf, "label", "format", self->label_format);
  set_string (kf, "label", "directory", self->label_dir);
  set_string (kf, "label", "printer", self->label_printer);

  for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      if (keys == NULL && !commented)
        continue;
      g_string_append_printf (out, "\n[%s]\n", groups[g]);
      for (guint k = 0; keys != NULL && keys[k] != NULL; k++)
        {
          g_autofree char *value = g_key_file_get_value (kf, groups[g], keys[k], NULL);

          g_string_append_printf (out, "%s=%s\n", keys[k], value);
        }
      for (guint d = 0; commented && d < G_N_ELEMENTS (defaults); d++)
        if (g_str_equal (defaults[d].group, groups[g]) && !defaults[d].set)
          g_string_append_printf (out, "%s\n", defaults[d].comment);
    }
}

static char *
to_data (DsProfile *self,
         gboolean   commented,
         gsize     *len)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_autoptr(GString) out = NULL;
  g_autofree char *head = NULL;
  g_autofree char *vid = g_strdup_printf ("%04X", self->vid);
  g_autofree char *pid = g_strdup_printf ("%04X", self->pid);
  const DsCaConfig *c = self->ca;

  set_string (kf, "profile", "name", self->name);
  g_key_file_set_string (kf, "product", "vid", vid);
  g_key_file_set_string (kf, "product", "pid", pid);
  set_string (kf, "product", "vendor-name", self->vendor_name);
  set_string (kf, "product", "product-name", self->product_name);
  if (self->hardware_version != 0)
    g_key_file_set_uint64 (kf, "product", "hardware-version", self->hardware_version);
  set_string (kf, "product", "hardware-version-string", self->hardware_version_string);

  set_string (kf, "ca", "ca", c->ca != NULL ? c->ca : "test");
  set_string (kf, "ca", "ca-bundle", c->ca_bundle);
  set_string (kf, "ca", "client-cert", c->client_cert);
  set_string (kf, "ca", "client-key", c->client_key);
  set_string (kf, "ca", "client-key-pin-file", c->client_key_pin_file);
  set_string (kf, "ca", "pkcs11-module", c->pkcs11_module);
  set_string (kf, "ca", "pin", c->pin);
  set_string (kf, "ca", "est-label", c->est_label);
  set_string (kf, "ca", "cfssl-profile", c->cfssl_profile);
  set_string (kf, "ca", "paa", c->paa);
  set_string (kf, "ca", "pai", c->pai);
  set_string (kf, "ca", "user", c->user);
  set_string (kf, "ca", "password-file", c->password_file);
  if (c->timeout_s > 0)
    g_key_file_set_integer (kf, "ca", "timeout", c->timeout_s);
  if (c->legacy_cn)
    g_key_file_set_boolean (kf, "ca", "legacy-cn", TRUE);

  g_key_file_set_boolean (kf, "gate", "production", self->production);
  set_string (kf, "gate", "trust-store", self->trust_store);
  set_string (kf, "gate", "cd", self->cd);
  if (self->cd_signers != NULL && self->cd_signers[0] != NULL)
    g_key_file_set_string_list (kf, "gate", "cd-signers", (const char *const *) self->cd_signers,
                                g_strv_length (self->cd_signers));

  set_string (kf, "firmware", "image", self->firmware_image);
  set_string (kf, "firmware", "flasher", self->flasher);
  set_string (kf, "store", "location", self->store);
  if (self->jobs > 0)
    g_key_file_set_uint64 (kf, "run", "jobs", self->jobs);
  if (self->timeout_ms > 0)
    g_key_file_set_uint64 (kf, "run", "command-timeout-ms", self->timeout_ms);
  if (self->retries > 0)
    g_key_file_set_uint64 (kf, "run", "retries", self->retries);

  head = g_key_file_to_data (kf, NULL, NULL);
  out = g_string_new (head);
  /* GKeyFile ends the last group with a newline of its own. */
  while (out->len > 0 && out->str[out->len - 1] == '\n')
    g_string_truncate (out, out->len - 1);
  g_string_append_c (out, '\n');
  append_run_groups (self, commented, out);
  if (len != NULL)
    *len = out->len;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
ds_profile_to_data (DsProfile *self,
                    gsize     *len)
{
  return to_data (self, FALSE, len);
}

static gboolean
save (DsProfile  *self,
      const char *path,
      gboolean    commented,
      GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  g_autofree char *data = to_data (self, commented, &len);

  /* Not secret, but a reviewed file: only its owner writes it. */
  if (!g_file_set_contents_full (path, data, len, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write the profile %s: %s"), path, local_error->message);
      return FALSE;
    }
  g_free (self->path);
  self->path = g_canonicalize_filename (path, NULL);
  g_free (self->sha256);
  self->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
  return TRUE;
}

gboolean
ds_profile_save (DsProfile  *self,
                 const char *path,
                 GError    **error)
{
  return save (self, path, FALSE, error);
}

gboolean
ds_profile_save_new (DsProfile  *self,
                     const char *path,
                     GError    **error)
{
  return save (self, path, TRUE, error);
}

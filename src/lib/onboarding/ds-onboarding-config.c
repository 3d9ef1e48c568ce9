/* A product's onboarding settings: defaults, and the rules a configured
 * value must keep before any board is touched. */
#include "config.h"

#include "ds-onboarding-config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-error.h"
#include "ds-factory-data.h"

DsOnboardingConfig *
ds_onboarding_config_new (void)
{
  return g_new0 (DsOnboardingConfig, 1);
}

DsOnboardingConfig *
ds_onboarding_config_copy (const DsOnboardingConfig *config)
{
  DsOnboardingConfig *c;

  if (config == NULL)
    return NULL;
  c = g_memdup2 (config, sizeof *config);
  c->serial_pattern = g_strdup (config->serial_pattern);
  c->vendor_name = g_strdup (config->vendor_name);
  c->product_name = g_strdup (config->product_name);
  c->hardware_version_string = g_strdup (config->hardware_version_string);
  return c;
}

void
ds_onboarding_config_free (DsOnboardingConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->serial_pattern);
  g_free (config->vendor_name);
  g_free (config->product_name);
  g_free (config->hardware_version_string);
  /* A fixed passcode is a secret of sorts: not left in freed memory. */
  memset (config, 0, sizeof *config);
  g_free (config);
}

static gboolean
parse_number (const char *text,
              guint      *out)
{
  guint64 v = 0;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &v, NULL))
    return FALSE;
  *out = (guint) v;
  return TRUE;
}

gboolean
ds_onboarding_config_set_discriminator (DsOnboardingConfig *config,
                                        const char         *text,
                                        GError            **error)
{
  g_auto(GStrv) parts = g_strsplit (text, "-", 2);
  guint lo = 0, hi = 0;

  if (parts[0] == NULL || !parse_number (parts[0], &lo) || (parts[1] != NULL && !parse_number (parts[1], &hi)))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The discriminator “%s” is neither a number nor a range LO-HI"), text);
      return FALSE;
    }
  if (parts[1] == NULL)
    {
      config->has_discriminator = TRUE;
      config->discriminator = lo;
    }
  else
    {
      config->has_discriminator = FALSE;
      config->discriminator_lo = lo;
      config->discriminator_hi = hi;
    }
  return ds_onboarding_config_check (config, error);
}

const char *
ds_onboarding_config_get_serial_pattern (const DsOnboardingConfig *config)
{
  return config != NULL && config->serial_pattern != NULL ? config->serial_pattern : DS_SERIAL_PATTERN_DEFAULT;
}

guint32
ds_onboarding_config_get_fd_address (const DsOnboardingConfig *config)
{
  return config != NULL && config->fd_address != 0 ? config->fd_address : DS_FACTORY_DATA_ADDRESS_DEFAULT;
}

guint32
ds_onboarding_config_get_fd_size (const DsOnboardingConfig *config)
{
  return config != NULL && config->fd_size != 0 ? config->fd_size : DS_FACTORY_DATA_SIZE_DEFAULT;
}

static gboolean
check_name (const char *what,
            const char *value,
            gsize       max,
            GError    **error)
{
  if (value == NULL)
    return TRUE;
  if (*value == '\0' || strlen (value) > max || !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   /* TRANSLATORS: %s is e.g. "the vendor name"; %u a number of bytes */
                   _("%s must be UTF-8 text of 1 to %u bytes"), what, (guint) max);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_values (const DsOnboardingConfig *c,
              GError                  **error)
{
  g_autofree char *serial = NULL;
  const char *pattern = ds_onboarding_config_get_serial_pattern (c);

  if (c != NULL)
    {
      if (c->passcode != 0 && !ds_passcode_check (c->passcode, error))
        return FALSE;
      if (c->has_discriminator && !ds_discriminator_check (c->discriminator, error))
        return FALSE;
      if (!c->has_discriminator &&
          (!ds_discriminator_check (c->discriminator_lo, error) || !ds_discriminator_check (c->discriminator_hi, error)))
        return FALSE;
      if (!c->has_discriminator && c->discriminator_lo > c->discriminator_hi)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("the discriminator range %u-%u is empty: give the lower bound first"),
                       c->discriminator_lo, c->discriminator_hi);
          return FALSE;
        }
      if (!ds_spake2p_check (c->salt_len != 0 ? c->salt_len : DS_SPAKE2P_DEFAULT_SALT_LEN,
                             c->iterations != 0 ? c->iterations : DS_SPAKE2P_DEFAULT_ITERATIONS, error))
        return FALSE;
      if (!check_name (_("the vendor name"), c->vendor_name, 32, error) ||
          !check_name (_("the product name"), c->product_name, 32, error) ||
          !check_name (_("the hardware version string"), c->hardware_version_string, 64, error))
        return FALSE;
      if (c->flow > DS_FLOW_CUSTOM)
        {
          g_set_error_literal (error, DS_ERROR, DS_ERROR_CONFIG, _("unknown commissioning flow"));
          return FALSE;
        }
      if (c->fd_size != 0 && c->fd_size < 64)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("a factory-data region of %u bytes cannot hold factory data"), c->fd_size);
          return FALSE;
        }
    }
  /* Unique serial numbers come from the store's sequence: a pattern
   * without it would give every board the same one. */
  if (strstr (pattern, "{seq") == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("the serial number pattern “%s” has no {seq}: every board would get the same serial number"),
                   pattern);
      return FALSE;
    }
  serial = ds_serial_format (pattern, G_GUINT64_CONSTANT (999999999), NULL, error);
  return serial != NULL;
}

gboolean
ds_onboarding_config_check (const DsOnboardingConfig *c,
                            GError                  **error)
{
  g_autoptr(GError) local_error = NULL;

  if (check_values (c, &local_error))
    return TRUE;
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Onboarding settings: %s"), local_error->message);
  return FALSE;
}

void
ds_onboarding_config_get_request (const DsOnboardingConfig *c,
                                  DsOnboardingRequest      *request)
{
  memset (request, 0, sizeof *request);
  if (c == NULL)
    return;
  request->passcode = c->passcode;
  request->has_discriminator = c->has_discriminator;
  request->discriminator = (guint16) c->discriminator;
  request->discriminator_lo = (guint16) c->discriminator_lo;
  request->discriminator_hi = (guint16) c->discriminator_hi;
  request->salt_len = c->salt_len;
  request->iterations = c->iterations;
}

void
ds_onboarding_config_describe (const DsOnboardingConfig *c,
                               GString                  *out)
{
  g_string_append_printf (out, "onboarding passcode %s\n", c != NULL && c->passcode != 0 ? "fixed" : "random");
  if (c != NULL && c->has_discriminator)
    g_string_append_printf (out, "onboarding discriminator %u\n", c->discriminator);
  else if (c != NULL && (c->discriminator_lo != 0 || c->discriminator_hi != 0))
    g_string_append_printf (out, "onboarding discriminator %u-%u\n", c->discriminator_lo, c->discriminator_hi);
  else
    g_string_append (out, "onboarding discriminator random\n");
  g_string_append_printf (out, "onboarding spake2p salt %u iterations %u\n",
                          c != NULL && c->salt_len != 0 ? c->salt_len : DS_SPAKE2P_DEFAULT_SALT_LEN,
                          c != NULL && c->iterations != 0 ? c->iterations : DS_SPAKE2P_DEFAULT_ITERATIONS);
  g_string_append_printf (out, "onboarding serial-pattern %s\n", ds_onboarding_config_get_serial_pattern (c));
  g_string_append_printf (out, "factory-data 0x%08X size %u passcode-tag %s\n",
                          ds_onboarding_config_get_fd_address (c), ds_onboarding_config_get_fd_size (c),
                          c != NULL && c->no_passcode_tag ? "no" : "yes");
}

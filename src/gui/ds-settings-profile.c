/* The product profile the GUI runs. */
#include "config.h"

#include "ds-settings-profile.h"

static char *
dup_path (GSettings  *settings,
          const char *key)
{
  g_autofree char *value = g_settings_get_string (settings, key);

  return *value != '\0' ? g_steal_pointer (&value) : NULL;
}

DsProfile *
ds_settings_profile_new (GSettings  *settings,
                         GError    **error)
{
  g_autofree char *path = g_settings_get_string (settings, "profile");
  g_autoptr(DsProfile) profile = NULL;
  g_autofree char *backend = NULL;
  g_autofree char *flasher = NULL;
  g_autoptr(GVariant) vid = NULL;
  g_autoptr(GVariant) pid = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  if (*path != '\0')
    return ds_profile_load (path, error);

  profile = ds_profile_new ();
  vid = g_settings_get_value (settings, "vendor-id");
  pid = g_settings_get_value (settings, "product-id");
  profile->vid = g_variant_get_uint16 (vid);
  profile->pid = g_variant_get_uint16 (pid);
  backend = g_settings_get_string (settings, "ca-backend");
  if (g_str_equal (backend, "est"))
    {
      g_autofree char *url = g_settings_get_string (settings, "est-url");

      g_free (profile->ca->ca);
      profile->ca->ca = g_strconcat ("est:", url, NULL);
      profile->ca->ca_bundle = dup_path (settings, "est-ca-bundle");
      profile->ca->client_cert = dup_path (settings, "est-client-certificate");
      profile->ca->client_key = dup_path (settings, "est-client-key");
      /* Secrets never come from the settings: the user from the
       * environment, the password from DS_CA_PASSWORD. */
      profile->ca->user = g_strdup (g_getenv ("DS_CA_USER"));
    }
  profile->production = g_settings_get_boolean (settings, "production");
  profile->trust_store = dup_path (settings, "trust-store");
  profile->cd = dup_path (settings, "certification-declaration");
  profile->firmware_image = dup_path (settings, "firmware-image");
  flasher = g_settings_get_string (settings, "flasher");
  g_free (profile->flasher);
  profile->flasher = g_strdup (g_str_equal (flasher, "bootloader") ? "bootloader" : "cube");
  profile->jobs = g_settings_get_uint (settings, "max-jobs");
  profile->timeout_ms = g_settings_get_uint (settings, "command-timeout");
  /* What the audit trail names: the profile as a file would hold it. */
  data = ds_profile_to_data (profile, &len);
  profile->sha256 = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len);
  return g_steal_pointer (&profile);
}

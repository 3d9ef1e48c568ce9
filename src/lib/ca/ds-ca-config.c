/* The [ca] group of a station's key file. */
#include "config.h"

#include "ds-ca-config.h"

#include <glib/gi18n-lib.h>

#include "ds-error.h"
#include "ds-pkcs11.h"

void
ds_ca_config_free (DsCaConfig *c)
{
  if (c == NULL)
    return;
  g_free (c->ca);
  g_free (c->ca_bundle);
  g_free (c->client_cert);
  g_free (c->client_key);
  g_free (c->client_key_pin_file);
  g_free (c->pkcs11_module);
  g_free (c->pin);
  g_free (c->est_label);
  g_free (c->cfssl_profile);
  g_free (c->paa);
  g_free (c->pai);
  g_free (c->user);
  g_free (c->password_file);
  g_free (c);
}

DsCaConfig *
ds_ca_config_parse (const char  *data,
                    gsize        len,
                    const char  *origin,
                    const char  *base_dir,
                    GError     **error)
{
  g_autoptr(DsCaConfig) c = g_new0 (DsCaConfig, 1);
  const struct {
    const char *key;
    char      **target;
    gboolean    is_path;
  } strings[] = {
    { "ca", &c->ca, FALSE },
    { "ca-bundle", &c->ca_bundle, TRUE },
    { "client-cert", &c->client_cert, TRUE },
    { "client-key", &c->client_key, TRUE },
    { "client-key-pin-file", &c->client_key_pin_file, TRUE },
    { "pkcs11-module", &c->pkcs11_module, TRUE },
    { "pin", &c->pin, FALSE },
    { "est-label", &c->est_label, FALSE },
    { "cfssl-profile", &c->cfssl_profile, FALSE },
    { "paa", &c->paa, TRUE },
    { "pai", &c->pai, TRUE },
    { "user", &c->user, FALSE },
    { "password-file", &c->password_file, TRUE },
  };
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_auto(GStrv) keys = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!g_key_file_load_from_data (kf, data, len, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the CA settings %s: %s"), origin, local_error->message);
      return NULL;
    }
  keys = g_key_file_get_keys (kf, "ca", NULL, &local_error);
  if (keys == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s has no [ca] group"), origin);
      return NULL;
    }
  for (guint i = 0; keys[i] != NULL; i++)
    {
      const char *key = keys[i];
      gboolean known = FALSE;

      if (g_str_equal (key, "password"))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("%s: the password does not go into the settings; use password-file or DS_CA_PASSWORD"), origin);
          return NULL;
        }
      if (g_str_equal (key, "client-key-pin") || g_str_equal (key, "pin-value"))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("%s: the token PIN does not go into the settings; use client-key-pin-file or DS_PKCS11_PIN"), origin);
          return NULL;
        }
      for (gsize k = 0; k < G_N_ELEMENTS (strings); k++)
        if (g_str_equal (key, strings[k].key))
          {
            g_autofree char *value = g_key_file_get_string (kf, "ca", key, NULL);

            known = TRUE;
            if (value == NULL)
              continue;
            g_free (*strings[k].target);
            /* Relative paths are the file's; a pkcs11: URI is not a path. */
            if (strings[k].is_path && !ds_pkcs11_is_uri (value) && !g_path_is_absolute (value) && base_dir != NULL)
              *strings[k].target = g_build_filename (base_dir, value, NULL);
            else
              *strings[k].target = g_steal_pointer (&value);
          }
      if (g_str_equal (key, "timeout"))
        {
          known = TRUE;
          g_autoptr(GError) int_error = NULL;

          c->timeout_s = g_key_file_get_integer (kf, "ca", key, &int_error);
          if (int_error != NULL || c->timeout_s < 1 || c->timeout_s > DS_CA_CONFIG_MAX_TIMEOUT)
            {
              g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                           _("%s: timeout takes a number of seconds from 1 to %d"), origin,
                           DS_CA_CONFIG_MAX_TIMEOUT);
              return NULL;
            }
        }
      else if (g_str_equal (key, "legacy-cn"))
        {
          known = TRUE;
          c->legacy_cn = g_key_file_get_boolean (kf, "ca", key, NULL);
        }
      if (!known)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("%s: unknown setting “%s” in [ca]"), origin, key);
          return NULL;
        }
    }
  return g_steal_pointer (&c);
}

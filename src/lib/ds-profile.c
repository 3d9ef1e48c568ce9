/* A product profile: one key file per product. */
#include "config.h"

#include "ds-profile.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "ds-error.h"
#include "ds-pkcs11.h"
#include "ds-test-ca.h"
#include "ds-util.h"

G_DEFINE_BOXED_TYPE (DsProfile, ds_profile, ds_profile_ref, ds_profile_unref)

/* Upper bounds the CLI applies to the same settings. */
#define MAX_JOBS       256
#define MAX_TIMEOUT_MS 600000
#define MAX_RETRIES    100

static const char *const opaque_groups[] = { DS_PROFILE_OPAQUE_GROUPS, NULL };

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
  self->opaque = g_key_file_new ();
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
  ds_ca_config_free (self->ca);
  g_free (self->trust_store);
  g_free (self->cd);
  g_strfreev (self->cd_signers);
  g_free (self->firmware_image);
  g_free (self->flasher);
  g_free (self->store);
  g_key_file_unref (self->opaque);
  g_free (self);
}

const char *
ds_profile_get_mode (DsProfile *self)
{
  return self->production ? "production" : "test";
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
        ok = get_string (p, group, key, &self->vendor_name, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "product-name"))
        ok = get_string (p, group, key, &self->product_name, error);
      else if (g_str_equal (group, "product") && g_str_equal (key, "hardware-version"))
        ok = get_uint (p, group, key, 0, G_MAXUINT16, &self->hardware_version, error);
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
  static const char *const groups[] = { "profile", "product", "gate", "firmware", "store", "run", NULL };
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
      else if (g_strv_contains (opaque_groups, names[i]))
        {
          g_auto(GStrv) keys = g_key_file_get_keys (kf, names[i], NULL, NULL);

          for (guint k = 0; keys[k] != NULL; k++)
            {
              g_autofree char *value = g_key_file_get_value (kf, names[i], keys[k], NULL);

              g_key_file_set_value (self->opaque, names[i], keys[k], value);
            }
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

char *
ds_profile_to_data (DsProfile *self,
                    gsize     *len)
{
  g_autoptr(GKeyFile) kf = g_key_file_new ();
  g_auto(GStrv) groups = g_key_file_get_groups (self->opaque, NULL);
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

  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_auto(GStrv) keys = g_key_file_get_keys (self->opaque, groups[i], NULL, NULL);

      for (guint k = 0; keys[k] != NULL; k++)
        {
          g_autofree char *value = g_key_file_get_value (self->opaque, groups[i], keys[k], NULL);

          g_key_file_set_value (kf, groups[i], keys[k], value);
        }
    }
  return g_key_file_to_data (kf, len, NULL);
}

gboolean
ds_profile_save (DsProfile  *self,
                 const char *path,
                 GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  gsize len = 0;
  g_autofree char *data = ds_profile_to_data (self, &len);

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

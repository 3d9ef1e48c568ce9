/* From a product profile to a ready station. */
#include "config.h"

#include "ds-station-setup.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-cd.h"
#include "ds-cfssl-ca.h"
#include "ds-crypto.h"
#include "ds-db.h"
#include "ds-error.h"
#include "ds-est-ca.h"
#include "ds-firmware-image.h"
#include "ds-matter-validator.h"
#include "ds-pkcs11.h"
#include "ds-test-ca.h"
#include "ds-test-cd.h"
#include "ds-util.h"

struct _DsStationSetup
{
  GObject    parent_instance;

  DsProfile *profile;
  char      *data_dir;
  char      *operator_id;
  char      *lot;
  char      *station_name;
  DsStore   *store;
  gboolean   contact_ca;
  gboolean   background;
  char     **reprovision_uids;
  char      *reprovision_engineer;
  char      *reprovision_reason;
  DsOnboardingConfig *onboarding;
};

G_DEFINE_FINAL_TYPE (DsStationSetup, ds_station_setup, G_TYPE_OBJECT)

static void
ds_station_setup_finalize (GObject *object)
{
  DsStationSetup *self = DS_STATION_SETUP (object);

  g_clear_pointer (&self->profile, ds_profile_unref);
  g_free (self->data_dir);
  g_free (self->operator_id);
  g_free (self->lot);
  g_strfreev (self->reprovision_uids);
  g_free (self->reprovision_engineer);
  g_free (self->reprovision_reason);
  ds_onboarding_config_free (self->onboarding);
  g_free (self->station_name);
  g_clear_object (&self->store);
  G_OBJECT_CLASS (ds_station_setup_parent_class)->finalize (object);
}

static void
ds_station_setup_class_init (DsStationSetupClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_station_setup_finalize;
}

static void
ds_station_setup_init (DsStationSetup *self)
{
  self->contact_ca = TRUE;
}

DsStationSetup *
ds_station_setup_new (DsProfile *profile)
{
  DsStationSetup *self = g_object_new (DS_TYPE_STATION_SETUP, NULL);

  self->profile = ds_profile_ref (profile);
  /* The profile's, until a front end lays its own over them. */
  self->onboarding = ds_profile_get_onboarding (profile);
  return self;
}

DsProfile *
ds_station_setup_get_profile (DsStationSetup *self)
{
  return self->profile;
}

void
ds_station_setup_set_data_dir (DsStationSetup *self,
                               const char     *data_dir)
{
  g_free (self->data_dir);
  self->data_dir = g_strdup (data_dir);
}

void
ds_station_setup_set_operator (DsStationSetup *self,
                               const char     *operator_id)
{
  g_free (self->operator_id);
  self->operator_id = g_strdup (operator_id);
}

void
ds_station_setup_set_lot (DsStationSetup *self,
                          const char     *lot)
{
  g_free (self->lot);
  self->lot = g_strdup (lot);
}

void
ds_station_setup_set_station_name (DsStationSetup *self,
                                   const char     *name)
{
  g_free (self->station_name);
  self->station_name = g_strdup (name);
}

void
ds_station_setup_set_store (DsStationSetup *self,
                            DsStore        *store)
{
  g_set_object (&self->store, store);
}

void
ds_station_setup_set_background (DsStationSetup *self,
                                 gboolean        background)
{
  g_return_if_fail (DS_IS_STATION_SETUP (self));

  self->background = background;
}

void
ds_station_setup_set_contact_ca (DsStationSetup *self,
                                 gboolean        contact_ca)
{
  self->contact_ca = contact_ca;
}

/* ---- the CA ----------------------------------------------------------------- */

static gboolean
ca_is_test_kind (const DsCaConfig *c)
{
  return c->ca == NULL || g_str_equal (c->ca, "test");
}

static gboolean
ca_is_remote (const DsCaConfig *c)
{
  return c->ca != NULL && (g_str_has_prefix (c->ca, "est:") || g_str_has_prefix (c->ca, "cfssl:"));
}

static gboolean
ca_is_authenticated (const DsCaConfig *c)
{
  return (c->client_cert != NULL && c->client_key != NULL) || c->user != NULL;
}

static char *
read_password (const DsCaConfig *c,
               GError          **error)
{
  const char *env = g_getenv ("DS_CA_PASSWORD");

  /* Held to the rule of the PIN file: mode 0600, the first line. */
  if (c->password_file != NULL)
    return ds_util_read_secret_file (c->password_file, error);
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
               _("The CA user needs a password: put it in a file (--ca-password-file, or password-file in [ca]) or in DS_CA_PASSWORD"));
  return NULL;
}

/* The token PIN of a pkcs11: client key: from its file (mode 0600) or
 * DS_PKCS11_PIN.  NULL without an error when the key is a file. */
static char *
read_key_pin (const DsCaConfig *c,
              GError          **error)
{
  const char *env = g_getenv ("DS_PKCS11_PIN");

  if (!ds_pkcs11_is_uri (c->client_key))
    {
      if (c->client_key_pin_file != NULL || c->pkcs11_module != NULL)
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                     _("--client-key-pin-file and --pkcs11-module are for a client key in a PKCS#11 token (--client-key pkcs11:...)"));
      return NULL;
    }
  /* A PIN inside the URI is refused before anything repeats the URI. */
  if (!ds_pkcs11_check_uri (c->client_key, error))
    return NULL;
  if (c->client_key_pin_file != NULL)
    return ds_pkcs11_read_pin_file (c->client_key_pin_file, error);
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  {
    g_autofree char *shown = ds_pkcs11_display_uri (c->client_key);

    g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                 _("The client key %s is in a PKCS#11 token and needs the token's PIN: put it in a file of mode 0600 (--client-key-pin-file) or in DS_PKCS11_PIN"),
                 shown);
  }
  return NULL;
}

static DsCa *
make_remote_ca (const DsCaConfig        *c,
                const DsRemoteCaOptions *o,
                gboolean                 contact,
                GError                 **error)
{
  const char *url = strchr (c->ca, ':') + 1;
  g_autoptr(DsCa) ca = NULL;

  if (g_str_has_prefix (c->ca, "est:"))
    {
      DsEstCa *est = ds_est_ca_new (url, o, error);

      ca = DS_CA (est);
      if (est != NULL && contact && !ds_est_ca_load_ca_certs (est, NULL, error))
        {
          g_prefix_error (error, _("Cannot use the EST CA %s: "), ds_est_ca_get_url (est));
          return NULL;
        }
    }
  else
    {
      DsCfsslCa *cfssl = ds_cfssl_ca_new (url, o, error);

      ca = DS_CA (cfssl);
      if (cfssl != NULL && contact && !ds_cfssl_ca_load_ca_certs (cfssl, NULL, error))
        {
          g_prefix_error (error, _("Cannot use the CFSSL CA %s: "), url);
          return NULL;
        }
    }
  return g_steal_pointer (&ca);
}

static DsCa *
make_ca (DsStationSetup *self,
         GError        **error)
{
  const DsCaConfig *c = self->profile->ca;
  DsRemoteCaOptions o = { 0 };
  g_autoptr(GError) pin_error = NULL;
  char *password = NULL;
  char *key_pin = NULL;
  DsCa *ca;

  if (ca_is_test_kind (c))
    {
      g_autofree char *pki = g_build_filename (self->data_dir, "pki", NULL);
      g_autoptr(DsTestCa) test = ds_test_ca_new (pki, error);

      if (test == NULL)
        {
          g_prefix_error (error, _("Cannot set up the test CA: "));
          return NULL;
        }
      if (self->profile->vid != ds_test_ca_get_vid (test))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The test CA issues for vendor 0x%04X only, not 0x%04X"),
                       ds_test_ca_get_vid (test), self->profile->vid);
          return NULL;
        }
      return DS_CA (g_steal_pointer (&test));
    }
  if (!ca_is_remote (c))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Unknown certificate authority “%s”: say test, est:https://HOST:PORT or cfssl:https://HOST:PORT"),
                   c->ca);
      return NULL;
    }
  if (c->user != NULL && (password = read_password (c, error)) == NULL)
    return NULL;
  key_pin = read_key_pin (c, &pin_error);
  if (pin_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&pin_error));
      ds_pkcs11_secret_free (password);
      return NULL;
    }
  o.ca_bundle = c->ca_bundle;
  o.client_cert = c->client_cert;
  o.client_key = c->client_key;
  o.client_key_pin = key_pin;
  o.pkcs11_module = c->pkcs11_module;
  o.pin = c->pin;
  o.username = c->user;
  o.password = password;
  o.paa_file = c->paa;
  o.pai_file = c->pai;
  o.label = c->est_label;
  o.profile = c->cfssl_profile;
  o.timeout_s = c->timeout_s > 0 ? (guint) c->timeout_s : 0;
  ca = make_remote_ca (c, &o, self->contact_ca, error);
  /* The CA keeps its own copies; these go now. */
  ds_pkcs11_secret_free (password);
  ds_pkcs11_secret_free (key_pin);
  return ca;
}

/* ---- the gate --------------------------------------------------------------- */

static GBytes *
read_bytes (const char *path,
            GError    **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

static GBytes *
read_cd (const char *path,
         gboolean    production,
         GError    **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GBytes) bytes = read_bytes (path, &local_error);
  g_autoptr(DsVerdict) verdict = NULL;
  g_autoptr(DsCd) cd = NULL;

  if (bytes == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the Certification Declaration: %s"), local_error->message);
      return NULL;
    }
  verdict = ds_verdict_new ();
  cd = ds_cd_parse (bytes, NULL, verdict);
  if (cd == NULL)
    {
      const DsViolation *v = verdict->violations->len > 0 ? verdict->violations->pdata[0] : NULL;

      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot use the Certification Declaration %s: %s"), path,
                   v != NULL ? v->message : _("it does not decode"));
      return NULL;
    }
  /* Refused at once rather than by the gate on every board. */
  if (production && memcmp (cd->signer_kid, ds_cd_test_kid, DS_CD_KID_LEN) == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode refuses the Certification Declaration %s: it is signed with the Matter test key"), path);
      return NULL;
    }
  return g_steal_pointer (&bytes);
}

gboolean
ds_station_setup_check (DsStationSetup *self,
                        GError        **error)
{
  DsProfile *p = self->profile;
  DsJobOptions product = { 0 };

  if (!p->production)
    return TRUE;
  if (ca_is_test_kind (p->ca))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Production mode refuses the test CA: choose a production CA"));
      return FALSE;
    }
  /* Said before the CA is contacted: production talks to a CA only as an
   * authenticated station. */
  if (ca_is_remote (p->ca) && !ca_is_authenticated (p->ca))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode needs an authenticated connection to the CA: "
                     "a TLS client certificate (--client-cert, --client-key) or HTTP Basic (--ca-user)"));
      return FALSE;
    }
  /* A test product is refused before any CA is asked. */
  product.vid = p->vid;
  product.pid = p->pid;
  product.production = TRUE;
  if (!ds_job_options_validate (&product, error))
    return FALSE;
  if (p->trust_store == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode needs a trust store with the production PAAs (--trust-store, or trust-store in [gate])"));
      return FALSE;
    }
  return TRUE;
}

DsStore *
ds_station_setup_open_store (DsStationSetup *self,
                             GError        **error)
{
  g_autofree char *db = NULL;
  g_autoptr(GError) local_error = NULL;

  if (self->store != NULL)
    return self->store;
  g_return_val_if_fail (self->data_dir != NULL, NULL);
  db = self->profile->store != NULL ? g_strdup (self->profile->store)
                                    : g_build_filename (self->data_dir, "records.sqlite3", NULL);
  /* The station key lives beside a SQLite file, or in the data folder. */
  self->store = ds_store_open_full (db, ds_db_is_uri (db) ? self->data_dir : NULL, DS_STORE_OPEN_DEFAULT, &local_error);
  if (self->store == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Cannot open the record store: "));
      return NULL;
    }
  return self->store;
}

DsStation *
ds_station_setup_build (DsStationSetup *self,
                        GError        **error)
{
  DsProfile *p = self->profile;
  g_autoptr(DsTrustStore) trust_store = NULL;
  g_autoptr(GBytes) cd = NULL;
  g_autoptr(GPtrArray) cd_signers = NULL;
  gboolean cd_builtin_test = FALSE;
  g_autoptr(DsCa) ca = NULL;
  g_autofree char *certs = NULL;
  DsJobOptions options = { 0 };

  g_return_val_if_fail (DS_IS_STATION_SETUP (self), NULL);
  g_return_val_if_fail (self->data_dir != NULL, NULL);

  if (!ds_station_setup_check (self, error))
    return NULL;
  if (g_strcmp0 (p->flasher, "cube") == 0 && p->firmware_image != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("STM32CubeProgrammer cannot flash during provisioning yet: choose the UART bootloader"));
      return NULL;
    }
  if (p->firmware_image != NULL)
    {
      /* A malformed image is refused before any board is touched. */
      g_autoptr(DsFirmwareImage) image = ds_firmware_image_load (p->firmware_image, DS_FIRMWARE_ADDRESS, error);

      if (image == NULL)
        {
          g_prefix_error (error, _("Cannot use the firmware image: "));
          return NULL;
        }
    }
  if (p->trust_store != NULL)
    {
      /* Loaded once per station, shared read-only by the jobs. */
      trust_store = ds_trust_store_new ();
      if (!ds_trust_store_add_path (trust_store, p->trust_store, error))
        {
          g_prefix_error (error, _("Cannot load the trust store: "));
          return NULL;
        }
      if (p->production && ds_trust_store_has_test_paa (trust_store))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("Production mode refuses a trust store that holds test PAAs: %s"), p->trust_store);
          return NULL;
        }
    }
  if (p->cd != NULL && !g_str_equal (p->cd, DS_PROFILE_CD_NONE))
    {
      if ((cd = read_cd (p->cd, p->production, error)) == NULL)
        return NULL;
    }
  for (guint i = 0; p->cd_signers != NULL && p->cd_signers[i] != NULL; i++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) bytes = read_bytes (p->cd_signers[i], &local_error);
      X509 *cert = bytes != NULL ? ds_cert_parse (bytes, &local_error) : NULL;

      if (cert == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the CD-signing certificate from %s: %s"),
                       p->cd_signers[i], local_error->message);
          return NULL;
        }
      if (cd_signers == NULL)
        cd_signers = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
      g_ptr_array_add (cd_signers, cert);
    }
  if (ds_station_setup_open_store (self, error) == NULL)
    return NULL;
  ca = make_ca (self, error);
  if (ca == NULL)
    return NULL;
  if (ds_profile_gives_test_cd (p))
    {
      /* The test CA's boards leave as Matter test devices: a commissioner
       * wants a CD, so they get one for the product, signed with the
       * Matter test key.  Never in production, which refuses that key. */
      if ((cd = ds_test_cd_build (p->vid, p->pid, error)) == NULL)
        return NULL;
      cd_builtin_test = TRUE;
    }
  /* A remote CA that issues test DACs (a development EST server) is the
   * test CA by another name. */
  if (p->production && ds_ca_is_test (ca))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode refuses the test CA %s: choose a production CA"), ds_ca_get_name (ca));
      return NULL;
    }

  certs = g_build_filename (self->data_dir, "certs", NULL);
  options.store = self->store;
  options.ca = ca;
  options.vid = p->vid;
  options.pid = p->pid;
  options.operator_id = self->operator_id;
  options.lot = self->lot;
  options.background = self->background;
  options.station_name = self->station_name != NULL ? self->station_name : (char *) g_get_host_name ();
  options.certs_dir = certs;
  options.timeout_ms = p->timeout_ms;
  options.retries = p->retries;
  options.firmware_path = p->firmware_image;
  options.firmware_address = p->firmware_image != NULL ? DS_FIRMWARE_ADDRESS : 0;
  options.trust_store = trust_store;
  options.cd = cd;
  options.cd_signers = cd_signers;
  options.cd_builtin_test = cd_builtin_test;
  options.production = p->production;
  /* CFSSL 1.2 keeps only the CN. */
  options.legacy_cn = p->ca->legacy_cn || g_str_has_prefix (p->ca->ca, "cfssl:");
  options.reprovision_uids = self->reprovision_uids;
  options.reprovision_engineer = self->reprovision_engineer;
  options.reprovision_reason = self->reprovision_reason;
  options.onboarding = self->onboarding;
  if (!ds_job_options_validate (&options, error))
    return NULL;
  return ds_station_new (&options, p->jobs > 0 ? p->jobs : 8);
}

void
ds_station_setup_set_reprovision (DsStationSetup     *self,
                                  const char *const  *uids,
                                  const char         *engineer,
                                  const char         *reason)
{
  g_return_if_fail (DS_IS_STATION_SETUP (self));

  g_strfreev (self->reprovision_uids);
  self->reprovision_uids = g_strdupv ((char **) uids);
  g_free (self->reprovision_engineer);
  self->reprovision_engineer = g_strdup (engineer);
  g_free (self->reprovision_reason);
  self->reprovision_reason = g_strdup (reason);
}

void
ds_station_setup_set_onboarding (DsStationSetup           *self,
                                 const DsOnboardingConfig *config)
{
  g_return_if_fail (DS_IS_STATION_SETUP (self));

  ds_onboarding_config_free (self->onboarding);
  self->onboarding = config != NULL ? ds_onboarding_config_copy (config) : ds_profile_get_onboarding (self->profile);
}

const DsOnboardingConfig *
ds_station_setup_get_onboarding (DsStationSetup *self)
{
  g_return_val_if_fail (DS_IS_STATION_SETUP (self), NULL);

  return self->onboarding;
}

static void
build_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  DsStationSetup *self = source_object;
  GError *error = NULL;
  DsStation *station;

  if (g_task_return_error_if_cancelled (task))
    return;
  station = ds_station_setup_build (self, &error);
  if (station == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, station, g_object_unref);
}

void
ds_station_setup_build_async (DsStationSetup      *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (DS_IS_STATION_SETUP (self));
  g_return_if_fail (self->data_dir != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, ds_station_setup_build_async);
  /* The setup is not changed while the thread builds from it. */
  g_task_run_in_thread (task, build_thread);
}

DsStation *
ds_station_setup_build_finish (DsStationSetup  *self,
                               GAsyncResult    *result,
                               GError         **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

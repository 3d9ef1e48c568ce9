/* The certificate authority of a provisioning run, from the options. */
#include "config.h"

#include "ds-cli-ca.h"

#include <glib/gi18n.h>
#include <string.h>

#include "ds-ca-config.h"
#include "ds-cli-common.h"
#include "ds-cfssl-ca.h"
#include "ds-error.h"
#include "ds-est-ca.h"
#include "ds-pkcs11.h"
#include "ds-test-ca.h"
#include "ds-util.h"

static char *opt_ca;
static char *opt_ca_bundle;
static char *opt_client_cert;
static char *opt_client_key;
static char *opt_client_key_pin_file;
static char *opt_pkcs11_module;
static char *opt_pin;
static char *opt_est_label;
static char *opt_cfssl_profile;
static char *opt_paa;
static char *opt_pai;
static char *opt_ca_user;
static char *opt_ca_password_file;
static int opt_ca_timeout = OPT_INT_UNSET;
static gboolean opt_legacy_cn;
static char *opt_ca_config;

GOptionEntry ca_entries[] = {
  { "ca-config", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_config, N_("Read the CA settings from the [ca] group of this key file (options given here win)"), N_("FILE") },
  { "ca", 0, 0, G_OPTION_ARG_STRING, &opt_ca, N_("Certificate authority: test (default), est:https://HOST:PORT or cfssl:https://HOST:PORT"), N_("CA") },
  { "ca-bundle", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_bundle, N_("Remote CA: the CA certificates its TLS server must chain to"), N_("FILE") },
  { "client-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_client_cert, N_("Remote CA: the station's TLS client certificate"), N_("FILE") },
  { "client-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_client_key, N_("Remote CA: the station's TLS client key, a file (mode 0600) or a PKCS#11 URI (pkcs11:token=...;object=...;type=private)"), N_("FILE|URI") },
  { "client-key-pin-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_client_key_pin_file, N_("Remote CA: file (mode 0600) holding the PIN of the token with the client key (or DS_PKCS11_PIN)"), N_("FILE") },
  { "pkcs11-module", 0, 0, G_OPTION_ARG_FILENAME, &opt_pkcs11_module, N_("Remote CA: the PKCS#11 module of the token with the client key (default: every module p11-kit knows)"), N_("PATH") },
  { "pin", 0, 0, G_OPTION_ARG_STRING, &opt_pin, N_("Remote CA: the server's public key, sha256//BASE64"), N_("PIN") },
  { "est-label", 0, 0, G_OPTION_ARG_STRING, &opt_est_label, N_("EST: the CA label (/.well-known/est/LABEL)"), N_("LABEL") },
  { "cfssl-profile", 0, 0, G_OPTION_ARG_STRING, &opt_cfssl_profile, N_("CFSSL: the signing profile"), N_("PROFILE") },
  { "paa", 0, 0, G_OPTION_ARG_FILENAME, &opt_paa, N_("Remote CA: the trusted PAA (default for EST: the one its server publishes)"), N_("FILE") },
  { "pai", 0, 0, G_OPTION_ARG_FILENAME, &opt_pai, N_("CFSSL: the PAI it signs with (default: asked from the server)"), N_("FILE") },
  { "ca-user", 0, 0, G_OPTION_ARG_STRING, &opt_ca_user, N_("Remote CA: HTTP Basic user (password from --ca-password-file or DS_CA_PASSWORD)"), N_("NAME") },
  { "ca-password-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_password_file, N_("Remote CA: file holding the Basic password"), N_("FILE") },
  { "ca-timeout", 0, 0, G_OPTION_ARG_INT, &opt_ca_timeout, N_("Remote CA: seconds for one request (default 30)"), N_("S") },
  { "legacy-cn", 0, 0, G_OPTION_ARG_NONE, &opt_legacy_cn, N_("Ask boards for the CN “Mvid:XXXX Mpid:XXXX” in their CSR (default with CFSSL, which keeps only the CN)"), NULL },
  { NULL }
};

/* The [ca] group of a key file: the same settings as the options, for a
 * station set up once per line.  The command line wins. */
static gboolean
load_config (const char *path,
             GError    **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(DsCaConfig) c = NULL;
  gsize len = 0;
  struct {
    char **option;
    char **value;
  } strings[] = {
    { &opt_ca, NULL }, { &opt_ca_bundle, NULL }, { &opt_client_cert, NULL }, { &opt_client_key, NULL },
    { &opt_client_key_pin_file, NULL }, { &opt_pkcs11_module, NULL }, { &opt_pin, NULL },
    { &opt_est_label, NULL }, { &opt_cfssl_profile, NULL }, { &opt_paa, NULL }, { &opt_pai, NULL },
    { &opt_ca_user, NULL }, { &opt_ca_password_file, NULL },
  };

  if (!ds_util_read_file (path, DS_UTIL_MAX_CONFIG_FILE, &contents, &len, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the CA settings %s: %s"), path, local_error->message);
      return FALSE;
    }
  c = ds_ca_config_parse (contents, len, path, dir, error);
  if (c == NULL)
    return FALSE;
  strings[0].value = &c->ca;
  strings[1].value = &c->ca_bundle;
  strings[2].value = &c->client_cert;
  strings[3].value = &c->client_key;
  strings[4].value = &c->client_key_pin_file;
  strings[5].value = &c->pkcs11_module;
  strings[6].value = &c->pin;
  strings[7].value = &c->est_label;
  strings[8].value = &c->cfssl_profile;
  strings[9].value = &c->paa;
  strings[10].value = &c->pai;
  strings[11].value = &c->user;
  strings[12].value = &c->password_file;
  for (gsize i = 0; i < G_N_ELEMENTS (strings); i++)
    if (*strings[i].option == NULL && *strings[i].value != NULL)
      *strings[i].option = g_steal_pointer (strings[i].value);
  if (opt_ca_timeout == OPT_INT_UNSET && c->timeout_s > 0)
    opt_ca_timeout = c->timeout_s;
  opt_legacy_cn = opt_legacy_cn || c->legacy_cn;
  return TRUE;
}

static char *
read_password (GError **error)
{
  const char *env = g_getenv ("DS_CA_PASSWORD");

  if (opt_ca_password_file != NULL)
    {
      /* Held to the rule of the PIN file: mode 0600, the first line. */
      return ds_util_read_secret_file (opt_ca_password_file, error);
    }
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
               _("--ca-user needs a password: put it in a file (--ca-password-file) or in DS_CA_PASSWORD"));
  return NULL;
}

/* The token PIN of a pkcs11: client key: from --client-key-pin-file (mode
 * 0600) or DS_PKCS11_PIN.  NULL without an error when the key is a file. */
static char *
read_key_pin (GError **error)
{
  const char *env = g_getenv ("DS_PKCS11_PIN");

  if (!ds_pkcs11_is_uri (opt_client_key))
    {
      if (opt_client_key_pin_file != NULL || opt_pkcs11_module != NULL)
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                     _("--client-key-pin-file and --pkcs11-module are for a client key in a PKCS#11 token (--client-key pkcs11:...)"));
      return NULL;
    }
  /* A PIN inside the URI is refused before anything repeats the URI. */
  if (!ds_pkcs11_check_uri (opt_client_key, error))
    return NULL;
  if (opt_client_key_pin_file != NULL)
    return ds_pkcs11_read_pin_file (opt_client_key_pin_file, error);
  if (env != NULL && *env != '\0')
    return g_strdup (env);
  {
    g_autofree char *shown = ds_pkcs11_display_uri (opt_client_key);

    g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                 _("The client key %s is in a PKCS#11 token and needs the token's PIN: put it in a file of mode 0600 (--client-key-pin-file) or in DS_PKCS11_PIN"),
                 shown);
  }
  return NULL;
}

static DsCa *
make_test_ca (const char *pki_dir,
              guint16     vid,
              gboolean    json,
              GError    **error)
{
  g_autoptr(DsTestCa) ca = ds_test_ca_new (pki_dir, error);

  if (ca == NULL)
    {
      g_prefix_error (error, _("Cannot set up the test CA: "));
      return NULL;
    }
  if (vid != ds_test_ca_get_vid (ca))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The test CA issues for vendor 0x%04X only, not 0x%04X"),
                   ds_test_ca_get_vid (ca), vid);
      return NULL;
    }
  if (!json)
    g_printerr (_("TEST MODE: the test CA issues test DACs (vendor 0x%04X) that no production device may carry.\n"),
                ds_test_ca_get_vid (ca));
  return DS_CA (g_steal_pointer (&ca));
}

static DsCa *make_remote_ca (const char              *url,
                             const DsRemoteCaOptions *o,
                             GError                 **error);

DsCa *
ds_cli_make_ca (const char *pki_dir,
                guint16     vid,
                gboolean    json,
                GError    **error)
{
  DsRemoteCaOptions o = { 0 };
  char *password = NULL;
  char *key_pin = NULL;
  g_autoptr(DsCa) ca = NULL;
  const char *url;

  if (opt_ca_config != NULL && !load_config (opt_ca_config, error))
    return NULL;
  /* 0 would be read as "no limit" by some layers: a number of seconds it is. */
  if (opt_ca_timeout != OPT_INT_UNSET && (opt_ca_timeout < 1 || opt_ca_timeout > DS_CA_CONFIG_MAX_TIMEOUT))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("--ca-timeout takes a number of seconds from 1 to %d, not %d"),
                   DS_CA_CONFIG_MAX_TIMEOUT, opt_ca_timeout);
      return NULL;
    }
  if (opt_ca == NULL || g_str_equal (opt_ca, "test"))
    return make_test_ca (pki_dir, vid, json, error);
  if (!g_str_has_prefix (opt_ca, "est:") && !g_str_has_prefix (opt_ca, "cfssl:"))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Unknown certificate authority “%s”: say test, est:https://HOST:PORT or cfssl:https://HOST:PORT"),
                   opt_ca);
      return NULL;
    }
  if (opt_ca_user != NULL)
    {
      password = read_password (error);
      if (password == NULL)
        return NULL;
    }
  {
    g_autoptr(GError) pin_error = NULL;

    key_pin = read_key_pin (&pin_error);
    if (pin_error != NULL)
      {
        g_propagate_error (error, g_steal_pointer (&pin_error));
        ds_pkcs11_secret_free (password);
        return NULL;
      }
  }
  o.ca_bundle = opt_ca_bundle;
  o.client_cert = opt_client_cert;
  o.client_key = opt_client_key;
  o.client_key_pin = key_pin;
  o.pkcs11_module = opt_pkcs11_module;
  o.pin = opt_pin;
  o.username = opt_ca_user;
  o.password = password;
  o.paa_file = opt_paa;
  o.pai_file = opt_pai;
  o.label = opt_est_label;
  o.profile = opt_cfssl_profile;
  o.timeout_s = opt_ca_timeout != OPT_INT_UNSET ? (guint) opt_ca_timeout : 0;

  url = strchr (opt_ca, ':') + 1;
  ca = make_remote_ca (url, &o, error);
  /* The CA keeps its own copies; these go now. */
  ds_pkcs11_secret_free (password);
  ds_pkcs11_secret_free (key_pin);
  if (ca == NULL)
    return NULL;
  if (ds_ca_is_test (ca) && !json)
    g_printerr (_("TEST MODE: the %s CA issues test DACs (a test vendor ID) that no production device may carry.\n"),
                ds_ca_get_name (ca));
  return g_steal_pointer (&ca);
}

static DsCa *
make_remote_ca (const char              *url,
                const DsRemoteCaOptions *o,
                GError                 **error)
{
  g_autoptr(DsCa) ca = NULL;

  if (g_str_has_prefix (opt_ca, "est:"))
    {
      DsEstCa *est = ds_est_ca_new (url, o, error);

      ca = DS_CA (est);
      if (est != NULL && !ds_est_ca_load_ca_certs (est, NULL, error))
        {
          g_prefix_error (error, _("Cannot use the EST CA %s: "), ds_est_ca_get_url (est));
          return NULL;
        }
    }
  else
    {
      DsCfsslCa *cfssl = ds_cfssl_ca_new (url, o, error);

      ca = DS_CA (cfssl);
      if (cfssl != NULL && !ds_cfssl_ca_load_ca_certs (cfssl, NULL, error))
        {
          g_prefix_error (error, _("Cannot use the CFSSL CA %s: "), url);
          return NULL;
        }
    }
  return g_steal_pointer (&ca);
}

gboolean
ds_cli_ca_wants_legacy_cn (void)
{
  return opt_legacy_cn || (opt_ca != NULL && g_str_has_prefix (opt_ca, "cfssl:"));
}

gboolean
ds_cli_ca_is_authenticated (void)
{
  return (opt_client_cert != NULL && opt_client_key != NULL) || opt_ca_user != NULL;
}

gboolean
ds_cli_ca_is_remote (void)
{
  return opt_ca != NULL && (g_str_has_prefix (opt_ca, "est:") || g_str_has_prefix (opt_ca, "cfssl:"));
}

/* The certificate authority of a provisioning run: the options, laid over
 * the profile's [ca] group. */
#include "config.h"

#include "ds-cli-ca.h"

#include <glib/gi18n.h>

#include "ds-ca-config.h"
#include "ds-cli-common.h"
#include "ds-error.h"
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

/* Sets *@target to @value unless @value is NULL: what the command line
 * says wins over the file. */
static void
override (char       **target,
          const char  *value)
{
  if (value == NULL)
    return;
  g_free (*target);
  *target = g_strdup (value);
}

/* The [ca] group of a key file (--ca-config): the same settings as the
 * options, for a station set up once per line.  Replaces @config. */
static gboolean
load_config (DsCaConfig *config,
             const char *path,
             GError    **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(GError) local_error = NULL;
  g_autoptr(DsCaConfig) c = NULL;
  gsize len = 0;

  if (!ds_util_read_file (path, DS_UTIL_MAX_CONFIG_FILE, &contents, &len, &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("Cannot read the CA settings %s: %s"), path, local_error->message);
      return FALSE;
    }
  c = ds_ca_config_parse (contents, len, path, dir, error);
  if (c == NULL)
    return FALSE;
  override (&config->ca, c->ca);
  override (&config->ca_bundle, c->ca_bundle);
  override (&config->client_cert, c->client_cert);
  override (&config->client_key, c->client_key);
  override (&config->client_key_pin_file, c->client_key_pin_file);
  override (&config->pkcs11_module, c->pkcs11_module);
  override (&config->pin, c->pin);
  override (&config->est_label, c->est_label);
  override (&config->cfssl_profile, c->cfssl_profile);
  override (&config->paa, c->paa);
  override (&config->pai, c->pai);
  override (&config->user, c->user);
  override (&config->password_file, c->password_file);
  if (c->timeout_s > 0)
    config->timeout_s = c->timeout_s;
  config->legacy_cn = config->legacy_cn || c->legacy_cn;
  return TRUE;
}

gboolean
ds_cli_ca_apply (DsCaConfig *config,
                 GError    **error)
{
  if (opt_ca_config != NULL && !load_config (config, opt_ca_config, error))
    return FALSE;
  /* 0 would be read as "no limit" by some layers: a number of seconds it is. */
  if (opt_ca_timeout != OPT_INT_UNSET && (opt_ca_timeout < 1 || opt_ca_timeout > DS_CA_CONFIG_MAX_TIMEOUT))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("--ca-timeout takes a number of seconds from 1 to %d, not %d"),
                   DS_CA_CONFIG_MAX_TIMEOUT, opt_ca_timeout);
      return FALSE;
    }
  override (&config->ca, opt_ca);
  override (&config->ca_bundle, opt_ca_bundle);
  override (&config->client_cert, opt_client_cert);
  override (&config->client_key, opt_client_key);
  override (&config->client_key_pin_file, opt_client_key_pin_file);
  override (&config->pkcs11_module, opt_pkcs11_module);
  override (&config->pin, opt_pin);
  override (&config->est_label, opt_est_label);
  override (&config->cfssl_profile, opt_cfssl_profile);
  override (&config->paa, opt_paa);
  override (&config->pai, opt_pai);
  override (&config->user, opt_ca_user);
  override (&config->password_file, opt_ca_password_file);
  if (opt_ca_timeout != OPT_INT_UNSET)
    config->timeout_s = opt_ca_timeout;
  config->legacy_cn = config->legacy_cn || opt_legacy_cn;
  return TRUE;
}

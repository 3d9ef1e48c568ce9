/* The [ca] group of a station's key file: which certificate authority, and
 * how to reach it.  Never a password or a token PIN (files or the
 * environment hold those). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest a CA request may take, in seconds. */
#define DS_CA_CONFIG_MAX_TIMEOUT 3600

typedef struct {
  char     *ca;                  /* test | est:URL | cfssl:URL */
  char     *ca_bundle;
  char     *client_cert;
  char     *client_key;          /* a path, or a pkcs11: URI */
  char     *client_key_pin_file;
  char     *pkcs11_module;
  char     *pin;                 /* the server's public-key pin, sha256//... */
  char     *est_label;
  char     *cfssl_profile;
  char     *paa;
  char     *pai;
  char     *user;
  char     *password_file;
  gint      timeout_s;           /* 0: not set, else 1 … DS_CA_CONFIG_MAX_TIMEOUT */
  gboolean  legacy_cn;
} DsCaConfig;

void        ds_ca_config_free  (DsCaConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsCaConfig, ds_ca_config_free)

/* Parses @data (a key file) named @origin in messages; relative paths are
 * taken from @base_dir (a pkcs11: URI is not a path).  DS_ERROR_CONFIG for
 * a file that is not a key file, has no [ca] group, names an unknown
 * setting, holds a password or PIN, or a timeout out of range. */
DsCaConfig *ds_ca_config_parse (const char  *data,
                                gsize        len,
                                const char  *origin,
                                const char  *base_dir,
                                GError     **error);

G_END_DECLS

/* The certificate authority of a provisioning run: --ca and its options. */
#pragma once

#include <glib.h>

#include "ds-ca-config.h"

G_BEGIN_DECLS

/* --ca test|est:URL|cfssl:URL, --ca-bundle, --client-cert, --client-key,
 * --client-key-pin-file, --pkcs11-module, --pin, --est-label, --cfssl-profile, --paa, --pai, --ca-user,
 * --ca-password-file, --ca-timeout. */
extern GOptionEntry ca_entries[];

/* Lays --ca-config, then the options given, over @config (a profile's
 * [ca] group): the command line wins.  The library builds the CA; the
 * Basic password comes from --ca-password-file or DS_CA_PASSWORD, the PIN
 * of a client key in a PKCS#11 token from --client-key-pin-file or
 * DS_PKCS11_PIN: never from the command line. */
gboolean ds_cli_ca_apply (DsCaConfig *config,
                          GError    **error);

G_END_DECLS

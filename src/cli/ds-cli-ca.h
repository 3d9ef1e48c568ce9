/* The certificate authority of a provisioning run: --ca and its options. */
#pragma once

#include <glib.h>

#include "ds-ca.h"

G_BEGIN_DECLS

/* --ca test|est:URL|cfssl:URL, --ca-bundle, --client-cert, --client-key,
 * --client-key-pin-file, --pkcs11-module, --pin, --est-label, --cfssl-profile, --paa, --pai, --ca-user,
 * --ca-password-file, --ca-timeout. */
extern GOptionEntry ca_entries[];

/* Builds the CA the options name.  A remote CA is asked for its
 * certificates at once, so a wrong address, bundle, pin or credential stops
 * the run before any board is touched.  The Basic password comes from
 * --ca-password-file or DS_CA_PASSWORD, the PIN of a client key in a
 * PKCS#11 token from --client-key-pin-file or DS_PKCS11_PIN: never from the
 * command line. */
DsCa *ds_cli_make_ca (const char *pki_dir,
                      guint16     vid,
                      gboolean    json,
                      GError    **error);

/* TRUE when boards should put the legacy "Mvid:XXXX Mpid:XXXX" in their
 * CSR's CN: --legacy-cn, or a CFSSL CA (CFSSL 1.2 keeps only the CN). */
gboolean ds_cli_ca_wants_legacy_cn (void);

/* TRUE when the station proves who it is to a remote CA: a TLS client
 * certificate, or HTTP Basic.  Production mode requires it. */
gboolean ds_cli_ca_is_authenticated (void);
/* TRUE when --ca names a remote CA (est: or cfssl:). */
gboolean ds_cli_ca_is_remote        (void);

G_END_DECLS

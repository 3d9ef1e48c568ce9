/* A station client key that lives in a PKCS#11 token: RFC 7512 URIs, the
 * token PIN, and OpenSSL's pkcs11 engine (libp11) that libcurl signs with. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The OpenSSL engine libcurl is told to use (CURLOPT_SSLENGINE). */
#define DS_PKCS11_ENGINE "pkcs11"
/* The Debian package that provides it, for messages. */
#define DS_PKCS11_ENGINE_PACKAGE "libengine-pkcs11-openssl"

/* @uri as it may be shown: the value of every pin-value attribute (in the
 * path or the query, its name percent-encoded or not) replaced by "***".
 * Anything that is not a pkcs11: URI comes back unchanged. */
char    *ds_pkcs11_display_uri     (const char  *uri);
/* TRUE when @key names a token object ("pkcs11:...") rather than a file. */
gboolean ds_pkcs11_is_uri          (const char  *key);

/* Checks the shape of a key URI: "pkcs11:" with at least one attribute, a
 * private key (type=private, or no type), and no PIN in it (pin-value,
 * pin-source): a PIN in a URI ends up in process lists and shell histories.
 * DS_ERROR_CONFIG with the reason. */
gboolean ds_pkcs11_check_uri       (const char  *uri,
                                    GError     **error);

/* Loads the pkcs11 engine once per process and keeps it loaded (so the
 * PKCS#11 module is not reloaded for every TLS handshake).  @module: the
 * PKCS#11 module the engine opens (libp11's MODULE_PATH); NULL: the
 * engine's default, p11-kit's proxy, which opens every module p11-kit
 * knows.  One module per process: asking for another one later is an error.
 * DS_ERROR_CONFIG naming the Debian package when the engine is missing. */
gboolean ds_pkcs11_engine_prepare  (const char  *module,
                                    GError     **error);

/* Reads a token PIN from @path: refused when the file is readable by group
 * or others; the first line, without its line end.  Free with
 * ds_pkcs11_secret_free(). */
char    *ds_pkcs11_read_pin_file   (const char  *path,
                                    GError     **error);

/* Wipes and frees a secret string; NULL is fine. */
void     ds_pkcs11_secret_free     (char        *secret);

/* Why the engine could not use a key, taken from this thread's OpenSSL
 * error queue after a failure (libp11's reason, such as "PIN incorrect"),
 * or NULL when the queue has no reason.  Empties the queue. */
char    *ds_pkcs11_take_engine_error (void);

G_END_DECLS

/* EST's certs-only answers (RFC 7030 4.1.3, 4.2.3; RFC 8951): a degenerate
 * PKCS#7 SignedData carrying certificates, base64 on the wire.  Pure
 * functions over bytes, so they can be fuzzed. */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

/* Checks that @content_type is application/pkcs7-mime (with smime-type
 * certs-only when a smime-type is given).  DS_ERROR_PROTOCOL otherwise. */
gboolean   ds_pkcs7_check_content_type (const char  *content_type,
                                        GError     **error);

/* Decodes a certs-only body: base64 (any line breaks and white space), or
 * DER when @transfer_encoding is "binary".  Returns the certificates (X509 *,
 * freed with the array), at least one.  DS_ERROR_PROTOCOL with the reason on
 * anything else. */
GPtrArray *ds_pkcs7_decode_certs_only  (const guint8 *body,
                                        gsize         len,
                                        const char   *transfer_encoding,
                                        GError      **error);

/* Encodes @certs as a certs-only PKCS#7 in base64, as an EST server sends
 * it: one line, or CRLF every 64 characters when @line_breaks (both are
 * allowed; some clients, strongSwan's among them, read only the first). */
char      *ds_pkcs7_encode_certs_only  (X509 *const  *certs,
                                        guint         n_certs,
                                        gboolean      line_breaks);

G_END_DECLS

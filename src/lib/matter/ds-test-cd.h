/* The built-in test Certification Declaration: what the test CA's boards
 * get when no CD is configured, signed with the Matter SDK's published
 * test CD-signing key, as a development CD-signing authority would. */
#pragma once

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

/* The certificate ID of the built-in test CD, the one the Matter SDK's
 * example CDs carry (19 characters, as the specification wants). */
#define DS_TEST_CD_CERTIFICATE_ID "ZIG20142ZB330003-24"
/* Device type of the built-in test CD: 0x0016, Matter's Root Node. */
#define DS_TEST_CD_DEVICE_TYPE    0x0016

/* The Matter test CD-signing key pair (Chip-Test-CD-Signing-Key), or NULL
 * when OpenSSL cannot decode it.  A published test key: anything it signs
 * is test material, which production mode refuses. */
EVP_PKEY *ds_test_cd_dup_signing_key (void);

/* A Certification Declaration for product @vid:@pid with certification
 * type "development and test" (0), signed with the test CD-signing key
 * and checked with ds_cd_parse() before it is returned: DS_ERROR_FAILED
 * when the station's own validator refuses it.  The same bytes for the
 * same product on every call and every station (the signature's nonce is
 * derived from the key and the payload). */
GBytes   *ds_test_cd_build           (guint16  vid,
                                      guint16  pid,
                                      GError **error);


G_END_DECLS

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
 * when the station's own validator refuses it. */
GBytes   *ds_test_cd_build           (guint16  vid,
                                      guint16  pid,
                                      GError **error);

/* The built-in test CD for @vid:@pid kept in @dir (the test CA's pki/
 * folder) as test-cd-VVVV-PPPP.der: read when it is there, else built and
 * written.  An ECDSA signature differs each time it is made, and a board
 * locked with one CD is proven so by reading back exactly that CD, so the
 * CD is made once per test PKI like the PAA and PAI.  A file there that
 * is not a valid test CD for the product is DS_ERROR_INVALID_DATA. */
GBytes   *ds_test_cd_load_or_build   (const char *dir,
                                      guint16     vid,
                                      guint16     pid,
                                      GError    **error);

G_END_DECLS

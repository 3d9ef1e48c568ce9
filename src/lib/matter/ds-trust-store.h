/* A Matter PAA trust store: the roots a DAC chain may end in, as the Matter
 * ecosystem distributes them (a directory of DER/PEM files, or a PEM bundle),
 * indexed by subject key identifier.  Read-only once loaded, so job threads
 * may share it. */
#pragma once

#include <glib-object.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

#define DS_TYPE_TRUST_STORE (ds_trust_store_get_type ())
G_DECLARE_FINAL_TYPE (DsTrustStore, ds_trust_store, DS, TRUST_STORE, GObject)

DsTrustStore *ds_trust_store_new          (void);
/* Loads the PAAs of @path: every *.der, *.pem, *.crt and *.cer of a
 * directory, or one file (DER, or any number of PEM certificates).  PAAs
 * that break the Matter PAA format are skipped and listed by
 * ds_trust_store_get_skipped().  Fails when @path cannot be read or yields
 * no usable PAA. */
gboolean      ds_trust_store_add_path     (DsTrustStore *self,
                                           const char   *path,
                                           GError      **error);
/* Adds one PAA (DER or PEM); FALSE with the reason when it is not a
 * conforming Matter PAA. */
gboolean      ds_trust_store_add_der      (DsTrustStore *self,
                                           GBytes       *der_or_pem,
                                           const char   *origin,
                                           GError      **error);
/* The PAA whose SKID is @skid (20 bytes), or NULL.  Transfer none. */
X509         *ds_trust_store_lookup       (DsTrustStore *self,
                                           const guint8 *skid,
                                           gsize         skid_len);
guint         ds_trust_store_get_count    (DsTrustStore *self);
/* "origin: reason" for each certificate not taken. */
GPtrArray    *ds_trust_store_get_skipped  (DsTrustStore *self);
/* Lower-case hex SHA-256 over the sorted SKIDs of the store's PAAs: names
 * the store's contents, for the configuration record. */
char         *ds_trust_store_dup_digest   (DsTrustStore *self);
/* TRUE when some PAA of the store is test material (see
 * ds_matter_paa_is_test()). */
gboolean      ds_trust_store_has_test_paa (DsTrustStore *self);
/* @der_or_pem parsed as a certificate, from a small cache of what was
 * parsed before through this store (a line's PAI repeats for every DAC);
 * NULL with @error when unreadable.  Transfer full. */
X509         *ds_trust_store_parse_cached (DsTrustStore *self,
                                           GBytes       *der_or_pem,
                                           GError      **error);
/* An X509_STORE whose only anchor is @paa, a PAA of this store; made once
 * and shared (OpenSSL locks a store's lookups).  NULL when out of memory.
 * Transfer full. */
X509_STORE   *ds_trust_store_dup_anchor   (DsTrustStore *self,
                                           X509         *paa);

G_END_DECLS

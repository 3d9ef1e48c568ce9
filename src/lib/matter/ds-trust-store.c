/* The PAA trust store. */
#include "config.h"

#include "ds-trust-store.h"

#include <glib/gi18n-lib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-matter-format.h"
#include "ds-util.h"

struct _DsTrustStore
{
  GObject     parent_instance;

  GHashTable *by_skid;   /* hex SKID -> X509 */
  GPtrArray  *skipped;   /* char* */
  gboolean    has_test;

  /* What verifying against the store keeps, so that a line's thousandth
   * DAC costs no more than its first: the PAIs parsed (they repeat), and
   * per PAA an X509_STORE holding it as the only anchor. */
  GMutex      cache_lock;
  GHashTable *parsed;    /* GBytes (DER or PEM) -> X509 */
  GHashTable *anchors;   /* X509 (a PAA of by_skid) -> X509_STORE */
};

/* Enough for every PAI of a line; past it the cache starts over. */
#define MAX_PARSED 32

G_DEFINE_FINAL_TYPE (DsTrustStore, ds_trust_store, G_TYPE_OBJECT)

static void
ds_trust_store_finalize (GObject *object)
{
  DsTrustStore *self = DS_TRUST_STORE (object);

  g_hash_table_unref (self->by_skid);
  g_ptr_array_unref (self->skipped);
  g_hash_table_unref (self->parsed);
  g_hash_table_unref (self->anchors);
  g_mutex_clear (&self->cache_lock);
  G_OBJECT_CLASS (ds_trust_store_parent_class)->finalize (object);
}

static void
ds_trust_store_class_init (DsTrustStoreClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_trust_store_finalize;
}

static void
ds_trust_store_init (DsTrustStore *self)
{
  self->by_skid = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) X509_free);
  self->skipped = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&self->cache_lock);
  self->parsed = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                        (GDestroyNotify) X509_free);
  self->anchors = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL, (GDestroyNotify) X509_STORE_free);
}

DsTrustStore *
ds_trust_store_new (void)
{
  return g_object_new (DS_TYPE_TRUST_STORE, NULL);
}

static gboolean
add_cert (DsTrustStore *self,
          X509         *cert,
          const char   *origin,
          GError      **error)
{
  g_autoptr(DsVerdict) verdict = ds_verdict_new ();
  const ASN1_OCTET_STRING *skid;
  g_autofree char *hex = NULL;
  X509 *existing;
  int der_len = i2d_X509 (cert, NULL);

  ds_matter_check_format (cert, der_len > 0 ? (gsize) der_len : 0, DS_CERT_ROLE_PAA, verdict);
  if (!ds_verdict_is_valid (verdict))
    {
      g_autofree char *why = ds_verdict_to_string (verdict, "; ");
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("%s is not a conforming Matter PAA: %s"), origin, why);
      return FALSE;
    }
  skid = X509_get0_subject_key_id (cert);
  if (skid == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("%s: its subject key identifier cannot be read"), origin);
      return FALSE;
    }
  hex = ds_hex_encode (ASN1_STRING_get0_data (skid), ASN1_STRING_length (skid));
  existing = g_hash_table_lookup (self->by_skid, hex);
  if (existing != NULL)
    {
      if (X509_cmp (existing, cert) == 0)
        return TRUE;  /* the same PAA in DER and PEM */
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("%s has the same key identifier as another PAA of the store"), origin);
      return FALSE;
    }
  X509_up_ref (cert);
  g_hash_table_insert (self->by_skid, g_steal_pointer (&hex), cert);
  if (ds_matter_paa_is_test (cert))
    self->has_test = TRUE;
  return TRUE;
}

static gboolean
looks_like_pem (const guint8 *p,
                gsize         len)
{
  for (gsize i = 0; i + 10 <= len; i++)
    if (p[i] == '-' && memcmp (p + i, "-----BEGIN", 10) == 0)
      return TRUE;
  return FALSE;
}

/* Every certificate of @data: one DER, or a run of PEM blocks. */
static GPtrArray *
parse_certs (GBytes *data)
{
  GPtrArray *certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (data, &len);

  if (len == 0 || len > G_MAXINT)
    return certs;
  if (looks_like_pem (p, len))
    {
      g_autoptr(BIO) bio = BIO_new_mem_buf (p, (int) len);
      X509 *cert;

      while ((cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL)) != NULL)
        g_ptr_array_add (certs, cert);
    }
  else
    {
      const unsigned char *q = p;
      X509 *cert = d2i_X509 (NULL, &q, (long) len);

      if (cert != NULL && q == p + len)
        g_ptr_array_add (certs, cert);
      else
        X509_free (cert);
    }
  ERR_clear_error ();
  return certs;
}

gboolean
ds_trust_store_add_der (DsTrustStore *self,
                        GBytes       *der_or_pem,
                        const char   *origin,
                        GError      **error)
{
  g_autoptr(GPtrArray) certs = parse_certs (der_or_pem);
  gboolean ok = TRUE;

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), FALSE);

  if (certs->len == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("%s holds no certificate"), origin);
      return FALSE;
    }
  for (guint i = 0; i < certs->len; i++)
    {
      g_autoptr(GError) local_error = NULL;

      if (!add_cert (self, certs->pdata[i], origin, &local_error))
        {
          g_ptr_array_add (self->skipped, g_strdup (local_error->message));
          if (ok)
            g_propagate_error (error, g_steal_pointer (&local_error));
          ok = FALSE;
        }
    }
  return ok;
}

static gboolean
add_file (DsTrustStore *self,
          const char   *path,
          gboolean      quiet,
          GError      **error)
{
  g_autofree char *contents = NULL;
  gsize len = 0;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!ds_util_read_file (path, DS_UTIL_MAX_CERT_FILE, &contents, &len, error))
    return FALSE;
  bytes = g_bytes_new_take (g_steal_pointer (&contents), len);
  if (!ds_trust_store_add_der (self, bytes, path, &local_error) && !quiet)
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_trust_store_add_path (DsTrustStore *self,
                         const char   *path,
                         GError      **error)
{
  guint before = g_hash_table_size (self->by_skid);

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), FALSE);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, error);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        return FALSE;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (name, ".der") || g_str_has_suffix (name, ".pem") ||
            g_str_has_suffix (name, ".crt") || g_str_has_suffix (name, ".cer"))
          g_ptr_array_add (names, g_strdup (name));
      /* A stable order, so the same store always loads the same way. */
      g_ptr_array_sort (names, (GCompareFunc) ds_util_compare_strings);
      for (guint i = 0; i < names->len; i++)
        {
          g_autofree char *file = g_build_filename (path, (const char *) names->pdata[i], NULL);

          /* One bad file does not spoil a directory, as in the Matter SDK's
           * file trust store; it is listed as skipped. */
          if (!add_file (self, file, TRUE, error))
            return FALSE;
        }
    }
  else if (!add_file (self, path, FALSE, error))
    return FALSE;

  if (g_hash_table_size (self->by_skid) == before)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("%s holds no conforming Matter PAA certificate"), path);
      return FALSE;
    }
  return TRUE;
}

X509 *
ds_trust_store_lookup (DsTrustStore *self,
                       const guint8 *skid,
                       gsize         skid_len)
{
  g_autofree char *hex = NULL;

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), NULL);

  if (skid == NULL || skid_len == 0)
    return NULL;
  hex = ds_hex_encode (skid, skid_len);
  return g_hash_table_lookup (self->by_skid, hex);
}

guint
ds_trust_store_get_count (DsTrustStore *self)
{
  g_return_val_if_fail (DS_IS_TRUST_STORE (self), 0);
  return g_hash_table_size (self->by_skid);
}

GPtrArray *
ds_trust_store_get_skipped (DsTrustStore *self)
{
  g_return_val_if_fail (DS_IS_TRUST_STORE (self), NULL);
  return self->skipped;
}

gboolean
ds_trust_store_has_test_paa (DsTrustStore *self)
{
  g_return_val_if_fail (DS_IS_TRUST_STORE (self), FALSE);
  return self->has_test;
}

char *
ds_trust_store_dup_digest (DsTrustStore *self)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GList) keys = NULL;

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), NULL);

  keys = g_list_sort (g_hash_table_get_keys (self->by_skid), (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    g_checksum_update (sum, (const guchar *) l->data, -1);
  return g_strdup (g_checksum_get_string (sum));
}

X509 *
ds_trust_store_parse_cached (DsTrustStore *self,
                             GBytes       *der_or_pem,
                             GError      **error)
{
  g_autoptr(GMutexLocker) locker = NULL;
  X509 *cert;

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), NULL);
  g_return_val_if_fail (der_or_pem != NULL, NULL);

  locker = g_mutex_locker_new (&self->cache_lock);
  cert = g_hash_table_lookup (self->parsed, der_or_pem);
  if (cert != NULL)
    {
      X509_up_ref (cert);
      return cert;
    }
  g_clear_pointer (&locker, g_mutex_locker_free);

  /* Parsed without the lock: two threads may both parse a new PAI, and
   * the second one's copy replaces the first in the cache. */
  cert = ds_cert_parse (der_or_pem, error);
  if (cert == NULL)
    return NULL;
  locker = g_mutex_locker_new (&self->cache_lock);
  if (g_hash_table_size (self->parsed) >= MAX_PARSED)
    g_hash_table_remove_all (self->parsed);
  X509_up_ref (cert);
  g_hash_table_replace (self->parsed, g_bytes_ref (der_or_pem), cert);
  return cert;
}

X509_STORE *
ds_trust_store_dup_anchor (DsTrustStore *self,
                           X509         *paa)
{
  g_autoptr(GMutexLocker) locker = NULL;
  X509_STORE *store;

  g_return_val_if_fail (DS_IS_TRUST_STORE (self), NULL);
  g_return_val_if_fail (paa != NULL, NULL);

  locker = g_mutex_locker_new (&self->cache_lock);
  store = g_hash_table_lookup (self->anchors, paa);
  if (store == NULL)
    {
      store = X509_STORE_new ();
      if (store == NULL || X509_STORE_add_cert (store, paa) != 1)
        {
          ERR_clear_error ();
          X509_STORE_free (store);
          return NULL;
        }
      g_hash_table_insert (self->anchors, paa, store);
    }
  X509_STORE_up_ref (store);
  return store;
}

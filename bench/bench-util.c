/* What the benchmarks share. */
#include "bench-util.h"

#include <openssl/x509.h>

#include "ds-crypto.h"

GBytes *
bench_make_csr (EVP_PKEY   *key,
                const char *common_name)
{
  g_autoptr(X509_REQ) req = X509_REQ_new ();
  X509_NAME *name = X509_NAME_new ();
  int nid_vid, nid_pid;
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  ds_crypto_init (&nid_vid, &nid_pid);
  X509_NAME_add_entry_by_NID (name, NID_commonName, MBSTRING_UTF8, (const unsigned char *) common_name, -1, -1, 0);
  X509_NAME_add_entry_by_NID (name, nid_vid, MBSTRING_UTF8, (const unsigned char *) "FFF1", 4, -1, 0);
  X509_NAME_add_entry_by_NID (name, nid_pid, MBSTRING_UTF8, (const unsigned char *) "8000", 4, -1, 0);
  X509_REQ_set_subject_name (req, name);
  X509_NAME_free (name);
  X509_REQ_set_pubkey (req, key);
  X509_REQ_sign (req, key, EVP_sha256 ());
  len = i2d_X509_REQ (req, &der);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

/* CSR and certificate helpers on OpenSSL 3: parsing, the station's checks,
 * fingerprints, signatures and atomic file writes. */
#include "config.h"

#include "ds-crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <unistd.h>

#include "ds-error.h"
#include "ds-util.h"

static int nid_matter_vid = NID_undef;
static int nid_matter_pid = NID_undef;

static int
register_oid (const char *oid,
              const char *sn,
              const char *ln)
{
  int nid = OBJ_txt2nid (oid);

  if (nid == NID_undef)
    nid = OBJ_create (oid, sn, ln);
  /* OBJ_create fails when another library registered the same short name
   * for another OID; fall back to an anonymous registration. */
  if (nid == NID_undef)
    nid = OBJ_create (oid, NULL, NULL);
  return nid;
}

static gpointer
crypto_init_once (gpointer data)
{
  nid_matter_vid = register_oid (DS_OID_MATTER_VID, "matterVID", "Matter Vendor ID");
  nid_matter_pid = register_oid (DS_OID_MATTER_PID, "matterPID", "Matter Product ID");
  return NULL;
}

void
ds_crypto_init (int *nid_vid,
                int *nid_pid)
{
  static GOnce once = G_ONCE_INIT;

  g_once (&once, crypto_init_once, NULL);
  if (nid_vid != NULL)
    *nid_vid = nid_matter_vid;
  if (nid_pid != NULL)
    *nid_pid = nid_matter_pid;
}

X509_REQ *
ds_csr_parse (GBytes  *der,
              GError **error)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (der, &len);
  const unsigned char *start = p;
  X509_REQ *req;

  if (p == NULL || len == 0 || len > G_MAXINT)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The CSR is empty"));
      return NULL;
    }
  req = d2i_X509_REQ (NULL, &p, (long) len);
  if (req == NULL)
    {
      ds_set_error_openssl (error, DS_ERROR_INVALID_DATA, _("The CSR is not a DER PKCS#10 request"));
      return NULL;
    }
  if ((gsize) (p - start) == len)
    {
      const char *problem = ds_der_check (start, len);

      if (problem != NULL)
        {
          X509_REQ_free (req);
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The CSR is not DER: %s"), problem);
          return NULL;
        }
    }
  if ((gsize) (p - start) != len)
    {
      X509_REQ_free (req);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The CSR has %zu bytes of trailing data"),
                   len - (gsize) (p - start));
      return NULL;
    }
  return req;
}

EVP_PKEY *
ds_csr_get_pubkey (X509_REQ *req)
{
  return X509_REQ_get_pubkey (req);
}

/* Checks that @key is EC on P-256; sets an operator-readable error. */
static gboolean
check_p256 (EVP_PKEY   *key,
            const char *whose,
            GError    **error)
{
  char group[64] = { 0 };
  size_t glen = 0;

  if (key == NULL || EVP_PKEY_get_base_id (key) != EVP_PKEY_EC)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("%s key is not an elliptic-curve key"), whose);
      return FALSE;
    }
  if (!EVP_PKEY_get_utf8_string_param (key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &glen))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("%s key has no named curve"), whose);
      return FALSE;
    }
  if (OBJ_txt2nid (group) != NID_X9_62_prime256v1)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("%s key is not on curve P-256 (found %s)"), whose, group);
      return FALSE;
    }
  return TRUE;
}

/* Reads a 4-hex-digit upper-case Matter ID from an ASN1_STRING. */
static gboolean
parse_matter_id (const unsigned char *d,
                 gsize                len,
                 guint16             *out)
{
  guint v = 0;

  if (len != 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int c = d[i];
      if (c >= '0' && c <= '9')
        v = v * 16 + (c - '0');
      else if (c >= 'A' && c <= 'F')
        v = v * 16 + (c - 'A' + 10);
      else
        return FALSE;
    }
  *out = (guint16) v;
  return TRUE;
}

/* Scans @cn (the first @len bytes) left to right for @prefix followed by
 * four upper-case hex digits; the first such occurrence wins and anything
 * may follow it.  Returns 1 when found, 0 when @prefix never occurs, -1 when
 * it occurs but never with a valid value (the Matter SDK's
 * Find16BitUpperCaseHexAfterPrefix). */
static int
find_hex_after_prefix (const char *cn,
                       gsize       len,
                       const char *prefix,
                       guint16    *out)
{
  gsize plen = strlen (prefix);
  gboolean seen = FALSE;

  for (gsize i = 0; i + plen <= len; i++)
    {
      if (memcmp (cn + i, prefix, plen) != 0)
        continue;
      seen = TRUE;
      if (i + plen + 4 <= len && parse_matter_id ((const unsigned char *) cn + i + plen, 4, out))
        return 1;
    }
  return seen ? -1 : 0;
}

gboolean
ds_name_get_matter_ids (const X509_NAME *name,
                        DsMatterIds     *ids,
                        const char     **problem)
{
  DsMatterIds from_oid = { 0 }, from_cn = { 0 };
  int nid_vid, nid_pid;
  const char *dummy;

  if (problem == NULL)
    problem = &dummy;
  *problem = NULL;
  memset (ids, 0, sizeof *ids);
  ds_crypto_init (&nid_vid, &nid_pid);

  /* Attributes in encoding order, as ExtractVIDPIDFromX509Cert walks them. */
  for (int i = 0; i < X509_NAME_entry_count (name); i++)
    {
      const X509_NAME_ENTRY *entry = X509_NAME_get_entry (name, i);
      int nid = OBJ_obj2nid (X509_NAME_ENTRY_get_object (entry));
      const ASN1_STRING *s = X509_NAME_ENTRY_get_data (entry);
      const unsigned char *d = ASN1_STRING_get0_data (s);
      gsize len = (gsize) ASN1_STRING_length (s);

      if (nid == nid_vid || nid == nid_pid)
        {
          gboolean is_vid = nid == nid_vid;
          gboolean *has = is_vid ? &from_oid.has_vid : &from_oid.has_pid;
          guint16 *value = is_vid ? &from_oid.vid : &from_oid.pid;

          if (*has)
            {
              *problem = is_vid ? "vid.duplicate" : "pid.duplicate";
              return FALSE;
            }
          if (!parse_matter_id (d, len, value))
            {
              *problem = is_vid ? "vid.format" : "pid.format";
              return FALSE;
            }
          *has = TRUE;
        }
      else if (nid == NID_commonName && !from_cn.has_vid && !from_cn.has_pid)
        {
          /* Only the first 64 bytes of a CN count (kMax_CommonNameAttr_Length). */
          const char *cn = (const char *) d;
          int r;

          len = MIN (len, 64);
          r = find_hex_after_prefix (cn, len, "Mvid:", &from_cn.vid);
          if (r < 0)
            {
              *problem = "vid.format";
              return FALSE;
            }
          from_cn.has_vid = r > 0;
          r = find_hex_after_prefix (cn, len, "Mpid:", &from_cn.pid);
          if (r < 0)
            {
              *problem = "pid.format";
              return FALSE;
            }
          from_cn.has_pid = r > 0;
        }
    }

  /* Any Matter attribute wins over the CN entirely: no mixing. */
  *ids = (from_oid.has_vid || from_oid.has_pid) ? from_oid : from_cn;
  return TRUE;
}

static void
name_get_vid_pid (const X509_NAME *name,
                  gboolean        *has_vid,
                  guint16         *vid,
                  gboolean        *has_pid,
                  guint16         *pid)
{
  DsMatterIds ids;

  ds_name_get_matter_ids (name, &ids, NULL);
  *has_vid = ids.has_vid;
  *has_pid = ids.has_pid;
  if (ids.has_vid)
    *vid = ids.vid;
  if (ids.has_pid)
    *pid = ids.pid;
}

static char *
name_get_cn (const X509_NAME *name)
{
  int idx = X509_NAME_get_index_by_NID (name, NID_commonName, -1);
  const ASN1_STRING *s;

  if (idx < 0)
    return NULL;
  s = X509_NAME_ENTRY_get_data (X509_NAME_get_entry (name, idx));
  return g_strndup ((const char *) ASN1_STRING_get0_data (s), ASN1_STRING_length (s));
}

gboolean
ds_csr_check (X509_REQ           *req,
              const DsCsrSubject *expected,
              GError            **error)
{
  g_autoptr(EVP_PKEY) key = X509_REQ_get_pubkey (req);
  const X509_NAME *subject = X509_REQ_get_subject_name (req);
  const X509_ALGOR *alg = NULL;
  const ASN1_OBJECT *alg_oid = NULL;
  gboolean has_vid, has_pid;
  guint16 vid = 0, pid = 0;

  if (!check_p256 (key, _("The board's"), error))
    return FALSE;
  X509_REQ_get0_signature (req, NULL, &alg);
  X509_ALGOR_get0 (&alg_oid, NULL, NULL, alg);
  if (OBJ_obj2nid (alg_oid) != NID_ecdsa_with_SHA256)
    {
      char name[80];
      OBJ_obj2txt (name, sizeof name, alg_oid, 0);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The board's CSR is signed with %s, not ecdsa-with-SHA256"), name);
      return FALSE;
    }
  if (X509_REQ_verify (req, key) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The board's CSR is not signed by its own key (no proof of possession)"));
      return FALSE;
    }
  if (expected == NULL)
    return TRUE;

  if (expected->common_name != NULL)
    {
      g_autofree char *cn = name_get_cn (subject);

      if (g_strcmp0 (cn, expected->common_name) != 0)
        {
          /* The board wrote that name: shown made safe. */
          g_autofree char *shown = ds_util_sanitize_text (cn != NULL ? cn : "", -1, DS_UTIL_MAX_PEER_TEXT);

          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The board's CSR names “%s”, but the station asked for “%s”"),
                       shown, expected->common_name);
          return FALSE;
        }
    }
  {
    DsMatterIds ids;
    const char *problem = NULL;

    if (!ds_name_get_matter_ids (subject, &ids, &problem))
      {
        if (g_strcmp0 (problem, "vid.duplicate") == 0)
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The CSR has two vendor IDs; the station asked for one, %04X"), expected->vid);
        else if (g_strcmp0 (problem, "pid.duplicate") == 0)
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The CSR has two product IDs; the station asked for one, %04X"), expected->pid);
        else if (g_strcmp0 (problem, "vid.format") == 0)
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The CSR's vendor ID is not four upper-case hex digits; the station asked for %04X"),
                       expected->vid);
        else
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The CSR's product ID is not four upper-case hex digits; the station asked for %04X"),
                       expected->pid);
        return FALSE;
      }
    has_vid = ids.has_vid;
    has_pid = ids.has_pid;
    vid = ids.vid;
    pid = ids.pid;
  }
  if (!has_vid)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The CSR has no vendor ID; the station asked for %04X"), expected->vid);
      return FALSE;
    }
  if (vid != expected->vid)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The CSR asks for VID %04X but the station asked for %04X"), vid, expected->vid);
      return FALSE;
    }
  if (!has_pid)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The CSR has no product ID; the station asked for %04X"), expected->pid);
      return FALSE;
    }
  if (pid != expected->pid)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The CSR asks for PID %04X but the station asked for %04X"), pid, expected->pid);
      return FALSE;
    }
  return TRUE;
}

/* ---- strict DER ------------------------------------------------------ */

#define DER_MAX_DEPTH 32

/* One element at d[*pos], and everything inside it when it is constructed.
 * NULL when it is DER, else what is wrong. */
static const char *
der_walk (const guint8 *d,
          gsize         end,
          gsize        *pos,
          guint         depth)
{
  gsize p = *pos, len;
  guint8 tag, first;

  if (depth > DER_MAX_DEPTH)
    return N_("it nests too deeply");
  if (end - p < 2)
    return N_("an element is cut short");
  tag = d[p++];
  if ((tag & 0x1f) == 0x1f)
    {
      /* High tag number: base-128, no leading 0x80 byte, and only for
       * numbers that do not fit the low form. */
      guint64 number = 0;
      guint n = 0;

      if (d[p] == 0x80)
        return N_("a tag number is not minimal");
      do
        {
          if (p >= end || ++n > 4)
            return N_("a tag is cut short or too long");
          number = (number << 7) | (d[p] & 0x7f);
        }
      while (d[p++] & 0x80);
      if (number < 0x1f)
        return N_("a tag number is not minimal");
      if (p >= end)
        return N_("an element is cut short");
    }
  first = d[p++];
  if (first == 0x80)
    return N_("an element has an indefinite length (BER, not DER)");
  if (first < 0x80)
    len = first;
  else
    {
      gsize n = first & 0x7f;

      if (n > sizeof (gsize) || n > 4 || end - p < n)
        return N_("a length is cut short or too long");
      if (d[p] == 0)
        return N_("a length is not minimal (a leading zero byte)");
      len = 0;
      for (gsize i = 0; i < n; i++)
        len = (len << 8) | d[p++];
      if (len < 0x80)
        return N_("a length is not minimal (long form for a short length)");
    }
  if (end - p < len)
    return N_("an element is longer than the data");
  if (tag & 0x20)
    {
      gsize inner = p;

      while (inner < p + len)
        {
          const char *problem = der_walk (d, p + len, &inner, depth + 1);

          if (problem != NULL)
            return problem;
        }
    }
  *pos = p + len;
  return NULL;
}

const char *
ds_der_check (const guint8 *data,
              gsize         len)
{
  gsize pos = 0;
  const char *problem;

  if (data == NULL || len == 0)
    return _("it is empty");
  problem = der_walk (data, len, &pos, 0);
  if (problem != NULL)
    return _(problem);
  if (pos != len)
    return _("trailing data follows the element");
  return NULL;
}

/* The DER bytes of a certificate given as DER or PEM; NULL when PEM that
 * does not decode (OpenSSL's parser then says why). */
static GBytes *
cert_der_bytes (GBytes *der_or_pem)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (der_or_pem, &len);
  g_autoptr(BIO) bio = NULL;
  char *name = NULL, *header = NULL;
  unsigned char *data = NULL;
  long data_len = 0;
  GBytes *der = NULL;

  if (p == NULL || len < 10 || memcmp (p, "-----BEGIN", 10) != 0)
    return der_or_pem != NULL ? g_bytes_ref (der_or_pem) : NULL;
  bio = BIO_new_mem_buf (p, (int) MIN (len, (gsize) G_MAXINT));
  /* The first certificate, as PEM_read_bio_X509() takes it. */
  while (PEM_read_bio (bio, &name, &header, &data, &data_len) == 1)
    {
      gboolean is_cert = g_strcmp0 (name, PEM_STRING_X509) == 0 || g_strcmp0 (name, PEM_STRING_X509_OLD) == 0;

      if (is_cert)
        der = g_bytes_new (data, (gsize) data_len);
      OPENSSL_free (name);
      OPENSSL_free (header);
      OPENSSL_free (data);
      if (is_cert)
        break;
    }
  ERR_clear_error ();
  return der;
}

const char *
ds_cert_der_problem (GBytes *der_or_pem)
{
  g_autoptr(GBytes) der = cert_der_bytes (der_or_pem);
  gsize len = 0;
  const guint8 *data;

  if (der == NULL)
    return NULL;
  data = g_bytes_get_data (der, &len);
  return ds_der_check (data, len);
}

X509 *
ds_cert_parse (GBytes  *der_or_pem,
               GError **error)
{
  gsize len = 0;
  const unsigned char *p = g_bytes_get_data (der_or_pem, &len);
  X509 *cert = NULL;

  if (p == NULL || len == 0 || len > G_MAXINT)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The certificate is empty"));
      return NULL;
    }
  if (len > 10 && memcmp (p, "-----BEGIN", 10) == 0)
    {
      g_autoptr(BIO) bio = BIO_new_mem_buf (p, (int) len);
      cert = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
    }
  else
    {
      const unsigned char *q = p;
      cert = d2i_X509 (NULL, &q, (long) len);
      if (cert != NULL && (gsize) (q - p) != len)
        {
          X509_free (cert);
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The certificate has trailing data"));
          return NULL;
        }
    }
  if (cert == NULL)
    {
      ds_set_error_openssl (error, DS_ERROR_INVALID_DATA, _("Not an X.509 certificate"));
      return NULL;
    }
  /* OpenSSL also takes BER (indefinite and long-form lengths); Matter
   * requires DER, and a signature over BER is not over what a commissioner
   * re-encodes. */
  {
    const char *problem = ds_cert_der_problem (der_or_pem);

    if (problem != NULL)
      {
        X509_free (cert);
        g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The certificate is not DER: %s"), problem);
        return NULL;
      }
  }
  return cert;
}

GBytes *
ds_cert_to_der (X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);
  GBytes *bytes;

  if (len <= 0)
    return NULL;
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

char *
ds_cert_to_pem (X509 *cert)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  if (!PEM_write_bio_X509 (bio, cert))
    return NULL;
  len = BIO_get_mem_data (bio, &data);
  return g_strndup (data, len);
}

static char *
sha256_hex (const guint8 *data,
            gsize         len)
{
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, len);
}

char *
ds_cert_fingerprint (X509 *cert)
{
  g_autoptr(GBytes) der = ds_cert_to_der (cert);

  if (der == NULL)
    return NULL;
  return sha256_hex (g_bytes_get_data (der, NULL), g_bytes_get_size (der));
}

char *
ds_cert_serial_hex (X509 *cert)
{
  const ASN1_INTEGER *serial = X509_get0_serialNumber (cert);
  g_autoptr(BIGNUM) bn = ASN1_INTEGER_to_BN (serial, NULL);
  char *hex;
  char *copy;

  if (bn == NULL)
    return g_strdup ("");
  hex = BN_bn2hex (bn);
  copy = g_strdup (hex[0] == '-' ? hex + 1 : hex);
  OPENSSL_free (hex);
  return copy;
}

char *
ds_cert_subject (X509 *cert)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *data = NULL;
  long len;

  /* Most specific first, as RFC 2253, but without its escapes ("\," for a
   * comma in a value): the subject is read by people in logs, messages and
   * records, never parsed back.  OpenSSL escapes nothing here, so the
   * sanitising below is the one that makes C0 and C1 controls, invalid
   * UTF-8 and backslashes from a CA or a board visible as \xNN and \\. */
  X509_NAME_print_ex (bio, X509_get_subject_name (cert), 0,
                      XN_FLAG_RFC2253 & ~(ASN1_STRFLGS_ESC_MSB | ASN1_STRFLGS_ESC_2253 | ASN1_STRFLGS_ESC_CTRL));
  len = BIO_get_mem_data (bio, &data);
  return ds_util_sanitize_text (data, len, 1024);
}

gboolean
ds_cert_get_vid_pid (X509     *cert,
                     gboolean *has_vid,
                     guint16  *vid,
                     gboolean *has_pid,
                     guint16  *pid)
{
  gboolean hv = FALSE, hp = FALSE;
  guint16 v = 0, p = 0;

  name_get_vid_pid (X509_get_subject_name (cert), &hv, &v, &hp, &p);
  if (has_vid != NULL)
    *has_vid = hv;
  if (has_pid != NULL)
    *has_pid = hp;
  if (hv && vid != NULL)
    *vid = v;
  if (hp && pid != NULL)
    *pid = p;
  return hv || hp;
}

char *
ds_pubkey_fingerprint (EVP_PKEY *key)
{
  unsigned char *der = NULL;
  int len = i2d_PUBKEY (key, &der);
  char *hex;

  if (len <= 0)
    return NULL;
  hex = sha256_hex (der, len);
  OPENSSL_free (der);
  return hex;
}

gboolean
ds_cert_add_ext (X509       *cert,
                 X509       *issuer,
                 int         nid,
                 const char *value)
{
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  gboolean ok;

  X509V3_set_ctx_nodb (&ctx);
  X509V3_set_ctx (&ctx, issuer != NULL ? issuer : cert, cert, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid (NULL, &ctx, nid, value);
  if (ext == NULL)
    return FALSE;
  ok = X509_add_ext (cert, ext, -1) == 1;
  X509_EXTENSION_free (ext);
  return ok;
}

/* SubjectPublicKeyInfo of an EC key on P-256 (named curve), up to the
 * uncompressed point's 0x04: exactly what i2d_PUBKEY() writes for one. */
static const guint8 p256_spki_prefix[] = {
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};

char *
ds_spki_fingerprint (X509_PUBKEY *spki)
{
  unsigned char *der = NULL;
  int len;
  char *hex = NULL;

  g_return_val_if_fail (spki != NULL, NULL);

  len = i2d_X509_PUBKEY (spki, &der);
  if (len == (int) sizeof p256_spki_prefix + 64 && memcmp (der, p256_spki_prefix, sizeof p256_spki_prefix) == 0)
    hex = sha256_hex (der, len);
  OPENSSL_free (der);
  if (hex == NULL)
    {
      EVP_PKEY *key = X509_PUBKEY_get0 (spki);

      ERR_clear_error ();
      hex = key != NULL ? ds_pubkey_fingerprint (key) : NULL;
    }
  return hex;
}

gboolean
ds_pubkey_equal (EVP_PKEY *a,
                 EVP_PKEY *b)
{
  if (a == NULL || b == NULL)
    return FALSE;
  return EVP_PKEY_eq (a, b) == 1;
}

gboolean
ds_verify_signature (EVP_PKEY     *key,
                     const guint8 *msg,
                     gsize         msg_len,
                     const guint8 *sig,
                     gsize         sig_len,
                     GError      **error)
{
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();

  if (EVP_DigestVerifyInit (ctx, NULL, EVP_sha256 (), NULL, key) != 1 ||
      EVP_DigestVerify (ctx, sig, sig_len, msg, msg_len) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The signature does not verify"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_file_atomic (const char *path,
                   const void *contents,
                   gsize       len,
                   int         mode,
                   gboolean    durable,
                   GError    **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *tmp = g_strconcat (path, ".XXXXXX", NULL);
  const guint8 *p = contents;
  int fd, dfd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot create %s: %s"), dir, g_strerror (errsv));
      return FALSE;
    }
  fd = g_mkstemp_full (tmp, O_WRONLY | O_CLOEXEC, mode);
  if (fd < 0)
    {
      int errsv = errno;
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write in %s: %s"), dir, g_strerror (errsv));
      return FALSE;
    }
  /* g_mkstemp_full's mode is filtered by the umask: make it exact. */
  fchmod (fd, mode);
  while (len > 0)
    {
      gssize n = write (fd, p, len);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int errsv = errno;
          close (fd);
          g_unlink (tmp);
          g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write %s: %s"), path, g_strerror (errsv));
          return FALSE;
        }
      p += n;
      len -= n;
    }
  /* The fd is closed whether or not the sync worked. */
  if (durable && fsync (fd) != 0)
    {
      int errsv = errno;
      close (fd);
      g_unlink (tmp);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  if (close (fd) != 0)
    {
      int errsv = errno;
      g_unlink (tmp);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  if (g_rename (tmp, path) != 0)
    {
      int errsv = errno;
      g_unlink (tmp);
      g_set_error (error, DS_ERROR, DS_ERROR_IO, _("Cannot write %s: %s"), path, g_strerror (errsv));
      return FALSE;
    }
  /* The rename itself must survive a power cut. */
  dfd = durable ? open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (dfd >= 0)
    {
      fsync (dfd);
      close (dfd);
    }
  return TRUE;
}

gboolean
ds_write_file_atomic (const char *path,
                      const void *contents,
                      gsize       len,
                      int         mode,
                      GError    **error)
{
  return write_file_atomic (path, contents, len, mode, TRUE, error);
}

gboolean
ds_write_file_replace (const char *path,
                       const void *contents,
                       gsize       len,
                       int         mode,
                       GError    **error)
{
  return write_file_atomic (path, contents, len, mode, FALSE, error);
}

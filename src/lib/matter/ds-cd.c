/* Certification Declaration: CMS envelope (DER) and Matter TLV payload. */
#include "config.h"

#include "ds-cd.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-verdict.h"
#include "ds-util.h"

/* Chip-Test-CD-Signing-Cert: the SDK's gTestCdPubkeyKid and gTestCdPubkeyBytes. */
const guint8 ds_cd_test_kid[DS_CD_KID_LEN] = {
  0x62, 0xfa, 0x82, 0x33, 0x59, 0xac, 0xfa, 0xa9, 0x96, 0x3e,
  0x1c, 0xfa, 0x14, 0x0a, 0xdd, 0xf5, 0x04, 0xf3, 0x71, 0x60,
};

static const guint8 test_cd_pubkey[65] = {
  0x04, 0x3c, 0x39, 0x89, 0x22, 0x45, 0x2b, 0x55, 0xca, 0xf3, 0x89, 0xc2,
  0x5b, 0xd1, 0xbc, 0xa4, 0x65, 0x69, 0x52, 0xcc, 0xb9, 0x0e, 0x88, 0x69,
  0x24, 0x9a, 0xd8, 0x47, 0x46, 0x53, 0x01, 0x4c, 0xbf, 0x95, 0xd6, 0x87,
  0x96, 0x5e, 0x03, 0x6b, 0x52, 0x1c, 0x51, 0x03, 0x7e, 0x6b, 0x8c, 0xed,
  0xef, 0xca, 0x1e, 0xb4, 0x40, 0x46, 0x69, 0x4f, 0xa0, 0x88, 0x82, 0xee,
  0xd6, 0x51, 0x9d, 0xec, 0xba,
};

/* DER content octets of the object identifiers the envelope uses. */
static const guint8 oid_signed_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02 };
static const guint8 oid_data[] = { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01 };
static const guint8 oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };
static const guint8 oid_ecdsa_sha256[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };

/* TLV context tags of the payload (Matter Core spec 6.3.1). */
enum {
  TAG_FORMAT_VERSION,
  TAG_VENDOR_ID,
  TAG_PRODUCT_ID_ARRAY,
  TAG_DEVICE_TYPE_ID,
  TAG_CERTIFICATE_ID,
  TAG_SECURITY_LEVEL,
  TAG_SECURITY_INFORMATION,
  TAG_VERSION_NUMBER,
  TAG_CERTIFICATION_TYPE,
  TAG_DAC_ORIGIN_VID,
  TAG_DAC_ORIGIN_PID,
  TAG_AUTHORIZED_PAA_LIST,
};

DsCd *
ds_cd_new (void)
{
  DsCd *cd = g_new0 (DsCd, 1);

  cd->product_ids = g_array_new (FALSE, FALSE, sizeof (guint16));
  return cd;
}

void
ds_cd_free (DsCd *cd)
{
  if (cd == NULL)
    return;
  g_array_unref (cd->product_ids);
  g_free (cd->certificate_id);
  g_clear_pointer (&cd->authorized_paas, g_ptr_array_unref);
  g_free (cd);
}

gboolean
ds_cd_has_product (const DsCd *cd,
                   guint16     pid)
{
  for (guint i = 0; i < cd->product_ids->len; i++)
    if (g_array_index (cd->product_ids, guint16, i) == pid)
      return TRUE;
  return FALSE;
}

/* ---- DER reading ---------------------------------------------------- */

typedef struct {
  const guint8 *p;
  const guint8 *end;
} Der;

/* Reads one definite-length DER element of @tag; its content goes to @out. */
static gboolean
der_read (Der   *d,
          guint8 tag,
          Der   *out)
{
  gsize len;

  if (d->end - d->p < 2 || d->p[0] != tag)
    return FALSE;
  len = d->p[1];
  d->p += 2;
  if (len & 0x80)
    {
      gsize n = len & 0x7f;

      if (n == 0 || n > 3 || (gsize) (d->end - d->p) < n)
        return FALSE;
      len = 0;
      for (gsize i = 0; i < n; i++)
        len = (len << 8) | *d->p++;
    }
  if ((gsize) (d->end - d->p) < len)
    return FALSE;
  out->p = d->p;
  out->end = d->p + len;
  d->p += len;
  return TRUE;
}

static gboolean
der_peek (const Der *d,
          guint8     tag)
{
  return d->p < d->end && d->p[0] == tag;
}

static gboolean
der_equal (const Der    *d,
           const guint8 *bytes,
           gsize         len)
{
  return (gsize) (d->end - d->p) == len && memcmp (d->p, bytes, len) == 0;
}

/* A small INTEGER (version numbers). */
static gboolean
der_read_small_int (Der  *d,
                    long *value)
{
  Der v;

  if (!der_read (d, 0x02, &v) || v.end - v.p < 1 || v.end - v.p > 2)
    return FALSE;
  *value = 0;
  for (const guint8 *q = v.p; q < v.end; q++)
    *value = (*value << 8) | *q;
  return TRUE;
}

/* AlgorithmIdentifier: is its OID @oid?  Parameters are ignored. */
static gboolean
der_read_alg (Der          *d,
              const guint8 *oid,
              gsize         oid_len,
              gboolean     *matches)
{
  Der alg, o;

  if (!der_read (d, 0x30, &alg) || !der_read (&alg, 0x06, &o))
    return FALSE;
  *matches = der_equal (&o, oid, oid_len);
  return TRUE;
}

/* ---- Matter TLV reading --------------------------------------------- */

enum {
  TLV_INT = 0x00,       /* 0x00-0x03 */
  TLV_UINT = 0x04,      /* 0x04-0x07 */
  TLV_UTF8 = 0x0c,      /* 0x0c-0x0f */
  TLV_BYTES = 0x10,     /* 0x10-0x13 */
  TLV_STRUCT = 0x15,
  TLV_ARRAY = 0x16,
  TLV_LIST = 0x17,
  TLV_END = 0x18,
};

typedef struct {
  const guint8 *p;
  const guint8 *end;
} Tlv;

typedef struct {
  guint8        type;    /* element type, widths folded: TLV_UINT, TLV_UTF8... */
  int           tag;     /* context tag 0-255, -1 anonymous, -2 any other kind */
  guint64       uint;
  const guint8 *data;    /* strings */
  gsize         len;
} TlvElement;

static gboolean
tlv_take (Tlv          *r,
          gsize         n,
          const guint8 **out)
{
  if ((gsize) (r->end - r->p) < n)
    return FALSE;
  *out = r->p;
  r->p += n;
  return TRUE;
}

static guint64
le_uint (const guint8 *q,
         gsize         n)
{
  guint64 v = 0;

  for (gsize i = n; i > 0; i--)
    v = (v << 8) | q[i - 1];
  return v;
}

static gboolean
tlv_next (Tlv        *r,
          TlvElement *e)
{
  static const gsize tag_sizes[8] = { 0, 1, 2, 4, 2, 4, 6, 8 };
  const guint8 *q;
  guint8 control, type;
  gsize tag_size;

  memset (e, 0, sizeof *e);
  if (!tlv_take (r, 1, &q))
    return FALSE;
  control = q[0];
  type = control & 0x1f;
  tag_size = tag_sizes[control >> 5];
  if (!tlv_take (r, tag_size, &q))
    return FALSE;
  e->tag = tag_size == 0 ? -1 : (control >> 5) == 1 ? q[0] : -2;

  if (type <= 0x07)
    {
      gsize width = (gsize) 1 << (type & 0x03);

      if (!tlv_take (r, width, &q))
        return FALSE;
      e->type = type < 0x04 ? TLV_INT : TLV_UINT;
      e->uint = le_uint (q, width);
    }
  else if (type >= 0x0c && type <= 0x13)
    {
      gsize width = (gsize) 1 << (type & 0x03);

      if (!tlv_take (r, width, &q))
        return FALSE;
      e->len = le_uint (q, width);
      if (!tlv_take (r, e->len, &e->data))
        return FALSE;
      e->type = type < 0x10 ? TLV_UTF8 : TLV_BYTES;
    }
  else if (type == 0x08 || type == 0x09 || type == 0x14 || (type >= TLV_STRUCT && type <= TLV_END))
    e->type = type;
  else if (type == 0x0a || type == 0x0b)
    {
      if (!tlv_take (r, type == 0x0a ? 4 : 8, &q))
        return FALSE;
      e->type = type;
    }
  else
    return FALSE;
  return TRUE;
}

/* Skips the rest of a container whose start was just read. */
static gboolean
tlv_skip_container (Tlv *r)
{
  guint depth = 1;
  TlvElement e;

  while (depth > 0)
    {
      if (!tlv_next (r, &e))
        return FALSE;
      if (e.type == TLV_STRUCT || e.type == TLV_ARRAY || e.type == TLV_LIST)
        depth++;
      else if (e.type == TLV_END)
        depth--;
    }
  return TRUE;
}

/* Reads the next element, which must be an unsigned integer with context
 * tag @tag that fits @max. */
static gboolean
tlv_read_uint (Tlv     *r,
               int      tag,
               guint64  max,
               guint64 *value)
{
  TlvElement e;

  if (!tlv_next (r, &e) || e.tag != tag || e.type != TLV_UINT || e.uint > max)
    return FALSE;
  *value = e.uint;
  return TRUE;
}

/* ---- decoding -------------------------------------------------------- */

static const char *
field_name (int tag)
{
  static const char *names[] = {
    "format_version", "vendor_id", "product_id_array", "device_type_id",
    "certificate_id", "security_level", "security_information",
    "version_number", "certification_type", "dac_origin_vendor_id",
    "dac_origin_product_id", "authorized_paa_list",
  };
  return tag >= 0 && tag < (int) G_N_ELEMENTS (names) ? names[tag] : "?";
}

static void
missing_field (DsVerdict *verdict,
               int        tag)
{
  g_autofree char *rule = g_strdup_printf ("cd.field.%s", field_name (tag));

  g_strdelimit (rule + strlen ("cd.field."), "_", '-');
  ds_verdict_add (verdict, rule,
                  _("The Certification Declaration's %s field is missing, out of order or of the wrong type"),
                  field_name (tag));
}

/* The payload's fields, in the order the specification fixes. */
static DsCd *
decode_payload (const guint8 *data,
                gsize         len,
                DsVerdict    *verdict)
{
  g_autoptr(DsCd) cd = ds_cd_new ();
  Tlv r = { data, data + len };
  TlvElement e;
  guint64 v;

  if (!tlv_next (&r, &e) || e.type != TLV_STRUCT || e.tag != -1)
    {
      ds_verdict_add (verdict, "cd.payload",
                      _("The Certification Declaration's content is not a Matter TLV structure"));
      return NULL;
    }

#define READ_UINT(tag, max, field)                 \
  G_STMT_START {                                   \
    if (!tlv_read_uint (&r, (tag), (max), &v))     \
      {                                            \
        missing_field (verdict, (tag));            \
        return NULL;                               \
      }                                            \
    cd->field = v;                                 \
  } G_STMT_END

  READ_UINT (TAG_FORMAT_VERSION, G_MAXUINT16, format_version);
  READ_UINT (TAG_VENDOR_ID, G_MAXUINT16, vendor_id);

  if (!tlv_next (&r, &e) || e.tag != TAG_PRODUCT_ID_ARRAY || e.type != TLV_ARRAY)
    {
      missing_field (verdict, TAG_PRODUCT_ID_ARRAY);
      return NULL;
    }
  for (;;)
    {
      guint16 pid;

      if (!tlv_next (&r, &e))
        {
          missing_field (verdict, TAG_PRODUCT_ID_ARRAY);
          return NULL;
        }
      if (e.type == TLV_END)
        break;
      if (e.type != TLV_UINT || e.tag != -1 || e.uint > G_MAXUINT16)
        {
          missing_field (verdict, TAG_PRODUCT_ID_ARRAY);
          return NULL;
        }
      pid = (guint16) e.uint;
      g_array_append_val (cd->product_ids, pid);
    }
  if (cd->product_ids->len == 0 || cd->product_ids->len > DS_CD_MAX_PRODUCTS)
    ds_verdict_add (verdict, "cd.product-ids.count",
                    _("The Certification Declaration lists %u product IDs; it must list 1 to %u"),
                    cd->product_ids->len, DS_CD_MAX_PRODUCTS);

  READ_UINT (TAG_DEVICE_TYPE_ID, G_MAXUINT32, device_type_id);

  if (!tlv_next (&r, &e) || e.tag != TAG_CERTIFICATE_ID || e.type != TLV_UTF8)
    {
      missing_field (verdict, TAG_CERTIFICATE_ID);
      return NULL;
    }
  cd->certificate_id = g_strndup ((const char *) e.data, e.len);
  if (e.len != DS_CD_CERTIFICATE_ID_LEN)
    ds_verdict_add (verdict, "cd.certificate-id.length",
                    _("The Certification Declaration's certificate ID has %zu characters instead of %u"),
                    e.len, DS_CD_CERTIFICATE_ID_LEN);

  READ_UINT (TAG_SECURITY_LEVEL, G_MAXUINT8, security_level);
  READ_UINT (TAG_SECURITY_INFORMATION, G_MAXUINT16, security_information);
  READ_UINT (TAG_VERSION_NUMBER, G_MAXUINT16, version_number);
  READ_UINT (TAG_CERTIFICATION_TYPE, G_MAXUINT8, certification_type);
#undef READ_UINT

  /* Optional fields, then the end of the structure.  Unknown trailing
   * elements are skipped, as the SDK's ExitContainer does. */
  for (;;)
    {
      if (!tlv_next (&r, &e))
        {
          ds_verdict_add (verdict, "cd.payload", _("The Certification Declaration's content is truncated"));
          return NULL;
        }
      if (e.type == TLV_END)
        break;
      if (e.tag == TAG_DAC_ORIGIN_VID)
        {
          if (e.type != TLV_UINT || e.uint > G_MAXUINT16 ||
              !tlv_read_uint (&r, TAG_DAC_ORIGIN_PID, G_MAXUINT16, &v))
            {
              ds_verdict_add (verdict, "cd.dac-origin.incomplete",
                              _("The Certification Declaration has a DAC origin vendor ID without a DAC origin product ID"));
              return NULL;
            }
          cd->has_dac_origin = TRUE;
          cd->dac_origin_vid = (guint16) e.uint;
          cd->dac_origin_pid = (guint16) v;
        }
      else if (e.tag == TAG_DAC_ORIGIN_PID)
        {
          ds_verdict_add (verdict, "cd.dac-origin.incomplete",
                          _("The Certification Declaration has a DAC origin product ID without a DAC origin vendor ID"));
          return NULL;
        }
      else if (e.tag == TAG_AUTHORIZED_PAA_LIST && e.type == TLV_ARRAY)
        {
          cd->authorized_paas = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
          for (;;)
            {
              if (!tlv_next (&r, &e))
                {
                  missing_field (verdict, TAG_AUTHORIZED_PAA_LIST);
                  return NULL;
                }
              if (e.type == TLV_END)
                break;
              if (e.type != TLV_BYTES || e.tag != -1 || e.len != DS_CD_KID_LEN)
                {
                  missing_field (verdict, TAG_AUTHORIZED_PAA_LIST);
                  return NULL;
                }
              g_ptr_array_add (cd->authorized_paas, g_bytes_new (e.data, e.len));
            }
          if (cd->authorized_paas->len > DS_CD_MAX_PAAS)
            ds_verdict_add (verdict, "cd.authorized-paas.count",
                            _("The Certification Declaration authorizes %u PAAs; at most %u are allowed"),
                            cd->authorized_paas->len, DS_CD_MAX_PAAS);
        }
      else if ((e.type == TLV_STRUCT || e.type == TLV_ARRAY || e.type == TLV_LIST) &&
               !tlv_skip_container (&r))
        {
          ds_verdict_add (verdict, "cd.payload", _("The Certification Declaration's content is truncated"));
          return NULL;
        }
    }

  if (cd->format_version != 1)
    ds_verdict_add (verdict, "cd.format-version",
                    _("The Certification Declaration has format version %u; only version 1 exists"),
                    cd->format_version);
  if (cd->certification_type > DS_CD_TYPE_OFFICIAL)
    ds_verdict_add (verdict, "cd.certification-type",
                    _("The Certification Declaration has the reserved certification type %u"),
                    cd->certification_type);
  return g_steal_pointer (&cd);
}

static EVP_PKEY *
test_signer_key (void)
{
  g_autoptr(EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  OSSL_PARAM params[] = {
    OSSL_PARAM_utf8_string ("group", (char *) "prime256v1", 0),
    OSSL_PARAM_octet_string ("pub", (void *) test_cd_pubkey, sizeof test_cd_pubkey),
    OSSL_PARAM_END,
  };
  EVP_PKEY *key = NULL;

  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) != 1 ||
      EVP_PKEY_fromdata (ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
    {
      ERR_clear_error ();
      return NULL;
    }
  return key;
}

EVP_PKEY *
ds_cd_dup_test_signer_key (void)
{
  return test_signer_key ();
}

/* The key of the CD signer named by @kid, or NULL when it is unknown. */
static EVP_PKEY *
find_signer (const guint8 *kid,
             GPtrArray    *signers,
             gboolean     *is_test)
{
  *is_test = FALSE;
  for (guint i = 0; signers != NULL && i < signers->len; i++)
    {
      X509 *cert = signers->pdata[i];
      const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id (cert);

      if (skid != NULL && ASN1_STRING_length (skid) == DS_CD_KID_LEN &&
          memcmp (ASN1_STRING_get0_data (skid), kid, DS_CD_KID_LEN) == 0)
        return X509_get_pubkey (cert);
    }
  if (memcmp (kid, ds_cd_test_kid, DS_CD_KID_LEN) == 0)
    {
      *is_test = TRUE;
      return test_signer_key ();
    }
  return NULL;
}

DsCd *
ds_cd_parse (GBytes    *der,
             GPtrArray *signers,
             DsVerdict *verdict)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (der, &len);
  Der top = { data, data + len };
  Der content_info, oid, explicit0, signed_data, digest_algs, encap, econtent_oid;
  Der econtent_explicit, econtent, signer_infos, signer_info, sid, signature;
  Der payload = { NULL, NULL };
  long version = 0;
  gboolean match = FALSE, has_sha256 = FALSE, only_sha256 = TRUE, ok = TRUE;
  guint8 kid[DS_CD_KID_LEN] = { 0 };
  gboolean have_kid = FALSE;
  g_autoptr(DsCd) cd = NULL;

  /* DER, as Matter requires: BER's indefinite and long-form lengths are
   * refused before the envelope is read. */
  if (data != NULL && len > 0 && data[0] == 0x30)
    {
      const char *problem = ds_der_check (data, len);

      if (problem != NULL)
        {
          ds_verdict_add (verdict, "cd.der", _("The Certification Declaration is not DER-encoded: %s"), problem);
          return NULL;
        }
    }
  if (!der_read (&top, 0x30, &content_info) || top.p != top.end ||
      !der_read (&content_info, 0x06, &oid))
    {
      ds_verdict_add (verdict, "cd.envelope",
                      _("The Certification Declaration is not a DER-encoded CMS message"));
      return NULL;
    }
  if (!der_equal (&oid, oid_signed_data, sizeof oid_signed_data))
    {
      ds_verdict_add (verdict, "cd.envelope", _("The Certification Declaration is not CMS SignedData"));
      return NULL;
    }
  if (!der_read (&content_info, 0xa0, &explicit0) || !der_read (&explicit0, 0x30, &signed_data) ||
      !der_read_small_int (&signed_data, &version) ||
      !der_read (&signed_data, 0x31, &digest_algs) ||
      !der_read (&signed_data, 0x30, &encap) ||
      !der_read (&encap, 0x06, &econtent_oid))
    {
      ds_verdict_add (verdict, "cd.envelope", _("The Certification Declaration's SignedData is malformed"));
      return NULL;
    }
  if (version != 3)
    ds_verdict_add (verdict, "cd.cms.version",
                    _("The Certification Declaration's SignedData has version %ld instead of 3"), version);

  while (digest_algs.p < digest_algs.end)
    {
      if (!der_read_alg (&digest_algs, oid_sha256, sizeof oid_sha256, &match))
        {
          ok = FALSE;
          break;
        }
      has_sha256 |= match;
      only_sha256 &= match;
    }
  if (!ok || !has_sha256 || !only_sha256)
    ds_verdict_add (verdict, "cd.cms.digest-algorithm",
                    _("The Certification Declaration's digest algorithm is not SHA-256"));

  if (!der_equal (&econtent_oid, oid_data, sizeof oid_data))
    ds_verdict_add (verdict, "cd.cms.content-type",
                    _("The Certification Declaration's content type is not pkcs7-data"));
  if (!der_read (&encap, 0xa0, &econtent_explicit) || !der_read (&econtent_explicit, 0x04, &econtent))
    {
      ds_verdict_add (verdict, "cd.envelope", _("The Certification Declaration carries no content"));
      return NULL;
    }
  payload = econtent;

  if (der_peek (&signed_data, 0xa0))
    {
      Der skip;
      der_read (&signed_data, 0xa0, &skip);
      ds_verdict_add (verdict, "cd.cms.certificates",
                      _("The Certification Declaration must not embed certificates"));
    }
  if (der_peek (&signed_data, 0xa1))
    {
      Der skip;
      der_read (&signed_data, 0xa1, &skip);
    }
  if (!der_read (&signed_data, 0x31, &signer_infos) || !der_read (&signer_infos, 0x30, &signer_info))
    {
      ds_verdict_add (verdict, "cd.envelope", _("The Certification Declaration has no signer"));
      return NULL;
    }
  if (signer_infos.p != signer_infos.end)
    ds_verdict_add (verdict, "cd.cms.signer-count",
                    _("The Certification Declaration must have exactly one signer"));

  ok = der_read_small_int (&signer_info, &version);
  if (ok && version != 3)
    ds_verdict_add (verdict, "cd.signer.version",
                    _("The Certification Declaration's SignerInfo has version %ld instead of 3"), version);
  if (ok && der_peek (&signer_info, 0x80))
    {
      ok = der_read (&signer_info, 0x80, &sid);
      if (ok && sid.end - sid.p == DS_CD_KID_LEN)
        {
          memcpy (kid, sid.p, DS_CD_KID_LEN);
          have_kid = TRUE;
        }
    }
  else if (ok)
    ok = der_read (&signer_info, 0x30, &sid);
  if (ok && !have_kid)
    ds_verdict_add (verdict, "cd.signer.id",
                    _("The Certification Declaration's signer is not named by a 20-byte key identifier"));

  if (ok)
    ok = der_read_alg (&signer_info, oid_sha256, sizeof oid_sha256, &match);
  if (ok && !match)
    ds_verdict_add (verdict, "cd.signer.digest-algorithm",
                    _("The Certification Declaration's signer uses a digest other than SHA-256"));
  if (ok && der_peek (&signer_info, 0xa0))
    {
      Der skip;
      der_read (&signer_info, 0xa0, &skip);
      ds_verdict_add (verdict, "cd.signer.signed-attributes",
                      _("The Certification Declaration's signer must not use signed attributes"));
    }
  if (ok)
    ok = der_read_alg (&signer_info, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256, &match);
  if (ok && !match)
    ds_verdict_add (verdict, "cd.signer.signature-algorithm",
                    _("The Certification Declaration is not signed with ecdsa-with-SHA256"));
  if (ok)
    ok = der_read (&signer_info, 0x04, &signature);
  if (!ok)
    {
      ds_verdict_add (verdict, "cd.envelope", _("The Certification Declaration's SignerInfo is malformed"));
      return NULL;
    }

  if (have_kid)
    {
      gboolean is_test = FALSE;
      g_autoptr(EVP_PKEY) key = find_signer (kid, signers, &is_test);

      if (key == NULL)
        {
          g_autofree char *hex = ds_hex_encode (kid, DS_CD_KID_LEN);
          ds_verdict_add (verdict, "cd.signer.unknown",
                          _("The Certification Declaration is signed by an unknown key (key ID %s)"), hex);
        }
      else if (!ds_verify_signature (key, payload.p, payload.end - payload.p,
                                     signature.p, signature.end - signature.p, NULL))
        ds_verdict_add (verdict, "cd.signature",
                        _("The Certification Declaration's signature does not verify"));
      cd = decode_payload (payload.p, payload.end - payload.p, verdict);
      if (cd != NULL)
        {
          memcpy (cd->signer_kid, kid, DS_CD_KID_LEN);
          cd->signed_by_test_key = is_test;
        }
      return g_steal_pointer (&cd);
    }
  return decode_payload (payload.p, payload.end - payload.p, verdict);
}

/* ---- encoding -------------------------------------------------------- */

static void
der_put (GByteArray   *out,
         guint8        tag,
         const guint8 *content,
         gsize         len)
{
  guint8 head[5];
  gsize n = 0;

  head[n++] = tag;
  if (len < 0x80)
    head[n++] = (guint8) len;
  else if (len < 0x100)
    {
      head[n++] = 0x81;
      head[n++] = (guint8) len;
    }
  else if (len < 0x10000)
    {
      head[n++] = 0x82;
      head[n++] = (guint8) (len >> 8);
      head[n++] = (guint8) len;
    }
  else
    {
      head[n++] = 0x83;
      head[n++] = (guint8) (len >> 16);
      head[n++] = (guint8) (len >> 8);
      head[n++] = (guint8) len;
    }
  g_byte_array_append (out, head, n);
  g_byte_array_append (out, content, len);
}

/* Wraps what @inner holds in one element of @tag and appends it to @out. */
static void
der_wrap (GByteArray *out,
          guint8      tag,
          GByteArray *inner)
{
  der_put (out, tag, inner->data, inner->len);
}

static void
der_put_alg (GByteArray   *out,
             const guint8 *oid,
             gsize         len)
{
  g_autoptr(GByteArray) alg = g_byte_array_new ();

  der_put (alg, 0x06, oid, len);
  der_wrap (out, 0x30, alg);
}

static void
tlv_put_uint (GByteArray *out,
              int         tag,
              guint64     v)
{
  guint8 buf[10];
  gsize n = 0, width = v <= G_MAXUINT8 ? 1 : v <= G_MAXUINT16 ? 2 : v <= G_MAXUINT32 ? 4 : 8;
  guint8 width_code = width == 1 ? 0 : width == 2 ? 1 : width == 4 ? 2 : 3;

  buf[n++] = (tag < 0 ? 0x00 : 0x20) | (TLV_UINT + width_code);
  if (tag >= 0)
    buf[n++] = (guint8) tag;
  for (gsize i = 0; i < width; i++)
    buf[n++] = (guint8) (v >> (8 * i));
  g_byte_array_append (out, buf, n);
}

static void
tlv_put_bytes (GByteArray   *out,
               guint8        type,
               int           tag,
               const guint8 *data,
               guint8        len)
{
  guint8 head[3];
  gsize n = 0;

  head[n++] = (tag < 0 ? 0x00 : 0x20) | type;
  if (tag >= 0)
    head[n++] = (guint8) tag;
  head[n++] = len;
  g_byte_array_append (out, head, n);
  g_byte_array_append (out, data, len);
}

static void
tlv_put_control (GByteArray *out,
                 guint8      type,
                 int         tag)
{
  guint8 head[2];
  gsize n = 0;

  head[n++] = (tag < 0 ? 0x00 : 0x20) | type;
  if (tag >= 0)
    head[n++] = (guint8) tag;
  g_byte_array_append (out, head, n);
}

static GByteArray *
encode_payload (const DsCd *cd)
{
  GByteArray *out = g_byte_array_new ();
  gsize id_len = cd->certificate_id != NULL ? MIN (strlen (cd->certificate_id), 255) : 0;

  tlv_put_control (out, TLV_STRUCT, -1);
  tlv_put_uint (out, TAG_FORMAT_VERSION, cd->format_version);
  tlv_put_uint (out, TAG_VENDOR_ID, cd->vendor_id);
  tlv_put_control (out, TLV_ARRAY, TAG_PRODUCT_ID_ARRAY);
  for (guint i = 0; i < cd->product_ids->len; i++)
    tlv_put_uint (out, -1, g_array_index (cd->product_ids, guint16, i));
  tlv_put_control (out, TLV_END, -1);
  tlv_put_uint (out, TAG_DEVICE_TYPE_ID, cd->device_type_id);
  tlv_put_bytes (out, TLV_UTF8, TAG_CERTIFICATE_ID, (const guint8 *) cd->certificate_id, (guint8) id_len);
  tlv_put_uint (out, TAG_SECURITY_LEVEL, cd->security_level);
  tlv_put_uint (out, TAG_SECURITY_INFORMATION, cd->security_information);
  tlv_put_uint (out, TAG_VERSION_NUMBER, cd->version_number);
  tlv_put_uint (out, TAG_CERTIFICATION_TYPE, cd->certification_type);
  if (cd->has_dac_origin)
    {
      tlv_put_uint (out, TAG_DAC_ORIGIN_VID, cd->dac_origin_vid);
      tlv_put_uint (out, TAG_DAC_ORIGIN_PID, cd->dac_origin_pid);
    }
  if (cd->authorized_paas != NULL)
    {
      tlv_put_control (out, TLV_ARRAY, TAG_AUTHORIZED_PAA_LIST);
      for (guint i = 0; i < cd->authorized_paas->len; i++)
        {
          gsize n = 0;
          const guint8 *kid = g_bytes_get_data (cd->authorized_paas->pdata[i], &n);
          tlv_put_bytes (out, TLV_BYTES, -1, kid, (guint8) MIN (n, 255));
        }
      tlv_put_control (out, TLV_END, -1);
    }
  tlv_put_control (out, TLV_END, -1);
  return out;
}

GBytes *
ds_cd_encode_payload (const DsCd *cd)
{
  g_autoptr(GByteArray) payload = encode_payload (cd);

  return g_bytes_new (payload->data, payload->len);
}

GBytes *
ds_cd_wrap (GBytes       *payload,
            GBytes       *signature,
            const guint8  kid[DS_CD_KID_LEN])
{
  gsize payload_len = 0, sig_len = 0;
  const guint8 *payload_data = g_bytes_get_data (payload, &payload_len);
  const guint8 *sig = g_bytes_get_data (signature, &sig_len);
  g_autoptr(GByteArray) digests = g_byte_array_new ();
  g_autoptr(GByteArray) econtent = g_byte_array_new ();
  g_autoptr(GByteArray) encap_inner = g_byte_array_new ();
  g_autoptr(GByteArray) signer = g_byte_array_new ();
  g_autoptr(GByteArray) signers = g_byte_array_new ();
  g_autoptr(GByteArray) sd = g_byte_array_new ();
  g_autoptr(GByteArray) sd_seq = g_byte_array_new ();
  g_autoptr(GByteArray) ci = g_byte_array_new ();
  g_autoptr(GByteArray) top = g_byte_array_new ();
  static const guint8 v3[] = { 0x03 };

  der_put_alg (digests, oid_sha256, sizeof oid_sha256);

  der_put (encap_inner, 0x06, oid_data, sizeof oid_data);
  der_put (econtent, 0x04, payload_data, payload_len);
  der_wrap (encap_inner, 0xa0, econtent);

  der_put (signer, 0x02, v3, 1);
  der_put (signer, 0x80, kid, DS_CD_KID_LEN);
  der_put_alg (signer, oid_sha256, sizeof oid_sha256);
  der_put_alg (signer, oid_ecdsa_sha256, sizeof oid_ecdsa_sha256);
  der_put (signer, 0x04, sig, sig_len);
  der_wrap (signers, 0x30, signer);

  der_put (sd, 0x02, v3, 1);
  der_wrap (sd, 0x31, digests);
  der_wrap (sd, 0x30, encap_inner);
  der_wrap (sd, 0x31, signers);
  der_wrap (sd_seq, 0x30, sd);

  der_put (ci, 0x06, oid_signed_data, sizeof oid_signed_data);
  der_wrap (ci, 0xa0, sd_seq);
  der_wrap (top, 0x30, ci);
  return g_bytes_new (top->data, top->len);
}

GBytes *
ds_cd_encode (const DsCd   *cd,
              EVP_PKEY     *key,
              const guint8  kid[DS_CD_KID_LEN],
              GError      **error)
{
  g_autoptr(GBytes) payload = ds_cd_encode_payload (cd);
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (payload, &len);
  g_autofree guint8 *sig = NULL;
  gsize sig_len = 0;

  if (md == NULL || EVP_DigestSignInit (md, NULL, EVP_sha256 (), NULL, key) != 1 ||
      EVP_DigestSign (md, NULL, &sig_len, data, len) != 1)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Cannot sign the Certification Declaration"));
      return NULL;
    }
  sig = g_malloc (sig_len);
  if (EVP_DigestSign (md, sig, &sig_len, data, len) != 1)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Cannot sign the Certification Declaration"));
      return NULL;
    }
  signature = g_bytes_new_take (g_steal_pointer (&sig), sig_len);
  return ds_cd_wrap (payload, signature, kid);
}

/* The commissioner's attestation check as pure logic (see
 * ds-attestation.h; Matter core 6.2.3.1 and appendix A for the TLV). */
#include "config.h"

#include "ds-attestation.h"

#include <glib/gi18n-lib.h>
#include <openssl/ecdsa.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"

/* Matter TLV control byte: tag form in bits 7–5, element type in 4–0. */
#define TAG_ANONYMOUS 0x00
#define TAG_CONTEXT   0x20
#define TAG_FQ6       0xC0
#define TAG_FQ8       0xE0
#define TYPE_UINT4    0x06
#define TYPE_OCTETS1  0x10
#define TYPE_OCTETS2  0x11
#define TYPE_STRUCT   0x15
#define TYPE_END      0x18

void
ds_attestation_elements_clear (DsAttestationElements *elements)
{
  g_clear_pointer (&elements->cd, g_bytes_unref);
  g_clear_pointer (&elements->nonce, g_bytes_unref);
  g_clear_pointer (&elements->firmware_info, g_bytes_unref);
  elements->timestamp = 0;
}

static void
append_octets (GByteArray   *out,
               guint8        tag,
               const guint8 *value,
               gsize         len)
{
  guint8 head[4] = { TAG_CONTEXT | TYPE_OCTETS1, tag, (guint8) len, (guint8) (len >> 8) };

  if (len > 0xFF)
    head[0] = TAG_CONTEXT | TYPE_OCTETS2;
  g_byte_array_append (out, head, len > 0xFF ? 4 : 3);
  g_byte_array_append (out, value, (guint) len);
}

GBytes *
ds_attestation_elements_build (GBytes        *cd,
                               const guint8  *nonce,
                               gsize          nonce_len,
                               guint32        timestamp,
                               GBytes        *firmware_info,
                               GError       **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint8 start = TAG_ANONYMOUS | TYPE_STRUCT;
  guint8 end = TYPE_END;
  guint8 ts[6] = { TAG_CONTEXT | TYPE_UINT4, 3, timestamp & 0xFF, (timestamp >> 8) & 0xFF,
                   (timestamp >> 16) & 0xFF, timestamp >> 24 };
  gsize cd_len = g_bytes_get_size (cd);

  if (cd_len == 0 || cd_len > DS_ATTESTATION_CD_MAX || nonce_len != DS_ATTESTATION_NONCE_LEN)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("Attestation elements need a Certification Declaration of 1 to %u bytes and a %u-byte nonce"),
                   DS_ATTESTATION_CD_MAX, DS_ATTESTATION_NONCE_LEN);
      return NULL;
    }
  g_byte_array_append (out, &start, 1);
  append_octets (out, 1, g_bytes_get_data (cd, NULL), cd_len);
  append_octets (out, 2, nonce, nonce_len);
  g_byte_array_append (out, ts, sizeof ts);
  if (firmware_info != NULL)
    append_octets (out, 4, g_bytes_get_data (firmware_info, NULL), g_bytes_get_size (firmware_info));
  g_byte_array_append (out, &end, 1);
  if (out->len > DS_ATTESTATION_ELEMENTS_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The attestation elements (%u bytes) exceed Matter's limit of %u bytes"),
                   out->len, DS_ATTESTATION_ELEMENTS_MAX);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

/* A little-endian unsigned integer of @width bytes at @p. */
static guint64
get_le (const guint8 *p,
        gsize         width)
{
  guint64 v = 0;

  for (gsize i = width; i > 0; i--)
    v = v << 8 | p[i - 1];
  return v;
}

static gboolean
malformed (GError    **error,
           const char *why)
{
  g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The attestation elements are malformed: %s"), why);
  return FALSE;
}

gboolean
ds_attestation_elements_parse (GBytes                *tlv,
                               DsAttestationElements *out,
                               GError               **error)
{
  g_auto(DsAttestationElements) e = { 0 };
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (tlv, &len);
  gsize pos = 1;
  int last_tag = 0;
  gboolean have_ts = FALSE;

  if (len > DS_ATTESTATION_ELEMENTS_MAX)
    return malformed (error, _("longer than 900 bytes"));
  if (len < 2 || p[0] != (TAG_ANONYMOUS | TYPE_STRUCT))
    return malformed (error, _("not an anonymous structure"));
  for (;;)
    {
      guint8 control, form, type;
      int tag = -1;      /* context tag; -1 for a vendor-reserved element */
      gsize width = 0;   /* of the value (integers) or of the length (strings) */
      guint64 value = 0;
      const guint8 *bytes = NULL;

      if (pos >= len)
        return malformed (error, _("the structure is not closed"));
      control = p[pos++];
      if (control == TYPE_END)
        {
          if (pos != len)
            return malformed (error, _("bytes after the structure"));
          break;
        }
      form = control & 0xE0;
      type = control & 0x1F;
      if (form == TAG_CONTEXT)
        {
          if (pos >= len)
            return malformed (error, _("a tag is cut short"));
          tag = p[pos++];
        }
      else if (form == TAG_FQ6 || form == TAG_FQ8)
        {
          gsize n = form == TAG_FQ6 ? 6 : 8;

          if (len - pos < n)
            return malformed (error, _("a tag is cut short"));
          pos += n;
        }
      else
        return malformed (error, _("an element has neither a context tag nor a vendor tag"));

      if (type <= 0x07)                            /* signed and unsigned integers */
        width = (gsize) 1 << (type & 0x03);
      else if (type == 0x08 || type == 0x09 || type == 0x14)  /* booleans, null */
        width = 0;
      else if (type == 0x0A || type == 0x0B)       /* floats */
        width = type == 0x0A ? 4 : 8;
      else if (type >= 0x0C && type <= 0x13)       /* UTF-8 and octet strings */
        width = (gsize) 1 << (type & 0x03);
      else
        return malformed (error, _("a nested container or an unknown element type"));

      if (len - pos < width)
        return malformed (error, _("an element is cut short"));
      value = get_le (p + pos, width);
      pos += width;
      if (type >= 0x0C && type <= 0x13)
        {
          if (value > len - pos)
            return malformed (error, _("a string is longer than the elements"));
          bytes = p + pos;
          pos += (gsize) value;
        }

      if (tag < 0)
        continue;   /* vendor-reserved: skipped */
      if (tag <= last_tag || tag > 4)
        return malformed (error, _("context tags out of order, repeated or unknown"));
      last_tag = tag;
      if (tag == 3)
        {
          if (type < 0x04 || type > 0x07 || value > G_MAXUINT32)
            return malformed (error, _("the timestamp is not a 32-bit unsigned integer"));
          e.timestamp = (guint32) value;
          have_ts = TRUE;
          continue;
        }
      if (type < 0x10 || type > 0x13)
        return malformed (error, _("the CD, the nonce and the firmware information are octet strings"));
      if (tag == 1 && (value == 0 || value > DS_ATTESTATION_CD_MAX))
        return malformed (error, _("the Certification Declaration is empty or longer than 600 bytes"));
      if (tag == 2 && value != DS_ATTESTATION_NONCE_LEN)
        return malformed (error, _("the nonce is not 32 bytes"));
      {
        GBytes *b = g_bytes_new (bytes, (gsize) value);

        if (tag == 1)
          e.cd = b;
        else if (tag == 2)
          e.nonce = b;
        else
          e.firmware_info = b;
      }
    }
  if (e.cd == NULL || e.nonce == NULL || !have_ts)
    return malformed (error, _("the CD, the nonce or the timestamp is missing"));
  if (out != NULL)
    {
      *out = e;
      memset (&e, 0, sizeof e);
    }
  return TRUE;
}

gboolean
ds_attestation_verify (GBytes                *elements,
                       GBytes                *signature,
                       const guint8          *nonce,
                       const guint8          *challenge,
                       GBytes                *dac,
                       GBytes                *expected_cd,
                       DsAttestationElements *out,
                       GError               **error)
{
  g_auto(DsAttestationElements) e = { 0 };
  g_autoptr(X509) cert = NULL;
  g_autoptr(GByteArray) msg = NULL;
  EVP_PKEY *key;
  gsize sig_len = 0;
  const guint8 *sig = g_bytes_get_data (signature, &sig_len);

  if (!ds_attestation_elements_parse (elements, &e, error))
    return FALSE;
  if (memcmp (g_bytes_get_data (e.nonce, NULL), nonce, DS_ATTESTATION_NONCE_LEN) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The attestation elements carry another nonce than the one sent: a replayed answer"));
      return FALSE;
    }
  if (expected_cd != NULL && !g_bytes_equal (expected_cd, e.cd))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The attestation elements carry another Certification Declaration than the one installed"));
      return FALSE;
    }
  cert = ds_cert_parse (dac, error);
  if (cert == NULL)
    {
      g_prefix_error (error, _("reading the DAC: "));
      return FALSE;
    }
  key = X509_get0_pubkey (cert);
  if (key == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The DAC's public key cannot be read"));
      return FALSE;
    }
  msg = g_byte_array_new ();
  g_byte_array_append (msg, g_bytes_get_data (elements, NULL), (guint) g_bytes_get_size (elements));
  g_byte_array_append (msg, challenge, DS_ATTESTATION_CHALLENGE_LEN);
  if (!ds_verify_signature (key, msg->data, msg->len, sig, sig_len, NULL))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The attestation signature does not verify with the DAC's key over the elements and the challenge"));
      return FALSE;
    }
  if (out != NULL)
    {
      *out = e;
      memset (&e, 0, sizeof e);
    }
  return TRUE;
}

GBytes *
ds_attestation_signature_to_raw (GBytes  *der,
                                 GError **error)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (der, &len);
  const guint8 *start = p;
  ECDSA_SIG *sig = d2i_ECDSA_SIG (NULL, &p, (long) len);
  const BIGNUM *r, *s;
  guint8 raw[64];

  if (sig == NULL || (gsize) (p - start) != len)
    {
      if (sig != NULL)
        ECDSA_SIG_free (sig);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The signature is not a DER ECDSA-Sig-Value"));
      return NULL;
    }
  ECDSA_SIG_get0 (sig, &r, &s);
  if (BN_bn2binpad (r, raw, 32) != 32 || BN_bn2binpad (s, raw + 32, 32) != 32)
    {
      ECDSA_SIG_free (sig);
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The signature's r or s is longer than 32 bytes"));
      return NULL;
    }
  ECDSA_SIG_free (sig);
  return g_bytes_new (raw, sizeof raw);
}

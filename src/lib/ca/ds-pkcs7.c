/* EST's certs-only PKCS#7: decoding what a CA sends, encoding for the
 * development server. */
#include "config.h"

#include "ds-pkcs7.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <string.h>

#include "ds-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PKCS7, PKCS7_free)

gboolean
ds_pkcs7_check_content_type (const char *content_type,
                             GError    **error)
{
  g_auto(GStrv) parts = NULL;

  if (content_type == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The CA sent no content type where certificates (application/pkcs7-mime) were expected"));
      return FALSE;
    }
  parts = g_strsplit (content_type, ";", -1);
  /* An empty header splits into nothing. */
  if (parts[0] == NULL || g_ascii_strcasecmp (g_strstrip (parts[0]), "application/pkcs7-mime") != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The CA sent “%s” where certificates (application/pkcs7-mime) were expected"),
                   content_type);
      return FALSE;
    }
  for (guint i = 1; parts[i] != NULL; i++)
    {
      char *p = g_strstrip (parts[i]);

      if (g_ascii_strncasecmp (p, "smime-type=", 11) == 0)
        {
          char *v = p + 11;

          if (*v == '"')
            v++;
          if (g_ascii_strncasecmp (v, "certs-only", 10) != 0)
            {
              g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                           _("The CA sent a PKCS#7 of type “%s” where certs-only was expected"), p + 11);
              return FALSE;
            }
        }
    }
  return TRUE;
}

/* Strict base64: only the alphabet, padding at the end, white space
 * anywhere.  GLib's decoder skips what it does not know, which would turn
 * garbage into plausible bytes. */
static guint8 *
decode_base64_strict (const guint8 *body,
                      gsize         len,
                      gsize        *out_len)
{
  g_autoptr(GString) clean = g_string_sized_new (len);
  gsize pad = 0;

  for (gsize i = 0; i < len; i++)
    {
      guint8 c = body[i];

      if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        continue;
      if (c == '=')
        {
          pad++;
          g_string_append_c (clean, c);
          continue;
        }
      if (pad > 0 || !(g_ascii_isalnum (c) || c == '+' || c == '/'))
        return NULL;
      g_string_append_c (clean, c);
    }
  if (clean->len == 0 || clean->len % 4 != 0 || pad > 2)
    return NULL;
  return g_base64_decode (clean->str, out_len);
}

GPtrArray *
ds_pkcs7_decode_certs_only (const guint8 *body,
                            gsize         len,
                            const char   *transfer_encoding,
                            GError      **error)
{
  g_autofree guint8 *der = NULL;
  gsize der_len = 0;
  const unsigned char *p;
  g_autoptr(PKCS7) p7 = NULL;
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func ((GDestroyNotify) X509_free);
  STACK_OF(X509) *stack = NULL;

  if (transfer_encoding != NULL && g_ascii_strcasecmp (transfer_encoding, "binary") == 0)
    {
      der = g_memdup2 (body, len);
      der_len = len;
    }
  else
    {
      der = decode_base64_strict (body, len, &der_len);
      if (der == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                       _("The CA's answer is not base64 as EST requires (%" G_GSIZE_FORMAT " bytes of something else)"),
                       len);
          return NULL;
        }
    }
  if (der_len > G_MAXLONG)
    der_len = G_MAXLONG;
  p = der;
  p7 = d2i_PKCS7 (NULL, &p, (long) der_len);
  if (p7 == NULL || p != der + der_len)
    {
      ERR_clear_error ();
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The CA's answer does not parse as PKCS#7 (%" G_GSIZE_FORMAT " bytes)"), der_len);
      return NULL;
    }
  if (PKCS7_type_is_signed (p7) && p7->d.sign != NULL)
    stack = p7->d.sign->cert;
  else if (PKCS7_type_is_signedAndEnveloped (p7) && p7->d.signed_and_enveloped != NULL)
    stack = p7->d.signed_and_enveloped->cert;
  for (int i = 0; stack != NULL && i < sk_X509_num (stack); i++)
    {
      X509 *cert = sk_X509_value (stack, i);

      X509_up_ref (cert);
      g_ptr_array_add (certs, cert);
    }
  if (certs->len == 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL, _("The CA's PKCS#7 answer holds no certificate"));
      return NULL;
    }
  return g_steal_pointer (&certs);
}

char *
ds_pkcs7_encode_certs_only (X509 *const *certs,
                            guint        n_certs,
                            gboolean     line_breaks)
{
  g_autoptr(PKCS7) p7 = PKCS7_new ();
  g_autofree unsigned char *der = NULL;
  g_autofree char *b64 = NULL;
  GString *out;
  int len;

  /* Degenerate SignedData: content type id-data, eContent absent, as
   * openssl crl2pkcs7 makes it. */
  if (!PKCS7_set_type (p7, NID_pkcs7_signed))
    return NULL;
  p7->d.sign->contents->type = OBJ_nid2obj (NID_pkcs7_data);
  for (guint i = 0; i < n_certs; i++)
    if (!PKCS7_add_certificate (p7, certs[i]))
      return NULL;
  len = i2d_PKCS7 (p7, NULL);
  if (len <= 0)
    return NULL;
  der = g_malloc (len);
  {
    unsigned char *q = der;
    i2d_PKCS7 (p7, &q);
  }
  b64 = g_base64_encode (der, len);
  if (!line_breaks)
    return g_steal_pointer (&b64);
  out = g_string_new (NULL);
  for (gsize i = 0, n = strlen (b64); i < n; i += 64)
    {
      g_string_append_len (out, b64 + i, MIN (64, n - i));
      g_string_append (out, "\r\n");
    }
  return g_string_free (out, FALSE);
}

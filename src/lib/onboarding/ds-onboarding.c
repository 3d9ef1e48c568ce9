/* Matter onboarding data: passcode, discriminator, SPAKE2+ verifier, QR
 * payload and manual pairing code (Matter core 5.1), and their parsing. */
#include "config.h"

#include "ds-onboarding.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/rand.h>
#include <string.h>

#include "ds-error.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (BN_CTX, BN_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIGNUM, BN_clear_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_GROUP, EC_GROUP_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EC_POINT, EC_POINT_free)

/* ---- passcode and discriminator ------------------------------------------ */

/* Matter core 5.1.7.1: trivial passcodes a commissioner must refuse. */
static const guint32 forbidden_passcodes[] = {
  0, 11111111, 22222222, 33333333, 44444444, 55555555,
  66666666, 77777777, 88888888, 99999999, 12345678, 87654321,
};

gboolean
ds_passcode_check (guint32   passcode,
                   GError  **error)
{
  for (guint i = 0; i < G_N_ELEMENTS (forbidden_passcodes); i++)
    if (passcode == forbidden_passcodes[i])
      {
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                     _("The setup passcode %08u is one the Matter specification forbids; choose another"),
                     passcode);
        return FALSE;
      }
  if (passcode < DS_PASSCODE_MIN || passcode > DS_PASSCODE_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The setup passcode %u is out of range (%u to %u)"),
                   passcode, DS_PASSCODE_MIN, DS_PASSCODE_MAX);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_random_bytes (guint8  *buf,
                 gsize    len,
                 GError **error)
{
  if (len > G_MAXINT || RAND_bytes (buf, (int) len) != 1)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("The random number generator failed"));
      return FALSE;
    }
  return TRUE;
}

/* A uniform value in [0, @range) by rejection: draw from the smallest power
 * of two that holds @range and draw again when over, so no value is more
 * likely than another (no modulo bias). */
static gboolean
random_below (guint32   range,
              guint32  *out,
              GError  **error)
{
  guint32 mask = range - 1;

  g_return_val_if_fail (range > 0, FALSE);
  mask |= mask >> 1;
  mask |= mask >> 2;
  mask |= mask >> 4;
  mask |= mask >> 8;
  mask |= mask >> 16;
  for (;;)
    {
      guint8 b[4];
      guint32 v;

      if (!ds_random_bytes (b, sizeof b, error))
        return FALSE;
      v = ((guint32) b[0] | (guint32) b[1] << 8 | (guint32) b[2] << 16 | (guint32) b[3] << 24) & mask;
      if (v < range)
        {
          *out = v;
          return TRUE;
        }
    }
}

gboolean
ds_passcode_random (guint32  *out,
                    GError  **error)
{
  for (;;)
    {
      guint32 v;

      if (!random_below (DS_PASSCODE_MAX - DS_PASSCODE_MIN + 1, &v, error))
        return FALSE;
      v += DS_PASSCODE_MIN;
      /* Rejecting the forbidden values keeps the rest uniform. */
      if (ds_passcode_check (v, NULL))
        {
          *out = v;
          return TRUE;
        }
    }
}

gboolean
ds_discriminator_check (guint    discriminator,
                        GError **error)
{
  if (discriminator > DS_DISCRIMINATOR_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The discriminator %u is out of range (0 to 4095, 12 bits)"), discriminator);
      return FALSE;
    }
  return TRUE;
}

gboolean
ds_discriminator_random (guint16   lo,
                         guint16   hi,
                         guint16  *out,
                         GError  **error)
{
  guint32 v;

  if (!ds_discriminator_check (lo, error) || !ds_discriminator_check (hi, error))
    return FALSE;
  if (lo > hi)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The discriminator range %u–%u is empty"), lo, hi);
      return FALSE;
    }
  if (!random_below ((guint32) hi - lo + 1, &v, error))
    return FALSE;
  *out = (guint16) (lo + v);
  return TRUE;
}

gboolean
ds_spake2p_check (gsize    salt_len,
                  guint    iterations,
                  GError **error)
{
  if (salt_len < DS_SPAKE2P_SALT_MIN || salt_len > DS_SPAKE2P_SALT_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The SPAKE2+ salt has %zu bytes; Matter needs 16 to 32"), salt_len);
      return FALSE;
    }
  if (iterations < DS_SPAKE2P_ITERATIONS_MIN || iterations > DS_SPAKE2P_ITERATIONS_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The SPAKE2+ iteration count %u is out of range (1000 to 100000)"), iterations);
      return FALSE;
    }
  return TRUE;
}

/* ---- SPAKE2+ verifier ---------------------------------------------------- */

gboolean
ds_spake2p_verifier (guint32        passcode,
                     const guint8  *salt,
                     gsize          salt_len,
                     guint          iterations,
                     guint8         out[DS_SPAKE2P_VERIFIER_LEN],
                     GError       **error)
{
  guint8 pin[4] = { passcode & 0xff, (passcode >> 8) & 0xff, (passcode >> 16) & 0xff, passcode >> 24 };
  guint8 ws[80];
  g_autoptr(EC_GROUP) group = NULL;
  g_autoptr(BN_CTX) ctx = NULL;
  g_autoptr(BIGNUM) w0 = NULL;
  g_autoptr(BIGNUM) w1 = NULL;
  g_autoptr(EC_POINT) L = NULL;
  const BIGNUM *order;
  gboolean ok;

  if (!ds_passcode_check (passcode, error) || !ds_spake2p_check (salt_len, iterations, error))
    return FALSE;

  /* Matter core 3.10: w0s ‖ w1s = PBKDF2-HMAC-SHA256 (passcode as 4 bytes
   * little-endian, salt, iterations, 2 × 40 bytes); w0 = w0s mod n,
   * w1 = w1s mod n; L = w1 × G. */
  ok = PKCS5_PBKDF2_HMAC ((const char *) pin, sizeof pin, salt, (int) salt_len, (int) iterations,
                          EVP_sha256 (), sizeof ws, ws) == 1;
  OPENSSL_cleanse (pin, sizeof pin);
  if (!ok)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Computing the SPAKE2+ verifier failed"));
      return FALSE;
    }

  group = EC_GROUP_new_by_curve_name (NID_X9_62_prime256v1);
  ctx = BN_CTX_new ();
  w0 = BN_bin2bn (ws, 40, NULL);
  w1 = BN_bin2bn (ws + 40, 40, NULL);
  OPENSSL_cleanse (ws, sizeof ws);
  ok = group != NULL && ctx != NULL && w0 != NULL && w1 != NULL;
  if (ok)
    {
      order = EC_GROUP_get0_order (group);
      L = EC_POINT_new (group);
      ok = L != NULL
        && BN_nnmod (w0, w0, order, ctx) == 1
        && BN_nnmod (w1, w1, order, ctx) == 1
        && BN_bn2binpad (w0, out, 32) == 32
        && EC_POINT_mul (group, L, w1, NULL, NULL, ctx) == 1
        && EC_POINT_point2oct (group, L, POINT_CONVERSION_UNCOMPRESSED, out + 32, 65, ctx) == 65;
    }
  if (!ok)
    {
      OPENSSL_cleanse (out, DS_SPAKE2P_VERIFIER_LEN);
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Computing the SPAKE2+ verifier failed"));
      return FALSE;
    }
  return TRUE;
}

/* ---- QR payload ---------------------------------------------------------- */

static const char base38_alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-.";
#define QR_PREFIX "MT:"
#define QR_PAYLOAD_BYTES 11  /* 88 bits */

static gboolean
payload_check (const DsSetupPayload *p,
               GError              **error)
{
  if (p->version > 7)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The payload version %u does not fit 3 bits"), p->version);
      return FALSE;
    }
  if (p->flow > DS_FLOW_CUSTOM)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("Unknown commissioning flow %u"), p->flow);
      return FALSE;
    }
  if (p->short_discriminator)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("A QR code needs the whole 12-bit discriminator, not the short one"));
      return FALSE;
    }
  return ds_discriminator_check (p->discriminator, error) && ds_passcode_check (p->passcode, error);
}

/* Writes @nbits of @value at bit @pos, least significant bit first. */
static void
put_bits (guint8  *buf,
          guint   *pos,
          guint64  value,
          guint    nbits)
{
  for (guint i = 0; i < nbits; i++, (*pos)++)
    if (value & ((guint64) 1 << i))
      buf[*pos / 8] |= 1u << (*pos % 8);
}

static guint64
get_bits (const guint8 *buf,
          guint        *pos,
          guint         nbits)
{
  guint64 v = 0;

  for (guint i = 0; i < nbits; i++, (*pos)++)
    if (buf[*pos / 8] & (1u << (*pos % 8)))
      v |= (guint64) 1 << i;
  return v;
}

char *
ds_setup_payload_to_qr (const DsSetupPayload *p,
                        GError              **error)
{
  guint8 bits[QR_PAYLOAD_BYTES] = { 0 };
  guint pos = 0;
  GString *out;

  if (!payload_check (p, error))
    return NULL;
  put_bits (bits, &pos, p->version, 3);
  put_bits (bits, &pos, p->vid, 16);
  put_bits (bits, &pos, p->pid, 16);
  put_bits (bits, &pos, p->flow, 2);
  put_bits (bits, &pos, p->discovery, 8);
  put_bits (bits, &pos, p->discriminator, 12);
  put_bits (bits, &pos, p->passcode, 27);
  /* 4 bits of padding stay zero. */

  /* Base-38 (5.1.3.2): each 3 bytes, little-endian, as 5 characters least
   * significant first; a 2-byte tail as 4, a 1-byte tail as 2. */
  out = g_string_new (QR_PREFIX);
  for (gsize i = 0; i < sizeof bits; i += 3)
    {
      gsize n = MIN (3, sizeof bits - i);
      guint32 v = 0;
      guint chars = n == 3 ? 5 : n == 2 ? 4 : 2;

      for (gsize k = 0; k < n; k++)
        v |= (guint32) bits[i + k] << (8 * k);
      for (guint c = 0; c < chars; c++)
        {
          g_string_append_c (out, base38_alphabet[v % 38]);
          v /= 38;
        }
    }
  return g_string_free (out, FALSE);
}

static gboolean
parse_qr (const char     *text,
          DsSetupPayload *out,
          GError        **error)
{
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  const char *s = text + strlen (QR_PREFIX);
  gsize len;
  const char *star = strchr (s, '*');
  guint pos = 0;
  guint64 padding;

  /* Several payloads may be joined with '*' (a concatenated code); the
   * first one is this board's. */
  len = star != NULL ? (gsize) (star - s) : strlen (s);
  for (gsize i = 0; i < len; i += 5)
    {
      gsize chunk = MIN (5, len - i);
      guint n = chunk == 5 ? 3 : chunk == 4 ? 2 : chunk == 2 ? 1 : 0;
      guint64 v = 0;

      if (n == 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The QR code's Base-38 text has a wrong length (%zu characters)"), len);
          return FALSE;
        }
      for (gsize c = chunk; c-- > 0;)
        {
          const char *d = s[i + c] != '\0' ? strchr (base38_alphabet, s[i + c]) : NULL;

          if (d == NULL)
            {
              g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                           _("The QR code has a character that is not Base-38: “%c”"), s[i + c]);
              return FALSE;
            }
          v = v * 38 + (guint64) (d - base38_alphabet);
        }
      if (v >> (8 * n) != 0)
        {
          g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                               _("The QR code's Base-38 text holds a value that does not fit its chunk"));
          return FALSE;
        }
      for (guint k = 0; k < n; k++)
        g_byte_array_append (bytes, (guint8[]) { (v >> (8 * k)) & 0xff }, 1);
    }
  if (bytes->len < QR_PAYLOAD_BYTES)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The QR code holds %u bytes; a Matter payload has at least 11"), bytes->len);
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  out->version = get_bits (bytes->data, &pos, 3);
  out->has_vid_pid = TRUE;
  out->vid = get_bits (bytes->data, &pos, 16);
  out->pid = get_bits (bytes->data, &pos, 16);
  out->flow = get_bits (bytes->data, &pos, 2);
  out->has_discovery = TRUE;
  out->discovery = get_bits (bytes->data, &pos, 8);
  out->discriminator = get_bits (bytes->data, &pos, 12);
  out->passcode = get_bits (bytes->data, &pos, 27);
  padding = get_bits (bytes->data, &pos, 4);
  out->tlv_len = bytes->len - QR_PAYLOAD_BYTES;

  if (out->version != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The QR payload has version %u; only version 0 is defined"), out->version);
      return FALSE;
    }
  if (padding != 0)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("The QR payload's padding bits are not zero"));
      return FALSE;
    }
  if (out->flow > DS_FLOW_CUSTOM)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The QR payload has the reserved commissioning flow %u"), out->flow);
      return FALSE;
    }
  return ds_passcode_check (out->passcode, error);
}

/* ---- manual pairing code ------------------------------------------------- */

/* Verhoeff's dihedral group D5: multiplication, permutation and inverse. */
static const guint8 verhoeff_d[10][10] = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 2, 3, 4, 0, 6, 7, 8, 9, 5 },
  { 2, 3, 4, 0, 1, 7, 8, 9, 5, 6 }, { 3, 4, 0, 1, 2, 8, 9, 5, 6, 7 },
  { 4, 0, 1, 2, 3, 9, 5, 6, 7, 8 }, { 5, 9, 8, 7, 6, 0, 4, 3, 2, 1 },
  { 6, 5, 9, 8, 7, 1, 0, 4, 3, 2 }, { 7, 6, 5, 9, 8, 2, 1, 0, 4, 3 },
  { 8, 7, 6, 5, 9, 3, 2, 1, 0, 4 }, { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0 },
};
static const guint8 verhoeff_p[8][10] = {
  { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 }, { 1, 5, 7, 6, 2, 8, 3, 0, 9, 4 },
  { 5, 8, 0, 3, 7, 9, 6, 1, 4, 2 }, { 8, 9, 1, 6, 0, 4, 3, 5, 2, 7 },
  { 9, 4, 5, 3, 1, 2, 6, 8, 7, 0 }, { 4, 2, 8, 6, 5, 7, 3, 9, 0, 1 },
  { 2, 7, 9, 3, 8, 0, 6, 4, 1, 5 }, { 7, 0, 4, 6, 9, 1, 3, 2, 5, 8 },
};
static const guint8 verhoeff_inv[10] = { 0, 4, 3, 2, 1, 5, 6, 7, 8, 9 };

char
ds_verhoeff_check_digit (const char *digits)
{
  gsize n = strlen (digits);
  guint c = 0;

  /* The check digit will sit at position 0, so the given digits start at
   * position 1 counted from the right. */
  for (gsize i = 0; i < n; i++)
    c = verhoeff_d[c][verhoeff_p[(i + 1) % 8][digits[n - 1 - i] - '0']];
  return (char) ('0' + verhoeff_inv[c]);
}

char *
ds_setup_payload_to_manual (const DsSetupPayload *p,
                            GError              **error)
{
  gboolean long_form = p->flow == DS_FLOW_CUSTOM;
  guint short_disc;
  g_autofree char *digits = NULL;

  if (!ds_discriminator_check (p->discriminator, error) || !ds_passcode_check (p->passcode, error))
    return NULL;
  short_disc = p->short_discriminator ? p->discriminator : p->discriminator >> 8;
  if (short_disc > 15)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The short discriminator %u does not fit 4 bits"), short_disc);
      return NULL;
    }
  /* Matter core 5.1.4.1: chunk 1 = VID/PID flag and the short
   * discriminator's upper 2 bits; chunk 2 = its lower 2 bits and the
   * passcode's lower 14 bits; chunk 3 = the passcode's upper 13 bits. */
  digits = g_strdup_printf ("%u%05u%04u", (long_form ? 1u << 2 : 0u) | (short_disc >> 2),
                            ((short_disc & 3u) << 14) | (p->passcode & 0x3fffu), p->passcode >> 14);
  if (long_form)
    {
      char *with_ids = g_strdup_printf ("%s%05u%05u", digits, p->vid, p->pid);

      g_free (digits);
      digits = with_ids;
    }
  return g_strdup_printf ("%s%c", digits, ds_verhoeff_check_digit (digits));
}

static gboolean
parse_manual (const char     *text,
              DsSetupPayload *out,
              GError        **error)
{
  g_autoptr(GString) d = g_string_new (NULL);
  guint chunk1, chunk2, chunk3;
  char check;

  for (const char *s = text; *s != '\0'; s++)
    {
      if (g_ascii_isdigit (*s))
        g_string_append_c (d, *s);
      else if (*s != '-' && *s != ' ')
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("“%s” is neither a QR payload (MT:…) nor a manual pairing code (11 or 21 digits)"), text);
          return FALSE;
        }
    }
  if (d->len != 11 && d->len != 21)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("A manual pairing code has 11 or 21 digits, not %zu"), d->len);
      return FALSE;
    }
  check = d->str[d->len - 1];
  g_string_truncate (d, d->len - 1);
  if (ds_verhoeff_check_digit (d->str) != check)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                           _("The manual pairing code's check digit is wrong: a digit was mistyped"));
      return FALSE;
    }
  chunk1 = d->str[0] - '0';
  if (chunk1 > 7)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("A manual pairing code cannot start with %u"), chunk1);
      return FALSE;
    }
  if (((chunk1 >> 2) & 1) != (d->len == 20))
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                           _("The manual pairing code's length does not match its vendor and product ID flag"));
      return FALSE;
    }
  {
    char buf[6];

    memcpy (buf, d->str + 1, 5);
    buf[5] = '\0';
    chunk2 = (guint) g_ascii_strtoull (buf, NULL, 10);
    memcpy (buf, d->str + 6, 4);
    buf[4] = '\0';
    chunk3 = (guint) g_ascii_strtoull (buf, NULL, 10);
  }
  if (chunk2 > 0xffff || chunk3 > 0x1fff)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                           _("The manual pairing code holds values out of range"));
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  out->short_discriminator = TRUE;
  out->discriminator = ((chunk1 & 3u) << 2) | (chunk2 >> 14);
  out->passcode = (chunk3 << 14) | (chunk2 & 0x3fffu);
  if (d->len == 20)
    {
      char buf[6];
      guint vid, pid;

      memcpy (buf, d->str + 10, 5);
      buf[5] = '\0';
      vid = (guint) g_ascii_strtoull (buf, NULL, 10);
      memcpy (buf, d->str + 15, 5);
      pid = (guint) g_ascii_strtoull (buf, NULL, 10);
      if (vid > 0xffff || pid > 0xffff)
        {
          g_set_error_literal (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                               _("The manual pairing code's vendor or product ID is over 65535"));
          return FALSE;
        }
      out->has_vid_pid = TRUE;
      out->vid = vid;
      out->pid = pid;
      out->flow = DS_FLOW_CUSTOM;
    }
  return ds_passcode_check (out->passcode, error);
}

gboolean
ds_setup_payload_parse (const char     *text,
                        DsSetupPayload *out,
                        GError        **error)
{
  g_return_val_if_fail (text != NULL, FALSE);
  if (g_str_has_prefix (text, QR_PREFIX))
    return parse_qr (text, out, error);
  return parse_manual (text, out, error);
}

char *
ds_manual_code_format (const char *code)
{
  gsize n = strlen (code);

  if (n == 11)
    return g_strdup_printf ("%.4s-%.3s-%.4s", code, code + 4, code + 7);
  if (n == 21)
    return g_strdup_printf ("%.4s-%.4s-%.4s-%.4s-%.4s-%.1s", code, code + 4, code + 8, code + 12,
                            code + 16, code + 20);
  return g_strdup (code);
}

/* ---- serial numbers ------------------------------------------------------ */

/* Matter's DeviceInstanceInfo serial number is at most 32 characters. */
#define SERIAL_MAX 32

char *
ds_serial_format (const char *pattern,
                  guint64     seq,
                  GDateTime  *when,
                  GError    **error)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GDateTime) utc = when != NULL ? g_date_time_to_utc (when) : g_date_time_new_now_utc ();

  for (const char *s = pattern; *s != '\0'; s++)
    {
      const char *end;
      g_autofree char *field = NULL;

      if (s[0] == '{' && s[1] == '{')
        {
          g_string_append_c (out, '{');
          s++;
          continue;
        }
      if (s[0] == '}' && s[1] == '}')
        {
          g_string_append_c (out, '}');
          s++;
          continue;
        }
      if (*s != '{')
        {
          if (*s == '}' || !g_ascii_isprint (*s))
            {
              g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                           _("The serial number pattern “%s” has a stray “}” or a character that is not printable ASCII"),
                           pattern);
              return NULL;
            }
          g_string_append_c (out, *s);
          continue;
        }
      end = strchr (s, '}');
      if (end == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The serial number pattern “%s” has an unclosed “{”"), pattern);
          return NULL;
        }
      field = g_strndup (s + 1, end - s - 1);
      if (g_str_equal (field, "yyyy"))
        g_string_append_printf (out, "%04d", g_date_time_get_year (utc));
      else if (g_str_equal (field, "yy"))
        g_string_append_printf (out, "%02d", g_date_time_get_year (utc) % 100);
      else if (g_str_equal (field, "mm"))
        g_string_append_printf (out, "%02d", g_date_time_get_month (utc));
      else if (g_str_equal (field, "dd"))
        g_string_append_printf (out, "%02d", g_date_time_get_day_of_month (utc));
      else if (g_str_equal (field, "seq"))
        g_string_append_printf (out, "%" G_GUINT64_FORMAT, seq);
      else if (g_str_has_prefix (field, "seq:0") && field[5] != '\0'
               && strspn (field + 5, "0123456789") == strlen (field + 5) && strlen (field + 5) <= 2)
        {
          guint width = (guint) g_ascii_strtoull (field + 5, NULL, 10);
          g_autofree char *digits = g_strdup_printf ("%" G_GUINT64_FORMAT, seq);

          for (gsize k = strlen (digits); k < width; k++)
            g_string_append_c (out, '0');
          g_string_append (out, digits);
        }
      else
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The serial number pattern has an unknown field “{%s}”; known: {yyyy} {yy} {mm} {dd} {seq} {seq:0N}"),
                       field);
          return NULL;
        }
      s = end;
    }
  if (out->len == 0 || out->len > SERIAL_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The serial number “%s” has %zu characters; Matter allows 1 to 32"), out->str, out->len);
      return NULL;
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* ---- one board's data ---------------------------------------------------- */

gboolean
ds_onboarding_make (const DsOnboardingRequest *request,
                    DsOnboarding              *out,
                    GError                   **error)
{
  memset (out, 0, sizeof *out);
  out->iterations = request->iterations != 0 ? request->iterations : DS_SPAKE2P_DEFAULT_ITERATIONS;
  out->salt_len = request->salt != NULL || request->salt_len != 0 ? request->salt_len : DS_SPAKE2P_DEFAULT_SALT_LEN;
  if (!ds_spake2p_check (out->salt_len, out->iterations, error))
    return FALSE;

  if (request->passcode != 0)
    {
      if (!ds_passcode_check (request->passcode, error))
        return FALSE;
      out->passcode = request->passcode;
    }
  else if (!ds_passcode_random (&out->passcode, error))
    return FALSE;

  if (request->has_discriminator)
    {
      if (!ds_discriminator_check (request->discriminator, error))
        return FALSE;
      out->discriminator = request->discriminator;
    }
  else if (request->discriminator_lo == 0 && request->discriminator_hi == 0)
    {
      if (!ds_discriminator_random (0, DS_DISCRIMINATOR_MAX, &out->discriminator, error))
        return FALSE;
    }
  else if (!ds_discriminator_random (request->discriminator_lo, request->discriminator_hi,
                                     &out->discriminator, error))
    return FALSE;

  if (request->salt != NULL)
    memcpy (out->salt, request->salt, out->salt_len);
  else if (!ds_random_bytes (out->salt, out->salt_len, error))
    return FALSE;

  return ds_spake2p_verifier (out->passcode, out->salt, out->salt_len, out->iterations, out->verifier, error);
}

void
ds_onboarding_clear (DsOnboarding *onboarding)
{
  OPENSSL_cleanse (onboarding, sizeof *onboarding);
}

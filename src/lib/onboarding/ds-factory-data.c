/* Matter factory data in ST's X-CUBE-MATTER layout: records of a 32-bit
 * little-endian tag, a 32-bit little-endian length and the value, sorted
 * by tag, closed by the word 0xACACACAC. docs/onboarding.md describes it. */
#include "config.h"

#include "ds-factory-data.h"

#include <glib/gi18n-lib.h>
#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>

#include "ds-error.h"
#include "ds-onboarding.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)

#define HEADER_LEN 8u
#define TERMINATOR_LEN 4u

static const struct {
  guint32     tag;
  const char *name;
} tag_names[] = {
  { DS_FACTORY_TAG_CD, "CERTIFICATION_DECLARATION" },
  { DS_FACTORY_TAG_FIRMWARE_INFO, "FIRMWARE_INFORMATION" },
  { DS_FACTORY_TAG_DAC, "DEVICE_ATTESTATION_CERTIFICATE" },
  { DS_FACTORY_TAG_PAI, "PAI_CERTIFICATE" },
  { DS_FACTORY_TAG_DAC_PRIVATE_KEY, "DEVICE_ATTESTATION_PRIV_KEY" },
  { DS_FACTORY_TAG_DAC_PUBLIC_KEY, "DEVICE_ATTESTATION_PUB_KEY" },
  { DS_FACTORY_TAG_DISCRIMINATOR, "SETUP_DISCRIMINATOR" },
  { DS_FACTORY_TAG_ITERATIONS, "SPAKE2_ITERATION_COUNT" },
  { DS_FACTORY_TAG_SALT, "SPAKE2_SALT" },
  { DS_FACTORY_TAG_VERIFIER, "SPAKE2_VERIFIER" },
  { DS_FACTORY_TAG_PASSCODE, "SPAKE2_SETUP_PASSCODE" },
  { DS_FACTORY_TAG_VENDOR_NAME, "VENDOR_NAME" },
  { DS_FACTORY_TAG_VID, "VENDOR_ID" },
  { DS_FACTORY_TAG_PRODUCT_NAME, "PRODUCT_NAME" },
  { DS_FACTORY_TAG_PID, "PRODUCT_ID" },
  { DS_FACTORY_TAG_SERIAL_NUMBER, "SERIAL_NUMBER" },
  { DS_FACTORY_TAG_MANUFACTURING_DATE, "MANUFACTURING_DATE" },
  { DS_FACTORY_TAG_HARDWARE_VERSION, "HARDWARE_VERSION" },
  { DS_FACTORY_TAG_HARDWARE_VERSION_STRING, "HARDWARE_VERSION_STRING" },
  { DS_FACTORY_TAG_ROTATING_ID, "ROTATING_DEVICE_ID" },
  { DS_FACTORY_TAG_ENABLE_KEY, "TAG_ID_ENABLE_KEY" },
};

const char *
ds_factory_tag_name (guint32 tag)
{
  for (guint i = 0; i < G_N_ELEMENTS (tag_names); i++)
    if (tag_names[i].tag == tag)
      return tag_names[i].name;
  return NULL;
}

void
ds_factory_record_free (DsFactoryRecord *record)
{
  if (record == NULL)
    return;
  g_bytes_unref (record->value);
  g_free (record);
}

static guint32
get_le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static guint
get_le (GBytes *value)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (value, &n);

  return n == 2 ? (guint) p[0] | (guint) p[1] << 8 : get_le32 (p);
}

static gboolean
is_string_tag (guint32 tag)
{
  return tag == DS_FACTORY_TAG_VENDOR_NAME || tag == DS_FACTORY_TAG_PRODUCT_NAME
    || tag == DS_FACTORY_TAG_SERIAL_NUMBER || tag == DS_FACTORY_TAG_MANUFACTURING_DATE
    || tag == DS_FACTORY_TAG_HARDWARE_VERSION_STRING;
}

static gboolean
is_u16_tag (guint32 tag)
{
  return tag == DS_FACTORY_TAG_DISCRIMINATOR || tag == DS_FACTORY_TAG_VID || tag == DS_FACTORY_TAG_PID
    || tag == DS_FACTORY_TAG_HARDWARE_VERSION;
}

static gboolean
is_u32_tag (guint32 tag)
{
  return tag == DS_FACTORY_TAG_ITERATIONS || tag == DS_FACTORY_TAG_PASSCODE;
}

#define BAD(...) G_STMT_START { \
    g_autofree char *why_ = g_strdup_printf (__VA_ARGS__); \
    g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("Factory data tag %u (%s): %s"), \
                 tag, ds_factory_tag_name (tag), why_); \
    return FALSE; } G_STMT_END

static gboolean
check_date (const char *s)
{
  int y, m, d;
  char tail;

  if (strlen (s) != 10 || s[4] != '-' || s[7] != '-'
      || sscanf (s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
    return FALSE;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && !g_ascii_isdigit (s[i]))
      return FALSE;
  return g_date_valid_dmy (d, m, y);
}

/* Whether one record's value is what its tag holds. */
static gboolean
record_check (guint32   tag,
              GBytes   *value,
              GError  **error)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (value, &n);

  if (ds_factory_tag_name (tag) == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("Factory data has an unknown tag %u"), tag);
      return FALSE;
    }
  if (n == 0 || n > DS_FACTORY_DATA_VALUE_MAX)
    BAD (_("a value of %zu bytes; ST's reader takes 1 to %u"), n, DS_FACTORY_DATA_VALUE_MAX);

  if (is_u16_tag (tag) && n != 2)
    BAD (_("%zu bytes instead of a 16-bit number"), n);
  if (is_u32_tag (tag) && n != 4)
    BAD (_("%zu bytes instead of a 32-bit number"), n);
  if (is_string_tag (tag))
    {
      g_autofree char *s = g_strndup ((const char *) p, n);
      gsize max = tag == DS_FACTORY_TAG_HARDWARE_VERSION_STRING ? 64 : 32;

      if (memchr (p, '\0', n) != NULL || !g_utf8_validate ((const char *) p, n, NULL))
        BAD (_("not a UTF-8 string"));
      if (g_utf8_strlen (s, -1) > (glong) max)
        BAD (_("“%s” is longer than Matter's %zu characters"), s, max);
      if (tag == DS_FACTORY_TAG_MANUFACTURING_DATE && !check_date (s))
        BAD (_("“%s” is not a date of the form YYYY-MM-DD"), s);
    }

  switch (tag)
    {
    case DS_FACTORY_TAG_CD:
      {
        /* CMS SignedData: one DER SEQUENCE filling the value. */
        const unsigned char *q = p;
        long body = 0;
        int atag = 0, aclass = 0;
        int r = ASN1_get_object (&q, &body, &atag, &aclass, (long) n);

        if ((r & 0x80) != 0 || atag != V_ASN1_SEQUENCE || (r & V_ASN1_CONSTRUCTED) == 0
            || q + body != p + n)
          BAD (_("not one DER structure"));
      }
      break;
    case DS_FACTORY_TAG_DAC:
    case DS_FACTORY_TAG_PAI:
      {
        const unsigned char *q = p;
        g_autoptr(X509) cert = d2i_X509 (NULL, &q, (long) n);

        if (cert == NULL || q != p + n)
          BAD (_("not one DER certificate"));
      }
      break;
    case DS_FACTORY_TAG_DAC_PRIVATE_KEY:
      if (n != 32)
        BAD (_("%zu bytes instead of a 32-byte P-256 private key"), n);
      break;
    case DS_FACTORY_TAG_DAC_PUBLIC_KEY:
      if (n != 65 || p[0] != 0x04)
        BAD (_("not an uncompressed P-256 public key (65 bytes starting with 04)"));
      break;
    case DS_FACTORY_TAG_DISCRIMINATOR:
      if (get_le (value) > DS_DISCRIMINATOR_MAX)
        BAD (_("%u does not fit 12 bits"), get_le (value));
      break;
    case DS_FACTORY_TAG_ITERATIONS:
      if (get_le (value) < DS_SPAKE2P_ITERATIONS_MIN || get_le (value) > DS_SPAKE2P_ITERATIONS_MAX)
        BAD (_("%u is out of range (1000 to 100000)"), get_le (value));
      break;
    case DS_FACTORY_TAG_SALT:
      if (n < DS_SPAKE2P_SALT_MIN || n > DS_SPAKE2P_SALT_MAX)
        BAD (_("%zu bytes; Matter needs 16 to 32"), n);
      break;
    case DS_FACTORY_TAG_VERIFIER:
      if (n != DS_SPAKE2P_VERIFIER_LEN || p[32] != 0x04)
        BAD (_("not a SPAKE2+ verifier (97 bytes: w0, then L uncompressed)"));
      break;
    case DS_FACTORY_TAG_PASSCODE:
      if (!ds_passcode_check (get_le (value), NULL))
        BAD (_("not a valid setup passcode"));
      break;
    case DS_FACTORY_TAG_ROTATING_ID:
      if (n < DS_ROTATING_ID_MIN || n > DS_ROTATING_ID_MAX)
        BAD (_("%zu bytes; Matter needs 16 to 32"), n);
      break;
    default:
      break;
    }
  return TRUE;
}

#undef BAD

GPtrArray *
ds_factory_data_parse (GBytes  *blob,
                       gsize    region_size,
                       GError **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_factory_record_free);
  gsize len;
  const guint8 *data = g_bytes_get_data (blob, &len);
  gsize off = 0;
  gint64 last_tag = -1;

  if (len > region_size)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The factory data has %zu bytes, more than the %zu-byte factory data region"),
                   len, region_size);
      return NULL;
    }
  for (;;)
    {
      guint32 tag, vlen;
      DsFactoryRecord *r;

      if (len - off < TERMINATOR_LEN)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The factory data ends at byte %zu without its terminator 0xACACACAC"), off);
          return NULL;
        }
      tag = get_le32 (data + off);
      if (tag == DS_FACTORY_DATA_TERMINATOR)
        {
          off += TERMINATOR_LEN;
          break;
        }
      if (len - off < HEADER_LEN)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The factory data ends inside a record header at byte %zu"), off);
          return NULL;
        }
      vlen = get_le32 (data + off + 4);
      if (vlen == 0 || vlen > DS_FACTORY_DATA_VALUE_MAX)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("Factory data tag %u at byte %zu has length %u; ST's reader takes 1 to %u"),
                       tag, off, vlen, DS_FACTORY_DATA_VALUE_MAX);
          return NULL;
        }
      if (len - off - HEADER_LEN < vlen)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("Factory data tag %u at byte %zu runs past the end of the data"), tag, off);
          return NULL;
        }
      if ((gint64) tag <= last_tag)
        {
          if (tag == last_tag)
            g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA, _("Factory data tag %u appears twice"), tag);
          else
            g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                         _("Factory data tag %u comes after a higher tag: the records are not sorted"), tag);
          return NULL;
        }
      r = g_new0 (DsFactoryRecord, 1);
      r->tag = tag;
      r->value = g_bytes_new (data + off + HEADER_LEN, vlen);
      g_ptr_array_add (records, r);
      if (!record_check (tag, r->value, error))
        return NULL;
      last_tag = tag;
      off += HEADER_LEN + vlen;
    }
  /* A region read back whole is erased flash after the terminator. */
  for (gsize i = off; i < len; i++)
    if (data[i] != 0xff)
      {
        g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                     _("The factory data has bytes other than erased flash (0xFF) after its terminator, at byte %zu"),
                     i);
        return NULL;
      }
  return g_steal_pointer (&records);
}

static void
add_record (GPtrArray *records,
            guint32    tag,
            GBytes    *value)
{
  DsFactoryRecord *r = g_new0 (DsFactoryRecord, 1);

  r->tag = tag;
  r->value = value;
  g_ptr_array_add (records, r);
}

static void
add_le (GPtrArray *records,
        guint32    tag,
        guint32    v,
        gsize      n)
{
  guint8 b[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >> 24 };

  add_record (records, tag, g_bytes_new (b, n));
}

static void
add_string (GPtrArray  *records,
            guint32     tag,
            const char *s)
{
  add_record (records, tag, g_bytes_new (s, strlen (s)));
}

static gint
record_cmp (gconstpointer a,
            gconstpointer b)
{
  const DsFactoryRecord *ra = *(DsFactoryRecord * const *) a;
  const DsFactoryRecord *rb = *(DsFactoryRecord * const *) b;

  return ra->tag < rb->tag ? -1 : ra->tag > rb->tag;
}

static GBytes *
serialize (GPtrArray *records)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_ptr_array_sort (records, record_cmp);
  for (guint i = 0; i < records->len; i++)
    {
      DsFactoryRecord *r = records->pdata[i];
      gsize n;
      const guint8 *p = g_bytes_get_data (r->value, &n);
      guint8 h[HEADER_LEN] = {
        r->tag & 0xff, (r->tag >> 8) & 0xff, (r->tag >> 16) & 0xff, r->tag >> 24,
        n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >> 24) & 0xff,
      };

      g_byte_array_append (out, h, sizeof h);
      g_byte_array_append (out, p, n);
    }
  g_byte_array_append (out, (const guint8[]) { 0xac, 0xac, 0xac, 0xac }, TERMINATOR_LEN);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

GBytes *
ds_factory_data_build (const DsFactoryDataInfo *info,
                       gsize                    region_size,
                       GError                 **error)
{
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_factory_record_free);
  g_autoptr(GPtrArray) check = NULL;
  g_autoptr(GBytes) blob = NULL;
  const struct {
    const char *name;
    gconstpointer value;
  } required[] = {
    { "DAC", info->dac }, { "PAI", info->pai }, { "salt", info->salt }, { "verifier", info->verifier },
    { "vendor name", info->vendor_name }, { "product name", info->product_name },
    { "serial number", info->serial_number }, { "manufacturing date", info->manufacturing_date },
    { "hardware version string", info->hardware_version_string }, { "rotating device ID", info->rotating_id },
  };

  for (guint i = 0; i < G_N_ELEMENTS (required); i++)
    if (required[i].value == NULL)
      {
        g_set_error (error, DS_ERROR, DS_ERROR_CONFIG, _("The factory data needs a %s"), required[i].name);
        return NULL;
      }

  if (info->cd != NULL)
    add_record (records, DS_FACTORY_TAG_CD, g_bytes_ref (info->cd));
  if (info->firmware_info != NULL)
    add_record (records, DS_FACTORY_TAG_FIRMWARE_INFO, g_bytes_ref (info->firmware_info));
  add_record (records, DS_FACTORY_TAG_DAC, g_bytes_ref (info->dac));
  add_record (records, DS_FACTORY_TAG_PAI, g_bytes_ref (info->pai));
  add_le (records, DS_FACTORY_TAG_DISCRIMINATOR, info->discriminator, 2);
  add_le (records, DS_FACTORY_TAG_ITERATIONS, info->iterations, 4);
  add_record (records, DS_FACTORY_TAG_SALT, g_bytes_ref (info->salt));
  add_record (records, DS_FACTORY_TAG_VERIFIER, g_bytes_ref (info->verifier));
  if (info->has_passcode)
    add_le (records, DS_FACTORY_TAG_PASSCODE, info->passcode, 4);
  add_string (records, DS_FACTORY_TAG_VENDOR_NAME, info->vendor_name);
  add_le (records, DS_FACTORY_TAG_VID, info->vid, 2);
  add_string (records, DS_FACTORY_TAG_PRODUCT_NAME, info->product_name);
  add_le (records, DS_FACTORY_TAG_PID, info->pid, 2);
  add_string (records, DS_FACTORY_TAG_SERIAL_NUMBER, info->serial_number);
  add_string (records, DS_FACTORY_TAG_MANUFACTURING_DATE, info->manufacturing_date);
  add_le (records, DS_FACTORY_TAG_HARDWARE_VERSION, info->hardware_version, 2);
  add_string (records, DS_FACTORY_TAG_HARDWARE_VERSION_STRING, info->hardware_version_string);
  add_record (records, DS_FACTORY_TAG_ROTATING_ID, g_bytes_ref (info->rotating_id));

  for (guint i = 0; i < records->len; i++)
    {
      DsFactoryRecord *r = records->pdata[i];

      if (!record_check (r->tag, r->value, error))
        {
          /* The station's own data: a configuration problem. */
          if (error != NULL && *error != NULL)
            (*error)->code = DS_ERROR_CONFIG;
          return NULL;
        }
    }

  blob = serialize (records);
  if (g_bytes_get_size (blob) > region_size)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("The factory data has %zu bytes, more than the %zu-byte factory data region"),
                   g_bytes_get_size (blob), region_size);
      return NULL;
    }
  /* What we send must be what our own strict reader takes. */
  check = ds_factory_data_parse (blob, region_size, error);
  if (check == NULL)
    return NULL;
  return g_steal_pointer (&blob);
}

GBytes *
ds_factory_dac_public_key (GBytes  *dac,
                           GError **error)
{
  gsize n;
  const unsigned char *p = g_bytes_get_data (dac, &n);
  g_autoptr(X509) cert = d2i_X509 (NULL, &p, (long) n);
  g_autoptr(EVP_PKEY) key = NULL;
  guint8 buf[65];
  size_t len = 0;

  if (cert != NULL)
    key = EVP_PKEY_dup (X509_get0_pubkey (cert));
  if (key == NULL || !EVP_PKEY_is_a (key, "EC")
      || EVP_PKEY_set_utf8_string_param (key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") != 1
      || EVP_PKEY_get_octet_string_param (key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, buf, sizeof buf, &len) != 1
      || len != sizeof buf)
    {
      ds_set_error_openssl (error, DS_ERROR_INVALID_DATA, _("The DAC has no P-256 public key"));
      return NULL;
    }
  return g_bytes_new (buf, len);
}

static DsFactoryRecord *
find_record (GPtrArray *records,
             guint32    tag)
{
  for (guint i = 0; i < records->len; i++)
    if (((DsFactoryRecord *) records->pdata[i])->tag == tag)
      return records->pdata[i];
  return NULL;
}

gboolean
ds_factory_data_compare (GBytes  *sent,
                         GBytes  *read_back,
                         GBytes  *dac,
                         gsize    region_size,
                         GError **error)
{
  g_autoptr(GPtrArray) want = NULL;
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GBytes) pub = NULL;
  DsFactoryRecord *r;

  want = ds_factory_data_parse (sent, region_size, error);
  if (want == NULL)
    {
      g_prefix_error (error, _("The factory data sent: "));
      return FALSE;
    }
  got = ds_factory_data_parse (read_back, region_size, error);
  if (got == NULL)
    {
      g_prefix_error (error, _("The factory data read back: "));
      if (error != NULL && *error != NULL)
        (*error)->code = DS_ERROR_PROTOCOL;
      return FALSE;
    }
  pub = ds_factory_dac_public_key (dac, error);
  if (pub == NULL)
    return FALSE;

  if (find_record (got, DS_FACTORY_TAG_DAC_PRIVATE_KEY) != NULL)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_PROTOCOL,
                           _("The board read back its DAC private key (tag 5): a private key must never leave the board"));
      return FALSE;
    }
  r = find_record (got, DS_FACTORY_TAG_DAC_PUBLIC_KEY);
  if (r == NULL)
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_PROTOCOL,
                           _("The board's factory data has no DAC public key (tag 6)"));
      return FALSE;
    }
  if (!g_bytes_equal (r->value, pub))
    {
      g_set_error_literal (error, DS_ERROR, DS_ERROR_PROTOCOL,
                           _("The DAC public key in the board's factory data (tag 6) is not the DAC's key"));
      return FALSE;
    }
  for (guint i = 0; i < want->len; i++)
    {
      DsFactoryRecord *w = want->pdata[i];
      DsFactoryRecord *g = find_record (got, w->tag);

      if (w->tag == DS_FACTORY_TAG_DAC_PRIVATE_KEY || w->tag == DS_FACTORY_TAG_DAC_PUBLIC_KEY)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                       _("The factory data sent holds tag %u; the station never sends the DAC key"), w->tag);
          return FALSE;
        }
      if (g == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                       _("The board's factory data lacks tag %u (%s) that was sent"),
                       w->tag, ds_factory_tag_name (w->tag));
          return FALSE;
        }
      if (!g_bytes_equal (g->value, w->value))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                       _("The board's factory data differs from what was sent in tag %u (%s)"),
                       w->tag, ds_factory_tag_name (w->tag));
          return FALSE;
        }
    }
  for (guint i = 0; i < got->len; i++)
    {
      DsFactoryRecord *g = got->pdata[i];

      if (g->tag != DS_FACTORY_TAG_DAC_PUBLIC_KEY && find_record (want, g->tag) == NULL)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                       _("The board's factory data has tag %u (%s) that was not sent"),
                       g->tag, ds_factory_tag_name (g->tag));
          return FALSE;
        }
    }
  return TRUE;
}

char *
ds_factory_record_describe (const DsFactoryRecord *record)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (record->value, &n);

  if (is_u16_tag (record->tag) && n == 2)
    {
      guint v = get_le (record->value);

      if (record->tag == DS_FACTORY_TAG_VID || record->tag == DS_FACTORY_TAG_PID)
        return g_strdup_printf ("0x%04X (%u)", v, v);
      return g_strdup_printf ("%u", v);
    }
  if (is_u32_tag (record->tag) && n == 4)
    return g_strdup_printf ("%u", get_le (record->value));
  if (is_string_tag (record->tag))
    {
      g_autofree char *s = g_strndup ((const char *) p, n);
      /* Escapes control characters and quotes, keeps UTF-8 as it is. */
      char high[129];
      g_autofree char *escaped = NULL;

      for (int i = 0; i < 128; i++)
        high[i] = (char) (0x80 + i);
      high[128] = '\0';
      escaped = g_strescape (s, high);

      return g_strdup_printf ("\"%s\"", escaped);
    }
  {
    GString *hex = g_string_new (NULL);

    for (gsize i = 0; i < n; i++)
      g_string_append_printf (hex, "%02x", p[i]);
    return g_string_free (hex, FALSE);
  }
}

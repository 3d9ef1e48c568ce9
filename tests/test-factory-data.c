/* Unit tests of the factory data in ST's X-CUBE-MATTER layout: the blob's
 * bytes, an independent reader (tests/read-factory-data.py) on it, strict
 * parsing of broken blobs, and the comparison of a board's read-back. */
#define _GNU_SOURCE  /* memmem */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <string.h>
#include <sys/wait.h>

#include "ds-error.h"
#include "ds-test-util.h"
#include "ds-factory-data.h"
#include "ds-onboarding.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)

#define REGION DS_FACTORY_DATA_REGION_STM32WB5MM_DK

/* A self-signed P-256 certificate in DER: the layout only needs a DER
 * certificate and its key, not a Matter chain. */
static GBytes *
make_cert (const char *cn)
{
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = X509_new ();
  X509_NAME *name = X509_get_subject_name (cert);
  unsigned char *der = NULL;
  int len;
  GBytes *out;

  g_assert_nonnull (key);
  X509_set_version (cert, 2);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 1);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_ASC, (const unsigned char *) cn, -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_set_pubkey (cert, key);
  g_assert_cmpint (X509_sign (cert, key, EVP_sha256 ()), >, 0);
  len = i2d_X509 (cert, &der);
  g_assert_cmpint (len, >, 0);
  out = g_bytes_new (der, len);
  OPENSSL_free (der);
  return out;
}

typedef struct {
  GBytes       *dac;
  GBytes       *pai;
  GBytes       *cd;
  GBytes       *salt;
  GBytes       *verifier;
  GBytes       *rotating_id;
  DsOnboarding  onb;
  DsFactoryDataInfo info;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  DsOnboardingRequest req = { .passcode = 20202021, .has_discriminator = TRUE, .discriminator = 3840,
                              .iterations = 1000 };
  guint8 cd[300];
  guint8 rid[16];

  f->dac = make_cert ("DAC");
  f->pai = make_cert ("PAI");
  /* Only the outer DER SEQUENCE matters to the layout: 30 82 01 28 and
   * 296 bytes. */
  memset (cd, 0x5a, sizeof cd);
  memcpy (cd, "\x30\x82\x01\x28", 4);
  f->cd = g_bytes_new (cd, sizeof cd);
  g_assert_true (ds_onboarding_make (&req, &f->onb, NULL));
  f->salt = g_bytes_new (f->onb.salt, f->onb.salt_len);
  f->verifier = g_bytes_new (f->onb.verifier, sizeof f->onb.verifier);
  g_assert_true (ds_random_bytes (rid, sizeof rid, NULL));
  f->rotating_id = g_bytes_new (rid, sizeof rid);
  f->info = (DsFactoryDataInfo) {
    .cd = f->cd, .dac = f->dac, .pai = f->pai,
    .discriminator = f->onb.discriminator, .iterations = f->onb.iterations,
    .salt = f->salt, .verifier = f->verifier, .has_passcode = TRUE, .passcode = f->onb.passcode,
    .vendor_name = "Müller Leuchten", .vid = 0xFFF1, .product_name = "Lampe 2", .pid = 0x8001,
    .serial_number = "DS-20261202-000042", .manufacturing_date = "2026-12-02",
    .hardware_version = 3, .hardware_version_string = "rev C", .rotating_id = f->rotating_id,
  };
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_bytes_unref (f->dac);
  g_bytes_unref (f->pai);
  g_bytes_unref (f->cd);
  g_bytes_unref (f->salt);
  g_bytes_unref (f->verifier);
  g_bytes_unref (f->rotating_id);
  ds_onboarding_clear (&f->onb);
}

static guint32
le32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* A blob from (tag, value) pairs in the order given, written here, not by
 * the library. */
static GBytes *
blob_of (GPtrArray *records,
         gboolean   terminate)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (guint i = 0; i < records->len; i++)
    {
      DsFactoryRecord *r = records->pdata[i];
      gsize n = g_bytes_get_size (r->value);
      guint8 h[8] = { r->tag, r->tag >> 8, r->tag >> 16, r->tag >> 24, n, n >> 8, n >> 16, n >> 24 };

      g_byte_array_append (out, h, 8);
      g_byte_array_append (out, g_bytes_get_data (r->value, NULL), n);
    }
  if (terminate)
    g_byte_array_append (out, (guint8[]) { 0xac, 0xac, 0xac, 0xac }, 4);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static DsFactoryRecord *
record_new (guint32       tag,
            const void   *data,
            gsize         len)
{
  DsFactoryRecord *r = g_new0 (DsFactoryRecord, 1);

  r->tag = tag;
  r->value = g_bytes_new (data, len);
  return r;
}

static void
test_layout (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = ds_factory_data_build (&f->info, REGION, &error);
  gsize len, off = 0;
  const guint8 *p;
  const guint32 want_tags[] = { 1, 3, 4, 11, 12, 13, 14, 15, 21, 22, 23, 24, 25, 26, 27, 28, 29 };

  g_assert_no_error (error);
  p = g_bytes_get_data (blob, &len);
  /* Walk the bytes by hand: tag, length, value, in ascending tag order, no
   * padding, then the terminator and nothing after it. */
  for (guint i = 0; i < G_N_ELEMENTS (want_tags); i++)
    {
      guint32 n = le32 (p + off + 4);

      g_assert_cmpuint (le32 (p + off), ==, want_tags[i]);
      if (want_tags[i] == DS_FACTORY_TAG_DISCRIMINATOR)
        {
          g_assert_cmpuint (n, ==, 2);
          g_assert_cmpuint (p[off + 8], ==, 3840 & 0xff);
          g_assert_cmpuint (p[off + 9], ==, 3840 >> 8);
        }
      if (want_tags[i] == DS_FACTORY_TAG_MANUFACTURING_DATE)
        g_assert_cmpmem (p + off + 8, n, "2026-12-02", 10);
      if (want_tags[i] == DS_FACTORY_TAG_VENDOR_NAME)
        g_assert_cmpmem (p + off + 8, n, "Müller Leuchten", strlen ("Müller Leuchten"));
      off += 8 + n;
    }
  g_assert_cmpuint (le32 (p + off), ==, 0xACACACAC);
  g_assert_cmpuint (off + 4, ==, len);
}

static JsonObject *
run_reader (GBytes     *blob,
            gsize       region,
            int        *exit_status,
            char      **err_out)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ds-fd-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "blob.bin", NULL);
  g_autofree char *script = g_test_build_filename (G_TEST_DIST, "read-factory-data.py", NULL);
  g_autofree char *region_arg = g_strdup_printf ("--region-size=%zu", region);
  const char *argv[] = { "python3", script, path, region_arg, NULL };
  g_autofree char *out = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  int status = -1;

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (blob, NULL), g_bytes_get_size (blob), &error));
  g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, err_out,
                               &status, &error));
  g_assert_no_error (error);
  g_unlink (path);
  g_rmdir (dir);
  *exit_status = WIFEXITED (status) ? WEXITSTATUS (status) : -1;
  if (*exit_status != 0)
    return NULL;
  g_assert_true (json_parser_load_from_data (parser, out, -1, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static const char *
tag_string (JsonObject *o,
            guint       tag)
{
  g_autofree char *key = g_strdup_printf ("%u", tag);
  JsonObject *r = json_object_get_object_member (o, key);

  g_assert_nonnull (r);
  return json_object_get_string_member (r, "value");
}

static gint64
tag_int (JsonObject *o,
         guint       tag)
{
  g_autofree char *key = g_strdup_printf ("%u", tag);
  JsonObject *r = json_object_get_object_member (o, key);

  g_assert_nonnull (r);
  return json_object_get_int_member (r, "value");
}

static char *
hex_of (GBytes *b)
{
  gsize n;
  const guint8 *p = g_bytes_get_data (b, &n);
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", p[i]);
  return g_string_free (s, FALSE);
}

static void
test_independent_reader (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = ds_factory_data_build (&f->info, REGION, &error);
  g_autoptr(JsonObject) o = NULL;
  g_autofree char *err = NULL;
  struct { guint tag; GBytes *b; } bytes_tags[] = {
    { 1, f->cd }, { 3, f->dac }, { 4, f->pai }, { 13, f->salt }, { 14, f->verifier }, { 29, f->rotating_id },
  };
  int status;

  g_assert_no_error (error);
  o = run_reader (blob, REGION, &status, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpuint (json_object_get_size (o), ==, 17);
  for (guint i = 0; i < G_N_ELEMENTS (bytes_tags); i++)
    {
      g_autofree char *hex = hex_of (bytes_tags[i].b);

      g_assert_cmpstr (tag_string (o, bytes_tags[i].tag), ==, hex);
    }
  /* The reader recomputed the verifier from tag 15, 13 and 12. */
  g_assert_cmpint (tag_int (o, 11), ==, 3840);
  g_assert_cmpint (tag_int (o, 12), ==, 1000);
  g_assert_cmpint (tag_int (o, 15), ==, 20202021);
  g_assert_cmpstr (tag_string (o, 21), ==, "Müller Leuchten");
  g_assert_cmpint (tag_int (o, 22), ==, 0xFFF1);
  g_assert_cmpstr (tag_string (o, 23), ==, "Lampe 2");
  g_assert_cmpint (tag_int (o, 24), ==, 0x8001);
  g_assert_cmpstr (tag_string (o, 25), ==, "DS-20261202-000042");
  g_assert_cmpstr (tag_string (o, 26), ==, "2026-12-02");
  g_assert_cmpint (tag_int (o, 27), ==, 3);
  g_assert_cmpstr (tag_string (o, 28), ==, "rev C");

  /* The reader is no rubber stamp: one flipped verifier byte fails it. */
  {
    gsize n = g_bytes_get_size (blob);
    g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (blob, NULL), n);
    g_autoptr(GBytes) bad = NULL;
    g_autofree char *err2 = NULL;
    const guint8 *v = g_bytes_get_data (f->verifier, NULL);
    guint8 *hit = memmem (copy, n, v, DS_SPAKE2P_VERIFIER_LEN);

    g_assert_nonnull (hit);
    hit[40] ^= 1;
    bad = g_bytes_new (copy, n);
    g_assert_null (run_reader (bad, REGION, &status, &err2));
    g_assert_cmpint (status, ==, 1);
    g_assert_nonnull (strstr (err2, "VERIFIER"));
  }
}

static void
test_region_size (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) blob = ds_factory_data_build (&f->info, REGION, &error);
  g_autoptr(GBytes) small = NULL;
  g_autoptr(GPtrArray) records = NULL;
  gsize len = g_bytes_get_size (blob);

  g_assert_no_error (error);
  small = ds_factory_data_build (&f->info, len - 1, &error);
  g_assert_null (small);
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "region"));
  g_clear_error (&error);

  records = ds_factory_data_parse (blob, len - 1, &error);
  g_assert_null (records);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_clear_error (&error);
  records = ds_factory_data_parse (blob, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (records->len, ==, 17);
}

static void
test_build_rejects (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  DsFactoryDataInfo info = f->info;
  g_autoptr(GBytes) big = NULL;
  guint8 huge[603] = { 0 };

  info.manufacturing_date = "2026-13-02";
  g_assert_null (ds_factory_data_build (&info, REGION, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  info = f->info;
  info.serial_number = "0123456789012345678901234567890123";
  g_assert_null (ds_factory_data_build (&info, REGION, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  info = f->info;
  info.discriminator = 4096;
  g_assert_null (ds_factory_data_build (&info, REGION, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  info = f->info;
  big = g_bytes_new (huge, sizeof huge);
  info.cd = big;
  g_assert_null (ds_factory_data_build (&info, REGION, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_clear_error (&error);

  info = f->info;
  info.dac = NULL;
  g_assert_null (ds_factory_data_build (&info, REGION, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
}

static void
expect_parse_error (GPtrArray  *records,
                    gboolean    terminate,
                    const char *what)
{
  g_autoptr(GBytes) blob = blob_of (records, terminate);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) parsed = ds_factory_data_parse (blob, REGION, &error);

  g_test_message ("%s: %s", what, error != NULL ? error->message : "(accepted)");
  g_assert_null (parsed);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

static void
test_parse_rejects (void)
{
  g_autoptr(GPtrArray) r = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_factory_record_free);
  guint8 big[603] = { 0 };

  g_ptr_array_add (r, record_new (22, "\xf1\xff", 2));
  g_ptr_array_add (r, record_new (11, "\x00\x0f", 2));
  expect_parse_error (r, TRUE, "not sorted");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (22, "\xf1\xff", 2));
  g_ptr_array_add (r, record_new (22, "\xf1\xff", 2));
  expect_parse_error (r, TRUE, "twice");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (22, "\xf1\xff", 2));
  expect_parse_error (r, FALSE, "no terminator");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (22, "", 0));
  expect_parse_error (r, TRUE, "empty value");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (1, big, sizeof big));
  expect_parse_error (r, TRUE, "603 bytes");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (7, "x", 1));
  expect_parse_error (r, TRUE, "unknown tag");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (22, "\xf1\xff\x00", 3));
  expect_parse_error (r, TRUE, "VID of 3 bytes");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (11, "\x00\x10", 2));
  expect_parse_error (r, TRUE, "discriminator 4096");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (26, "02.12.2026", 10));
  expect_parse_error (r, TRUE, "date not ISO");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (3, "\x30\x03\x02\x01\x01", 5));
  expect_parse_error (r, TRUE, "DAC not a certificate");

  g_ptr_array_set_size (r, 0);
  g_ptr_array_add (r, record_new (1, "\x30\x04\x02\x01\x01", 5));
  expect_parse_error (r, TRUE, "CD not one DER structure");

  /* A length that runs past the end. */
  {
    g_autoptr(GError) error = NULL;
    const guint8 bytes[] = { 22, 0, 0, 0, 200, 0, 0, 0, 0xf1, 0xff, 0xac, 0xac, 0xac, 0xac };
    g_autoptr(GBytes) blob = g_bytes_new (bytes, sizeof bytes);

    g_assert_null (ds_factory_data_parse (blob, REGION, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  }
  /* Erased flash after the terminator is fine, anything else is not. */
  {
    g_autoptr(GError) error = NULL;
    const guint8 ok[] = { 22, 0, 0, 0, 2, 0, 0, 0, 0xf1, 0xff, 0xac, 0xac, 0xac, 0xac, 0xff, 0xff };
    const guint8 bad[] = { 22, 0, 0, 0, 2, 0, 0, 0, 0xf1, 0xff, 0xac, 0xac, 0xac, 0xac, 0xff, 0x00 };
    g_autoptr(GBytes) b1 = g_bytes_new (ok, sizeof ok);
    g_autoptr(GBytes) b2 = g_bytes_new (bad, sizeof bad);
    g_autoptr(GPtrArray) parsed = ds_factory_data_parse (b1, REGION, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (parsed->len, ==, 1);
    g_assert_null (ds_factory_data_parse (b2, REGION, &error));
    g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  }
}

/* The records of @blob (parsed by the library, checked by test_layout and
 * the independent reader), with @extra added in tag order, written by
 * blob_of. */
static GBytes *
read_back_of (GBytes          *sent,
              DsFactoryRecord *extra,
              guint32          drop_tag,
              gsize            pad)
{
  g_autoptr(GPtrArray) r = ds_factory_data_parse (sent, REGION, NULL);
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  guint i;

  for (i = 0; i < r->len; i++)
    if (((DsFactoryRecord *) r->pdata[i])->tag == drop_tag)
      g_ptr_array_remove_index (r, i--);
  if (extra != NULL)
    {
      for (i = 0; i < r->len && ((DsFactoryRecord *) r->pdata[i])->tag < extra->tag; i++)
        ;
      g_ptr_array_insert (r, i, extra);
    }
  blob = blob_of (r, TRUE);
  g_byte_array_append (out, g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
  for (gsize k = 0; k < pad; k++)
    g_byte_array_append (out, (guint8[]) { 0xff }, 1);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
expect_compare_error (GBytes     *sent,
                      GBytes     *read_back,
                      GBytes     *dac,
                      const char *needle)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (ds_factory_data_compare (sent, read_back, dac, REGION, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, needle));
}

static void
test_compare (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) sent = ds_factory_data_build (&f->info, REGION, &error);
  g_autoptr(GBytes) pub = ds_factory_dac_public_key (f->dac, &error);
  g_autoptr(GBytes) other_pub = NULL;
  g_autoptr(GBytes) other_cert = make_cert ("other");
  g_autoptr(GBytes) good = NULL;
  g_autoptr(GBytes) bytes = NULL;
  guint8 key[32] = { 1 };

  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (pub), ==, 65);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (pub, NULL))[0], ==, 0x04);
  other_pub = ds_factory_dac_public_key (other_cert, &error);
  g_assert_no_error (error);

  /* The board added its public key and read back the whole region. */
  good = read_back_of (sent, record_new (6, g_bytes_get_data (pub, NULL), 65), 0, 1000);
  g_assert_true (ds_factory_data_compare (sent, good, f->dac, REGION, &error));
  g_assert_no_error (error);

  /* The private key came back. */
  {
    g_autoptr(GBytes) with_key = NULL;
    g_autoptr(GPtrArray) r = ds_factory_data_parse (good, REGION, NULL);

    g_ptr_array_insert (r, 3, record_new (5, key, sizeof key));  /* after 1, 3, 4 */
    with_key = blob_of (r, TRUE);
    expect_compare_error (sent, with_key, f->dac, "private key");
  }
  /* Another key in tag 6; no tag 6. */
  bytes = read_back_of (sent, record_new (6, g_bytes_get_data (other_pub, NULL), 65), 0, 0);
  expect_compare_error (sent, bytes, f->dac, "not the DAC's key");
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = read_back_of (sent, NULL, 0, 0);
  expect_compare_error (sent, bytes, f->dac, "no DAC public key");
  g_clear_pointer (&bytes, g_bytes_unref);
  /* A record lost, a record added. */
  bytes = read_back_of (sent, record_new (6, g_bytes_get_data (pub, NULL), 65), 25, 0);
  expect_compare_error (sent, bytes, f->dac, "lacks tag 25");
  g_clear_pointer (&bytes, g_bytes_unref);
  {
    g_autoptr(GBytes) with_pub = read_back_of (sent, record_new (6, g_bytes_get_data (pub, NULL), 65), 0, 0);
    g_autoptr(GBytes) with_fw = read_back_of (with_pub, record_new (2, "fw", 2), 0, 0);

    expect_compare_error (sent, with_fw, f->dac, "tag 2");
  }
  /* One byte of the serial number changed. */
  {
    gsize n = g_bytes_get_size (good);
    g_autofree guint8 *copy = g_memdup2 (g_bytes_get_data (good, NULL), n);
    guint8 *hit = memmem (copy, n, "000042", 6);
    g_autoptr(GBytes) changed = NULL;

    hit[5] = '3';
    changed = g_bytes_new (copy, n);
    expect_compare_error (sent, changed, f->dac, "tag 25");
  }
  /* A read-back that does not parse is the board's fault. */
  {
    gsize n;
    const guint8 *p = g_bytes_get_data (good, &n);
    g_autoptr(GBytes) cut = g_bytes_new (p, 100);

    expect_compare_error (sent, cut, f->dac, "read back");
  }
}

static char *
write_temp (const char *dir,
            const char *name,
            GBytes     *bytes)
{
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL));
  return path;
}

/* dac-station-cli onboarding: its bad input gets a clear error and exit 2;
 * what it makes checks out; the passcode shows only on request. */
static void
test_cli (Fixture       *f,
          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("ds-fd-cli-XXXXXX", &error);
  g_autofree char *dac = write_temp (dir, "dac.der", f->dac);
  g_autofree char *pai = write_temp (dir, "pai.der", f->pai);
  g_autofree char *blob = g_build_filename (dir, "fd.bin", NULL);
  const char *known[] = { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--passcode", "20202021",
                          "--discriminator", "3840", "--salt-hex", "5350414b453250204b65792053616c74",
                          "--iterations", "1000", "--dac", dac, "--pai", pai, "--factory-data", blob, NULL };
  struct {
    const char *args[16];
    const char *needle;
  } bad[] = {
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--passcode", "12345678" }, "forbids" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--passcode", "99999999" }, "forbids" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--passcode", "100000000" }, "out of range" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--discriminator", "4096" }, "4095" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--iterations", "999" }, "1000 to 100000" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--iterations", "100001" }, "1000 to 100000" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--salt-hex", "00112233445566778899aabbccddee" },
      "16 to 32" },
    { { "onboarding", "new", "--vid", "FFF1", "--pid", "8001", "--dac", dac, "--pai", pai, "--factory-data", blob,
        "--region-size", "512" }, "region" },
    { { "onboarding", "34970112333" }, "check digit" },
    { { "onboarding", "MT:-24J0AFN00KA0648G0" }, "Base-38" },
  };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(DsCliResult) r = ds_test_run_cli (dir, bad[i].args);

      g_assert_cmpint (r->exit_status, ==, 2);
      g_assert_nonnull (strstr (r->err, bad[i].needle));
    }

  /* The known answers through the CLI; no passcode on stdout unasked. */
  {
    g_autoptr(DsCliResult) r = ds_test_run_cli (dir, known);
    g_autoptr(DsCliResult) check = NULL;
    const char *check_args[] = { "onboarding", "--check", blob, NULL };

    g_assert_cmpint (r->exit_status, ==, 0);
    g_assert_nonnull (strstr (r->out, "MT:-24J042C00KA0648G00"));  /* discovery: BLE */
    g_assert_nonnull (strstr (r->out, "3497-011-2332"));
    g_assert_nonnull (strstr (r->out, "uWFwqugDNGiEck/po7KHwwMwwqZgN10XuyBajPGuyzUEV"));
    g_assert_null (strstr (r->out, "20202021"));
    g_assert_null (strstr (r->err, "20202021"));

    check = ds_test_run_cli (dir, check_args);
    g_assert_cmpint (check->exit_status, ==, 0);
    g_assert_nonnull (strstr (check->out, "SPAKE2_VERIFIER"));
    g_assert_nonnull (strstr (check->out, "b96170aae803346884724fe9a3b287c3"));
    g_assert_nonnull (strstr (check->out, "SETUP_DISCRIMINATOR                2  3840"));
    g_assert_null (strstr (check->out, "20202021"));
  }
  /* A broken blob: exit 2 and the reason. */
  {
    g_autofree char *contents = NULL;
    gsize len;
    const char *check_args[] = { "onboarding", "--check", blob, "--json", NULL };
    g_autoptr(DsCliResult) r = NULL;

    g_assert_true (g_file_get_contents (blob, &contents, &len, NULL));
    g_assert_true (g_file_set_contents (blob, contents, (gssize) len - 1, NULL));
    r = ds_test_run_cli (dir, check_args);
    g_assert_cmpint (r->exit_status, ==, 2);
    g_assert_nonnull (strstr (r->err, "terminator"));
    g_assert_cmpuint (r->events->len, ==, 1);
    g_assert_false (json_object_get_boolean_member (r->events->pdata[0], "valid"));
  }
  /* Parse, as JSON. */
  {
    const char *args[] = { "onboarding", "--json", "MT:-24J0AFN00KA0648G00", NULL };
    g_autoptr(DsCliResult) r = ds_test_run_cli (dir, args);
    JsonObject *o;

    g_assert_cmpint (r->exit_status, ==, 0);
    o = ds_test_find_event (r->events, "payload", NULL);
    g_assert_nonnull (o);
    g_assert_cmpint (json_object_get_int_member (o, "vid"), ==, 0xFFF1);
    g_assert_cmpint (json_object_get_int_member (o, "pid"), ==, 0x8001);
    g_assert_cmpint (json_object_get_int_member (o, "discriminator"), ==, 3840);
    g_assert_cmpint (json_object_get_int_member (o, "passcode"), ==, 20202021);
    g_assert_cmpint (json_object_get_int_member (o, "discovery"), ==, 4);
  }
  ds_test_rm_rf (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/factory-data/layout", Fixture, NULL, fixture_set_up, test_layout, fixture_tear_down);
  g_test_add ("/factory-data/independent-reader", Fixture, NULL, fixture_set_up, test_independent_reader,
              fixture_tear_down);
  g_test_add ("/factory-data/region-size", Fixture, NULL, fixture_set_up, test_region_size, fixture_tear_down);
  g_test_add ("/factory-data/build-rejects", Fixture, NULL, fixture_set_up, test_build_rejects, fixture_tear_down);
  g_test_add_func ("/factory-data/parse-rejects", test_parse_rejects);
  g_test_add ("/factory-data/compare", Fixture, NULL, fixture_set_up, test_compare, fixture_tear_down);
  g_test_add ("/factory-data/cli", Fixture, NULL, fixture_set_up, test_cli, fixture_tear_down);
  return g_test_run ();
}

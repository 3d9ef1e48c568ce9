/* EST certs-only bodies: base64 with and without line breaks, binary, and
 * what a broken CA sends instead. */
#include <string.h>

#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-pkcs7.h"
#include "ds-test-util.h"

static GBytes *
corpus (const char *name)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "fuzz", "corpus", "pkcs7", name, NULL);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static GPtrArray *
decode (GBytes     *body,
        const char *cte,
        GError    **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (body, &len);

  return ds_pkcs7_decode_certs_only (data, len, cte, error);
}

static void
assert_chain (GPtrArray *certs)
{
  g_autofree char *pai = NULL;
  g_autofree char *paa = NULL;

  g_assert_nonnull (certs);
  g_assert_cmpuint (certs->len, ==, 2);
  pai = ds_cert_subject (g_ptr_array_index (certs, 0));
  paa = ds_cert_subject (g_ptr_array_index (certs, 1));
  g_assert_nonnull (strstr (pai, "PAI"));
  g_assert_nonnull (strstr (paa, "PAA"));
}

static void
test_decode (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) one_line = corpus ("cacerts-one-line");
  g_autoptr(GBytes) crlf = corpus ("cacerts-crlf");
  g_autoptr(GBytes) der = corpus ("cacerts-der");
  g_autoptr(GPtrArray) a = decode (one_line, NULL, &error);
  g_autoptr(GPtrArray) b = NULL;
  g_autoptr(GPtrArray) c = NULL;
  g_autoptr(GPtrArray) d = NULL;

  g_assert_no_error (error);
  assert_chain (a);
  b = decode (crlf, "base64", &error);
  g_assert_no_error (error);
  assert_chain (b);
  c = decode (der, "binary", &error);
  g_assert_no_error (error);
  assert_chain (c);
  /* DER without saying so is not base64. */
  d = decode (der, NULL, &error);
  g_assert_null (d);
  g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
}

static void
test_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) one_line = corpus ("cacerts-one-line");
  g_autoptr(GPtrArray) certs = decode (one_line, NULL, &error);

  g_assert_no_error (error);
  for (int breaks = 0; breaks < 2; breaks++)
    {
      g_autofree char *text = ds_pkcs7_encode_certs_only ((X509 *const *) certs->pdata, certs->len, breaks);
      g_autoptr(GBytes) body = g_bytes_new (text, strlen (text));
      g_autoptr(GPtrArray) again = decode (body, NULL, &error);

      g_assert_no_error (error);
      assert_chain (again);
      g_assert_true ((strchr (text, '\n') != NULL) == breaks);
      for (guint i = 0; i < certs->len; i++)
        {
          g_autofree char *x = ds_cert_fingerprint (g_ptr_array_index (certs, i));
          g_autofree char *y = ds_cert_fingerprint (g_ptr_array_index (again, i));
          g_assert_cmpstr (x, ==, y);
        }
    }
}

static void
test_garbage (void)
{
  const char *bodies[] = {
    "this is not a certificate!\n",
    "",
    "====",
    "QUJD",                       /* base64 of "ABC": not PKCS#7 */
    "MIIB\n@@@@",                 /* a character outside the alphabet */
    "QUJD=QUJD",                  /* data after padding */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) body = g_bytes_new_static (bodies[i], strlen (bodies[i]));
      g_autoptr(GPtrArray) certs = decode (body, NULL, &error);

      g_assert_null (certs);
      g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
    }
  {
    /* Valid PKCS#7 followed by junk is refused too. */
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) der = corpus ("cacerts-der");
    g_autoptr(GByteArray) junk = g_byte_array_new ();
    g_autoptr(GPtrArray) certs = NULL;
    gsize len = 0;
    const guint8 *data = g_bytes_get_data (der, &len);

    g_byte_array_append (junk, data, len);
    g_byte_array_append (junk, (const guint8 *) "xx", 2);
    certs = ds_pkcs7_decode_certs_only (junk->data, junk->len, "binary", &error);
    g_assert_null (certs);
    g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
  }
}

static void
test_content_type (void)
{
  const char *good[] = { "application/pkcs7-mime", "application/pkcs7-mime; smime-type=certs-only",
                         "Application/PKCS7-MIME;smime-type=\"certs-only\"" };
  const char *bad[] = { "text/html", "application/pkcs7-mime; smime-type=enveloped-data",
                        "application/json", "", " ", ";", NULL };

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (ds_pkcs7_check_content_type (good[i], NULL));
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (ds_pkcs7_check_content_type (bad[i], &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/pkcs7/decode", test_decode);
  g_test_add_func ("/pkcs7/round-trip", test_round_trip);
  g_test_add_func ("/pkcs7/garbage", test_garbage);
  g_test_add_func ("/pkcs7/content-type", test_content_type);
  return g_test_run ();
}

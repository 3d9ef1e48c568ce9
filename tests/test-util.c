/* Unit tests of what guards the station's inputs: the size-limited,
 * regular-file-only reader, the secret-file reader, the sanitiser of board
 * and CA text, and the masking of PINs and passwords in what is shown. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds-ca-http.h"
#include "ds-cfssl-ca.h"
#include "ds-db.h"
#include "ds-error.h"
#include "ds-pkcs11.h"
#include "ds-test-util.h"
#include "ds-util.h"

typedef struct {
  char *tmp;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("ds-test-util-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
}

/* ---- ds_util_read_file ---------------------------------------------------- */

static void
test_read_regular (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmp, "cert.der", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gsize len = 0;

  g_file_set_contents (path, "0123456789", 10, &error);
  g_assert_no_error (error);
  g_assert_true (ds_util_read_file (path, 10, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 10);
  g_assert_cmpstr (contents, ==, "0123456789");

  /* One byte over the limit is refused, naming the file and the limit. */
  g_clear_pointer (&contents, g_free);
  g_assert_false (ds_util_read_file (path, 9, &contents, &len, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "more than the 9 allowed"));
  g_assert_null (contents);
  g_clear_error (&error);

  /* A missing file. */
  g_assert_false (ds_util_read_file ("/nonexistent/cert.der", 100, &contents, &len, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_NOT_FOUND);
}

/* A FIFO with no writer would block g_file_get_contents() for ever. */
static void
test_read_fifo (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmp, "fifo", NULL);
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpint (mkfifo (path, 0600), ==, 0);
  g_assert_false (ds_util_read_file (path, 4096, &contents, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, G_USEC_PER_SEC);
}

/* /dev/zero never ends; a directory is not a file. */
static void
test_read_device_and_directory (Fixture       *f,
                                gconstpointer  data)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;

  g_assert_false (ds_util_read_file ("/dev/zero", 1024 * 1024, &contents, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  bytes = ds_util_read_bytes (f->tmp, 1024, &error);
  g_assert_null (bytes);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "is a directory"));
}

/* A file larger than the limit is refused before it is read: a sparse
 * file of a gibibyte costs nothing to make. */
static void
test_read_oversized (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmp, "huge.der", NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  int fd = g_open (path, O_WRONLY | O_CREAT, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) 1 << 30), ==, 0);
  close (fd);
  bytes = ds_util_read_bytes (path, DS_UTIL_MAX_CERT_FILE, &error);
  g_assert_null (bytes);
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "1073741824 bytes"));
}

/* ---- ds_util_read_secret_file --------------------------------------------- */

static void
test_secret_file (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *path = g_build_filename (f->tmp, "password", NULL);
  g_autofree char *fifo = g_build_filename (f->tmp, "secret-fifo", NULL);
  g_autoptr(GError) error = NULL;
  char *secret;

  g_file_set_contents_full (path, "s3cret\nrest\n", -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);
  secret = ds_util_read_secret_file (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (secret, ==, "s3cret");
  ds_pkcs11_secret_free (secret);

  /* Others may read it: refused, and the secret is not in the message. */
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_null (ds_util_read_secret_file (path, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "can be read by other users"));
  g_assert_null (strstr (error->message, "s3cret"));
  g_clear_error (&error);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (ds_util_read_secret_file (fifo, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "not a plain file"));
}

/* ---- ds_util_sanitize_text ------------------------------------------------ */

static void
test_sanitize (void)
{
  const struct {
    const char *in;
    gssize      len;
    const char *out;
  } cases[] = {
    { "FW 1.2.3 (STM32WB55)", -1, "FW 1.2.3 (STM32WB55)" },
    { "Grüße, 日本", -1, "Grüße, 日本" },
    /* Escape sequences, a forged line, a tab, a backslash. */
    { "\033[2J\033[32mALL BOARDS PASSED\033[0m", -1, "\\x1B[2J\\x1B[32mALL BOARDS PASSED\\x1B[0m" },
    { "bad\n{\"event\":\"summary\"}\r\t", -1, "bad\\x0A{\"event\":\"summary\"}\\x0D\\x09" },
    { "C:\\x41", -1, "C:\\\\x41" },
    /* DEL, C1 CSI (U+009B), U+2028 and a bidi override. */
    { "a\177b\302\233c", -1, "a\\x7Fb\\xC2\\x9Bc" },
    { "x\342\200\250y\342\200\256z", -1, "x\\xE2\\x80\\xA8y\\xE2\\x80\\xAEz" },
    /* Invalid UTF-8: a lone continuation byte, a cut sequence, an overlong
     * slash, a NUL inside the given length. */
    { "a\200b\303", -1, "a\\x80b\\xC3" },
    { "\300\257", -1, "\\xC0\\xAF" },
    { "a\0b", 3, "a\\x00b" },
    { "", -1, "" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = ds_util_sanitize_text (cases[i].in, cases[i].len, 0);

      g_assert_cmpstr (out, ==, cases[i].out);
      g_assert_true (g_utf8_validate (out, -1, NULL));
    }
  g_assert_null (ds_util_sanitize_text (NULL, -1, 10));
}

static void
test_sanitize_length (void)
{
  g_autofree char *long_text = g_strnfill (10000, 'A');
  g_autofree char *out = ds_util_sanitize_text (long_text, -1, 64);
  g_autofree char *exact = ds_util_sanitize_text ("0123456789", -1, 10);
  g_autofree char *escaped = ds_util_sanitize_text ("\033\033\033\033\033", -1, 12);
  g_autofree char *wide = ds_util_sanitize_text ("ééééé", -1, 7);

  /* Cut, with an ellipsis, within the limit. */
  g_assert_cmpuint (strlen (out), <=, 64);
  g_assert_true (g_str_has_suffix (out, "…"));
  g_assert_true (g_str_has_prefix (out, "AAAAAAAA"));
  /* What fits exactly is not cut. */
  g_assert_cmpstr (exact, ==, "0123456789");
  /* An escape is never cut in half, a character neither. */
  g_assert_cmpstr (escaped, ==, "\\x1B\\x1B…");
  g_assert_cmpstr (wide, ==, "éé…");
}

/* What a CA server says reaches messages made safe: an HTTP body's first
 * line, a CFSSL error message. */
static void
test_sanitize_ca_text (void)
{
  static const char body_text[] = "\r\n\033[2J\033[32mCA OK\302\233" "0m \377\nsecond line\n";
  static const char cfssl_text[] =
    "{\"success\":false,\"result\":null,\"errors\":[{\"code\":1,"
    "\"message\":\"\\u001b[2J\\u001b[32mALL BOARDS PASSED\\n{\\\"event\\\":\\\"summary\\\"}\\u009b31m\"}],"
    "\"messages\":[]}";
  g_autoptr(GBytes) body = g_bytes_new_static (body_text, sizeof body_text - 1);
  g_autoptr(GBytes) cfssl = g_bytes_new_static (cfssl_text, sizeof cfssl_text - 1);
  g_autofree char *excerpt = ds_http_body_excerpt (body);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) result = NULL;

  g_assert_cmpstr (excerpt, ==, "\\x1B[2J\\x1B[32mCA OK\\xC2\\x9B0m \\xFF");

  result = ds_cfssl_parse_answer ("/api/v1/cfssl/sign", 400, "application/json", cfssl, &error);
  g_assert_null (result);
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_null (strchr (error->message, '\033'));
  g_assert_null (strchr (error->message, '\n'));
  g_assert_null (strstr (error->message, "\302\233"));
  g_assert_nonnull (strstr (error->message, "\\x1B[2J\\x1B[32mALL BOARDS PASSED\\x0A{\"event\""));
}

/* ---- masking --------------------------------------------------------------- */

static void
test_pkcs11_display_uri (void)
{
  const struct { const char *in, *out; } cases[] = {
    { "pkcs11:token=st;object=tls;type=private", "pkcs11:token=st;object=tls;type=private" },
    { "pkcs11:token=st;pin-value=123456;object=tls", "pkcs11:token=st;pin-value=***;object=tls" },
    { "pkcs11:token=st;object=tls?pin-value=123456", "pkcs11:token=st;object=tls?pin-value=***" },
    { "pkcs11:token=st?module-path=/x.so&PIN-VALUE=123456&pin-value=654321",
      "pkcs11:token=st?module-path=/x.so&PIN-VALUE=***&pin-value=***" },
    { "pkcs11:token=st;pin%2dvalue=123456", "pkcs11:token=st;pin%2dvalue=***" },
    { "pkcs11:pin-value=123456", "pkcs11:pin-value=***" },
    { "/etc/station/key.pem", "/etc/station/key.pem" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = ds_pkcs11_display_uri (cases[i].in);

      g_assert_cmpstr (shown, ==, cases[i].out);
    }
}

/* A URI with a PIN is refused without repeating the PIN, whatever else is
 * wrong with it. */
static void
test_pkcs11_check_uri_hides_pin (void)
{
  const char *uris[] = {
    "pkcs11:token=st;object=tls;type=cert;pin-value=123456",
    "pkcs11:token=st;object=tls;type=private?pin-value=123456",
    "pkcs11:token=st;object=tls;pin%2Dvalue=123456",
    "pkcs11:pin-value=123456",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (uris); i++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_false (ds_pkcs11_check_uri (uris[i], &error));
      g_assert_error (error, DS_ERROR, DS_ERROR_CONFIG);
      g_assert_null (strstr (error->message, "123456"));
    }
}

/* Every parameter libpq takes as a password, however it is spelt. */
static void
test_db_display_name (void)
{
  const struct { const char *in, *out; } cases[] = {
    { "/var/lib/records.sqlite3", "/var/lib/records.sqlite3" },
    { "postgresql://db.lan/line", "postgresql://db.lan/line" },
    { "postgresql://station@db.lan/line", "postgresql://station@db.lan/line" },
    { "postgresql://station:s3cret@db.lan:5433/line?sslmode=require",
      "postgresql://station:***@db.lan:5433/line?sslmode=require" },
    { "postgres:///line?host=/run/pg&password=s3cret&user=u", "postgres:///line?host=/run/pg&password=***&user=u" },
    /* libpq decodes keywords: pass%77ord is password. */
    { "postgresql:///line?pass%77ord=s3cret", "postgresql:///line?pass%77ord=***" },
    { "postgresql:///line?%70%61%73%73%77%6F%72%64=s3cret&user=u", "postgresql:///line?%70%61%73%73%77%6F%72%64=***&user=u" },
    /* Repeated: libpq takes the last; every one is masked. */
    { "postgresql:///line?password=a&password=s3cret", "postgresql:///line?password=***&password=***" },
    { "postgresql:///line?user=u&password=x&sslmode=disable&password=s3cret",
      "postgresql:///line?user=u&password=***&sslmode=disable&password=***" },
    /* The key's passphrase. */
    { "postgresql://db/line?sslpassword=s3cret", "postgresql://db/line?sslpassword=***" },
    /* Userinfo: the first '@' before a '/', even after a '?'. */
    { "postgresql://u:s3c?ret@db/line", "postgresql://u:***@db/line" },
    { "postgresql://u:s3cret@db/line?password=s3cret", "postgresql://u:***@db/line?password=***" },
    { "postgresql://:s3cret@db/line", "postgresql://:***@db/line" },
    { "postgresql://u:s3cret@", "postgresql://u:***@" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *shown = ds_db_display_name (cases[i].in);

      g_assert_cmpstr (shown, ==, cases[i].out);
      g_assert_null (strstr (shown, "s3cret"));
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/util/read/regular", Fixture, NULL, fixture_setup, test_read_regular, fixture_teardown);
  g_test_add ("/util/read/fifo", Fixture, NULL, fixture_setup, test_read_fifo, fixture_teardown);
  g_test_add ("/util/read/device-and-directory", Fixture, NULL, fixture_setup, test_read_device_and_directory,
              fixture_teardown);
  g_test_add ("/util/read/oversized", Fixture, NULL, fixture_setup, test_read_oversized, fixture_teardown);
  g_test_add ("/util/read/secret", Fixture, NULL, fixture_setup, test_secret_file, fixture_teardown);
  g_test_add_func ("/util/sanitize/characters", test_sanitize);
  g_test_add_func ("/util/sanitize/length", test_sanitize_length);
  g_test_add_func ("/util/sanitize/ca-text", test_sanitize_ca_text);
  g_test_add_func ("/util/mask/pkcs11-uri", test_pkcs11_display_uri);
  g_test_add_func ("/util/mask/pkcs11-check", test_pkcs11_check_uri_hides_pin);
  g_test_add_func ("/util/mask/postgresql-uri", test_db_display_name);
  return g_test_run ();
}

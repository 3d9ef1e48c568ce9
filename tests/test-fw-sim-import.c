/* The simulator on a state directory an older simulator left (credentials
 * as files, no secure-storage.bin): the firmware's core takes them over as
 * its store's first record, key included. */
#include "config.h"

#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <openssl/pem.h>
#include <poll.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ds-crypto.h"
#include "ds-frame.h"
#include "ds-test-util.h"

static int
exchange (int fd, guint16 seq, guint8 command, GByteArray *in, GBytes **payload)
{
  g_autoptr(GBytes) raw = ds_frame_encode (0, seq, command, 0, in ? in->data : NULL, in ? in->len : 0);
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  g_assert_cmpint (write (fd, g_bytes_get_data (raw, NULL), g_bytes_get_size (raw)), ==, (gssize) g_bytes_get_size (raw));
  while (g_get_monotonic_time () < deadline)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      guint8 buf[512];
      gssize n;
      DsFrame frame;
      GBytes *p = NULL;

      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buf, sizeof buf);
      if (n <= 0)
        continue;
      ds_frame_reader_push (reader, buf, n);
      if (ds_frame_reader_next (reader, &frame, &p))
        {
          *payload = p;
          return frame.status;
        }
    }
  return -1;
}

static void
write_der (const char *path, X509 *cert)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (cert, &der);

  g_assert_true (g_file_set_contents (path, (const char *) der, len, NULL));
  OPENSSL_free (der);
}

static void
test_import (void)
{
  g_autofree char *tmp = g_dir_make_tmp ("ds-test-fw-sim-import-XXXXXX", NULL);
  g_autofree char *state = g_build_filename (tmp, "boards", NULL);
  g_autofree char *board = g_build_filename (state, "sim-0", NULL);
  g_autofree char *announce = g_build_filename (tmp, "announce", NULL);
  g_autofree char *path = NULL;
  g_autofree char *json = NULL;
  g_autoptr(EVP_PKEY) key = EVP_EC_gen ("P-256");
  g_autoptr(X509) dac = X509_new ();
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GBytes) sig = NULL;
  g_autoptr(GBytes) dac_file = NULL;
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  char *pem = NULL;
  long pem_len;
  guint8 nonce[32] = { 1, 2, 3 };
  guint8 st = 0xFF;
  struct termios tio;
  GPid sim;
  int fd;

  /* What the older simulator kept. */
  g_mkdir_with_parents (board, 0700);
  path = g_build_filename (board, "uid", NULL);
  g_assert_true (g_file_set_contents (path, "00112233445566778899AABB", -1, NULL));
  g_free (path);
  g_assert_true (PEM_write_bio_PrivateKey (bio, key, NULL, NULL, 0, NULL, NULL));
  pem_len = BIO_get_mem_data (bio, &pem);
  path = g_build_filename (board, "key.pem", NULL);
  g_assert_true (g_file_set_contents (path, pem, pem_len, NULL));
  g_free (path);
  path = g_build_filename (board, "state", NULL);
  g_assert_true (g_file_set_contents (path, "locked", -1, NULL));
  g_free (path);
  X509_set_version (dac, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (dac), 77);
  X509_NAME_add_entry_by_txt (X509_get_subject_name (dac), "CN", MBSTRING_UTF8, (const unsigned char *) "old", -1, -1, 0);
  X509_set_issuer_name (dac, X509_get_subject_name (dac));
  X509_gmtime_adj (X509_getm_notBefore (dac), 0);
  X509_gmtime_adj (X509_getm_notAfter (dac), 3600);
  X509_set_pubkey (dac, key);
  g_assert_cmpint (X509_sign (dac, key, EVP_sha256 ()), >, 0);
  path = g_build_filename (board, "dac.der", NULL);
  write_der (path, dac);
  {
    char *contents = NULL;
    gsize len = 0;

    g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
    dac_file = g_bytes_new_take (contents, len);
  }
  g_free (path);
  path = g_build_filename (board, "pai.der", NULL);
  write_der (path, dac);
  g_free (path);

  sim = ds_test_start_sim (state, announce, 1, NULL);
  path = g_build_filename (announce, "sim-0.json", NULL);
  g_assert_true (g_file_get_contents (path, &json, NULL, NULL));
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  fd = open (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)), "port"),
             O_RDWR | O_NOCTTY | O_CLOEXEC);
  g_assert_cmpint (fd, >=, 0);
  tcgetattr (fd, &tio);
  cfmakeraw (&tio);
  tcsetattr (fd, TCSANOW, &tio);

  /* Locked, with its DAC, and ATTEST signs with the old key. */
  g_assert_cmpint (exchange (fd, 1, DS_CMD_INFO, NULL, &p), ==, DS_STATUS_OK);
  g_assert_true (ds_tlv_get_u8 (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_STATE, &st));
  g_assert_cmpuint (st, ==, DS_BOARD_STATE_LOCKED);
  g_clear_pointer (&p, g_bytes_unref);
  ds_tlv_append_u8 (in, DS_TAG_OBJECT, DS_OBJECT_DAC);
  g_assert_cmpint (exchange (fd, 2, DS_CMD_READ, in, &p), ==, DS_STATUS_OK);
  got = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_DAC);
  g_assert_true (g_bytes_equal (got, dac_file));
  g_clear_pointer (&p, g_bytes_unref);
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_NONCE, nonce, sizeof nonce);
  g_assert_cmpint (exchange (fd, 3, DS_CMD_ATTEST, in, &p), ==, DS_STATUS_OK);
  sig = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_SIGNATURE);
  g_assert_cmpint (EVP_DigestVerifyInit (ctx, NULL, EVP_sha256 (), NULL, key), ==, 1);
  g_assert_cmpint (EVP_DigestVerify (ctx, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig), nonce, sizeof nonce), ==, 1);
  close (fd);
  ds_test_stop (&sim, SIGTERM);
  ds_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sim/import-legacy-state", test_import);
  return g_test_run ();
}

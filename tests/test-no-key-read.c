/* The device protocol has no way to read a board's private key: every
 * command code and every READ object, in every board state, is sent to the
 * real simulator over its pseudo-terminal, and no answer may carry the
 * private scalar the board keeps (raw, or as hex text). */
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "ds-crypto.h"
#include "ds-frame.h"
#include "ds-pty-transport.h"
#include "ds-sim-announce.h"
#include "ds-test-util.h"
#include "ds-util.h"

typedef struct {
  DsTestTree tree;  /* the temporary tree and its simulator */
  DsTransport *transport;
  guint16      seq;
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *announce = NULL;
  g_autoptr(DsSimAnnouncement) a = NULL;

  ds_test_tree_setup (&f->tree, NULL);
  ds_test_tree_start_sim (&f->tree, 1, NULL);
  announce = g_build_filename (f->tree.announce_dir, "sim-0.json", NULL);
  a = ds_sim_announce_read (announce, &error);
  g_assert_no_error (error);
  f->transport = DS_TRANSPORT (ds_pty_transport_new (a->port));
  g_assert_true (ds_transport_open (f->transport, &error));
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->transport);
  ds_test_tree_teardown (&f->tree, NULL);
}

/* Sends one request and returns the answer's whole frame (header and
 * payload), or NULL when the board said nothing within a second. */
static GBytes *
request (Fixture      *f,
         guint8        command,
         const guint8 *payload,
         gsize         payload_len)
{
  g_autoptr(GBytes) frame = ds_frame_encode (0, ++f->seq, command, 0, payload, payload_len);
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  g_autoptr(GByteArray) all = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

  g_assert_true (ds_transport_write_all (f->transport, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                         1000, NULL, &error));
  g_assert_no_error (error);
  while (g_get_monotonic_time () < deadline)
    {
      guint8 buf[4096];
      gssize n = ds_transport_read (f->transport, buf, sizeof buf, 100, NULL, &error);
      DsFrame out;
      g_autoptr(GBytes) answer = NULL;

      g_assert_no_error (error);
      if (n <= 0)
        continue;
      g_byte_array_append (all, buf, n);
      ds_frame_reader_push (reader, buf, n);
      if (ds_frame_reader_next (reader, &out, &answer))
        return g_byte_array_free_to_bytes (g_steal_pointer (&all));
    }
  return NULL;
}

/* The board's private scalar, as it keeps it in its state directory. */
static void
board_secret (Fixture *f,
              guint8   raw[32])
{
  g_autofree char *path = g_build_filename (f->tree.state_dir, "sim-0", "key.pem", NULL);
  g_autofree char *pem = NULL;
  g_autoptr(BIO) bio = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  BIGNUM *priv = NULL;

  g_assert_true (g_file_get_contents (path, &pem, NULL, NULL));
  bio = BIO_new_mem_buf (pem, -1);
  key = PEM_read_bio_PrivateKey (bio, NULL, NULL, NULL);
  g_assert_nonnull (key);
  g_assert_true (EVP_PKEY_get_bn_param (key, OSSL_PKEY_PARAM_PRIV_KEY, &priv));
  g_assert_cmpint (BN_bn2binpad (priv, raw, 32), ==, 32);
  BN_free (priv);
}

static void
assert_no_secret (GBytes       *answer,
                  const guint8  raw[32])
{
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (answer, &len);
  g_autofree char *upper = ds_hex_encode (raw, 32);
  g_autofree char *hex = g_ascii_strdown (upper, -1);

  for (gsize i = 0; i + 32 <= len; i++)
    g_assert_false (memcmp (d + i, raw, 32) == 0);
  for (gsize i = 0; i + 64 <= len; i++)
    {
      g_assert_false (memcmp (d + i, hex, 64) == 0);
      g_assert_false (memcmp (d + i, upper, 64) == 0);
    }
}

/* Every command code with an empty payload, and with every READ object id;
 * answers are collected and searched. */
static guint
probe_all (Fixture      *f,
           const guint8  raw[32])
{
  guint answers = 0;

  for (guint cmd = 0; cmd <= 0xFF; cmd++)
    {
      g_autoptr(GBytes) answer = NULL;

      /* REBOOT and LOCK change the board; they are probed last, below. */
      if (cmd == DS_CMD_REBOOT || cmd == DS_CMD_LOCK || cmd == DS_CMD_GENERATE_CSR)
        continue;
      answer = request (f, (guint8) cmd, NULL, 0);
      if (answer != NULL)
        {
          answers++;
          assert_no_secret (answer, raw);
        }
    }
  for (guint object = 0; object <= 0xFF; object++)
    {
      g_autoptr(GByteArray) p = g_byte_array_new ();
      g_autoptr(GBytes) answer = NULL;

      ds_tlv_append_u8 (p, DS_TAG_OBJECT, (guint8) object);
      answer = request (f, DS_CMD_READ, p->data, p->len);
      g_assert_nonnull (answer);
      answers++;
      assert_no_secret (answer, raw);
    }
  return answers;
}

static void
test_no_command_reads_the_key (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(GByteArray) csr_req = g_byte_array_new ();
  g_autoptr(GBytes) csr = NULL;
  guint8 raw[32];
  guint answers;

  /* Make the board generate its key, as the station does. */
  ds_tlv_append_u16 (csr_req, DS_TAG_VID, 0xFFF1);
  ds_tlv_append_u16 (csr_req, DS_TAG_PID, 0x8000);
  ds_tlv_append_string (csr_req, DS_TAG_SUBJECT_CN, "probe");
  csr = request (f, DS_CMD_GENERATE_CSR, csr_req->data, csr_req->len);
  g_assert_nonnull (csr);
  board_secret (f, raw);
  assert_no_secret (csr, raw);

  answers = probe_all (f, raw);
  /* The board answers every request, known or not (UNKNOWN_COMMAND,
   * NOT_FOUND...): the probe really reached it. */
  g_assert_cmpuint (answers, >=, 256 + 250);

  /* And once more after LOCK. */
  {
    g_autoptr(GBytes) locked = request (f, DS_CMD_LOCK, NULL, 0);
    g_assert_nonnull (locked);
    assert_no_secret (locked, raw);
  }
  probe_all (f, raw);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/protocol/no-command-reads-the-key", Fixture, NULL, fixture_setup,
              test_no_command_reads_the_key, fixture_teardown);
  return g_test_run ();
}

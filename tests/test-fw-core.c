/* The provisioning firmware's portable core on a host board in memory: its
 * CSR checked by OpenSSL, the DAC/key match, the credential store under
 * power cuts at every write step, the lock, and bad input. */
#include "config.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <string.h>

#include "ds-attestation.h"
#include "ds-crypto.h"
#include "ds-error.h"
#include "ds-factory-data.h"
#include "ds-frame.h"
#include "fw-core.h"
#include "ds-test-util.h"

#define SLOT_SIZE 8192
#define ERASE_CHUNK 1024
/* The factory-data region of protocol 2. */
#define FD_BASE 0x90100000u
#define FD_SIZE 4096u

/* A board whose flash is memory, and whose power can be cut after a given
 * number of write steps: one per double word programmed, one per 1 KiB
 * erased.  A cut step is left half done. */
typedef struct {
  fw_board    board;
  guint8      flash[2 * SLOT_SIZE];
  guint8      fd_flash[FD_SIZE];
  guint8      uid[FW_UID_LEN];
  GByteArray *out;
  gint64      budget;  /* write steps left; -1: no cut */
  gboolean    dead;    /* the power is off */
  guint       steps;   /* write steps done */
  guint       reboots;
  guint       locks;
  guint       identifies; /* IDENTIFY requests the LED saw */
  gint        blink;      /* seconds of the last one; -1: none yet */
  gboolean    v1;         /* fault: firmware of protocol 1 */
} TestBoard;

static void
tb_write (void *ctx, const uint8_t *data, size_t len)
{
  TestBoard *tb = ctx;

  g_byte_array_append (tb->out, data, len);
}

static int
tb_entropy (void *ctx, uint8_t *out, size_t len)
{
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t) g_random_int ();
  return 0;
}

static int
tb_read (void *ctx, unsigned slot, size_t offset, uint8_t *out, size_t len)
{
  TestBoard *tb = ctx;

  if (tb->dead || slot > 1 || offset + len > SLOT_SIZE)
    return -1;
  memcpy (out, tb->flash + slot * SLOT_SIZE + offset, len);
  return 0;
}

/* One write step: 1 done, 0 the power goes during this one, -1 it was
 * already off. */
static int
tb_step (TestBoard *tb)
{
  if (tb->dead)
    return -1;
  if (tb->budget == 0)
    {
      tb->dead = TRUE;
      return 0;
    }
  if (tb->budget > 0)
    tb->budget--;
  tb->steps++;
  return 1;
}

static int
tb_erase (void *ctx, unsigned slot)
{
  TestBoard *tb = ctx;

  g_assert_cmpuint (slot, <=, 1);
  for (size_t off = 0; off < SLOT_SIZE; off += ERASE_CHUNK)
    {
      guint8 *p = tb->flash + slot * SLOT_SIZE + off;

      int step = tb_step (tb);

      if (step <= 0)
        {
          /* Cut mid-erase: half the chunk erased. */
          if (step == 0)
            memset (p, 0xFF, ERASE_CHUNK / 2);
          return -1;
        }
      memset (p, 0xFF, ERASE_CHUNK);
    }
  return 0;
}

static int
tb_program (void *ctx, unsigned slot, size_t offset, const uint8_t *data, size_t len)
{
  TestBoard *tb = ctx;

  g_assert_cmpuint (slot, <=, 1);
  g_assert_cmpuint (offset % 8, ==, 0);
  g_assert_cmpuint (len % 8, ==, 0);
  g_assert_cmpuint (offset + len, <=, SLOT_SIZE);
  for (size_t i = 0; i < len; i += 8)
    {
      guint8 *p = tb->flash + slot * SLOT_SIZE + offset + i;
      int step = tb_step (tb);

      if (step < 0)
        return -1;
      /* Flash only clears bits; a cut double word gets half its bits. */
      for (size_t k = 0; k < (step > 0 ? 8u : 4u); k++)
        p[k] &= data[i + k];
      if (step == 0)
        return -1;
    }
  return 0;
}

static int
tb_fd_write (void *ctx, uint32_t address, const uint8_t *data, size_t len)
{
  TestBoard *tb = ctx;

  g_assert_cmpuint (address, >=, FD_BASE);
  g_assert_cmpuint (address - FD_BASE + len, <=, FD_SIZE);
  if (tb->dead)
    return -1;
  memset (tb->fd_flash, 0xFF, sizeof tb->fd_flash);
  memcpy (tb->fd_flash + (address - FD_BASE), data, len);
  return 0;
}

static int
tb_fd_read (void *ctx, uint32_t address, uint8_t *out, size_t len)
{
  TestBoard *tb = ctx;

  g_assert_cmpuint (address, >=, FD_BASE);
  g_assert_cmpuint (address - FD_BASE + len, <=, FD_SIZE);
  if (tb->dead)
    return -1;
  memcpy (out, tb->fd_flash + (address - FD_BASE), len);
  return 0;
}

static void
tb_uid (void *ctx, uint8_t uid[FW_UID_LEN])
{
  TestBoard *tb = ctx;

  memcpy (uid, tb->uid, FW_UID_LEN);
}

static int
tb_lock (void *ctx)
{
  TestBoard *tb = ctx;

  tb->locks++;
  return 0;
}

static void
tb_reboot (void *ctx, uint8_t target)
{
  TestBoard *tb = ctx;

  tb->reboots++;
}

static void
tb_identify (void *ctx, uint8_t seconds)
{
  TestBoard *tb = ctx;

  tb->identifies++;
  tb->blink = seconds;
}

static int
tb_fault (void *ctx, int which)
{
  TestBoard *tb = ctx;

  return which == FW_FAULT_PROTOCOL_V1 && tb->v1;
}

static TestBoard *
test_board_new (void)
{
  TestBoard *tb = g_new0 (TestBoard, 1);

  tb->board.ctx = tb;
  tb->board.hw_model = "test board";
  tb->board.fw_version = "1.2.3-test";
  tb->board.write = tb_write;
  tb->board.entropy = tb_entropy;
  tb->board.slot_size = SLOT_SIZE;
  tb->board.storage_read = tb_read;
  tb->board.storage_erase = tb_erase;
  tb->board.storage_program = tb_program;
  tb->board.uid = tb_uid;
  tb->board.lock = tb_lock;
  tb->board.reboot = tb_reboot;
  tb->board.fd_base = FD_BASE;
  tb->board.fd_size = FD_SIZE;
  tb->board.fd_write = tb_fd_write;
  tb->board.fd_read = tb_fd_read;
  tb->board.identify = tb_identify;
  tb->board.fault = tb_fault;
  tb->blink = -1;
  memset (tb->flash, 0xFF, sizeof tb->flash);
  memset (tb->fd_flash, 0xFF, sizeof tb->fd_flash);
  for (guint i = 0; i < FW_UID_LEN; i++)
    tb->uid[i] = (guint8) (0xA0 + i);
  tb->out = g_byte_array_new ();
  tb->budget = -1;
  return tb;
}

static void
test_board_free (TestBoard *tb)
{
  g_byte_array_unref (tb->out);
  g_free (tb);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TestBoard, test_board_free)

typedef struct {
  TestBoard *tb;
  fw_core   *core;
  guint16    seq;
} Fixture;

static void
fixture_boot (Fixture *f)
{
  if (f->core != NULL)
    fw_core_deinit (f->core);
  g_free (f->core);
  f->core = g_new0 (fw_core, 1);
  g_assert_cmpint (fw_core_init (f->core, &f->tb->board), ==, 0);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->tb = test_board_new ();
  f->seq = 0x4000;
  fixture_boot (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  fw_core_deinit (f->core);
  g_free (f->core);
  test_board_free (f->tb);
}

/* Feeds @raw to the core; returns the one answer frame it sends (its
 * payload in *payload), or FALSE when it sends none. */
static gboolean
feed (Fixture *f, GBytes *raw, DsFrame *answer, GBytes **payload)
{
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (raw, &len);

  g_byte_array_set_size (f->tb->out, 0);
  fw_core_input (f->core, d, len);
  if (f->tb->out->len == 0)
    return FALSE;
  ds_frame_reader_push (reader, f->tb->out->data, f->tb->out->len);
  g_assert_true (ds_frame_reader_next (reader, answer, payload));
  /* Exactly one frame, nothing else on the line. */
  g_assert_cmpuint (ds_frame_reader_garbage (reader), ==, 0);
  {
    DsFrame extra;
    GBytes *more = NULL;
    g_assert_false (ds_frame_reader_next (reader, &extra, &more));
  }
  g_assert_true (answer->flags & DS_FRAME_FLAG_RESPONSE);
  return TRUE;
}

/* Sends one request and returns the answer's status and payload. */
static guint8
request (Fixture *f, guint8 command, GByteArray *payload, GBytes **answer_payload)
{
  g_autoptr(GBytes) raw = ds_frame_encode (0, ++f->seq, command, 0, payload ? payload->data : NULL,
                                           payload ? payload->len : 0);
  DsFrame answer;
  GBytes *p = NULL;

  g_assert_true (feed (f, raw, &answer, &p));
  g_assert_cmpuint (answer.seq, ==, f->seq);
  g_assert_cmpuint (answer.command, ==, command);
  if (answer_payload != NULL)
    *answer_payload = p;
  else
    g_bytes_unref (p);
  return answer.status;
}

static guint8
info_state (Fixture *f)
{
  g_autoptr(GBytes) p = NULL;
  guint8 state = 0xFF;

  g_assert_cmpuint (request (f, DS_CMD_INFO, NULL, &p), ==, DS_STATUS_OK);
  g_assert_true (ds_tlv_get_u8 (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_STATE, &state));
  return state;
}

static X509_REQ *
generate_csr (Fixture *f, guint16 vid, guint16 pid, const char *cn, guint8 *status)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  g_autoptr(GBytes) der = NULL;
  const unsigned char *d;

  ds_tlv_append_u16 (in, DS_TAG_VID, vid);
  ds_tlv_append_u16 (in, DS_TAG_PID, pid);
  ds_tlv_append_string (in, DS_TAG_SUBJECT_CN, cn);
  *status = request (f, DS_CMD_GENERATE_CSR, in, &p);
  if (*status != DS_STATUS_OK)
    return NULL;
  der = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_CSR);
  g_assert_nonnull (der);
  d = g_bytes_get_data (der, NULL);
  return d2i_X509_REQ (NULL, &d, (long) g_bytes_get_size (der));
}

/* A certificate for @key, signed by a throwaway issuer: a DAC as far as the
 * board can tell. */
static GBytes *
make_cert (EVP_PKEY *key, long serial)
{
  g_autoptr(EVP_PKEY) issuer = EVP_EC_gen ("P-256");

  return ds_test_make_cert (key, issuer, "Test DAC", serial);
}

static guint8
install (Fixture *f, GBytes *dac, GBytes *pai, GBytes *cd)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();

  ds_tlv_append_bytes (in, DS_TAG_DAC, dac);
  ds_tlv_append_bytes (in, DS_TAG_PAI, pai);
  if (cd != NULL)
    ds_tlv_append_bytes (in, DS_TAG_CD, cd);
  return request (f, DS_CMD_INSTALL, in, NULL);
}

static GBytes *
read_object (Fixture *f, guint8 object, guint8 *status)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  static const guint8 tags[] = { 0, DS_TAG_DAC, DS_TAG_PAI, DS_TAG_CD };

  ds_tlv_append_u8 (in, DS_TAG_OBJECT, object);
  *status = request (f, DS_CMD_READ, in, &p);
  if (*status != DS_STATUS_OK)
    return NULL;
  return ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), tags[object]);
}

/* GENERATE_CSR then INSTALL of a DAC for the board's key; returns the DAC. */
static GBytes *
provision (Fixture *f, GBytes **pai_out)
{
  guint8 status;
  g_autoptr(X509_REQ) req = generate_csr (f, 0xFFF1, 0x8000, "Board", &status);
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(EVP_PKEY) pai_key = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) pai = make_cert (pai_key, 7);
  GBytes *dac;

  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  key = X509_REQ_get_pubkey (req);
  dac = make_cert (key, 1);
  g_assert_cmpuint (install (f, dac, pai, NULL), ==, DS_STATUS_OK);
  if (pai_out != NULL)
    *pai_out = g_steal_pointer (&pai);
  return dac;
}

static void
test_info (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) p = NULL;
  g_autofree char *version = NULL;
  const guint8 *uid;
  gsize uid_len;

  g_assert_cmpuint (request (f, DS_CMD_INFO, NULL, &p), ==, DS_STATUS_OK);
  version = ds_tlv_dup_string (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_FW_VERSION);
  g_assert_cmpstr (version, ==, "1.2.3-test");
  g_assert_true (ds_tlv_find (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_UID, &uid, &uid_len));
  g_assert_cmpmem (uid, uid_len, f->tb->uid, FW_UID_LEN);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_EMPTY);
}

/* The CSR parses and verifies with OpenSSL, with the station's own checks,
 * and names the VID/PID and CN asked for; a second request signs with the
 * same key. */
static void
test_csr (Fixture *f, gconstpointer data)
{
  guint8 status;
  g_autoptr(X509_REQ) req = generate_csr (f, 0xFFF2, 0x8A0C, "Matter Test DAC", &status);
  g_autoptr(X509_REQ) again = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(EVP_PKEY) key2 = NULL;
  g_autoptr(GError) error = NULL;
  DsCsrSubject expected = { "Matter Test DAC", 0xFFF2, 0x8A0C };
  DsCsrSubject wrong = { "Matter Test DAC", 0xFFF2, 0x8A0D };
  DsMatterIds ids;

  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  g_assert_nonnull (req);
  key = X509_REQ_get_pubkey (req);
  g_assert_cmpint (X509_REQ_verify (req, key), ==, 1);
  g_assert_true (ds_csr_check (req, &expected, &error));
  g_assert_no_error (error);
  g_assert_false (ds_csr_check (req, &wrong, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
  g_assert_true (ds_name_get_matter_ids (X509_REQ_get_subject_name (req), &ids, NULL));
  g_assert_true (ids.has_vid && ids.has_pid);
  g_assert_cmphex (ids.vid, ==, 0xFFF2);
  g_assert_cmphex (ids.pid, ==, 0x8A0C);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_KEY_PENDING);

  again = generate_csr (f, 0xFFF1, 0x0001, "Other", &status);
  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  key2 = X509_REQ_get_pubkey (again);
  g_assert_cmpint (EVP_PKEY_eq (key, key2), ==, 1);

  /* The key survives a restart. */
  fixture_boot (f);
  g_clear_pointer (&again, X509_REQ_free);
  g_clear_pointer (&key2, EVP_PKEY_free);
  again = generate_csr (f, 0xFFF1, 0x0001, "Other", &status);
  key2 = X509_REQ_get_pubkey (again);
  g_assert_cmpint (EVP_PKEY_eq (key, key2), ==, 1);
}

/* A DAC for another key is refused; the board's own is installed, read
 * back, and ATTEST signs with its key. */
static void
test_install (Fixture *f, gconstpointer data)
{
  guint8 status;
  g_autoptr(X509_REQ) req = generate_csr (f, 0xFFF1, 0x8000, "Board", &status);
  g_autoptr(EVP_PKEY) key = X509_REQ_get_pubkey (req);
  g_autoptr(EVP_PKEY) other = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) foreign = make_cert (other, 2);
  g_autoptr(GBytes) dac = make_cert (key, 3);
  g_autoptr(GBytes) pai = make_cert (other, 4);
  g_autoptr(GBytes) cd = g_bytes_new_static ("\x30\x03\x02\x01\x01", 5);
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  g_autoptr(GBytes) sig = NULL;
  g_autoptr(X509) cert = NULL;
  g_autoptr(EVP_MD_CTX) ctx = EVP_MD_CTX_new ();
  guint8 nonce[32];

  g_assert_cmpuint (install (f, foreign, pai, NULL), ==, DS_STATUS_KEY_MISMATCH);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_KEY_PENDING);
  got = read_object (f, DS_OBJECT_DAC, &status);
  g_assert_cmpuint (status, ==, DS_STATUS_NOT_FOUND);

  g_assert_cmpuint (install (f, dac, pai, cd), ==, DS_STATUS_OK);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_INSTALLED);
  fixture_boot (f);
  got = read_object (f, DS_OBJECT_DAC, &status);
  g_assert_true (g_bytes_equal (got, dac));
  g_clear_pointer (&got, g_bytes_unref);
  got = read_object (f, DS_OBJECT_PAI, &status);
  g_assert_true (g_bytes_equal (got, pai));
  g_clear_pointer (&got, g_bytes_unref);
  got = read_object (f, DS_OBJECT_CD, &status);
  g_assert_true (g_bytes_equal (got, cd));
  g_clear_pointer (&got, g_bytes_unref);
  /* No object number reads the key. */
  for (guint o = 0; o < 256; o++)
    if (o < 1 || o > 3)
      {
        got = read_object (f, (guint8) o, &status);
        g_assert_cmpuint (status, ==, DS_STATUS_BAD_PAYLOAD);
      }

  for (guint i = 0; i < sizeof nonce; i++)
    nonce[i] = (guint8) g_random_int ();
  ds_tlv_append (in, DS_TAG_NONCE, nonce, sizeof nonce);
  g_assert_cmpuint (request (f, DS_CMD_ATTEST, in, &p), ==, DS_STATUS_OK);
  sig = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_SIGNATURE);
  g_assert_nonnull (sig);
  cert = ds_cert_parse (dac, NULL);
  g_assert_cmpint (EVP_DigestVerifyInit (ctx, NULL, EVP_sha256 (), NULL, X509_get0_pubkey (cert)), ==, 1);
  g_assert_cmpint (EVP_DigestVerify (ctx, g_bytes_get_data (sig, NULL), g_bytes_get_size (sig), nonce, sizeof nonce), ==, 1);
}

/* A locked board refuses a new install, a new CSR, and keeps its DAC. */
static void
test_lock (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) got = NULL;
  guint8 status;
  g_autoptr(X509_REQ) req = NULL;

  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_WRONG_STATE);
  dac = provision (f, &pai);
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_OK);
  g_assert_cmpuint (f->tb->locks, ==, 1);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_LOCKED);
  fixture_boot (f);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_LOCKED);
  /* Already locked: OK, and the write protection applied again. */
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_OK);
  g_assert_cmpuint (install (f, dac, pai, NULL), ==, DS_STATUS_LOCKED);
  req = generate_csr (f, 0xFFF1, 1, "x", &status);
  g_assert_cmpuint (status, ==, DS_STATUS_LOCKED);
  got = read_object (f, DS_OBJECT_DAC, &status);
  g_assert_true (g_bytes_equal (got, dac));
}

/* A retransmitted request (same sequence number and command) gets the same
 * answer without the command running again: the CSR is byte for byte the
 * same (ECDSA signatures are randomised). */
static void
test_retransmit (Fixture *f, gconstpointer data)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) p1 = NULL;
  g_autoptr(GBytes) p2 = NULL;
  g_autoptr(GBytes) reboot = NULL;
  DsFrame a;

  ds_tlv_append_u16 (in, DS_TAG_VID, 0xFFF1);
  ds_tlv_append_u16 (in, DS_TAG_PID, 0x8000);
  ds_tlv_append_string (in, DS_TAG_SUBJECT_CN, "x");
  raw = ds_frame_encode (0, 77, DS_CMD_GENERATE_CSR, 0, in->data, in->len);
  g_assert_true (feed (f, raw, &a, &p1));
  first = g_bytes_new (f->tb->out->data, f->tb->out->len);
  g_assert_true (feed (f, raw, &a, &p2));
  g_assert_cmpmem (f->tb->out->data, f->tb->out->len, g_bytes_get_data (first, NULL), g_bytes_get_size (first));

  /* REBOOT answers, then reboots: what follows in the same input is lost. */
  reboot = ds_frame_encode (0, 78, DS_CMD_REBOOT, 0, NULL, 0);
  {
    g_autoptr(GByteArray) both = g_byte_array_new ();
    g_autoptr(GBytes) info = ds_frame_encode (0, 79, DS_CMD_INFO, 0, NULL, 0);
    g_autoptr(GBytes) joined = NULL;
    GBytes *p = NULL;

    g_byte_array_append (both, g_bytes_get_data (reboot, NULL), g_bytes_get_size (reboot));
    g_byte_array_append (both, g_bytes_get_data (info, NULL), g_bytes_get_size (info));
    joined = g_bytes_new (both->data, both->len);
    g_assert_true (feed (f, joined, &a, &p));
    g_bytes_unref (p);
    g_assert_cmpuint (a.command, ==, DS_CMD_REBOOT);
    g_assert_cmpuint (f->tb->reboots, ==, 1);
  }
}

/* A power cut at every write step of the store, in every kind of write
 * (the first key, an install over an install, the lock): after it the
 * board holds the old credentials or the new ones, never neither. */
static void
test_power_cut (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac_a = NULL;
  g_autoptr(GBytes) dac_b = NULL;
  guint8 base[sizeof f->tb->flash];
  guint total_steps, old_seen = 0, new_seen = 0;
  guint8 status;
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) key = NULL;

  /* The first write: empty -> key pending. */
  memcpy (base, f->tb->flash, sizeof base);
  f->tb->steps = 0;
  req = generate_csr (f, 0xFFF1, 0x8000, "Board", &status);
  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  total_steps = f->tb->steps;
  g_assert_cmpuint (total_steps, >, 8);
  for (guint cut = 0; cut <= total_steps; cut++)
    {
      g_autoptr(X509_REQ) r = NULL;
      guint8 state;

      memcpy (f->tb->flash, base, sizeof base);
      f->tb->budget = cut;
      f->tb->dead = FALSE;
      fixture_boot (f);
      r = generate_csr (f, 0xFFF1, 0x8000, "Board", &status);
      g_assert_cmpuint (status, ==, cut < total_steps ? DS_STATUS_STORAGE : DS_STATUS_OK);
      f->tb->budget = -1;
      f->tb->dead = FALSE;
      fixture_boot (f);
      state = info_state (f);
      g_assert_true (state == DS_BOARD_STATE_EMPTY || state == DS_BOARD_STATE_KEY_PENDING);
      g_assert_true (state == DS_BOARD_STATE_KEY_PENDING || cut < total_steps);
    }

  /* An install over an install. */
  g_clear_pointer (&req, X509_REQ_free);
  dac_a = provision (f, &pai);
  req = generate_csr (f, 0xFFF1, 0x8000, "Board", &status);
  key = X509_REQ_get_pubkey (req);
  dac_b = make_cert (key, 99);
  memcpy (base, f->tb->flash, sizeof base);
  f->tb->steps = 0;
  g_assert_cmpuint (install (f, dac_b, pai, NULL), ==, DS_STATUS_OK);
  total_steps = f->tb->steps;
  for (guint cut = 0; cut <= total_steps; cut++)
    {
      g_autoptr(GBytes) got = NULL;

      memcpy (f->tb->flash, base, sizeof base);
      f->tb->budget = cut;
      f->tb->dead = FALSE;
      fixture_boot (f);
      status = install (f, dac_b, pai, NULL);
      g_assert_cmpuint (status, ==, cut < total_steps ? DS_STATUS_STORAGE : DS_STATUS_OK);
      f->tb->budget = -1;
      f->tb->dead = FALSE;
      fixture_boot (f);
      g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_INSTALLED);
      got = read_object (f, DS_OBJECT_DAC, &status);
      g_assert_cmpuint (status, ==, DS_STATUS_OK);
      if (g_bytes_equal (got, dac_a))
        old_seen++;
      else
        {
          g_assert_true (g_bytes_equal (got, dac_b));
          new_seen++;
        }
      g_clear_pointer (&got, g_bytes_unref);
      got = read_object (f, DS_OBJECT_PAI, &status);
      g_assert_true (g_bytes_equal (got, pai));
    }
  /* Cut before the last step: the old DAC; after: the new one. */
  g_assert_cmpuint (old_seen, ==, total_steps);
  g_assert_cmpuint (new_seen, ==, 1);

  /* The lock. */
  memcpy (base, f->tb->flash, sizeof base);
  f->tb->steps = 0;
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_OK);
  total_steps = f->tb->steps;
  for (guint cut = 0; cut <= total_steps; cut++)
    {
      g_autoptr(GBytes) got = NULL;
      guint8 state;

      memcpy (f->tb->flash, base, sizeof base);
      f->tb->budget = cut;
      f->tb->dead = FALSE;
      fixture_boot (f);
      request (f, DS_CMD_LOCK, NULL, NULL);
      f->tb->budget = -1;
      f->tb->dead = FALSE;
      fixture_boot (f);
      state = info_state (f);
      g_assert_true (state == (cut < total_steps ? DS_BOARD_STATE_INSTALLED : DS_BOARD_STATE_LOCKED));
      got = read_object (f, DS_OBJECT_DAC, &status);
      g_assert_nonnull (got);
    }
}

/* Bad input: an error status or no answer, never a crash, and the
 * credentials stay. */
static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) raw = NULL;
  g_autoptr(GBytes) got = NULL;
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) not_der = g_bytes_new_static ("not a certificate", 17);
  guint8 status;
  DsFrame a;
  GBytes *p = NULL;

  /* INSTALL before GENERATE_CSR. */
  {
    g_autoptr(EVP_PKEY) k = EVP_EC_gen ("P-256");

    dac = make_cert (k, 1);
    g_assert_cmpuint (install (f, dac, dac, NULL), ==, DS_STATUS_WRONG_STATE);
    g_clear_pointer (&dac, g_bytes_unref);
  }

  dac = provision (f, &pai);

  /* Unknown commands. */
  for (guint c = 0; c < 256; c++)
    if (c < DS_CMD_INFO || c > DS_CMD_IDENTIFY)
      g_assert_cmpuint (request (f, (guint8) c, NULL, NULL), ==, DS_STATUS_UNKNOWN_COMMAND);
  /* A DAC that is not DER, and one cut short. */
  g_assert_cmpuint (install (f, not_der, pai, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  {
    g_autoptr(GBytes) cut = g_bytes_new_from_bytes (dac, 0, g_bytes_get_size (dac) - 1);
    g_assert_cmpuint (install (f, cut, pai, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  }
  /* A TLV whose length runs past the payload. */
  g_byte_array_append (in, (const guint8 *) "\x21\xFF\x0F\x30\x82", 5);
  g_assert_cmpuint (request (f, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  /* Wrong sizes of fixed elements. */
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_NONCE, "short", 5);
  g_assert_cmpuint (request (f, DS_CMD_ATTEST, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_VID, "\x01\x02\x03", 3);
  ds_tlv_append_u16 (in, DS_TAG_PID, 1);
  ds_tlv_append_string (in, DS_TAG_SUBJECT_CN, "x");
  g_assert_cmpuint (request (f, DS_CMD_GENERATE_CSR, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  /* A CN that is not UTF-8. */
  g_byte_array_set_size (in, 0);
  ds_tlv_append_u16 (in, DS_TAG_VID, 1);
  ds_tlv_append_u16 (in, DS_TAG_PID, 1);
  ds_tlv_append (in, DS_TAG_SUBJECT_CN, "\xC0\xAF", 2);
  g_assert_cmpuint (request (f, DS_CMD_GENERATE_CSR, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  /* Another protocol version. */
  raw = ds_frame_encode (0, 500, DS_CMD_INFO, 0, NULL, 0);
  {
    guint8 *d = g_memdup2 (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
    gsize n = g_bytes_get_size (raw);
    guint32 crc;
    g_autoptr(GBytes) v2 = NULL;

    d[2] = 2;
    d[10] = ds_crc8 (d + 2, 8);
    crc = ds_crc32 (0, d + 2, 9);
    d[11] = crc & 0xFF, d[12] = (crc >> 8) & 0xFF, d[13] = (crc >> 16) & 0xFF, d[14] = crc >> 24;
    v2 = g_bytes_new_take (d, n);
    g_assert_true (feed (f, v2, &a, &p));
    g_bytes_unref (p);
    g_assert_cmpuint (a.status, ==, DS_STATUS_UNSUPPORTED_VERSION);
  }
  /* Bad header and frame CRCs, an announced length over 4096: no answer. */
  {
    guint8 *d = g_memdup2 (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
    gsize n = g_bytes_get_size (raw);
    g_autoptr(GBytes) bad = NULL;

    d[n - 1] ^= 1;
    bad = g_bytes_new_take (d, n);
    g_assert_false (feed (f, bad, &a, &p));
  }
  {
    guint8 d[15] = { 0xD5, 0xAC, 1, 0, 1, 0, 1, 0, 0x01, 0x10 };
    g_autoptr(GBytes) big = NULL;

    d[10] = ds_crc8 (d + 2, 8);
    big = g_bytes_new (d, sizeof d);
    g_assert_false (feed (f, big, &a, &p));
    g_bytes_unref (raw);
    raw = ds_frame_encode (0, 501, DS_CMD_INFO, 0, NULL, 0);
    /* ... and the good frame right after it is found. */
    g_assert_true (feed (f, raw, &a, &p));
    g_bytes_unref (p);
    g_assert_cmpuint (a.seq, ==, 501);
  }
  /* Garbage: a megabyte of random bytes, with markers sprinkled in. */
  {
    g_autofree guint8 *junk = g_malloc (1 << 20);

    for (gsize i = 0; i < (1 << 20); i++)
      junk[i] = (i % 97 == 0) ? 0xD5 : (i % 97 == 1) ? 0xAC : (guint8) g_random_int ();
    g_byte_array_set_size (f->tb->out, 0);
    fw_core_input (f->core, junk, 1 << 20);
  }

  /* The credentials are all still there. */
  fixture_boot (f);
  g_assert_cmpuint (info_state (f), ==, DS_BOARD_STATE_INSTALLED);
  got = read_object (f, DS_OBJECT_DAC, &status);
  g_assert_true (g_bytes_equal (got, dac));
}

/* Storage that cannot be read: the core still answers, with STORAGE. */
static void
test_storage_broken (Fixture *f, gconstpointer data)
{
  guint8 status;
  g_autoptr(X509_REQ) req = NULL;

  f->tb->dead = TRUE;
  if (f->core != NULL)
    fw_core_deinit (f->core);
  memset (f->core, 0, sizeof *f->core);
  g_assert_cmpint (fw_core_init (f->core, &f->tb->board), !=, 0);
  req = generate_csr (f, 0xFFF1, 1, "x", &status);
  g_assert_cmpuint (status, ==, DS_STATUS_STORAGE);
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_STORAGE);
}


/* ---- protocol 2 ------------------------------------------------------- */

/* A CD as far as the board can tell: a DER SEQUENCE of @len bytes. */
static GBytes *
fake_cd (gsize len)
{
  guint8 *cd = g_malloc (len);

  memset (cd, 0x5A, len);
  cd[0] = 0x30;
  cd[1] = 0x82;
  cd[2] = (guint8) ((len - 4) >> 8);
  cd[3] = (guint8) (len - 4);
  return g_bytes_new_take (cd, len);
}

static void
append_record (GByteArray *blob, guint32 tag, const void *value, gsize len)
{
  guint8 head[8] = { tag & 0xFF, (tag >> 8) & 0xFF, (tag >> 16) & 0xFF, tag >> 24,
                     len & 0xFF, (len >> 8) & 0xFF, (len >> 16) & 0xFF, len >> 24 };

  g_byte_array_append (blob, head, 8);
  g_byte_array_append (blob, value, (guint) len);
}

static void
append_terminator (GByteArray *blob)
{
  static const guint8 end[4] = { 0xAC, 0xAC, 0xAC, 0xAC };

  g_byte_array_append (blob, end, 4);
}

/* Factory data as the station sends it: CD, DAC, PAI, VID, serial number;
 * no key. */
static GBytes *
station_blob (GBytes *cd, GBytes *dac, GBytes *pai)
{
  g_autoptr(GByteArray) blob = g_byte_array_new ();
  const guint8 vid[2] = { 0xF1, 0xFF };

  append_record (blob, 1, g_bytes_get_data (cd, NULL), g_bytes_get_size (cd));
  append_record (blob, 3, g_bytes_get_data (dac, NULL), g_bytes_get_size (dac));
  append_record (blob, 4, g_bytes_get_data (pai, NULL), g_bytes_get_size (pai));
  append_record (blob, 22, vid, sizeof vid);
  append_record (blob, 25, "DS-0001", 7);
  append_terminator (blob);
  return g_byte_array_free_to_bytes (g_steal_pointer (&blob));
}

static guint8
fd_write (Fixture *f, guint32 address, GBytes *blob)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  guint8 a[4] = { address & 0xFF, (address >> 8) & 0xFF, (address >> 16) & 0xFF, address >> 24 };

  ds_tlv_append (in, DS_TAG_FD_ADDRESS, a, sizeof a);
  ds_tlv_append_bytes (in, DS_TAG_FACTORY_DATA, blob);
  return request (f, DS_CMD_FACTORY_DATA_WRITE, in, NULL);
}

/* fd_write() of a blob built here, freed afterwards. */
static guint8
fd_write_array (Fixture *f, guint32 address, GByteArray *array)
{
  g_autoptr(GBytes) blob = g_byte_array_free_to_bytes (array);

  return fd_write (f, address, blob);
}

static GBytes *
fd_read (Fixture *f, guint32 address, guint8 *status)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  guint8 a[4] = { address & 0xFF, (address >> 8) & 0xFF, (address >> 16) & 0xFF, address >> 24 };

  ds_tlv_append (in, DS_TAG_FD_ADDRESS, a, sizeof a);
  *status = request (f, DS_CMD_FACTORY_DATA_READ, in, &p);
  if (*status != DS_STATUS_OK)
    return NULL;
  return ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_FACTORY_DATA);
}

/* The record @tag of a blob in flash, or NULL. */
static GBytes *
flash_record (const guint8 *flash, gsize len, guint32 tag)
{
  gsize pos = 0;

  while (pos + 8 <= len)
    {
      guint32 t = flash[pos] | flash[pos + 1] << 8 | flash[pos + 2] << 16 | (guint32) flash[pos + 3] << 24;
      guint32 n = flash[pos + 4] | flash[pos + 5] << 8 | flash[pos + 6] << 16 | (guint32) flash[pos + 7] << 24;

      if (t == 0xACACACACu || n > len - pos - 8)
        return NULL;
      if (t == tag)
        return g_bytes_new (flash + pos + 8, n);
      pos += 8 + n;
    }
  return NULL;
}

/* INFO says protocol 2.  The board adds its key pair to the station's
 * blob and writes the whole where it was asked: the private key (tag 5)
 * is in flash and is the key of the DAC's public key (tag 6); the
 * read-back leaves tag 5 out, and is what was sent plus tag 6. */
static void
test_factory_data (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = provision (f, &pai);
  g_autoptr(GBytes) cd = fake_cd (300);
  g_autoptr(GBytes) blob = station_blob (cd, dac, pai);
  g_autoptr(GBytes) info = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GBytes) priv = NULL;
  g_autoptr(GBytes) pub = NULL;
  g_autoptr(GBytes) dac_pub = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(BIGNUM) d = NULL;
  guint8 proto = 0;
  guint8 status;
  const guint32 at = FD_BASE + 0x100;

  g_assert_cmpuint (request (f, DS_CMD_INFO, NULL, &info), ==, DS_STATUS_OK);
  g_assert_true (ds_tlv_get_u8 (g_bytes_get_data (info, NULL), g_bytes_get_size (info), DS_TAG_PROTO_VERSION, &proto));
  g_assert_cmpuint (proto, ==, DS_PROTOCOL_VERSION_2);

  g_assert_cmpuint (fd_write (f, at, blob), ==, DS_STATUS_OK);
  /* Nothing before the address was touched. */
  for (gsize i = 0; i < 0x100; i++)
    g_assert_cmphex (f->tb->fd_flash[i], ==, 0xFF);

  priv = flash_record (f->tb->fd_flash + 0x100, FD_SIZE - 0x100, 5);
  pub = flash_record (f->tb->fd_flash + 0x100, FD_SIZE - 0x100, 6);
  g_assert_nonnull (priv);
  g_assert_nonnull (pub);
  g_assert_cmpuint (g_bytes_get_size (priv), ==, 32);
  dac_pub = ds_factory_dac_public_key (dac, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (pub, dac_pub));
  /* The private scalar is the DAC key's: d·G is the DAC's point. */
  {
    const unsigned char *p = g_bytes_get_data (dac, NULL);
    g_autoptr(X509) cert = d2i_X509 (NULL, &p, (long) g_bytes_get_size (dac));
    g_autoptr(EVP_PKEY) from_priv = NULL;
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
    OSSL_PARAM *params;
    g_autoptr(EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);

    d = BN_bin2bn (g_bytes_get_data (priv, NULL), 32, NULL);
    OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0);
    OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
    OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, g_bytes_get_data (pub, NULL), 65);
    params = OSSL_PARAM_BLD_to_param (bld);
    g_assert_cmpint (EVP_PKEY_fromdata_init (ctx), ==, 1);
    g_assert_cmpint (EVP_PKEY_fromdata (ctx, &from_priv, EVP_PKEY_KEYPAIR, params), ==, 1);
    OSSL_PARAM_free (params);
    OSSL_PARAM_BLD_free (bld);
    {
      g_autoptr(EVP_PKEY_CTX) check = EVP_PKEY_CTX_new (from_priv, NULL);
      g_assert_cmpint (EVP_PKEY_pairwise_check (check), ==, 1);
    }
    g_assert_cmpint (EVP_PKEY_eq (from_priv, X509_get0_pubkey (cert)), ==, 1);
  }

  back = fd_read (f, at, &status);
  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  g_assert_nonnull (back);
  g_assert_null (flash_record (g_bytes_get_data (back, NULL), g_bytes_get_size (back), 5));
  {
    gsize len = 0;
    const guint8 *b = g_bytes_get_data (back, &len);

    for (gsize i = 0; i + 32 <= len; i++)
      g_assert_false (memcmp (b + i, g_bytes_get_data (priv, NULL), 32) == 0);
  }
  g_assert_true (ds_factory_data_compare (blob, back, dac, FD_SIZE, &error));
  g_assert_no_error (error);

  /* A read-back that differs by one bit is caught. */
  f->tb->fd_flash[0x100 + 8 + 10] ^= 0x01;
  g_clear_pointer (&back, g_bytes_unref);
  back = fd_read (f, at, &status);
  g_assert_cmpuint (status, ==, DS_STATUS_OK);
  g_assert_false (ds_factory_data_compare (blob, back, dac, FD_SIZE, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* Erased flash holds no factory data. */
  g_assert_null (fd_read (f, FD_BASE + 0x800, &status));
  g_assert_cmpuint (status, ==, DS_STATUS_NOT_FOUND);
}

/* What the board refuses to write, and that it then wrote nothing. */
static void
test_factory_data_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) cd = fake_cd (300);
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(EVP_PKEY) other = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) other_dac = make_cert (other, 9);
  guint8 erased[FD_SIZE];

  memset (erased, 0xFF, sizeof erased);
  /* Before a DAC is installed. */
  {
    g_autoptr(GBytes) early = station_blob (cd, cd, cd);
    g_assert_cmpuint (fd_write (f, FD_BASE, early), ==, DS_STATUS_WRONG_STATE);
  }
  dac = provision (f, &pai);
  blob = station_blob (cd, dac, pai);

  /* Outside the region, or not fitting in it with the key. */
  g_assert_cmpuint (fd_write (f, FD_BASE - 8, blob), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (fd_write (f, FD_BASE + FD_SIZE - g_bytes_get_size (blob), blob), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (fd_write (f, FD_BASE + FD_SIZE + 16, blob), ==, DS_STATUS_BAD_PAYLOAD);
  /* A blob with a key of the station's own, unsorted, unterminated, with
   * bytes after the terminator, or an empty value. */
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();
    guint8 k[32] = { 1 };

    append_record (b, 4, "x", 1);
    append_record (b, 5, k, sizeof k);
    append_terminator (b);
    g_assert_cmpuint (fd_write_array (f, FD_BASE, g_steal_pointer (&b)), ==,
                      DS_STATUS_BAD_PAYLOAD);
  }
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();

    append_record (b, 22, "\xF1\xFF", 2);
    append_record (b, 4, "x", 1);
    append_terminator (b);
    g_assert_cmpuint (fd_write_array (f, FD_BASE, g_steal_pointer (&b)), ==,
                      DS_STATUS_BAD_PAYLOAD);
  }
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();

    append_record (b, 22, "\xF1\xFF", 2);
    g_assert_cmpuint (fd_write_array (f, FD_BASE, g_steal_pointer (&b)), ==,
                      DS_STATUS_BAD_PAYLOAD);
  }
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();

    append_record (b, 22, "\xF1\xFF", 2);
    append_terminator (b);
    g_byte_array_append (b, (const guint8 *) "\xFF", 1);
    g_assert_cmpuint (fd_write_array (f, FD_BASE, g_steal_pointer (&b)), ==,
                      DS_STATUS_BAD_PAYLOAD);
  }
  {
    g_autoptr(GByteArray) b = g_byte_array_new ();

    append_record (b, 22, "", 0);
    append_terminator (b);
    g_assert_cmpuint (fd_write_array (f, FD_BASE, g_steal_pointer (&b)), ==,
                      DS_STATUS_BAD_PAYLOAD);
  }
  /* A DAC that is not for the board's key. */
  {
    g_autoptr(GBytes) wrong = station_blob (cd, other_dac, pai);
    g_assert_cmpuint (fd_write (f, FD_BASE, wrong), ==, DS_STATUS_KEY_MISMATCH);
  }
  g_assert_cmpmem (f->tb->fd_flash, FD_SIZE, erased, FD_SIZE);

  /* Locked: read-only. */
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_OK);
  g_assert_cmpuint (fd_write (f, FD_BASE, blob), ==, DS_STATUS_LOCKED);
  g_assert_cmpmem (f->tb->fd_flash, FD_SIZE, erased, FD_SIZE);
}

static guint8
attestation (Fixture *f, const guint8 *nonce, gsize nonce_len, const guint8 *challenge, gsize challenge_len,
             GBytes **elements, GBytes **signature)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) p = NULL;
  guint8 status;

  ds_tlv_append (in, DS_TAG_NONCE, nonce, nonce_len);
  ds_tlv_append (in, DS_TAG_CHALLENGE, challenge, challenge_len);
  status = request (f, DS_CMD_ATTESTATION, in, &p);
  if (status == DS_STATUS_OK)
    {
      *elements = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_ATTESTATION_ELEMENTS);
      *signature = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_SIGNATURE);
    }
  return status;
}

/* The commissioner's attestation: elements with the installed CD and the
 * nonce sent, signed with the DAC key over elements || challenge; checked
 * by the station's verifier, which refuses another challenge. */
static void
test_attestation (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) cd = fake_cd (300);
  g_autoptr(GBytes) elements = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsAttestationElements) parsed = { 0 };
  guint8 nonce[32], challenge[16], other[16];

  for (guint i = 0; i < 32; i++)
    nonce[i] = (guint8) (0x40 + i);
  memset (challenge, 0xC1, sizeof challenge);
  memset (other, 0xC2, sizeof other);

  /* Before install, and without a CD. */
  g_assert_cmpuint (attestation (f, nonce, 32, challenge, 16, &elements, &signature), ==, DS_STATUS_WRONG_STATE);
  dac = provision (f, &pai);
  g_assert_cmpuint (attestation (f, nonce, 32, challenge, 16, &elements, &signature), ==, DS_STATUS_NOT_FOUND);
  g_assert_cmpuint (install (f, dac, pai, cd), ==, DS_STATUS_OK);
  /* Wrong sizes. */
  g_assert_cmpuint (attestation (f, nonce, 31, challenge, 16, &elements, &signature), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (attestation (f, nonce, 32, challenge, 15, &elements, &signature), ==, DS_STATUS_BAD_PAYLOAD);

  g_assert_cmpuint (attestation (f, nonce, 32, challenge, 16, &elements, &signature), ==, DS_STATUS_OK);
  g_assert_nonnull (elements);
  g_assert_nonnull (signature);
  g_assert_true (ds_attestation_verify (elements, signature, nonce, challenge, dac, cd, &parsed, &error));
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (parsed.cd, cd));
  g_assert_cmpuint (parsed.timestamp, ==, 0);
  g_assert_null (parsed.firmware_info);
  /* The board's elements are byte for byte what the station would build. */
  {
    g_autoptr(GBytes) built = ds_attestation_elements_build (cd, nonce, 32, 0, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (built, elements));
  }
  g_assert_false (ds_attestation_verify (elements, signature, nonce, other, dac, cd, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_INVALID_DATA);
}

static guint8
identify (Fixture *f, gint seconds)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();

  if (seconds >= 0)
    ds_tlv_append_u8 (in, DS_TAG_IDENTIFY_SECONDS, (guint8) seconds);
  return request (f, DS_CMD_IDENTIFY, in, NULL);
}

/* IDENTIFY blinks the LED through the board, in every state, with bounded
 * seconds; a retransmission does not blink twice; firmware of protocol 1
 * does not know it. */
static void
test_identify (Fixture *f, gconstpointer data)
{
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) dac = NULL;

  g_assert_cmpuint (identify (f, 5), ==, DS_STATUS_OK);
  g_assert_cmpuint (f->tb->identifies, ==, 1);
  g_assert_cmpint (f->tb->blink, ==, 5);
  g_assert_cmpuint (identify (f, DS_IDENTIFY_MAX_SECONDS), ==, DS_STATUS_OK);
  g_assert_cmpint (f->tb->blink, ==, DS_IDENTIFY_MAX_SECONDS);
  g_assert_cmpuint (identify (f, 0), ==, DS_STATUS_OK);
  g_assert_cmpint (f->tb->blink, ==, 0);
  g_assert_cmpuint (f->tb->identifies, ==, 3);

  /* Out of bounds or missing: refused, the LED untouched. */
  g_assert_cmpuint (identify (f, DS_IDENTIFY_MAX_SECONDS + 1), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (identify (f, 255), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (identify (f, -1), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (f->tb->identifies, ==, 3);

  /* A retransmitted request is answered from the cache, not run again. */
  {
    g_autoptr(GByteArray) in = g_byte_array_new ();
    g_autoptr(GBytes) raw = NULL;
    g_autoptr(GBytes) p1 = NULL;
    g_autoptr(GBytes) p2 = NULL;
    DsFrame a1, a2;

    ds_tlv_append_u8 (in, DS_TAG_IDENTIFY_SECONDS, 7);
    raw = ds_frame_encode (0, ++f->seq, DS_CMD_IDENTIFY, 0, in->data, in->len);
    g_assert_true (feed (f, raw, &a1, &p1));
    g_assert_true (feed (f, raw, &a2, &p2));
    g_assert_cmpuint (a1.status, ==, DS_STATUS_OK);
    g_assert_cmpuint (a2.status, ==, DS_STATUS_OK);
    g_assert_cmpuint (f->tb->identifies, ==, 4);
  }

  /* Allowed whatever the credentials' state, and changes none of it. */
  dac = provision (f, &pai);
  g_assert_cmpuint (request (f, DS_CMD_LOCK, NULL, NULL), ==, DS_STATUS_OK);
  g_assert_cmpuint (identify (f, 3), ==, DS_STATUS_OK);
  g_assert_cmpint (f->tb->blink, ==, 3);
  g_assert_cmpuint (f->tb->identifies, ==, 5);

  /* A board without an LED refuses; firmware of protocol 1 does not
   * know the command. */
  f->tb->board.identify = NULL;
  g_assert_cmpuint (identify (f, 3), ==, DS_STATUS_REFUSED);
  f->tb->board.identify = tb_identify;
  f->tb->v1 = TRUE;
  g_assert_cmpuint (identify (f, 3), ==, DS_STATUS_UNKNOWN_COMMAND);
  g_assert_cmpuint (f->tb->identifies, ==, 5);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/fw-core/info", test_info);
  ADD ("/fw-core/csr", test_csr);
  ADD ("/fw-core/install", test_install);
  ADD ("/fw-core/lock", test_lock);
  ADD ("/fw-core/retransmit", test_retransmit);
  ADD ("/fw-core/power-cut", test_power_cut);
  ADD ("/fw-core/bad-input", test_bad_input);
  ADD ("/fw-core/storage-broken", test_storage_broken);
  ADD ("/fw-core/factory-data", test_factory_data);
  ADD ("/fw-core/factory-data-refused", test_factory_data_refused);
  ADD ("/fw-core/attestation", test_attestation);
  ADD ("/fw-core/identify", test_identify);
  return g_test_run ();
}

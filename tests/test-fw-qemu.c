/* The provisioning firmware's Cortex-M image (board qemu-m4) on QEMU's
 * netduinoplus2: the station provisions it end to end over its pty, also
 * through a noisy line (a relay that damages bytes), the credentials
 * survive a restart of QEMU, and bad input gets an error status, never a
 * crash, never lost credentials.  Skipped only where qemu-system-arm is not
 * installed. */
#define _GNU_SOURCE  /* posix_openpt, pipe2 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <termios.h>
#include <unistd.h>

#include "ds-attestation.h"
#include "ds-crypto.h"
#include "ds-device.h"
#include "ds-error.h"
#include "ds-factory-data.h"
#include "ds-frame.h"
#include "ds-onboarding.h"
#include "ds-pty-transport.h"
#include "ds-test-util.h"
#include "ds-util.h"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OBJECT, ASN1_OBJECT_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)

typedef struct {
  char        *tmp;
  char        *board_dir;
  char        *data_dir;
  char        *announce_dir;
  char        *elf;
  GSubprocess *qemu;
  GDataInputStream *qemu_out;
  char        *port;
  guint16      seq;
} Fixture;

static char *
firmware_elf (void)
{
  const char *dir = g_getenv ("DS_FW_BUILDDIR");

  return g_build_filename (dir != NULL ? dir : ".", "dac-station-fw-qemu-m4.elf", NULL);
}

/* QEMU goes when the test does, also when an assertion aborts it. */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

/* Starts QEMU on the image in the board's directory (its semihosting files
 * live there) and waits for its pty and the firmware's "ready". */
static void
qemu_start (Fixture *f)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                         G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_autoptr(GError) error = NULL;
  gboolean ready = FALSE;

  g_subprocess_launcher_set_cwd (launcher, f->board_dir);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  f->qemu = g_subprocess_launcher_spawn (launcher, &error, "qemu-system-arm", "-M", "netduinoplus2",
                                         "-display", "none", "-monitor", "none", "-serial", "pty",
                                         "-semihosting-config", "enable=on,target=native",
                                         "-kernel", f->elf, NULL);
  g_assert_no_error (error);
  f->qemu_out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->qemu));
  g_clear_pointer (&f->port, g_free);
  while (!ready)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (f->qemu_out, NULL, NULL, &error);
      const char *pts;

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_test_message ("qemu: %s", line);
      if ((pts = strstr (line, "/dev/pts/")) != NULL)
        f->port = g_strndup (pts, strcspn (pts, " )"));
      if (strstr (line, "ready") != NULL)
        ready = TRUE;
    }
  g_assert_nonnull (f->port);
}

/* TRUE when QEMU is still running: the firmware did not fault (its fault
 * handlers end QEMU with status 1). */
static gboolean
qemu_alive (Fixture *f)
{
  /* GSubprocess reaps its child in GLib's worker thread; the identifier
   * goes once it has. */
  g_usleep (100 * 1000);
  return f->qemu != NULL && g_subprocess_get_identifier (f->qemu) != NULL;
}

static void
qemu_stop (Fixture *f)
{
  if (f->qemu == NULL)
    return;
  g_subprocess_send_signal (f->qemu, SIGTERM);
  g_subprocess_wait (f->qemu, NULL, NULL);
  g_clear_object (&f->qemu_out);
  g_clear_object (&f->qemu);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-arm");

  f->elf = firmware_elf ();
  if (qemu == NULL)
    {
      g_test_skip ("qemu-system-arm is not installed (tools/run installs it)");
      return;
    }
  /* Not a skip: tools/run build makes the image before the tests run. */
  if (!g_file_test (f->elf, G_FILE_TEST_EXISTS))
    g_error ("%s is missing: build the firmware first (tools/run build)", f->elf);
  f->tmp = g_dir_make_tmp ("ds-test-fw-qemu-XXXXXX", NULL);
  f->board_dir = g_build_filename (f->tmp, "board", NULL);
  f->data_dir = g_build_filename (f->tmp, "data", NULL);
  f->announce_dir = g_build_filename (f->tmp, "announce", NULL);
  g_mkdir_with_parents (f->board_dir, 0700);
  g_mkdir_with_parents (f->announce_dir, 0700);
  f->seq = 0x1200;
  qemu_start (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  qemu_stop (f);
  if (f->tmp != NULL)
    ds_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->board_dir);
  g_free (f->data_dir);
  g_free (f->announce_dir);
  g_free (f->elf);
  g_free (f->port);
}

static DsCliResult *
provision (Fixture *f)
{
  const char *args[] = { "provision", "--port", f->port, "--data-dir", f->data_dir, "--json", NULL };

  return ds_test_run_cli (f->announce_dir, args);
}

/* The station provisions the Cortex-M firmware end to end; after QEMU
 * restarts the credentials are still there and the station reports the
 * board as already provisioned, with the same DAC. */
static void
test_provision (Fixture *f, gconstpointer data)
{
  g_autoptr(DsCliResult) first = NULL;
  g_autoptr(DsCliResult) again = NULL;
  JsonObject *pass, *already;
  g_autofree char *serial = NULL;

  if (g_test_failed () || f->qemu == NULL)
    return;
  first = provision (f);
  g_assert_cmpint (first->exit_status, ==, 0);
  pass = ds_test_find_event (first->events, "pass", NULL);
  g_assert_nonnull (pass);
  serial = g_strdup (json_object_get_string_member (pass, "dac_serial"));
  g_test_message ("DAC file %s", json_object_get_string_member (pass, "dac_file"));
  g_assert_true (g_file_test (json_object_get_string_member (pass, "dac_file"), G_FILE_TEST_EXISTS));
  g_assert_true (qemu_alive (f));

  qemu_stop (f);
  qemu_start (f);
  again = provision (f);
  g_assert_cmpint (again->exit_status, ==, 0);
  g_assert_null (ds_test_find_event (again->events, "pass", NULL));
  already = ds_test_find_event (again->events, "already-provisioned", NULL);
  g_assert_nonnull (already);
  g_assert_cmpstr (json_object_get_string_member (already, "dac_serial"), ==, serial);
  g_assert_true (qemu_alive (f));
}

/* Identify through the CLI: the Cortex-M firmware takes IDENTIFY and its
 * board (no LED under QEMU) says on the semihosting console what the LED
 * would do. */
static void
test_identify (Fixture *f, gconstpointer data)
{
  const char *args[] = { "identify", "--port", f->port, "--seconds", "7", "--json", NULL };
  g_autoptr(DsCliResult) r = NULL;
  g_autoptr(GError) error = NULL;
  gboolean seen = FALSE;

  if (g_test_failed () || f->qemu == NULL)
    return;
  r = ds_test_run_cli (f->announce_dir, args);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (r->events, "identify", NULL));
  while (!seen)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (f->qemu_out, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_test_message ("qemu: %s", line);
      seen = strstr (line, "LED blinking for 7 s") != NULL;
    }
  g_assert_true (qemu_alive (f));
}

/* ---- raw frames to the board ------------------------------------------- */

static int
open_raw (const char *path,
          int         flags)
{
  int fd = open (path, O_RDWR | O_NOCTTY | O_CLOEXEC | flags);
  struct termios tio;

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (tcgetattr (fd, &tio), ==, 0);
  cfmakeraw (&tio);
  g_assert_cmpint (tcsetattr (fd, TCSANOW, &tio), ==, 0);
  return fd;
}

static int
open_port (Fixture *f)
{
  return open_raw (f->port, 0);
}

static void
send_raw (int fd, const void *data, gsize len)
{
  g_assert_cmpint (write (fd, data, len), ==, (gssize) len);
}

/* Waits up to @timeout_ms for an answer frame; its status, or -1 for none. */
static int
receive (int fd, int timeout_ms, GBytes **payload)
{
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();
  gint64 deadline = g_get_monotonic_time () + timeout_ms * 1000;

  for (;;)
    {
      struct pollfd pfd = { .fd = fd, .events = POLLIN };
      gint64 left = (deadline - g_get_monotonic_time ()) / 1000;
      guint8 buf[512];
      gssize n;
      DsFrame frame;
      GBytes *p = NULL;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0)
        return -1;
      n = read (fd, buf, sizeof buf);
      if (n <= 0)
        return -1;
      ds_frame_reader_push (reader, buf, n);
      if (ds_frame_reader_next (reader, &frame, &p))
        {
          if (payload != NULL)
            *payload = p;
          else
            g_bytes_unref (p);
          return frame.status;
        }
    }
}

static int
exchange (Fixture *f, int fd, guint8 command, GByteArray *payload, GBytes **answer)
{
  g_autoptr(GBytes) raw = ds_frame_encode (0, ++f->seq, command, 0, payload ? payload->data : NULL,
                                           payload ? payload->len : 0);

  send_raw (fd, g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  return receive (fd, 10000, answer);
}

static guint8
board_state (Fixture *f, int fd)
{
  g_autoptr(GBytes) p = NULL;
  guint8 state = 0xFF;

  g_assert_cmpint (exchange (f, fd, DS_CMD_INFO, NULL, &p), ==, DS_STATUS_OK);
  g_assert_true (ds_tlv_get_u8 (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_STATE, &state));
  return state;
}

/* Bad input gets an error status (or, for a damaged frame, silence), never
 * a crash, and never erases the credentials. */
static void
test_bad_input (Fixture *f, gconstpointer data)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) dac_after = NULL;
  g_autoptr(DsCliResult) r = NULL;
  int fd;

  if (g_test_failed () || f->qemu == NULL)
    return;
  fd = open_port (f);

  /* INSTALL before GENERATE_CSR. */
  ds_tlv_append (in, DS_TAG_DAC, "\x30\x03\x02\x01\x01", 5);
  ds_tlv_append (in, DS_TAG_PAI, "\x30\x00", 2);
  g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_WRONG_STATE);
  /* Unknown commands. */
  g_assert_cmpint (exchange (f, fd, 0x42, NULL, NULL), ==, DS_STATUS_UNKNOWN_COMMAND);
  g_assert_cmpint (exchange (f, fd, 0x00, NULL, NULL), ==, DS_STATUS_UNKNOWN_COMMAND);
  /* A TLV whose length runs past the payload. */
  g_byte_array_set_size (in, 0);
  g_byte_array_append (in, (const guint8 *) "\x21\xFF\xFF\x30", 4);
  g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  /* A header announcing more than 4096 bytes, then a frame with a bad CRC:
   * no answer to either, and the next good frame is answered. */
  {
    guint8 big[11] = { 0xD5, 0xAC, 1, 0, 9, 0, DS_CMD_INFO, 0, 0x01, 0xF0 };
    g_autoptr(GBytes) info = ds_frame_encode (0, 0x7777, DS_CMD_INFO, 0, NULL, 0);
    g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (info, NULL), g_bytes_get_size (info));

    big[10] = ds_crc8 (big + 2, 8);
    send_raw (fd, big, sizeof big);
    g_assert_cmpint (receive (fd, 500, NULL), ==, -1);
    bad[g_bytes_get_size (info) - 2] ^= 0x40;
    send_raw (fd, bad, g_bytes_get_size (info));
    g_assert_cmpint (receive (fd, 500, NULL), ==, -1);
  }
  g_assert_cmpuint (board_state (f, fd), ==, DS_BOARD_STATE_EMPTY);
  close (fd);

  /* Provisioned and locked by the station ... */
  r = provision (f);
  g_assert_cmpint (r->exit_status, ==, 0);
  g_assert_nonnull (ds_test_find_event (r->events, "pass", NULL));
  fd = open_port (f);
  g_byte_array_set_size (in, 0);
  ds_tlv_append_u8 (in, DS_TAG_OBJECT, DS_OBJECT_DAC);
  g_assert_cmpint (exchange (f, fd, DS_CMD_READ, in, &dac), ==, DS_STATUS_OK);

  /* ... it refuses a new install and a DAC that is not DER alike, and
   * garbage changes nothing. */
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_DAC, "not DER at all", 14);
  ds_tlv_append (in, DS_TAG_PAI, "\x30\x00", 2);
  g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_LOCKED);
  g_byte_array_set_size (in, 0);
  ds_tlv_append_u16 (in, DS_TAG_VID, 0xFFF1);
  ds_tlv_append_u16 (in, DS_TAG_PID, 0x8000);
  ds_tlv_append_string (in, DS_TAG_SUBJECT_CN, "again");
  g_assert_cmpint (exchange (f, fd, DS_CMD_GENERATE_CSR, in, NULL), ==, DS_STATUS_LOCKED);
  {
    guint8 junk[4096];

    for (gsize i = 0; i < sizeof junk; i++)
      junk[i] = (i % 50 == 0) ? 0xD5 : (i % 50 == 1) ? 0xAC : (guint8) g_random_int ();
    send_raw (fd, junk, sizeof junk);
    receive (fd, 300, NULL);
  }
  close (fd);

  /* Still alive; after a restart the same DAC is there, locked. */
  g_assert_true (qemu_alive (f));
  qemu_stop (f);
  qemu_start (f);
  fd = open_port (f);
  g_assert_cmpuint (board_state (f, fd), ==, DS_BOARD_STATE_LOCKED);
  g_byte_array_set_size (in, 0);
  ds_tlv_append_u8 (in, DS_TAG_OBJECT, DS_OBJECT_DAC);
  g_assert_cmpint (exchange (f, fd, DS_CMD_READ, in, &dac_after), ==, DS_STATUS_OK);
  g_assert_true (g_bytes_equal (dac, dac_after));
  close (fd);
}

/* A certificate for the key of @csr_der with a non-critical extension of
 * @padding bytes: the largest DACs the protocol carries. */
static GBytes *
make_big_cert (GBytes *csr_der, gsize padding)
{
  const unsigned char *d = g_bytes_get_data (csr_der, NULL);
  g_autoptr(X509_REQ) req = d2i_X509_REQ (NULL, &d, (long) g_bytes_get_size (csr_der));
  g_autoptr(EVP_PKEY) issuer = EVP_EC_gen ("P-256");
  g_autoptr(X509) cert = X509_new ();
  g_autoptr(ASN1_OBJECT) oid = OBJ_txt2obj ("1.3.6.1.4.1.55555.1", 1);
  g_autoptr(ASN1_OCTET_STRING) value = ASN1_OCTET_STRING_new ();
  g_autofree guint8 *filler = g_malloc (padding + 4);
  X509_NAME *name = X509_get_subject_name (cert);
  X509_EXTENSION *ext;
  EVP_PKEY *key;
  unsigned char *der = NULL;
  int len;
  GBytes *bytes;

  g_assert_nonnull (req);
  key = X509_REQ_get0_pubkey (req);
  /* An OCTET STRING inside the extension's own OCTET STRING. */
  filler[0] = 0x04;
  filler[1] = 0x82;
  filler[2] = (guint8) (padding >> 8);
  filler[3] = (guint8) padding;
  memset (filler + 4, 0x5A, padding);
  ASN1_OCTET_STRING_set (value, filler, (int) padding + 4);
  ext = X509_EXTENSION_create_by_OBJ (NULL, oid, 0, value);
  X509_set_version (cert, X509_VERSION_3);
  ASN1_INTEGER_set (X509_get_serialNumber (cert), 4242);
  X509_NAME_add_entry_by_txt (name, "CN", MBSTRING_UTF8, (const unsigned char *) "Big DAC", -1, -1, 0);
  X509_set_issuer_name (cert, name);
  X509_gmtime_adj (X509_getm_notBefore (cert), 0);
  X509_gmtime_adj (X509_getm_notAfter (cert), 3600);
  X509_set_pubkey (cert, key);
  X509_add_ext (cert, ext, -1);
  X509_EXTENSION_free (ext);
  g_assert_cmpint (X509_sign (cert, issuer, EVP_sha256 ()), >, 0);
  len = i2d_X509 (cert, &der);
  g_assert_cmpint (len, >, 0);
  bytes = g_bytes_new (der, len);
  OPENSSL_free (der);
  return bytes;
}

/* A DAC that is not DER, before the board is provisioned: BAD_PAYLOAD, and
 * the key the board made is kept.  Then the largest DAC a payload carries
 * is parsed on the chip (its heap holds it) and installed. */
static void
test_not_der (Fixture *f, gconstpointer data)
{
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) csr1 = NULL;
  g_autoptr(GBytes) csr2 = NULL;
  int fd;

  if (g_test_failed () || f->qemu == NULL)
    return;
  fd = open_port (f);
  ds_tlv_append_u16 (in, DS_TAG_VID, 0xFFF1);
  ds_tlv_append_u16 (in, DS_TAG_PID, 0x8000);
  ds_tlv_append_string (in, DS_TAG_SUBJECT_CN, "board");
  g_assert_cmpint (exchange (f, fd, DS_CMD_GENERATE_CSR, in, &csr1), ==, DS_STATUS_OK);
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_DAC, "\x30\x82\x7F\xFF\x01\x02", 6);
  ds_tlv_append (in, DS_TAG_PAI, "\x30\x00", 2);
  g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  g_byte_array_set_size (in, 0);
  ds_tlv_append (in, DS_TAG_DAC, g_bytes_get_data (csr1, NULL), g_bytes_get_size (csr1));
  ds_tlv_append (in, DS_TAG_PAI, "\x30\x00", 2);
  g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_BAD_PAYLOAD);
  g_assert_cmpuint (board_state (f, fd), ==, DS_BOARD_STATE_KEY_PENDING);

  {
    g_autoptr(GBytes) csr = ds_tlv_dup_bytes (g_bytes_get_data (csr1, NULL), g_bytes_get_size (csr1), DS_TAG_CSR);
    g_autoptr(GBytes) big = make_big_cert (csr, 3700);
    g_autoptr(GBytes) got = NULL;
    g_autoptr(GBytes) p = NULL;

    g_assert_cmpuint (g_bytes_get_size (big), >, 3900);
    g_byte_array_set_size (in, 0);
    ds_tlv_append_bytes (in, DS_TAG_DAC, big);
    ds_tlv_append (in, DS_TAG_PAI, "\x30\x00", 2);
    g_assert_cmpuint (in->len, <=, DS_FRAME_MAX_PAYLOAD);
    g_assert_cmpint (exchange (f, fd, DS_CMD_INSTALL, in, NULL), ==, DS_STATUS_OK);
    g_byte_array_set_size (in, 0);
    ds_tlv_append_u8 (in, DS_TAG_OBJECT, DS_OBJECT_DAC);
    g_assert_cmpint (exchange (f, fd, DS_CMD_READ, in, &p), ==, DS_STATUS_OK);
    got = ds_tlv_dup_bytes (g_bytes_get_data (p, NULL), g_bytes_get_size (p), DS_TAG_DAC);
    g_assert_true (g_bytes_equal (got, big));
  }
  close (fd);
  g_assert_true (qemu_alive (f));
}

/* ---- a noisy line ------------------------------------------------------- */

/* A relay between QEMU's pty and a new pty pair for the station: it
 * forwards bytes both ways and damages each with probability @rate, from a
 * fixed seed per direction (flips one bit of it, or drops it), as a bad
 * cable or a noisy level shifter would.  The station opens the pair's
 * slave, as it opens QEMU's pty in the cases above. */
typedef struct {
  int       board_fd;     /* QEMU's pty */
  int       master_fd;    /* the station side's master */
  int       slave_fd;     /* the station side, held open, as a USB adapter's
                           * port is always there: the master never sees a
                           * hang-up between the station's opens */
  char     *port;         /* the station side's path */
  gboolean  drop;
  double    rate;
  GRand    *rand[2];
  int       wake[2];
  GThread  *thread;
  guint64   bytes[2];
  guint64   damaged[2];
} Relay;

enum { TO_BOARD, TO_STATION };

typedef struct {
  const char *name;
  gboolean    drop;
  double      rate;
  guint32     seed;
} Line;

static const Line noisy_lines[] = {
  { "flip", FALSE, 0.01, 1801 },
  { "drop", TRUE, 0.01, 1802 },
  /* Rare enough that retransmission may absorb it. */
  { "flip-rare", FALSE, 0.0005, 1804 },
};

static void
relay_damage (Relay        *r,
              int           dir,
              const guint8 *in,
              gsize         len,
              GByteArray   *out)
{
  for (gsize i = 0; i < len; i++)
    {
      guint8 b = in[i];

      r->bytes[dir]++;
      if (g_rand_double (r->rand[dir]) < r->rate)
        {
          r->damaged[dir]++;
          if (r->drop)
            continue;
          b ^= (guint8) (1u << g_rand_int_range (r->rand[dir], 0, 8));
        }
      g_byte_array_append (out, &b, 1);
    }
}

/* Writes what @fd takes of @queue; FALSE when @fd is gone. */
static gboolean
relay_flush (int         fd,
             GByteArray *queue)
{
  while (queue->len > 0)
    {
      gssize n = write (fd, queue->data, queue->len);

      if (n < 0)
        return errno == EAGAIN || errno == EINTR;
      g_byte_array_remove_range (queue, 0, (guint) n);
    }
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *r = data;
  GByteArray *queue[2] = { g_byte_array_new (), g_byte_array_new () };
  /* Where each direction reads from and writes to. */
  const int from[2] = { r->master_fd, r->board_fd };
  const int to[2] = { r->board_fd, r->master_fd };
  gboolean running = TRUE;

  while (running)
    {
      struct pollfd pfd[3] = {
        { .fd = from[TO_BOARD], .events = POLLIN | (queue[TO_STATION]->len > 0 ? POLLOUT : 0) },
        { .fd = from[TO_STATION], .events = POLLIN | (queue[TO_BOARD]->len > 0 ? POLLOUT : 0) },
        { .fd = r->wake[0], .events = POLLIN },
      };

      if (poll (pfd, G_N_ELEMENTS (pfd), -1) < 0)
        {
          if (errno == EINTR)
            continue;
          break;
        }
      if (pfd[2].revents != 0)
        break;
      for (int dir = TO_BOARD; dir <= TO_STATION; dir++)
        if (pfd[dir].revents & (POLLIN | POLLHUP | POLLERR))
          {
            guint8 buf[1024];
            gssize n = read (from[dir], buf, sizeof buf);

            if (n > 0)
              relay_damage (r, dir, buf, (gsize) n, queue[dir]);
            else if (n == 0 || (errno != EAGAIN && errno != EINTR))
              running = FALSE;  /* QEMU went */
          }
      for (int dir = TO_BOARD; dir <= TO_STATION; dir++)
        if (!relay_flush (to[dir], queue[dir]))
          running = FALSE;
    }
  g_byte_array_unref (queue[0]);
  g_byte_array_unref (queue[1]);
  return NULL;
}

static Relay *
relay_start (const char *board_port,
             const Line *line)
{
  Relay *r = g_new0 (Relay, 1);

  r->drop = line->drop;
  r->rate = line->rate;
  r->rand[TO_BOARD] = g_rand_new_with_seed (line->seed);
  r->rand[TO_STATION] = g_rand_new_with_seed (line->seed ^ 0x5A5A5A5A);
  r->board_fd = open_raw (board_port, O_NONBLOCK);
  r->master_fd = posix_openpt (O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
  g_assert_cmpint (r->master_fd, >=, 0);
  g_assert_cmpint (grantpt (r->master_fd), ==, 0);
  g_assert_cmpint (unlockpt (r->master_fd), ==, 0);
  r->port = g_strdup (ptsname (r->master_fd));
  g_assert_nonnull (r->port);
  r->slave_fd = open_raw (r->port, 0);
  g_assert_cmpint (pipe2 (r->wake, O_CLOEXEC), ==, 0);
  r->thread = g_thread_new ("relay", relay_thread, r);
  g_test_message ("relay: %s <-> %s, %s %.2f %% of bytes, seed %u", r->port, board_port,
                  r->drop ? "dropping" : "flipping a bit of", r->rate * 100, line->seed);
  return r;
}

static void
relay_stop (Relay *r)
{
  g_assert_cmpint (write (r->wake[1], "", 1), ==, 1);
  g_thread_join (r->thread);
  g_test_message ("relay: to the board %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " damaged; "
                  "to the station %" G_GUINT64_FORMAT " bytes, %" G_GUINT64_FORMAT " damaged",
                  r->bytes[TO_BOARD], r->damaged[TO_BOARD], r->bytes[TO_STATION], r->damaged[TO_STATION]);
  close (r->wake[0]);
  close (r->wake[1]);
  close (r->slave_fd);
  close (r->master_fd);
  close (r->board_fd);
  g_rand_free (r->rand[0]);
  g_rand_free (r->rand[1]);
  g_free (r->port);
  g_free (r);
}

typedef struct {
  gboolean done;
  gboolean timed_out;
  gboolean hung;
  char    *out;
  char    *err;
  GError  *error;
} Communicated;

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  Communicated *c = data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &c->out, &c->err, &c->error);
  c->done = TRUE;
}

static gboolean
timed_out_cb (gpointer data)
{
  Communicated *c = data;

  c->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* provision() through @port, as ds_test_run_cli() runs it, but bounded:
 * a CLI that hangs fails here after @timeout_s, with what it said so far,
 * instead of at meson's timeout.  exit_status is -1 when it did not exit
 * (a signal: a crash, an abort). */
static DsCliResult *
provision_bounded (Fixture    *f,
                   const char *port,
                   guint       timeout_s)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                         G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GSubprocess) cli = NULL;
  g_autoptr(GSource) timeout = g_timeout_source_new (timeout_s * 1000);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  Communicated c = { 0 };
  DsCliResult *r = g_new0 (DsCliResult, 1);
  gint64 started = g_get_monotonic_time ();

  g_assert_nonnull (g_getenv ("DS_CLI"));
  g_main_context_push_thread_default (context);
  g_subprocess_launcher_setenv (launcher, "DAC_STATION_SIM_DIR", f->announce_dir, TRUE);
  g_subprocess_launcher_set_child_setup (launcher, die_with_parent, NULL, NULL);
  cli = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("DS_CLI"), "provision", "--port", port,
                                     "--data-dir", f->data_dir, "--json", NULL);
  g_assert_no_error (error);
  g_source_set_callback (timeout, timed_out_cb, &c, NULL);
  g_source_attach (timeout, context);
  g_subprocess_communicate_utf8_async (cli, NULL, NULL, communicated_cb, &c);
  while (!c.done)
    {
      g_main_context_iteration (context, TRUE);
      if (c.timed_out && !c.hung && !c.done)
        {
          g_test_message ("the CLI still runs after %u s: killing it", timeout_s);
          g_subprocess_force_exit (cli);
          c.hung = TRUE;
        }
    }
  g_source_destroy (timeout);
  g_subprocess_wait (cli, NULL, NULL);
  g_main_context_pop_thread_default (context);
  g_assert_no_error (c.error);

  r->out = c.out != NULL ? c.out : g_strdup ("");
  r->err = c.err != NULL ? c.err : g_strdup ("");
  r->exit_status = g_subprocess_get_if_exited (cli) ? g_subprocess_get_exit_status (cli) : -1;
  r->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  lines = g_strsplit (r->out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    ds_test_parse_json_line (lines[i], r->events);
  g_test_message ("the CLI ran %.1f s, exit status %d%s\nstdout:\n%s\nstderr:\n%s",
                  (g_get_monotonic_time () - started) / 1e6, r->exit_status,
                  g_subprocess_get_if_signaled (cli) ? " (killed by a signal)" : "", r->out, r->err);
  /* Not a hang. */
  g_assert_false (c.hung);
  return r;
}

static gint64
query_int (sqlite3    *db,
           const char *sql)
{
  sqlite3_stmt *stmt = NULL;
  gint64 v = -1;

  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    v = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  return v;
}

/* What the records hold: no job passed without its board's DAC recorded as
 * installed, and never more than one live DAC for the one board.  Returns
 * the installed DAC and its serial, if there is one. */
static GBytes *
recorded_dac (Fixture  *f,
              char    **serial)
{
  g_autofree char *path = g_build_filename (f->data_dir, "records.sqlite3", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  GBytes *dac = NULL;

  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (query_int (db, "SELECT COUNT(*) FROM jobs j WHERE j.outcome = 'passed' AND NOT EXISTS "
                                  "(SELECT 1 FROM certificates c WHERE c.board_uid = j.board_uid "
                                  "AND c.installed = 1 AND c.superseded = 0)"), ==, 0);
  g_assert_cmpint (query_int (db, "SELECT COUNT(DISTINCT board_uid) FROM jobs WHERE board_uid IS NOT NULL"), <=, 1);
  g_assert_cmpint (query_int (db, "SELECT COUNT(*) FROM certificates WHERE installed = 1 AND superseded = 0"), <=, 1);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "SELECT dac_der, serial FROM certificates WHERE installed = 1 AND superseded = 0",
                                       -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    {
      dac = g_bytes_new (sqlite3_column_blob (stmt, 0), sqlite3_column_bytes (stmt, 0));
      *serial = g_strdup ((const char *) sqlite3_column_text (stmt, 1));
    }
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return dac;
}

/* The station provisions the board through a line that damages bytes: it
 * passes (retransmission absorbed the damage) or fails cleanly, with a
 * step, a code and a cause, never a crash or a hang.  Then, on a clean
 * line, it passes or finds the board provisioned: the board holds exactly
 * the one DAC the records have, locked. */
static void
test_noisy_line (Fixture *f, gconstpointer data)
{
  const Line *line = data;
  const char *audit[] = { "audit", "verify", "--data-dir", f->data_dir, NULL };
  g_autoptr(DsCliResult) noisy = NULL;
  g_autoptr(DsCliResult) clean = NULL;
  g_autoptr(DsCliResult) verified = NULL;
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GBytes) recorded = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(GBytes) held = NULL;
  g_autofree char *recorded_serial = NULL;
  g_autofree char *noisy_serial = NULL;
  g_autofree char *relay_port = NULL;
  JsonObject *summary;
  JsonObject *o;
  Relay *relay;
  int fd;

  if (g_test_failed () || f->qemu == NULL)
    return;
  relay = relay_start (f->port, line);
  relay_port = g_strdup (relay->port);
  noisy = provision_bounded (f, relay_port, 90);
  relay_stop (relay);

  /* Passed or failed, nothing else: no usage error (2), no signal (-1). */
  g_assert_cmpint (noisy->exit_status, >=, 0);
  g_assert_cmpint (noisy->exit_status, <=, 1);
  summary = ds_test_summary (noisy);
  g_assert_nonnull (summary);
  if (noisy->exit_status == 0)
    {
      o = ds_test_find_event (noisy->events, "pass", NULL);
      g_assert_nonnull (o);
      g_assert_null (ds_test_find_event (noisy->events, "fail", NULL));
      g_assert_cmpint (json_object_get_int_member (summary, "failed"), ==, 0);
      noisy_serial = g_strdup (json_object_get_string_member (o, "dac_serial"));
      g_assert_nonnull (noisy_serial);
      g_test_message ("%s: PASS (the damage was absorbed)", line->name);
    }
  else
    {
      const char *codes[] = { "timed-out", "protocol", NULL };
      const char *cause;

      o = ds_test_find_event (noisy->events, "fail", NULL);
      g_assert_nonnull (o);
      g_assert_null (ds_test_find_event (noisy->events, "pass", NULL));
      g_assert_cmpint (json_object_get_int_member (summary, "failed"), ==, 1);
      cause = json_object_get_string_member_with_default (o, "cause", "");
      g_test_message ("%s: FAIL at %s, %s: %s", line->name, json_object_get_string_member (o, "step"),
                      json_object_get_string_member (o, "code"), cause);
      g_assert_cmpstr (json_object_get_string_member_with_default (o, "step", ""), !=, "");
      g_assert_true (g_strv_contains (codes, json_object_get_string_member_with_default (o, "code", "")));
      /* The cause names the port the damage came through. */
      g_assert_nonnull (strstr (cause, relay_port));
    }
  recorded = recorded_dac (f, &recorded_serial);
  if (noisy_serial != NULL)
    g_assert_cmpstr (recorded_serial, ==, noisy_serial);
  g_clear_pointer (&recorded_serial, g_free);
  g_clear_pointer (&recorded, g_bytes_unref);
  g_assert_true (qemu_alive (f));

  /* The same board on a clean line. */
  clean = provision_bounded (f, f->port, 60);
  g_assert_cmpint (clean->exit_status, ==, 0);
  /* After a pass, the board is provisioned with that DAC; after a
   * failure, the station provisions it now or (the DAC went in and an
   * answer after it was lost) finds it provisioned. */
  o = ds_test_find_event (clean->events, "already-provisioned", NULL);
  if (noisy_serial != NULL)
    {
      g_assert_nonnull (o);
      g_assert_cmpstr (json_object_get_string_member (o, "dac_serial"), ==, noisy_serial);
    }
  else if (o == NULL)
    o = ds_test_find_event (clean->events, "pass", NULL);
  g_assert_nonnull (o);
  recorded = recorded_dac (f, &recorded_serial);
  g_assert_nonnull (recorded);
  g_assert_cmpstr (json_object_get_string_member (o, "dac_serial"), ==, recorded_serial);

  /* The board holds that DAC, locked. */
  fd = open_port (f);
  g_assert_cmpuint (board_state (f, fd), ==, DS_BOARD_STATE_LOCKED);
  ds_tlv_append_u8 (in, DS_TAG_OBJECT, DS_OBJECT_DAC);
  g_assert_cmpint (exchange (f, fd, DS_CMD_READ, in, &payload), ==, DS_STATUS_OK);
  close (fd);
  held = ds_tlv_dup_bytes (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), DS_TAG_DAC);
  g_assert_nonnull (held);
  g_assert_true (g_bytes_equal (held, recorded));
  g_assert_true (qemu_alive (f));

  verified = ds_test_run_cli (f->announce_dir, audit);
  g_assert_cmpint (verified->exit_status, ==, 0);
}

/* ---- protocol 2 on the Cortex-M image ---------------------------------- */

static void
fd_record (GByteArray *blob, guint32 tag, const void *value, gsize len)
{
  guint8 head[8] = { tag & 0xFF, (tag >> 8) & 0xFF, (tag >> 16) & 0xFF, tag >> 24,
                     len & 0xFF, (len >> 8) & 0xFF, (len >> 16) & 0xFF, len >> 24 };

  g_byte_array_append (blob, head, 8);
  g_byte_array_append (blob, value, (guint) len);
}

/* The Cortex-M build on Mbed TLS: factory data written with the board's
 * own key at the factory-data address and read back without it, and the
 * commissioner's attestation signed with the DAC key, both through the
 * station's device API; the factory data survives a restart of QEMU. */
static void
test_protocol_v2 (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(DsTransport) transport = NULL;
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GBytes) csr = NULL;
  g_autoptr(X509_REQ) req = NULL;
  g_autoptr(EVP_PKEY) key = NULL;
  g_autoptr(EVP_PKEY) ca = EVP_EC_gen ("P-256");
  g_autoptr(GBytes) dac = NULL;
  g_autoptr(GBytes) pai = NULL;
  g_autoptr(GBytes) cd = NULL;
  g_autoptr(GBytes) blob = NULL;
  g_autoptr(GBytes) back = NULL;
  g_autoptr(GBytes) elements = NULL;
  g_autoptr(GBytes) signature = NULL;
  g_autoptr(GByteArray) b = g_byte_array_new ();
  g_auto(DsDeviceInfo) info = { 0 };
  guint8 cd_bytes[300], nonce[32], challenge[16];
  const guint32 address = 0x901C0000u;

  if (g_test_failed () || f->qemu == NULL)
    return;
  memset (cd_bytes, 0x5A, sizeof cd_bytes);
  memcpy (cd_bytes, "\x30\x82\x01\x28", 4);
  cd = g_bytes_new (cd_bytes, sizeof cd_bytes);

  transport = DS_TRANSPORT (ds_pty_transport_new (f->port));
  g_assert_true (ds_transport_open (transport, &error));
  g_assert_no_error (error);
  device = ds_device_new (transport);
  g_assert_true (ds_device_info (device, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (info.proto_version, ==, DS_PROTOCOL_VERSION_2);
  csr = ds_device_generate_csr (device, 0xFFF1, 0x8001, "QEMU board", NULL, &error);
  g_assert_no_error (error);
  req = ds_csr_parse (csr, &error);
  g_assert_no_error (error);
  key = X509_REQ_get_pubkey (req);
  dac = ds_test_make_cert (key, ca, "DAC", 1);
  pai = ds_test_make_cert (ca, ca, "PAI", 1);
  g_assert_true (ds_device_install (device, dac, pai, cd, NULL, &error));
  g_assert_no_error (error);

  fd_record (b, 1, cd_bytes, sizeof cd_bytes);
  fd_record (b, 3, g_bytes_get_data (dac, NULL), g_bytes_get_size (dac));
  fd_record (b, 4, g_bytes_get_data (pai, NULL), g_bytes_get_size (pai));
  fd_record (b, 22, "\xF1\xFF", 2);
  fd_record (b, 25, "QEMU-0001", 9);
  g_byte_array_append (b, (const guint8 *) "\xAC\xAC\xAC\xAC", 4);
  blob = g_byte_array_free_to_bytes (g_steal_pointer (&b));
  g_assert_true (ds_device_write_factory_data (device, address, blob, NULL, &error));
  g_assert_no_error (error);
  back = ds_device_read_factory_data (device, address, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ds_factory_data_compare (blob, back, dac, 8192, &error));
  g_assert_no_error (error);

  g_assert_true (ds_random_bytes (nonce, sizeof nonce, NULL));
  g_assert_true (ds_random_bytes (challenge, sizeof challenge, NULL));
  g_assert_true (ds_device_attestation (device, nonce, sizeof nonce, challenge, sizeof challenge,
                                        &elements, &signature, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (ds_attestation_verify (elements, signature, nonce, challenge, dac, cd, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (qemu_alive (f));

  /* After a restart the factory data is still there. */
  g_clear_object (&device);
  g_clear_object (&transport);
  qemu_stop (f);
  qemu_start (f);
  transport = DS_TRANSPORT (ds_pty_transport_new (f->port));
  g_assert_true (ds_transport_open (transport, &error));
  g_assert_no_error (error);
  device = ds_device_new (transport);
  g_clear_pointer (&back, g_bytes_unref);
  back = ds_device_read_factory_data (device, address, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ds_factory_data_compare (blob, back, dac, 8192, &error));
  g_assert_no_error (error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/firmware/qemu/provision", Fixture, NULL, fixture_set_up, test_provision, fixture_tear_down);
  g_test_add ("/firmware/qemu/bad-input", Fixture, NULL, fixture_set_up, test_bad_input, fixture_tear_down);
  g_test_add ("/firmware/qemu/not-der", Fixture, NULL, fixture_set_up, test_not_der, fixture_tear_down);
  g_test_add ("/firmware/qemu/protocol-v2", Fixture, NULL, fixture_set_up, test_protocol_v2, fixture_tear_down);
  g_test_add ("/firmware/qemu/identify", Fixture, NULL, fixture_set_up, test_identify, fixture_tear_down);
  for (guint i = 0; i < G_N_ELEMENTS (noisy_lines); i++)
    {
      g_autofree char *path = g_strdup_printf ("/firmware/qemu/noisy-line/%s", noisy_lines[i].name);

      g_test_add (path, Fixture, &noisy_lines[i], fixture_set_up, test_noisy_line, fixture_tear_down);
    }
  return g_test_run ();
}

/* Tests of the station's device protocol client and pty transport against a
 * scripted peer on a real pseudo-terminal. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "ds-device.h"
#include "ds-error.h"
#include "ds-pty-transport.h"

/* What the scripted board does with each request it receives. */
typedef enum {
  PEER_ANSWER,          /* answer normally */
  PEER_IGNORE,          /* say nothing */
  PEER_GARBAGE_FIRST,   /* line noise, a stale frame, then the answer */
  PEER_REFUSE,          /* answer with DS_STATUS_LOCKED and a text */
  PEER_HANG_UP,         /* close the master */
  PEER_BAD_PAYLOAD,     /* answer with a truncated TLV payload */
  PEER_SLOW_ANSWER,     /* the answer a byte at a time, as a slow line brings it */
  PEER_GARBAGE_DRIP,    /* line noise a byte at a time for a second, then nothing */
} PeerAction;

/* A slow line's pace: well within the device's 200 ms timeout a byte, but
 * a whole answer takes several timeouts. */
#define DRIP_US 20000

typedef struct {
  int         master;
  char       *slave_path;
  GThread    *thread;
  PeerAction  script[16];
  guint       n_script;
  guint       requests;      /* requests seen */
  GCancellable *cancel_on_request;  /* cancelled when a request arrives */
  guint16     seqs[16];
  gboolean    stop;
} Peer;

static GBytes *
info_payload (void)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  const guint8 uid[DS_UID_LEN] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB };

  ds_tlv_append (p, DS_TAG_UID, uid, sizeof uid);
  ds_tlv_append_string (p, DS_TAG_FW_VERSION, "9.9.9-test");
  ds_tlv_append_u8 (p, DS_TAG_STATE, DS_BOARD_STATE_KEY_PENDING);
  ds_tlv_append_u8 (p, DS_TAG_PROTO_VERSION, DS_PROTOCOL_VERSION);
  return g_byte_array_free_to_bytes (g_steal_pointer (&p));
}

static void
peer_drip (Peer   *peer,
           GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  for (gsize i = 0; i < len; i++)
    {
      g_assert_cmpint (write (peer->master, data + i, 1), ==, 1);
      g_usleep (DRIP_US);
    }
}

static void
peer_write (Peer   *peer,
            GBytes *bytes)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (bytes, &len);

  while (len > 0)
    {
      gssize n = write (peer->master, data, len);
      if (n < 0 && errno == EINTR)
        continue;
      g_assert_cmpint (n, >, 0);
      data += n;
      len -= n;
    }
}

static gpointer
peer_thread (gpointer user_data)
{
  Peer *peer = user_data;
  g_autoptr(DsFrameReader) reader = ds_frame_reader_new ();

  while (!g_atomic_int_get (&peer->stop))
    {
      struct pollfd pfd = { .fd = peer->master, .events = POLLIN };
      guint8 buf[512];
      gssize n;
      DsFrame frame;
      g_autoptr(GBytes) payload = NULL;

      if (poll (&pfd, 1, 50) <= 0)
        continue;
      n = read (peer->master, buf, sizeof buf);
      if (n <= 0)
        continue;
      ds_frame_reader_push (reader, buf, n);
      while (ds_frame_reader_next (reader, &frame, &payload))
        {
          PeerAction action = peer->requests < peer->n_script ? peer->script[peer->requests] : PEER_ANSWER;
          g_autoptr(GBytes) answer = NULL;
          g_autoptr(GBytes) body = NULL;

          peer->seqs[peer->requests % 16] = frame.seq;
          peer->requests++;
          if (peer->cancel_on_request != NULL)
            g_cancellable_cancel (peer->cancel_on_request);
          switch (action)
            {
            case PEER_IGNORE:
              break;
            case PEER_HANG_UP:
              close (peer->master);
              peer->master = -1;
              return NULL;
            case PEER_GARBAGE_FIRST:
              {
                const guint8 noise[] = { 0xD5, 0x00, 0xFF, 0xD5, 0xAC, 0x13, 0x37 };
                g_autoptr(GBytes) n1 = g_bytes_new (noise, sizeof noise);
                g_autoptr(GBytes) stale = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame.seq - 1,
                                                           frame.command, 0, NULL, 0);
                peer_write (peer, n1);
                peer_write (peer, stale);
              }
              G_GNUC_FALLTHROUGH;
            case PEER_ANSWER:
              body = frame.command == DS_CMD_INFO ? info_payload () : g_bytes_new (NULL, 0);
              answer = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame.seq, frame.command, DS_STATUS_OK,
                                        g_bytes_get_data (body, NULL), g_bytes_get_size (body));
              peer_write (peer, answer);
              break;
            case PEER_REFUSE:
              {
                g_autoptr(GByteArray) p = g_byte_array_new ();
                ds_tlv_append_string (p, DS_TAG_ERROR_TEXT, "credentials are read-only");
                answer = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame.seq, frame.command, DS_STATUS_LOCKED,
                                          p->data, p->len);
                peer_write (peer, answer);
              }
              break;
            case PEER_SLOW_ANSWER:
              body = frame.command == DS_CMD_INFO ? info_payload () : g_bytes_new (NULL, 0);
              answer = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame.seq, frame.command, DS_STATUS_OK,
                                        g_bytes_get_data (body, NULL), g_bytes_get_size (body));
              peer_drip (peer, answer);
              break;
            case PEER_GARBAGE_DRIP:
              {
                g_autoptr(GBytes) noise = g_bytes_new_take (g_malloc0 (1000000 / DRIP_US), 1000000 / DRIP_US);

                peer_drip (peer, noise);
              }
              break;
            case PEER_BAD_PAYLOAD:
              {
                const guint8 truncated[] = { DS_TAG_UID, 0x20, 0x00, 0x01 };
                answer = ds_frame_encode (DS_FRAME_FLAG_RESPONSE, frame.seq, frame.command, DS_STATUS_OK,
                                          truncated, sizeof truncated);
                peer_write (peer, answer);
              }
              break;
            }
          g_clear_pointer (&payload, g_bytes_unref);
        }
    }
  return NULL;
}

static void
peer_setup (Peer          *peer,
            gconstpointer  data)
{
  struct termios tio;

  peer->master = posix_openpt (O_RDWR | O_NOCTTY);
  g_assert_cmpint (peer->master, >=, 0);
  g_assert_cmpint (grantpt (peer->master), ==, 0);
  g_assert_cmpint (unlockpt (peer->master), ==, 0);
  peer->slave_path = g_strdup (ptsname (peer->master));
  g_assert_cmpint (tcgetattr (peer->master, &tio), ==, 0);
  cfmakeraw (&tio);
  tcsetattr (peer->master, TCSANOW, &tio);
}

static void
peer_start (Peer *peer)
{
  peer->thread = g_thread_new ("peer", peer_thread, peer);
}

static void
peer_teardown (Peer          *peer,
               gconstpointer  data)
{
  g_atomic_int_set (&peer->stop, TRUE);
  if (peer->thread != NULL)
    g_thread_join (peer->thread);
  if (peer->master >= 0)
    close (peer->master);
  g_free (peer->slave_path);
  g_clear_object (&peer->cancel_on_request);
}

static DsDevice *
open_device (Peer *peer)
{
  g_autoptr(DsPtyTransport) transport = ds_pty_transport_new (peer->slave_path);
  g_autoptr(GError) error = NULL;
  DsDevice *device;

  ds_transport_open (DS_TRANSPORT (transport), &error);
  g_assert_no_error (error);
  device = ds_device_new (DS_TRANSPORT (transport));
  ds_device_set_timeout (device, 200);
  ds_device_set_retries (device, 3);
  return device;
}

static void
test_info (Peer          *peer,
           gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer_start (peer);
  device = open_device (peer);
  g_assert_true (ds_device_info (device, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.uid, ==, "00112233445566778899AABB");
  g_assert_cmpstr (info.fw_version, ==, "9.9.9-test");
  g_assert_cmpuint (info.state, ==, DS_BOARD_STATE_KEY_PENDING);
  g_assert_cmpuint (ds_device_get_retransmits (device), ==, 0);
}

static void
test_retransmits_same_sequence (Peer          *peer,
                                gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  peer->script[0] = PEER_IGNORE;
  peer->script[1] = PEER_IGNORE;
  peer->script[2] = PEER_ANSWER;
  peer->n_script = 3;
  peer_start (peer);
  device = open_device (peer);
  g_assert_true (ds_device_lock (device, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peer->requests, ==, 3);
  /* A retransmission repeats the sequence number so the firmware can
   * answer it from its cache instead of running the command twice. */
  g_assert_cmpuint (peer->seqs[0], ==, peer->seqs[1]);
  g_assert_cmpuint (peer->seqs[1], ==, peer->seqs[2]);
  g_assert_cmpuint (ds_device_get_retransmits (device), ==, 2);
}

/* An answer that takes longer than the timeout to come over a slow line,
 * but keeps coming, is waited for: no retransmission. */
static void
test_slow_line (Peer          *peer,
                gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer->script[0] = PEER_SLOW_ANSWER;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_true (ds_device_info (device, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (info.uid, ==, "00112233445566778899AABB");
  g_assert_cmpuint (peer->requests, ==, 1);
  g_assert_cmpuint (ds_device_get_retransmits (device), ==, 0);
}

/* Noise that keeps coming is not an answer on its way: each attempt
 * ends at its timeout, and the command fails as line noise. */
static void
test_garbage_drip (Peer          *peer,
                   gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer->script[0] = PEER_GARBAGE_DRIP;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_false (ds_device_info (device, &info, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_TIMED_OUT);
  g_assert_cmpint (ds_error_get_cause (error), ==, DS_ERROR_CAUSE_LINE_NOISE);
  g_assert_cmpuint (ds_device_get_retransmits (device), ==, 2);
}

static void
test_gives_up_after_retries (Peer          *peer,
                             gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 3; i++)
    peer->script[i] = PEER_IGNORE;
  peer->n_script = 3;
  peer_start (peer);
  device = open_device (peer);
  g_assert_false (ds_device_lock (device, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "did not answer LOCK"));
  g_assert_cmpuint (peer->requests, ==, 3);
}

static void
test_garbage_and_stale_frames (Peer          *peer,
                               gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer->script[0] = PEER_GARBAGE_FIRST;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_true (ds_device_info (device, &info, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (peer->requests, ==, 1);
  g_assert_cmpuint (ds_device_get_garbage (device), >=, 7);
}

static void
test_refusal_carries_reason (Peer          *peer,
                             gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;

  peer->script[0] = PEER_REFUSE;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_false (ds_device_lock (device, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "credentials are read-only"));
  g_assert_cmpuint (ds_device_get_last_status (device), ==, DS_STATUS_LOCKED);
}

static void
test_malformed_payload (Peer          *peer,
                        gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer->script[0] = PEER_BAD_PAYLOAD;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_false (ds_device_info (device, &info, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_PROTOCOL);
}

static void
test_hang_up_is_disconnect (Peer          *peer,
                            gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(DsDeviceInfo) info = { 0 };

  peer->script[0] = PEER_HANG_UP;
  peer->n_script = 1;
  peer_start (peer);
  device = open_device (peer);
  g_assert_false (ds_device_info (device, &info, NULL, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_DISCONNECTED);
  /* Told at once, not after the retries' timeouts. */
  g_assert_cmpuint (ds_device_get_retransmits (device), ==, 0);
}

static void
test_cancellation (Peer          *peer,
                   gconstpointer  data)
{
  g_autoptr(DsDevice) device = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_auto(DsDeviceInfo) info = { 0 };

  for (guint i = 0; i < 3; i++)
    peer->script[i] = PEER_IGNORE;
  peer->n_script = 3;
  /* Cancelled while the device waits for an answer that never comes. */
  peer->cancel_on_request = g_object_ref (cancellable);
  peer_start (peer);
  device = open_device (peer);
  ds_device_set_timeout (device, 60000);
  g_assert_false (ds_device_info (device, &info, cancellable, &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_CANCELLED);
}

static void
test_exclusive_open (Peer          *peer,
                     gconstpointer  data)
{
  g_autoptr(DsPtyTransport) a = ds_pty_transport_new (peer->slave_path);
  g_autoptr(DsPtyTransport) b = ds_pty_transport_new (peer->slave_path);
  g_autoptr(GError) error = NULL;

  g_assert_true (ds_transport_open (DS_TRANSPORT (a), &error));
  g_assert_no_error (error);
  g_assert_false (ds_transport_open (DS_TRANSPORT (b), &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_IO);
  g_assert_nonnull (strstr (error->message, "in use"));
  g_clear_error (&error);
  ds_transport_close (DS_TRANSPORT (a));
  g_assert_true (ds_transport_open (DS_TRANSPORT (b), &error));
  g_assert_no_error (error);
}

static void
test_missing_port (void)
{
  g_autoptr(DsPtyTransport) t = ds_pty_transport_new ("/dev/pts/does-not-exist");
  g_autoptr(GError) error = NULL;

  g_assert_false (ds_transport_open (DS_TRANSPORT (t), &error));
  g_assert_error (error, DS_ERROR, DS_ERROR_DISCONNECTED);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, func) g_test_add (path, Peer, NULL, peer_setup, func, peer_teardown)
  ADD ("/device/info", test_info);
  ADD ("/device/retransmit-same-seq", test_retransmits_same_sequence);
  ADD ("/device/timeout", test_gives_up_after_retries);
  ADD ("/device/slow-line", test_slow_line);
  ADD ("/device/garbage-drip", test_garbage_drip);
  ADD ("/device/garbage-and-stale", test_garbage_and_stale_frames);
  ADD ("/device/refusal", test_refusal_carries_reason);
  ADD ("/device/malformed-payload", test_malformed_payload);
  ADD ("/device/hang-up", test_hang_up_is_disconnect);
  ADD ("/device/cancel", test_cancellation);
  ADD ("/transport/exclusive", test_exclusive_open);
#undef ADD
  g_test_add_func ("/transport/missing", test_missing_port);
  return g_test_run ();
}

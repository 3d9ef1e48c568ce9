/* Device protocol client: request/response with sequence numbers, timeouts,
 * retransmission and resynchronisation. */
#include "config.h"

#include "ds-device.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-error.h"
#include "ds-util.h"

#define DEFAULT_RETRIES 3

struct _DsDevice
{
  GObject        parent_instance;

  DsTransport   *transport;
  DsFrameReader *reader;
  guint16        seq;
  guint          timeout_ms;  /* 0: per-command defaults */
  guint          retries;
  guint          retransmits;
  DsDeviceAttemptFunc attempt_func;
  gpointer       attempt_data;
  guint          answered;    /* requests answered so far, for the cause of a timeout */
  guint8         last_status;
  guint8         proto_version; /* from INFO; 0: not asked yet */
};

G_DEFINE_FINAL_TYPE (DsDevice, ds_device, G_TYPE_OBJECT)

static void
ds_device_finalize (GObject *object)
{
  DsDevice *self = DS_DEVICE (object);

  g_clear_object (&self->transport);
  g_clear_pointer (&self->reader, ds_frame_reader_free);
  G_OBJECT_CLASS (ds_device_parent_class)->finalize (object);
}

static void
ds_device_class_init (DsDeviceClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = ds_device_finalize;
}

static void
ds_device_init (DsDevice *self)
{
  self->reader = ds_frame_reader_new ();
  self->retries = DEFAULT_RETRIES;
  /* Start from a random sequence number so that a board never mistakes the
   * first request of a new session for a retransmission of an old one. */
  self->seq = (guint16) g_random_int_range (0, 0x10000);
}

DsDevice *
ds_device_new (DsTransport *transport)
{
  DsDevice *self = g_object_new (DS_TYPE_DEVICE, NULL);

  self->transport = g_object_ref (transport);
  return self;
}

DsTransport *
ds_device_get_transport (DsDevice *self)
{
  return self->transport;
}

void
ds_device_set_timeout (DsDevice *self,
                       guint     timeout_ms)
{
  self->timeout_ms = timeout_ms;
}

void
ds_device_set_retries (DsDevice *self,
                       guint     retries)
{
  self->retries = MAX (retries, 1);
}

guint64
ds_device_get_garbage (DsDevice *self)
{
  return ds_frame_reader_garbage (self->reader);
}

guint8
ds_device_get_last_status (DsDevice *self)
{
  return self->last_status;
}

void
ds_device_set_attempt_func (DsDevice            *self,
                            DsDeviceAttemptFunc  func,
                            gpointer             user_data)
{
  self->attempt_func = func;
  self->attempt_data = user_data;
}

guint
ds_device_get_retransmits (DsDevice *self)
{
  return self->retransmits;
}

void
ds_device_info_clear (DsDeviceInfo *info)
{
  g_clear_pointer (&info->uid, g_free);
  g_clear_pointer (&info->fw_version, g_free);
  g_clear_pointer (&info->hw_model, g_free);
}

/* A text field of the board's answer, made safe for a terminal, a log, the
 * GUI, the database and an export: a board may send escape sequences, line
 * breaks, invalid UTF-8 or pages of text.  NULL when the field is absent. */
static char *
dup_board_text (const guint8 *payload,
                gsize         len,
                guint8        tag)
{
  const guint8 *value;
  gsize value_len;

  if (!ds_tlv_find (payload, len, tag, &value, &value_len))
    return NULL;
  return ds_util_sanitize_text ((const char *) value, (gssize) value_len, DS_UTIL_MAX_PEER_TEXT);
}

/* How long the firmware may take to answer, before the time the bytes need
 * on the wire.  Key generation and signing run on a small MCU. */
static guint
command_timeout_ms (DsDevice *self,
                    guint8    command,
                    gsize     bytes_on_wire)
{
  guint base;
  guint baud = ds_transport_get_baud (self->transport);

  if (self->timeout_ms > 0)
    base = self->timeout_ms;
  else
    switch (command)
      {
      case DS_CMD_GENERATE_CSR: base = 5000; break;
      case DS_CMD_INSTALL: base = 3000; break;
      case DS_CMD_ATTEST: base = 3000; break;
      case DS_CMD_ATTESTATION: base = 3000; break;
      case DS_CMD_FACTORY_DATA_WRITE: base = 5000; break;  /* erases and programs flash */
      default: base = 1500; break;
      }
  if (baud > 0)
    base += (guint) ((guint64) bytes_on_wire * 11 * 1000 * 2 / baud);
  return base;
}

/* The slowest line an answer may come over (a throttled simulator, an old
 * adapter): bytes that keep arriving, cleanly, are waited for up to the
 * time a largest frame needs at this rate. */
#define SLOWEST_LINE_BAUD 2400

/* Sends one request and returns the status and payload of its response.
 * Retransmits the same sequence number after a timeout: the firmware answers
 * a repeated request from its cache, so a lost answer never runs a command
 * twice. */
static gboolean
transact (DsDevice      *self,
          guint8         command,
          const guint8  *payload,
          gsize          payload_len,
          guint8        *status,
          GBytes       **response,
          GCancellable  *cancellable,
          GError       **error)
{
  const char *port = ds_transport_get_port (self->transport);
  g_autoptr(GBytes) request = NULL;
  guint16 seq = ++self->seq;
  gsize garbage_before = ds_frame_reader_garbage (self->reader);
  guint retransmits_before = self->retransmits;
  gsize received = 0;
  guint timeout;

  request = ds_frame_encode (0, seq, command, 0, payload, payload_len);
  /* Answers carry at most a few KiB; count the largest for the wire time. */
  timeout = command_timeout_ms (self, command, g_bytes_get_size (request) + DS_FRAME_MAX_LEN);

  for (guint attempt = 0; attempt < self->retries; attempt++)
    {
      gint64 deadline, cap;
      gboolean arrived = FALSE;

      if (self->attempt_func != NULL)
        self->attempt_func (command, attempt, self->retries, timeout, self->attempt_data);
      if (attempt > 0)
        {
          self->retransmits++;
          g_debug ("%s: no answer to %s (seq %u), sending it again", port,
                   ds_command_to_string (command), seq);
        }
      if (!ds_transport_write_all (self->transport, g_bytes_get_data (request, NULL),
                                   g_bytes_get_size (request), timeout, cancellable, error))
        return FALSE;

      deadline = g_get_monotonic_time () + (gint64) timeout * 1000;
      /* An answer still arriving is waited for: the deadline moves on with
       * each read that brings part of a frame (not with noise), never past
       * this. */
      cap = deadline + (gint64) DS_FRAME_MAX_LEN * 11 * 1000 * 1000 / SLOWEST_LINE_BAUD;
      for (;;)
        {
          g_autoptr(GBytes) body = NULL;
          guint8 buf[1024];
          DsFrame frame;
          gint64 left;
          gssize n;

          while (ds_frame_reader_next (self->reader, &frame, &body))
            {
              if ((frame.flags & DS_FRAME_FLAG_RESPONSE) && frame.seq == seq && frame.command == command)
                {
                  *status = frame.status;
                  *response = g_steal_pointer (&body);
                  self->answered++;
                  return TRUE;
                }
              /* A late answer to an earlier request: drop it. */
              g_debug ("%s: dropping stale frame seq %u cmd %s", port, frame.seq,
                       ds_command_to_string (frame.command));
              g_clear_pointer (&body, g_bytes_unref);
            }

          /* Bytes came and, once noise was dropped, part of a frame is
           * waiting for the rest of it. */
          if (arrived && ds_frame_reader_pending (self->reader) > 0)
            deadline = MIN (MAX (deadline, g_get_monotonic_time () + (gint64) timeout * 1000), cap);
          arrived = FALSE;
          left = deadline - g_get_monotonic_time ();
          if (left <= 0)
            break;
          n = ds_transport_read (self->transport, buf, sizeof buf, (guint) ((left + 999) / 1000),
                                 cancellable, error);
          if (n < 0)
            return FALSE;
          if (n == 0)
            break;
          received += n;
          ds_frame_reader_push (self->reader, buf, n);
          arrived = TRUE;
        }
    }

  /* The same code whatever happened, but a different cause, and so a
   * different remedy: bytes that came back damaged, now or earlier on this
   * connection (a request damaged on its way is dropped by the board, and
   * looks like silence), mean a noisy line; a board that answered cleanly
   * before and fell silent has hung; a board that never answered may not run
   * the provisioning firmware at all. */
  if (received > 0 || ds_frame_reader_garbage (self->reader) > 0 || retransmits_before > 0 ||
      ds_frame_reader_garbage (self->reader) > garbage_before)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                   _("The board on %s did not answer %s intelligibly (%u attempts, %.1f s each): what came back was damaged on the line"),
                   port, ds_command_to_string (command), self->retries, timeout / 1000.0);
      if (error != NULL)
        ds_error_set_cause (*error, DS_ERROR_CAUSE_LINE_NOISE);
    }
  else if (self->answered > 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                   g_dngettext (GETTEXT_PACKAGE, "The board on %s did not answer %s (%u attempts, %.1f s each) after answering %u command: it stopped responding",
                                "The board on %s did not answer %s (%u attempts, %.1f s each) after answering %u commands: it stopped responding",
                                self->answered),
                   port, ds_command_to_string (command), self->retries, timeout / 1000.0, self->answered);
      if (error != NULL)
        ds_error_set_cause (*error, DS_ERROR_CAUSE_STOPPED);
    }
  else
    {
      g_set_error (error, DS_ERROR, DS_ERROR_TIMED_OUT,
                   _("The board on %s did not answer %s (%u attempts, %.1f s each); check that it runs the provisioning firmware"),
                   port, ds_command_to_string (command), self->retries, timeout / 1000.0);
      if (error != NULL)
        ds_error_set_cause (*error, DS_ERROR_CAUSE_NO_ANSWER);
    }
  return FALSE;
}

/* transact() and turn a non-OK status into a DS_ERROR_REJECTED. */
static GBytes *
command (DsDevice     *self,
         guint8        cmd,
         GByteArray   *payload,
         GCancellable *cancellable,
         GError      **error)
{
  g_autoptr(GBytes) response = NULL;
  guint8 status = 0;

  if (!transact (self, cmd, payload != NULL ? payload->data : NULL, payload != NULL ? payload->len : 0,
                 &status, &response, cancellable, error))
    return NULL;

  if (status != DS_STATUS_OK)
    {
      gsize len = 0;
      const guint8 *data = g_bytes_get_data (response, &len);
      g_autofree char *text = dup_board_text (data, len, DS_TAG_ERROR_TEXT);
      int code = status == DS_STATUS_NOT_FOUND ? DS_ERROR_NOT_FOUND : DS_ERROR_REJECTED;

      /* A plain refusal: the board's own words say more than "the board
       * refused the request", and one level of "refused" is enough. */
      if (text != NULL && status == DS_STATUS_REFUSED)
        g_set_error (error, DS_ERROR, code, _("The board refused %s: %s"),
                     ds_command_to_string (cmd), text);
      else if (text != NULL)
        g_set_error (error, DS_ERROR, code, _("The board refused %s: %s (%s)"),
                     ds_command_to_string (cmd), ds_status_to_string (status), text);
      else
        g_set_error (error, DS_ERROR, code, _("The board refused %s: %s"),
                     ds_command_to_string (cmd), ds_status_to_string (status));
      self->last_status = status;
      return NULL;
    }
  self->last_status = DS_STATUS_OK;
  {
    gsize len = 0;
    const guint8 *data = g_bytes_get_data (response, &len);

    if (!ds_tlv_validate (data, len))
      {
        g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                     _("The board answered %s with a malformed payload"), ds_command_to_string (cmd));
        return NULL;
      }
  }
  return g_steal_pointer (&response);
}

static GBytes *
required_bytes (GBytes     *response,
                guint8      tag,
                const char *what,
                guint8      cmd,
                GError    **error)
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (response, &len);
  GBytes *value = ds_tlv_dup_bytes (data, len, tag);

  if (value == NULL || g_bytes_get_size (value) == 0)
    {
      g_clear_pointer (&value, g_bytes_unref);
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The board's answer to %s lacks the %s"), ds_command_to_string (cmd), what);
    }
  return value;
}

gboolean
ds_device_info (DsDevice     *self,
                DsDeviceInfo *info,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GBytes) r = command (self, DS_CMD_INFO, NULL, cancellable, error);
  const guint8 *data, *uid;
  gsize len, uid_len;

  if (r == NULL)
    return FALSE;
  data = g_bytes_get_data (r, &len);
  if (!ds_tlv_find (data, len, DS_TAG_UID, &uid, &uid_len) || uid_len != DS_UID_LEN ||
      !ds_tlv_get_u8 (data, len, DS_TAG_STATE, &info->state))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The board's INFO answer lacks its unique ID or state"));
      return FALSE;
    }
  if (info->state > DS_BOARD_STATE_LOCKED)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   _("The board reports an unknown credential state %u"), info->state);
      return FALSE;
    }
  info->uid = g_malloc (DS_UID_LEN * 2 + 1);
  for (gsize i = 0; i < DS_UID_LEN; i++)
    g_snprintf (info->uid + 2 * i, 3, "%02X", uid[i]);
  info->fw_version = dup_board_text (data, len, DS_TAG_FW_VERSION);
  info->hw_model = dup_board_text (data, len, DS_TAG_HW_MODEL);
  /* A board that does not say speaks version 1. */
  if (!ds_tlv_get_u8 (data, len, DS_TAG_PROTO_VERSION, &info->proto_version))
    info->proto_version = 1;
  self->proto_version = info->proto_version;
  return TRUE;
}

GBytes *
ds_device_generate_csr (DsDevice     *self,
                        guint16       vid,
                        guint16       pid,
                        const char   *common_name,
                        GCancellable *cancellable,
                        GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  ds_tlv_append_u16 (p, DS_TAG_VID, vid);
  ds_tlv_append_u16 (p, DS_TAG_PID, pid);
  ds_tlv_append_string (p, DS_TAG_SUBJECT_CN, common_name);
  r = command (self, DS_CMD_GENERATE_CSR, p, cancellable, error);
  if (r == NULL)
    return NULL;
  return required_bytes (r, DS_TAG_CSR, _("CSR"), DS_CMD_GENERATE_CSR, error);
}

gboolean
ds_device_install (DsDevice     *self,
                   GBytes       *dac_der,
                   GBytes       *pai_der,
                   GBytes       *cd_der,
                   GCancellable *cancellable,
                   GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  ds_tlv_append_bytes (p, DS_TAG_DAC, dac_der);
  ds_tlv_append_bytes (p, DS_TAG_PAI, pai_der);
  if (cd_der != NULL)
    ds_tlv_append_bytes (p, DS_TAG_CD, cd_der);
  if (p->len > DS_FRAME_MAX_PAYLOAD)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The certificates (%u bytes) do not fit in one frame"), p->len);
      return FALSE;
    }
  r = command (self, DS_CMD_INSTALL, p, cancellable, error);
  return r != NULL;
}

GBytes *
ds_device_read (DsDevice     *self,
                DsObject      object,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;
  guint8 tag = object == DS_OBJECT_DAC ? DS_TAG_DAC : object == DS_OBJECT_PAI ? DS_TAG_PAI : DS_TAG_CD;

  ds_tlv_append_u8 (p, DS_TAG_OBJECT, object);
  r = command (self, DS_CMD_READ, p, cancellable, error);
  if (r == NULL)
    return NULL;
  return required_bytes (r, tag, _("object asked for"), DS_CMD_READ, error);
}

GBytes *
ds_device_attest (DsDevice     *self,
                  const guint8 *nonce,
                  gsize         nonce_len,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  ds_tlv_append (p, DS_TAG_NONCE, nonce, nonce_len);
  r = command (self, DS_CMD_ATTEST, p, cancellable, error);
  if (r == NULL)
    return NULL;
  return required_bytes (r, DS_TAG_SIGNATURE, _("signature"), DS_CMD_ATTEST, error);
}

gboolean
ds_device_lock (DsDevice     *self,
                GCancellable *cancellable,
                GError      **error)
{
  g_autoptr(GBytes) r = command (self, DS_CMD_LOCK, NULL, cancellable, error);

  return r != NULL;
}

gboolean
ds_device_reboot (DsDevice     *self,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_autoptr(GBytes) r = command (self, DS_CMD_REBOOT, NULL, cancellable, error);

  ds_frame_reader_reset (self->reader);
  return r != NULL;
}

gboolean
ds_device_reboot_to_bootloader (DsDevice     *self,
                                GCancellable *cancellable,
                                GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  ds_tlv_append_u8 (p, DS_TAG_REBOOT_TARGET, 1);
  r = command (self, DS_CMD_REBOOT, p, cancellable, error);
  ds_frame_reader_reset (self->reader);
  return r != NULL;
}

/* ---- protocol 2 ------------------------------------------------------- */

/* FALSE, with an error that says what the board lacks, unless the board
 * speaks protocol 2 or later. */
static gboolean
require_v2 (DsDevice     *self,
            const char   *lacking,
            GCancellable *cancellable,
            GError      **error)
{
  if (self->proto_version == 0)
    {
      g_auto(DsDeviceInfo) info = { 0 };

      if (!ds_device_info (self, &info, cancellable, error))
        return FALSE;
    }
  if (self->proto_version >= DS_PROTOCOL_VERSION_2)
    return TRUE;
  g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
               /* TRANSLATORS: the second %s is e.g. "the factory-data commands" */
               _("The board on %s runs provisioning firmware of device protocol %u, which lacks %s: "
                 "flash provisioning firmware of protocol 2 or later"),
               ds_transport_get_port (self->transport), self->proto_version, lacking);
  return FALSE;
}

static void
append_u32 (GByteArray *p,
            guint8      tag,
            guint32     value)
{
  guint8 v[4] = { value & 0xFF, (value >> 8) & 0xFF, (value >> 16) & 0xFF, value >> 24 };

  ds_tlv_append (p, tag, v, sizeof v);
}

gboolean
ds_device_write_factory_data (DsDevice     *self,
                              guint32       address,
                              GBytes       *blob,
                              GCancellable *cancellable,
                              GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  if (!require_v2 (self, _("the factory-data commands"), cancellable, error))
    return FALSE;
  append_u32 (p, DS_TAG_FD_ADDRESS, address);
  if (g_bytes_get_size (blob) > G_MAXUINT16)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The factory data (%zu bytes) does not fit in one frame"), g_bytes_get_size (blob));
      return FALSE;
    }
  ds_tlv_append_bytes (p, DS_TAG_FACTORY_DATA, blob);
  if (p->len > DS_FRAME_MAX_PAYLOAD)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The factory data (%zu bytes) does not fit in one frame"), g_bytes_get_size (blob));
      return FALSE;
    }
  r = command (self, DS_CMD_FACTORY_DATA_WRITE, p, cancellable, error);
  return r != NULL;
}

GBytes *
ds_device_read_factory_data (DsDevice     *self,
                             guint32       address,
                             GCancellable *cancellable,
                             GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;

  if (!require_v2 (self, _("the factory-data commands"), cancellable, error))
    return NULL;
  append_u32 (p, DS_TAG_FD_ADDRESS, address);
  r = command (self, DS_CMD_FACTORY_DATA_READ, p, cancellable, error);
  if (r == NULL)
    return NULL;
  return required_bytes (r, DS_TAG_FACTORY_DATA, _("factory data"), DS_CMD_FACTORY_DATA_READ, error);
}

gboolean
ds_device_attestation (DsDevice     *self,
                       const guint8 *nonce,
                       gsize         nonce_len,
                       const guint8 *challenge,
                       gsize         challenge_len,
                       GBytes      **elements,
                       GBytes      **signature,
                       GCancellable *cancellable,
                       GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;
  g_autoptr(GBytes) e = NULL;
  g_autoptr(GBytes) s = NULL;

  if (!require_v2 (self, _("the commissioner's attestation (ATTESTATION)"), cancellable, error))
    return FALSE;
  ds_tlv_append (p, DS_TAG_NONCE, nonce, nonce_len);
  ds_tlv_append (p, DS_TAG_CHALLENGE, challenge, challenge_len);
  r = command (self, DS_CMD_ATTESTATION, p, cancellable, error);
  if (r == NULL)
    return FALSE;
  e = required_bytes (r, DS_TAG_ATTESTATION_ELEMENTS, _("attestation elements"), DS_CMD_ATTESTATION, error);
  if (e == NULL)
    return FALSE;
  s = required_bytes (r, DS_TAG_SIGNATURE, _("signature"), DS_CMD_ATTESTATION, error);
  if (s == NULL)
    return FALSE;
  *elements = g_steal_pointer (&e);
  *signature = g_steal_pointer (&s);
  return TRUE;
}

gboolean
ds_device_identify (DsDevice     *self,
                    guint         seconds,
                    GCancellable *cancellable,
                    GError      **error)
{
  g_autoptr(GByteArray) p = g_byte_array_new ();
  g_autoptr(GBytes) r = NULL;
  g_autoptr(GError) local_error = NULL;

  g_return_val_if_fail (seconds <= DS_IDENTIFY_MAX_SECONDS, FALSE);

  ds_tlv_append_u8 (p, DS_TAG_IDENTIFY_SECONDS, (guint8) seconds);
  r = command (self, DS_CMD_IDENTIFY, p, cancellable, &local_error);
  if (r != NULL)
    return TRUE;
  /* Firmware older than IDENTIFY (protocol 1, or an early protocol 2)
   * does not know it: say so, not "unknown command". */
  if (self->last_status == DS_STATUS_UNKNOWN_COMMAND &&
      g_error_matches (local_error, DS_ERROR, DS_ERROR_REJECTED))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The provisioning firmware of the board on %s cannot identify itself (it does not know IDENTIFY): "
                     "flash a newer provisioning firmware to make its LED blink"),
                   ds_transport_get_port (self->transport));
      return FALSE;
    }
  g_propagate_error (error, g_steal_pointer (&local_error));
  return FALSE;
}

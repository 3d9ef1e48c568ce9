/* The station side of the device protocol: one conversation with the
 * provisioning firmware of one board.  Blocking calls for job threads; every
 * command has a timeout and bounded retries. */
#pragma once

#include <gio/gio.h>

#include "ds-frame.h"
#include "ds-transport.h"

G_BEGIN_DECLS

#define DS_TYPE_DEVICE (ds_device_get_type ())
G_DECLARE_FINAL_TYPE (DsDevice, ds_device, DS, DEVICE, GObject)

typedef struct {
  char   *uid;          /* 24 upper-case hex digits */
  char   *fw_version;
  char   *hw_model;
  guint8  state;        /* DsBoardState */
  guint8  proto_version;
} DsDeviceInfo;

void ds_device_info_clear (DsDeviceInfo *info);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DsDeviceInfo, ds_device_info_clear)

DsDevice    *ds_device_new              (DsTransport  *transport);
DsTransport *ds_device_get_transport    (DsDevice     *self);
/* @timeout_ms == 0 restores the per-command defaults. */
void         ds_device_set_timeout      (DsDevice     *self,
                                         guint         timeout_ms);
void         ds_device_set_retries      (DsDevice     *self,
                                         guint         retries);
/* Called from the calling thread before each attempt at a command:
 * @attempt 0 is the first, later ones are retries; @timeout_ms is how
 * long the attempt may wait for its answer. */
typedef void (*DsDeviceAttemptFunc) (guint8   command,
                                     guint    attempt,
                                     guint    retries,
                                     guint    timeout_ms,
                                     gpointer user_data);
void         ds_device_set_attempt_func (DsDevice     *self,
                                         DsDeviceAttemptFunc func,
                                         gpointer      user_data);
/* Bytes skipped as garbage and retransmissions made so far. */
guint64      ds_device_get_garbage      (DsDevice     *self);
guint        ds_device_get_retransmits  (DsDevice     *self);
/* The DsStatus of the last answer (DS_STATUS_OK after a success). */
guint8       ds_device_get_last_status  (DsDevice     *self);

gboolean     ds_device_info             (DsDevice     *self,
                                         DsDeviceInfo *info,
                                         GCancellable *cancellable,
                                         GError      **error);
GBytes      *ds_device_generate_csr     (DsDevice     *self,
                                         guint16       vid,
                                         guint16       pid,
                                         const char   *common_name,
                                         GCancellable *cancellable,
                                         GError      **error);
gboolean     ds_device_install          (DsDevice     *self,
                                         GBytes       *dac_der,
                                         GBytes       *pai_der,
                                         GBytes       *cd_der,
                                         GCancellable *cancellable,
                                         GError      **error);
/* NULL with DS_ERROR_NOT_FOUND when the board holds no such object. */
GBytes      *ds_device_read             (DsDevice     *self,
                                         DsObject      object,
                                         GCancellable *cancellable,
                                         GError      **error);
GBytes      *ds_device_attest           (DsDevice     *self,
                                         const guint8 *nonce,
                                         gsize         nonce_len,
                                         GCancellable *cancellable,
                                         GError      **error);
gboolean     ds_device_lock             (DsDevice     *self,
                                         GCancellable *cancellable,
                                         GError      **error);
gboolean     ds_device_reboot           (DsDevice     *self,
                                         GCancellable *cancellable,
                                         GError      **error);
/* REBOOT into the ROM bootloader, for flashing. */
gboolean     ds_device_reboot_to_bootloader (DsDevice *self,
                                         GCancellable *cancellable,
                                         GError      **error);

/* Protocol 2 (docs/protocol.md).  Each asks INFO first when this device
 * has not yet, and fails with DS_ERROR_REJECTED, saying what the board
 * lacks, when the board speaks protocol 1. */
/* Sends @blob (ST's X-CUBE-MATTER records without the DAC key, tags 5 and
 * 6); the board adds its key pair and writes the whole at @address. */
gboolean     ds_device_write_factory_data (DsDevice   *self,
                                         guint32       address,
                                         GBytes       *blob,
                                         GCancellable *cancellable,
                                         GError      **error);
/* The records at @address as the board's flash holds them, the private key
 * (tag 5) left out by the board; check with ds_factory_data_compare(). */
GBytes      *ds_device_read_factory_data (DsDevice    *self,
                                         guint32       address,
                                         GCancellable *cancellable,
                                         GError      **error);
/* The commissioner's attestation request (Matter core 6.2.3.1): the
 * board's attestation elements (Matter TLV) and its DER ECDSA signature
 * over elements || @challenge with the DAC key; check them with
 * ds_attestation_verify(). */
gboolean     ds_device_attestation      (DsDevice     *self,
                                         const guint8 *nonce,
                                         gsize         nonce_len,
                                         const guint8 *challenge,
                                         gsize         challenge_len,
                                         GBytes      **elements,
                                         GBytes      **signature,
                                         GCancellable *cancellable,
                                         GError      **error);

/* IDENTIFY (docs/protocol.md): the board blinks its LED for @seconds (1 …
 * DS_IDENTIFY_MAX_SECONDS; 0 stops it).  Sent whatever the board's
 * protocol: firmware without the command answers UNKNOWN_COMMAND, which
 * becomes DS_ERROR_REJECTED saying that this board's firmware cannot
 * identify itself. */
gboolean     ds_device_identify         (DsDevice     *self,
                                         guint         seconds,
                                         GCancellable *cancellable,
                                         GError      **error);

G_END_DECLS

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

G_END_DECLS

/* One board's flash step, on top of the device protocol and a flasher. */
#include "config.h"

#include "ds-board-flash.h"

#include <glib/gi18n-lib.h>

#include "ds-device.h"
#include "ds-error.h"
#include "ds-uart-flasher.h"

void
ds_board_flash_result_clear (DsBoardFlashResult *result)
{
  g_clear_pointer (&result->old_version, g_free);
  g_clear_pointer (&result->new_version, g_free);
}

/* Asks the provisioning firmware who it is, briefly: a board in its
 * bootloader says nothing. */
static gboolean
probe_firmware (DsTransport   *transport,
                DsDeviceInfo  *info,
                GCancellable  *cancellable,
                GError       **error)
{
  g_autoptr(DsDevice) device = ds_device_new (transport);

  ds_device_set_timeout (device, 300);
  ds_device_set_retries (device, 2);
  return ds_device_info (device, info, cancellable, error);
}

/* Progress at most ten times a second, and always at a phase's start and
 * end: callers hand it to their main loop, and waking it for every
 * 256-byte block held the line idle for a scheduling round each time. */
#define PROGRESS_INTERVAL_US (100 * 1000)

typedef struct {
  DsFlashProgress  progress;
  gpointer         user_data;
  char            *phase;
  gint64           last_us;
} Throttle;

static void
throttle_clear (Throttle *t)
{
  g_clear_pointer (&t->phase, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Throttle, throttle_clear)

static void
throttled_progress (const char *phase,
                    guint64     done,
                    guint64     total,
                    gpointer    user_data)
{
  Throttle *t = user_data;
  gint64 now = g_get_monotonic_time ();

  if (g_strcmp0 (phase, t->phase) != 0 || done >= total || now - t->last_us >= PROGRESS_INTERVAL_US)
    {
      g_free (t->phase);
      t->phase = g_strdup (phase);
      t->last_us = now;
      t->progress (phase, done, total, t->user_data);
    }
}

gboolean
ds_board_flash (DsTransport        *transport,
                DsFlasher          *other_flasher,
                DsFirmwareImage    *image,
                gboolean            skip_if_current,
                DsFlashProgress     progress,
                gpointer            user_data,
                DsBoardFlashResult *result,
                GCancellable       *cancellable,
                GError            **error)
{
  g_autofree char *image_version = ds_firmware_image_dup_fw_version (image);
  g_autoptr(DsUartFlasher) flasher = NULL;
  gboolean uart = other_flasher == NULL || DS_IS_UART_FLASHER (other_flasher);
  g_auto(DsDeviceInfo) info = { 0 };
  g_autoptr(GError) probe_error = NULL;
  g_auto(Throttle) throttle = { progress, user_data, NULL, 0 };
  gboolean ok;

  if (progress != NULL)
    {
      progress = throttled_progress;
      user_data = &throttle;
    }

  /* Boards come from the shelf blank, in their bootloader: ask it first,
   * then the provisioning firmware.  The sync byte means nothing to the
   * firmware's frame parser. */
  if (uart && ds_uart_flasher_probe (transport, 150, cancellable))
    ;
  else if (ds_error_set_if_cancelled (cancellable, error))
    return FALSE;
  else if (probe_firmware (transport, &info, cancellable, &probe_error))
    {
      result->old_version = g_strdup (info.fw_version);
      if (skip_if_current && image_version != NULL && g_strcmp0 (info.fw_version, image_version) == 0)
        {
          result->skipped = TRUE;
          result->new_version = g_strdup (image_version);
          return TRUE;
        }
      if (uart)
      {
        g_autoptr(DsDevice) device = ds_device_new (transport);

        if (!ds_device_reboot_to_bootloader (device, cancellable, error))
          {
            g_prefix_error (error, _("Cannot reboot the board into its bootloader: "));
            return FALSE;
          }
      }
        /* The firmware hands over to the ROM bootloader. */
        g_usleep (250 * 1000);
    }
  else if (ds_error_is_cancelled (probe_error) ||
           g_error_matches (probe_error, DS_ERROR, DS_ERROR_DISCONNECTED))
    {
      g_propagate_error (error, g_steal_pointer (&probe_error));
      return FALSE;
    }

  /* The ROM bootloader wants even parity on a real UART; the firmware
   * speaks 8N1 again once it runs. */
  if (!uart)
    {
      if (!ds_flasher_flash (other_flasher, image, progress, user_data, cancellable, error))
        return FALSE;
    }
  else
    {
      flasher = other_flasher != NULL ? g_object_ref (DS_UART_FLASHER (other_flasher))
                                      : ds_uart_flasher_new (transport);
      if (!ds_transport_set_even_parity (transport, TRUE, error))
        return FALSE;
      ok = ds_flasher_flash (DS_FLASHER (flasher), image, progress, user_data, cancellable, error);
      if (!ds_transport_set_even_parity (transport, FALSE, ok ? error : NULL) || !ok)
        return FALSE;
    }

  if (image_version != NULL)
    {
      g_auto(DsDeviceInfo) after = { 0 };

      g_usleep (20 * 1000);
      if (!probe_firmware (transport, &after, cancellable, error))
        {
          g_prefix_error (error, _("The flashed firmware does not answer: "));
          return FALSE;
        }
      if (g_strcmp0 (after.fw_version, image_version) != 0)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                       _("After flashing, the board runs firmware %s, not %s"), after.fw_version, image_version);
          return FALSE;
        }
      result->new_version = g_strdup (image_version);
    }
  return TRUE;
}

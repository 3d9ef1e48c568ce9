/* The flash step for one board: skip when the board already runs the
 * image's provisioning firmware, else reboot it into its ROM bootloader,
 * flash, verify, start, and check that the new firmware answers. */
#pragma once

#include "ds-flasher.h"
#include "ds-transport.h"

G_BEGIN_DECLS

typedef struct {
  gboolean  skipped;         /* the board already ran this version */
  char     *old_version;     /* what the board ran before, or NULL (bootloader) */
  char     *new_version;     /* what it runs now, when the image names one */
} DsBoardFlashResult;

void     ds_board_flash_result_clear (DsBoardFlashResult *result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (DsBoardFlashResult, ds_board_flash_result_clear)

/* @transport must be open.  @flasher: NULL for the ROM bootloader over
 * @transport; another backend (SWD) flashes on its own, and @transport is
 * used to ask the firmware its version before and after. */
gboolean ds_board_flash (DsTransport        *transport,
                         DsFlasher          *flasher,
                         DsFirmwareImage    *image,
                         gboolean            skip_if_current,
                         DsFlashProgress     progress,
                         gpointer            user_data,
                         DsBoardFlashResult *result,
                         GCancellable       *cancellable,
                         GError            **error);

G_END_DECLS

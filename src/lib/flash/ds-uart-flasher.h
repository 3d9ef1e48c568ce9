/* The STM32 ROM bootloader client (ST AN3155) over a serial port or pty. */
#pragma once

#include "ds-flasher.h"
#include "ds-transport.h"

G_BEGIN_DECLS

#define DS_TYPE_UART_FLASHER (ds_uart_flasher_get_type ())
G_DECLARE_FINAL_TYPE (DsUartFlasher, ds_uart_flasher, DS, UART_FLASHER, GObject)

/* @transport must be open; the board must be in its ROM bootloader. */
DsUartFlasher *ds_uart_flasher_new            (DsTransport   *transport);
/* TRUE when an STM32 ROM bootloader answers the sync byte within
 * @timeout_ms (a board already synchronised answers too). */
gboolean       ds_uart_flasher_probe          (DsTransport   *transport,
                                               guint          timeout_ms,
                                               GCancellable  *cancellable);
/* Erase the whole flash instead of the pages the image covers. */
void           ds_uart_flasher_set_mass_erase (DsUartFlasher *self,
                                               gboolean       mass_erase);
/* After a flash: the part the bootloader reported. */
guint16        ds_uart_flasher_get_product_id (DsUartFlasher *self);

G_END_DECLS

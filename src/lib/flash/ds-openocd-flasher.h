/* The OpenOCD backend: Debian's openocd over SWD through the ST-LINK,
 * driven as a subprocess: erase and write each segment, verify, reset. */
#pragma once

#include "ds-flasher.h"

G_BEGIN_DECLS

#define DS_OPENOCD_DEFAULT_TARGET "target/stm32wbx.cfg"

#define DS_TYPE_OPENOCD_FLASHER (ds_openocd_flasher_get_type ())
G_DECLARE_FINAL_TYPE (DsOpenocdFlasher, ds_openocd_flasher, DS, OPENOCD_FLASHER, GObject)

/* The program: $DS_OPENOCD, else openocd from PATH. */
char             *ds_openocd_flasher_find_program (void);
/* @probe_sn: the ST-LINK serial number (its virtual COM port's USB serial
 * number), or NULL for the first probe; @target_cfg: an OpenOCD target
 * script, NULL for DS_OPENOCD_DEFAULT_TARGET. */
DsOpenocdFlasher *ds_openocd_flasher_new          (const char *program,
                                                   const char *probe_sn,
                                                   const char *target_cfg);
/* Pure: OpenOCD's command line to write and verify the files @bins (raw
 * binaries) at @addresses, then reset and quit. */
GStrv             ds_openocd_build_argv           (const char        *program,
                                                   const char        *probe_sn,
                                                   const char        *target_cfg,
                                                   const char *const *bins,
                                                   const guint32     *addresses,
                                                   guint              n);

G_END_DECLS

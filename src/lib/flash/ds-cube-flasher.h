/* The STM32CubeProgrammer backend: STM32_Programmer_CLI over SWD through
 * the ST-LINK, driven as a subprocess with its progress parsed. */
#pragma once

#include "ds-flasher.h"

G_BEGIN_DECLS

#define DS_TYPE_CUBE_FLASHER (ds_cube_flasher_get_type ())
G_DECLARE_FINAL_TYPE (DsCubeFlasher, ds_cube_flasher, DS, CUBE_FLASHER, GObject)

/* The program: $DS_CUBE_PROGRAMMER, else STM32_Programmer_CLI from PATH. */
char          *ds_cube_flasher_find_program (void);
/* The serial numbers of the ST-LINK probes `-l` lists. */
GPtrArray     *ds_cube_flasher_list_probes  (const char    *program,
                                             GCancellable  *cancellable,
                                             GError       **error);
/* Pure: the ST-LINK serial numbers in the output of `-l`. */
GPtrArray     *ds_cube_parse_probes         (const char    *output);
/* @probe_sn: the ST-LINK serial number, the same as its virtual COM port's
 * USB serial number. */
DsCubeFlasher *ds_cube_flasher_new          (const char    *program,
                                             const char    *probe_sn);

G_END_DECLS

/* dac-station-cli verify: the Matter attestation validator on files; and
 * the gate's options (trust store, CD, production mode) for provision and
 * demo. */
#pragma once

#include <glib.h>

#include "ds-profile.h"

int      ds_cli_verify      (int argc, char **argv);

extern GOptionEntry ds_cli_gate_entries[];
/* Lays the gate's options (--trust-store, --cd, --cd-signer,
 * --production) over @profile. */
void     ds_cli_gate_apply  (DsProfile    *profile);

/* dac-station-cli verify: the Matter attestation validator on files; and
 * the gate's options (trust store, CD, production mode) for provision and
 * demo. */
#pragma once

#include <glib.h>

#include "ds-job.h"

int      ds_cli_verify      (int argc, char **argv);

extern GOptionEntry ds_cli_gate_entries[];
/* Fills the gate's fields of @options from ds_cli_gate_entries; FALSE with
 * a message on stderr on a configuration error. */
gboolean ds_cli_gate_setup  (DsJobOptions *options,
                             gboolean      ca_is_test);
void     ds_cli_gate_clear  (DsJobOptions *options);
/* --production was given. */
gboolean ds_cli_gate_production (void);

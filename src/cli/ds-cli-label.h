/* dac-station-cli label: list the CUPS printers, or print a board's label
 * on one of them. */
#pragma once

#include <glib.h>

#include "ds-job.h"
#include "ds-profile.h"

int ds_cli_label (int argc, char **argv);

/* provision and demo: --print PRINTER, --print-format, --print-server. */
extern GOptionEntry ds_cli_label_print_entries[];
/* Without --print, prints on the printer @profile's [label] names. */
void ds_cli_label_print_apply (const DsProfile *profile);
/* With --print (or the profile's printer), prints the label of @job once it passed (its result as a
 * "label-printed" or "label-error" JSON event when @json, else a line). */
void ds_cli_label_print_job (DsJob    *job,
                             gboolean  json);
/* Runs the default main context until every label started is printed. */
void ds_cli_label_wait      (void);

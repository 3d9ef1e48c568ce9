/* dac-station-cli label: list the CUPS printers, or print a board's label
 * on one of them. */
#pragma once

#include <glib.h>

int ds_cli_label (int argc, char **argv);

/* dac-station-cli identify: make a board's LED blink. */
#pragma once

#include <glib.h>

int ds_cli_identify (int argc, char **argv);

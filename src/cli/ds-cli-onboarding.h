/* dac-station-cli onboarding: parse a QR payload or a manual pairing code,
 * check a factory data blob, or make a board's onboarding data. */
#pragma once

#include <glib.h>

int ds_cli_onboarding (int argc, char **argv);

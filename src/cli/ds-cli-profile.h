/* dac-station-cli profile: make, show and check product profiles. */
#pragma once

int ds_cli_profile (int argc, char **argv);

/* dac-station-cli flash. */
#pragma once

int ds_cli_flash (int argc, char **argv);

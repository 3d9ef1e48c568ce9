/* dac-station-cli verify: the Matter attestation validator on files. */
#pragma once

int ds_cli_verify (int argc, char **argv);

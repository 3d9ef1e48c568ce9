/* dac-station-cli stats, export and audit. */
#pragma once

int ds_cli_stats  (int argc, char **argv);
int ds_cli_export (int argc, char **argv);
int ds_cli_audit  (int argc, char **argv);

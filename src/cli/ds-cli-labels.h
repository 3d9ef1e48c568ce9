/* The onboarding side of a provisioning run: the options that set each
 * board's onboarding data and factory data, what a passed board's codes
 * print as, its label file, and the lot's CSV of onboarding codes. */
#pragma once

#include <json-glib/json-glib.h>

#include "ds-job.h"
#include "ds-station-setup.h"

G_BEGIN_DECLS

extern GOptionEntry ds_cli_onboarding_run_entries[];
/* --label-dir, --show-codes. */
extern char     *opt_label_dir;
extern gboolean  opt_show_codes;

/* Turns the options into the setup's onboarding settings; FALSE with the
 * reason on stderr. */
gboolean ds_cli_onboarding_apply    (DsStationSetup *setup);
/* A passed board: its serial number (and, with @show_codes, its QR and
 * manual codes) into @b when not NULL, else printed; its label into
 * --label-dir.  FALSE when the label could not be written (said on
 * stderr). */
gboolean ds_cli_onboarding_passed   (DsJob          *job,
                                     gboolean        show_codes,
                                     JsonBuilder    *b);
/* With --label-dir: the lot's CSV of onboarding codes beside the labels,
 * onboarding-LOT.csv (onboarding.csv without a lot). */
gboolean ds_cli_onboarding_write_csv (const char    *db_path,
                                      const char    *lot);
/* dac-station-cli export-onboarding --lot LOT [--output FILE] */
int      ds_cli_export_onboarding   (int             argc,
                                     char          **argv);

G_END_DECLS

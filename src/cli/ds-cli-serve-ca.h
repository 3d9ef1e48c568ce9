/* dac-station-cli serve-ca: a development EST server over the test CA. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int ds_cli_serve_ca (int    argc,
                     char **argv);

G_END_DECLS

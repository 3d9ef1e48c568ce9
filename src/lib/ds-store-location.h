/* Where a record store lives, as both front ends take it from an operator:
 * a SQLite file's path or a PostgreSQL URI.  The public face of what the
 * library-private connection layer (ds-db.h) decides. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* TRUE when @location is a PostgreSQL URI (postgresql://, postgres://),
 * FALSE for a SQLite file's path. */
gboolean  ds_store_location_is_uri       (const char *location);
/* @location fit to show or log: a URI's passwords masked. */
char     *ds_store_location_display_name (const char *location);

G_END_DECLS

/* Where a record store lives: the public face of ds-db. */
#include "config.h"

#include "ds-store-location.h"

#include "ds-db.h"

gboolean
ds_store_location_is_uri (const char *location)
{
  return ds_db_is_uri (location);
}

char *
ds_store_location_display_name (const char *location)
{
  return ds_db_display_name (location);
}

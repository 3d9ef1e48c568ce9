/* The product profile the GUI runs: the file its settings name, or one
 * made from its settings. */
#pragma once

#include <gio/gio.h>

#include "ds-profile.h"

G_BEGIN_DECLS

/* The profile of the "profile" key, or, when it is empty, a profile made
 * from the other settings (with its SHA-256 computed over the key file it
 * would be).  NULL with DS_ERROR_CONFIG when the file cannot be used. */
DsProfile *ds_settings_profile_new (GSettings  *settings,
                                    GError    **error);

G_END_DECLS

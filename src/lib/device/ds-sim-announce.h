/* How the board simulator announces its boards to the station: one JSON file
 * per board in an announce directory (docs/simulator.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *name;        /* "sim-0", unique per simulator state directory */
  char *port;        /* the pseudo-terminal to open, e.g. /dev/pts/7 */
  char *uid;         /* 24 hex digits: the board's 96-bit chip UID */
  char *fw_version;  /* provisioning firmware version */
  gint64 pid;        /* the simulator process; a dead pid means a stale file */
  char *usb_path;    /* the emulated port's name under /dev/serial/by-path; NULL: none */
  char *probe_serial; /* the emulated probe's USB serial, hex of its raw bytes; NULL: none */
} DsSimAnnouncement;

void               ds_sim_announcement_free (DsSimAnnouncement *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsSimAnnouncement, ds_sim_announcement_free)

/* $DAC_STATION_SIM_DIR, else $XDG_RUNTIME_DIR/dac-station/sim. */
char              *ds_sim_announce_dir_default (void);
/* Writes DIR/NAME.json atomically (write to a temporary file, rename). */
gboolean           ds_sim_announce_write    (const char              *dir,
                                             const DsSimAnnouncement *a,
                                             GError                 **error);
DsSimAnnouncement *ds_sim_announce_read     (const char              *path,
                                             GError                 **error);
void               ds_sim_announce_remove   (const char              *dir,
                                             const char              *name);
/* An emulated probe serial as announced: hex of 1 to 126 raw bytes (a USB
 * string descriptor's most).  The bytes, or NULL when @hex is not that. */
gboolean           ds_sim_probe_serial_is_valid (const char *hex);
GBytes            *ds_sim_probe_serial_decode   (const char *hex);
/* TRUE while the announcing process lives. */
gboolean           ds_sim_announcement_alive (const DsSimAnnouncement *a);

G_END_DECLS

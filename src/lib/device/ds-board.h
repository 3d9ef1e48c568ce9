/* A board the station can see: a serial port or a simulated board. */
#pragma once

#include <glib-object.h>

#include "ds-transport.h"

G_BEGIN_DECLS

typedef enum {
  DS_BOARD_KIND_SERIAL,
  DS_BOARD_KIND_SIMULATED,
} DsBoardKind;

#define DS_TYPE_BOARD (ds_board_get_type ())
G_DECLARE_FINAL_TYPE (DsBoard, ds_board, DS, BOARD, GObject)

DsBoard     *ds_board_new             (DsBoardKind  kind,
                                       const char  *port,
                                       const char  *name);
/* A board on a port an operator named, that no monitor lists: simulated
 * when @port is a pseudo-terminal, else a serial port. */
DsBoard     *ds_board_new_for_port    (const char  *port);
DsBoardKind  ds_board_get_kind        (DsBoard     *self);
const char  *ds_board_get_kind_string (DsBoard     *self);
const char  *ds_board_get_port        (DsBoard     *self);
/* A short name for people: "sim-3", or the port's base name. */
const char  *ds_board_get_name        (DsBoard     *self);
/* The chip UID, once known (from the simulator's announcement or INFO). */
char        *ds_board_dup_uid         (DsBoard     *self);
void         ds_board_set_uid         (DsBoard     *self,
                                       const char  *uid);
/* Where the board is plugged (docs/fixtures.md): its port's name under
 * /dev/serial/by-path and its probe's USB serial, raw bytes.  Set by the
 * monitor before the board is announced; NULL when not known. */
void         ds_board_set_usb         (DsBoard     *self,
                                       const char  *usb_path,
                                       GBytes      *probe_serial);
const char  *ds_board_get_usb_path    (DsBoard     *self);
GBytes      *ds_board_get_probe_serial (DsBoard    *self);
/* The probe serial as people read it (see ds_board_identity_format_serial). */
char        *ds_board_dup_probe_serial_text (DsBoard *self);
/* The fixture slot's label ("A3"), or NULL outside a fixture. */
const char  *ds_board_get_slot        (DsBoard     *self);
/* What the board is called on screen and in identity alarms: its slot
 * label, or its name outside a fixture. */
const char  *ds_board_get_label       (DsBoard     *self);
/* TRUE for a chip UID as the station writes it: 24 hex digits. */
gboolean     ds_board_uid_is_valid    (const char  *uid);
void         ds_board_set_slot        (DsBoard     *self,
                                       const char  *slot);
const char  *ds_board_get_description (DsBoard     *self);
void         ds_board_set_description (DsBoard     *self,
                                       const char  *description);
/* A closed transport to the board, of the board's kind: a pseudo-terminal
 * for a simulated board, libserialport for a serial port. */
DsTransport *ds_board_new_transport   (DsBoard     *self);

G_END_DECLS

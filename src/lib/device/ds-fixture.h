/* A fixture: the slots of a test bed, named by the USB topology of the port
 * each slot's probe is plugged into (docs/fixtures.md). */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Bounds that keep a fixture file from describing a warehouse. */
#define DS_FIXTURE_MAX_ROWS     32
#define DS_FIXTURE_MAX_COLUMNS  32
#define DS_FIXTURE_MAX_LABEL    16

typedef struct {
  char  *label;   /* "A3": what the operator reads on the fixture */
  char  *path;    /* the port's name under /dev/serial/by-path, e.g. pci-0000:00:14.0-usb-0:1.2:1.0 */
  guint  row;     /* 1-based */
  guint  column;  /* 1-based */
} DsFixtureSlot;

#define DS_TYPE_FIXTURE (ds_fixture_get_type ())
G_DECLARE_FINAL_TYPE (DsFixture, ds_fixture, DS, FIXTURE, GObject)

/* DS_ERROR_CONFIG, naming @origin, the slot and the key, for anything that
 * does not describe one unambiguous fixture. */
DsFixture           *ds_fixture_new_from_data      (const char  *data,
                                                    gsize        len,
                                                    const char  *origin,
                                                    GError     **error);
DsFixture           *ds_fixture_new_from_file      (const char  *path,
                                                    GError     **error);
const char          *ds_fixture_get_name           (DsFixture   *self);
guint                ds_fixture_get_n_rows         (DsFixture   *self);
guint                ds_fixture_get_n_columns      (DsFixture   *self);
/* TRUE: a port outside the fixture is a board like any other; FALSE (the
 * default): it is skipped, not failed. */
gboolean             ds_fixture_get_allow_unknown  (DsFixture   *self);
guint                ds_fixture_get_n_slots        (DsFixture   *self);
/* In row, then column order. */
const DsFixtureSlot *ds_fixture_get_slot           (DsFixture   *self,
                                                    guint        index);
const DsFixtureSlot *ds_fixture_lookup_label       (DsFixture   *self,
                                                    const char  *label);
/* @port: a by-path name, a /dev/serial/by-path/ path, or a symlink there
 * resolved by the caller.  NULL when no slot has it. */
const DsFixtureSlot *ds_fixture_lookup_path        (DsFixture   *self,
                                                    const char  *port);
const DsFixtureSlot *ds_fixture_lookup_position    (DsFixture   *self,
                                                    guint        row,
                                                    guint        column);

/* The by-path name of @port: "/dev/serial/by-path/X" and "X" both give X. */
char                *ds_fixture_path_normalize     (const char  *port);

G_END_DECLS

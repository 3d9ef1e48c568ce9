/* Who a board is: the slot it sits in, the serial of the probe it is
 * reached through and its chip UID.  Probe serials collide on real lines
 * (cloned ST-LINKs share one; ST-LINK/V2 serials hold unprintable bytes), so
 * the station never trusts one part of the triple alone. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const char   *slot;              /* a slot label, or the port outside the fixture */
  const guint8 *probe_serial;      /* raw bytes as the USB descriptor gave them; NULL: none */
  gsize         probe_serial_len;
  const char   *uid;               /* 24 hex digits; NULL: not known yet */
} DsBoardIdentity;

typedef enum {
  DS_IDENTITY_CONFLICT_PROBE_SERIAL,
  DS_IDENTITY_CONFLICT_UID,
} DsIdentityConflictKind;

typedef struct {
  DsIdentityConflictKind  kind;
  char                   *value;    /* the shared serial or UID, safe to show */
  char                   *slot_a;
  char                   *slot_b;
} DsIdentityConflict;

void        ds_identity_conflict_free      (DsIdentityConflict *conflict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsIdentityConflict, ds_identity_conflict_free)

/* Every probe serial or UID that two of @ids share, as DsIdentityConflict
 * (one per pair with the first board that has the value).  Empty when the
 * boards are told apart. */
GPtrArray  *ds_board_identity_find_conflicts (const DsBoardIdentity *ids,
                                              guint                  n_ids);
/* TRUE when @slot is named by any of @conflicts: such a board is not
 * provisioned until the duplicate is resolved. */
gboolean    ds_board_identity_is_blocked     (GPtrArray             *conflicts,
                                              const char            *slot);
/* The alarm for an operator, naming both slots. */
char       *ds_identity_conflict_describe    (const DsIdentityConflict *conflict);
/* A probe serial as people read it: printable letters and digits as they
 * are, anything else as upper-case hex of every byte. */
char       *ds_board_identity_format_serial  (const guint8 *serial,
                                              gsize         len);

G_END_DECLS

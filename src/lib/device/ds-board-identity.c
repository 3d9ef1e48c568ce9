/* Telling the boards on a fixture apart (docs/fixtures.md). */
#include "config.h"

#include "ds-board-identity.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "ds-util.h"

void
ds_identity_conflict_free (DsIdentityConflict *conflict)
{
  if (conflict == NULL)
    return;
  g_free (conflict->value);
  g_free (conflict->slot_a);
  g_free (conflict->slot_b);
  g_free (conflict);
}

char *
ds_board_identity_format_serial (const guint8 *serial,
                                 gsize         len)
{
  gboolean printable = len > 0;

  if (serial == NULL)
    return NULL;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (serial[i]))
      printable = FALSE;
  if (printable)
    return g_strndup ((const char *) serial, len);
  return ds_hex_encode (serial, len);
}

static gboolean
same_serial (const DsBoardIdentity *a,
             const DsBoardIdentity *b)
{
  return a->probe_serial != NULL && b->probe_serial != NULL
         && a->probe_serial_len > 0
         && a->probe_serial_len == b->probe_serial_len
         && memcmp (a->probe_serial, b->probe_serial, a->probe_serial_len) == 0;
}

static gboolean
same_uid (const DsBoardIdentity *a,
          const DsBoardIdentity *b)
{
  return a->uid != NULL && b->uid != NULL && *a->uid != '\0'
         && g_ascii_strcasecmp (a->uid, b->uid) == 0;
}

static DsIdentityConflict *
conflict_new (DsIdentityConflictKind  kind,
              const DsBoardIdentity  *a,
              const DsBoardIdentity  *b)
{
  DsIdentityConflict *c = g_new0 (DsIdentityConflict, 1);

  c->kind = kind;
  if (kind == DS_IDENTITY_CONFLICT_PROBE_SERIAL)
    c->value = ds_board_identity_format_serial (a->probe_serial, a->probe_serial_len);
  else
    c->value = ds_util_sanitize_text (a->uid, -1, DS_UTIL_MAX_PEER_TEXT);
  c->slot_a = ds_util_sanitize_text (a->slot, -1, DS_UTIL_MAX_PEER_TEXT);
  c->slot_b = ds_util_sanitize_text (b->slot, -1, DS_UTIL_MAX_PEER_TEXT);
  return c;
}

GPtrArray *
ds_board_identity_find_conflicts (const DsBoardIdentity *ids,
                                  guint                  n_ids)
{
  GPtrArray *conflicts = g_ptr_array_new_with_free_func ((GDestroyNotify) ds_identity_conflict_free);

  g_return_val_if_fail (ids != NULL || n_ids == 0, conflicts);

  /* A line holds at most a few dozen boards: pairwise is plenty. */
  for (guint j = 1; j < n_ids; j++)
    {
      gboolean serial_found = FALSE;
      gboolean uid_found = FALSE;

      for (guint i = 0; i < j; i++)
        {
          if (!serial_found && same_serial (&ids[i], &ids[j]))
            {
              g_ptr_array_add (conflicts, conflict_new (DS_IDENTITY_CONFLICT_PROBE_SERIAL, &ids[i], &ids[j]));
              serial_found = TRUE;
            }
          if (!uid_found && same_uid (&ids[i], &ids[j]))
            {
              g_ptr_array_add (conflicts, conflict_new (DS_IDENTITY_CONFLICT_UID, &ids[i], &ids[j]));
              uid_found = TRUE;
            }
        }
    }
  return conflicts;
}

gboolean
ds_board_identity_is_blocked (GPtrArray  *conflicts,
                              const char *slot)
{
  g_autofree char *safe = NULL;

  g_return_val_if_fail (slot != NULL, FALSE);

  if (conflicts == NULL)
    return FALSE;
  safe = ds_util_sanitize_text (slot, -1, DS_UTIL_MAX_PEER_TEXT);
  for (guint i = 0; i < conflicts->len; i++)
    {
      const DsIdentityConflict *c = g_ptr_array_index (conflicts, i);

      if (g_str_equal (c->slot_a, safe) || g_str_equal (c->slot_b, safe))
        return TRUE;
    }
  return FALSE;
}

char *
ds_identity_conflict_describe (const DsIdentityConflict *c)
{
  g_return_val_if_fail (c != NULL, NULL);

  if (c->kind == DS_IDENTITY_CONFLICT_PROBE_SERIAL)
    /* TRANSLATORS: an alarm; %1$s and %2$s are fixture slots ("A3"),
     * %3$s a probe's serial number */
    return g_strdup_printf (_("Slots %1$s and %2$s have probes with the same serial number %3$s: "
                              "neither board is provisioned until one probe is replaced"),
                            c->slot_a, c->slot_b, c->value);
  /* TRANSLATORS: an alarm; %1$s and %2$s are fixture slots ("A3"), %3$s a chip UID */
  return g_strdup_printf (_("Slots %1$s and %2$s report the same chip UID %3$s: "
                            "neither board is provisioned until the duplicate is removed"),
                          c->slot_a, c->slot_b, c->value);
}

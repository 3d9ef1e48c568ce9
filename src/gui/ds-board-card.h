/* One board on the station: its port and UID, the eight steps, progress
 * with time left, and a verdict that can be read from across the room. */
#pragma once

#include <gtk/gtk.h>

#include "ds-board.h"
#include "ds-job.h"

G_BEGIN_DECLS

/* What a card shows, as a word for tests and styles. */
typedef enum {
  DS_CARD_STATUS_IDLE,
  DS_CARD_STATUS_QUEUED,
  DS_CARD_STATUS_RUNNING,
  DS_CARD_STATUS_PASSED,
  DS_CARD_STATUS_FAILED,
  DS_CARD_STATUS_ALREADY_PROVISIONED,
  DS_CARD_STATUS_CANCELLED,
} DsCardStatus;

/* A card's width, and in the compact view (an empty slot's the same). */
#define DS_BOARD_CARD_WIDTH          272
#define DS_BOARD_CARD_COMPACT_WIDTH  132

#define DS_TYPE_BOARD_CARD (ds_board_card_get_type ())
G_DECLARE_FINAL_TYPE (DsBoardCard, ds_board_card, DS, BOARD_CARD, GtkFlowBoxChild)

DsBoardCard  *ds_board_card_new             (DsBoard     *board);
DsBoard      *ds_board_card_get_board       (DsBoardCard *self);
/* The job the card follows (the board's latest), or NULL. */
DsJob        *ds_board_card_get_job         (DsBoardCard *self);
void          ds_board_card_set_job         (DsBoardCard *self,
                                             DsJob       *job);
DsCardStatus  ds_board_card_get_status      (DsBoardCard *self);
/* FALSE while the job's latest change waits for a frame to be shown (the
 * status above is the job's at once; texts and buttons follow). */
gboolean      ds_board_card_is_rendered     (DsBoardCard *self);
/* Loads what drawing the card needs before its first frame. */
void          ds_board_card_prepare         (DsBoardCard *self);
/* The cards share a budget of renders a frame (two): whether no card
 * rendered in @frame_clock's current frame yet; and fewer renders in a
 * frame to come or the current one (by its counter), that shows a new card
 * or draws it (a few such frames at a time). */
gboolean      ds_board_card_frame_is_free   (GdkFrameClock *frame_clock);
void          ds_board_card_reserve_frame   (GdkFrameClock *frame_clock,
                                             gint64         frame,
                                             guint          renders);
/* The big word: "PASS", "FAIL"... */
const char   *ds_board_card_get_headline    (DsBoardCard *self);
/* What happened, in plain words (the cause of a failure). */
const char   *ds_board_card_get_message     (DsBoardCard *self);
/* What to do about it, or "". */
const char   *ds_board_card_get_hint        (DsBoardCard *self);
/* Which attempt at this board the job is (from 1; 0: unknown), and how
 * many a board gets before it is set aside (0: no limit). */
void          ds_board_card_set_attempts    (DsBoardCard *self,
                                             guint        attempt,
                                             guint        max_attempts);
guint         ds_board_card_get_attempt     (DsBoardCard *self);
/* "Attempt 2 of 3" as shown, or "" when hidden. */
const char   *ds_board_card_get_attempt_text (DsBoardCard *self);
/* A failure not yet acknowledged: the card pulses red. */
gboolean      ds_board_card_get_alarm       (DsBoardCard *self);
void          ds_board_card_acknowledge     (DsBoardCard *self);
/* Failed on its last allowed attempt: not retried, by Start All or Retry. */
gboolean      ds_board_card_is_set_aside    (DsBoardCard *self);
/* Whether the station can start jobs (the operator signed in). */
void          ds_board_card_set_can_start   (DsBoardCard *self,
                                             gboolean     can_start);
/* The usual duration of a job, for the time-left estimate; 0 when unknown. */
/* Refreshes the time left; the window calls it once a second. */
void          ds_board_card_tick            (DsBoardCard *self);
/* The board back in the card's slot (or with its UID), on a new port. */
void          ds_board_card_set_board       (DsBoardCard *self,
                                             DsBoard     *board);
/* A card whose board went keeps its last state and says "plug it in
 * again"; it cannot be started. */
void          ds_board_card_set_connected   (DsBoardCard *self,
                                             gboolean     connected);
gboolean      ds_board_card_get_connected   (DsBoardCard *self);
/* A duplicate probe serial or UID, as the alarm names it, or NULL: the
 * card shows it and cannot be started. */
void          ds_board_card_set_conflict    (DsBoardCard *self,
                                             const char  *conflict);
const char   *ds_board_card_get_conflict    (DsBoardCard *self);
/* The compact view: slot, a big colour and state, one word of cause. */
void          ds_board_card_set_compact     (DsBoardCard *self,
                                             gboolean     compact);
/* The one word the compact view shows, or "". */
/* The QR payload the card shows, or NULL when it shows none. */
const char   *ds_board_card_get_qr          (DsBoardCard *self);
const char   *ds_board_card_get_cause_word  (DsBoardCard *self);

G_END_DECLS

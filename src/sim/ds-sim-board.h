/* One simulated board: provisioning firmware with persistent secure storage
 * on a pseudo-terminal, with optional fault injection. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  DS_SIM_FAULT_NONE = 0,
  DS_SIM_FAULT_CORRUPT,        /* flip a bit of a byte with probability rate */
  DS_SIM_FAULT_DROP,           /* drop a byte with probability rate */
  DS_SIM_FAULT_STALL,          /* never answer a command */
  DS_SIM_FAULT_DISCONNECT,     /* close the pty at a command */
  DS_SIM_FAULT_WRONG_KEY,      /* GENERATE_CSR for another key */
  DS_SIM_FAULT_REFUSE_INSTALL, /* INSTALL answered REFUSED */
} DsSimFaultKind;

typedef struct {
  DsSimFaultKind kind;
  double         rate;     /* CORRUPT, DROP */
  guint8         command;  /* STALL, DISCONNECT */
} DsSimFault;

/* Parses "KIND[:ARG]" (the part after "INDEX:" of --fault). */
gboolean    ds_sim_fault_parse      (const char  *spec,
                                     DsSimFault  *fault,
                                     GError     **error);

#define DS_TYPE_SIM_BOARD (ds_sim_board_get_type ())
G_DECLARE_FINAL_TYPE (DsSimBoard, ds_sim_board, DS, SIM_BOARD, GObject)

/* Loads the board's state from STATE_DIR/sim-INDEX, creating it (with a UID
 * drawn from @rand) the first time. */
DsSimBoard *ds_sim_board_new        (guint        index,
                                     const char  *state_dir,
                                     const char  *fw_version,
                                     GRand       *rand,
                                     GError     **error);
void        ds_sim_board_add_fault  (DsSimBoard  *self,
                                     const DsSimFault *fault);
void        ds_sim_board_set_baud   (DsSimBoard  *self,
                                     guint        baud);
const char *ds_sim_board_get_name   (DsSimBoard  *self);
const char *ds_sim_board_get_uid    (DsSimBoard  *self);
const char *ds_sim_board_get_port   (DsSimBoard  *self);
/* Opens the pseudo-terminal, announces the board in @announce_dir and
 * starts serving it in a thread. */
gboolean    ds_sim_board_start      (DsSimBoard  *self,
                                     const char  *announce_dir,
                                     GError     **error);
/* Stops serving, closes the pty and removes the announcement. */
void        ds_sim_board_stop       (DsSimBoard  *self);

G_END_DECLS

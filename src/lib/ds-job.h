/* One board's provisioning job: flash, connect, CSR, forward, check,
 * install, attest, lock.  The job runs in its own thread; its state is read
 * and its signals are emitted on the main context it was started from. */
#pragma once

#include <gio/gio.h>

#include "ds-board.h"
#include "ds-ca.h"
#include "ds-estimator.h"
#include "ds-flasher.h"
#include "ds-label.h"
#include "ds-onboarding-config.h"
#include "ds-transport.h"
#include "ds-store.h"
#include "ds-matter-validator.h"
#include "ds-trust-store.h"

G_BEGIN_DECLS

typedef enum {
  DS_STEP_FLASH,
  DS_STEP_CONNECT,
  DS_STEP_CSR,
  DS_STEP_FORWARD,
  DS_STEP_CHECK,
  DS_STEP_INSTALL,
  DS_STEP_ATTEST,
  DS_STEP_LOCK,
  DS_N_STEPS
} DsStep;

typedef enum {
  DS_JOB_STATE_QUEUED,
  DS_JOB_STATE_RUNNING,
  DS_JOB_STATE_PASSED,
  DS_JOB_STATE_FAILED,
  DS_JOB_STATE_ALREADY_PROVISIONED,
  DS_JOB_STATE_CANCELLED,
} DsJobState;

GType ds_step_get_type (void) G_GNUC_CONST;
#define DS_TYPE_STEP (ds_step_get_type ())
GType ds_job_state_get_type (void) G_GNUC_CONST;
#define DS_TYPE_JOB_STATE (ds_job_state_get_type ())

/* The seams between a job and its board: what talks to the board on
 * @port, and what flashes it.  Called from the job's thread.  The
 * defaults: ds_transport_new_for_port() and the ROM bootloader over the
 * transport (a NULL flasher). */
typedef DsTransport *(*DsTransportFactory) (DsBoard  *board,
                                            gpointer  user_data);
typedef DsFlasher   *(*DsFlasherFactory)   (DsBoard  *board,
                                            gpointer  user_data);

/* What every job of a station shares. */
typedef struct {
  DsStore    *store;
  DsCa       *ca;
  guint16     vid;
  guint16     pid;
  char       *operator_id;
  char       *lot;
  char       *station_name;
  char       *certs_dir;     /* issued DAC/PAI files go to certs_dir/UID/ */
  guint       timeout_ms;    /* 0: per-command defaults */
  guint       retries;       /* 0: default */
  char       *firmware_path; /* provisioning firmware to flash first; NULL: none */
  guint32     firmware_address; /* where a raw .bin goes */
  /* The Matter gate (ds_matter_verify) before INSTALL. */
  DsTrustStore *trust_store;  /* PAAs to accept; NULL: the CA's own PAA */
  GBytes     *cd;             /* the product's Certification Declaration, installed with the DAC; NULL: none */
  GPtrArray  *cd_signers;     /* X509*: CD-signing certificates besides the Matter test key; NULL: none */
  gboolean    cd_builtin_test; /* cd is the built-in test CD (ds_test_cd_build()), not one configured */
  gboolean    production;     /* refuse test VIDs, test PAAs and the test CD key */
  gboolean    legacy_cn;     /* CSR subject CN "Mvid:XXXX Mpid:XXXX" instead of "DAC UID",
                              * for CAs that drop the Matter attributes (CFSSL 1.2) */
  /* Boards an engineer authorised to get a second DAC although their UID
   * already holds one (a board whose storage was wiped): chip UIDs, and
   * who authorised it and why.  Each use supersedes the old DAC and is an
   * audit event ("reprovision-authorised").  NULL: none. */
  char      **reprovision_uids;
  char       *reprovision_engineer;
  char       *reprovision_reason;
  /* The onboarding data and factory data Install writes to every board
   * (docs/onboarding.md); NULL: the defaults. */
  DsOnboardingConfig *onboarding;
  DsTransportFactory transport_factory;   /* NULL: ds_transport_new_for_port() */
  gpointer           transport_factory_data;
  DsFlasherFactory   flasher_factory;     /* NULL: the ROM bootloader over the transport */
  gpointer           flasher_factory_data;
  /* TRUE: the job's thread runs at the lowest CPU priority (nice 19), so
   * that its bursts of work (the SPAKE2+ verifier, signatures, the
   * checks) never hold up a GUI's main thread on a busy machine.  Its
   * board waits no longer: the thread mostly waits for the line. */
  gboolean           background;
} DsJobOptions;

DsJobOptions *ds_job_options_copy (const DsJobOptions *options);
/* The options as "key value" lines for the configuration record: what
 * decides how boards are provisioned, with files named by path and
 * SHA-256, and nothing secret. */
char         *ds_job_options_describe (const DsJobOptions *options,
                                       guint               max_jobs);
/* The PAAs the gate trusts: the configured trust store, or one holding
 * the CA's own PAA. */
DsTrustStore *ds_job_options_dup_trust_store (const DsJobOptions *options,
                                              GError            **error);
/* The Matter gate as the check step applies it: every rule, against the
 * options' trust store, product, CD and mode, and @expected_key when not
 * NULL.  @dac, when not NULL, is @dac_der already parsed.  NULL only when
 * no trust store can be had; *@trust_store (when not NULL) gets the store
 * used. */
DsVerdict    *ds_job_options_verify   (const DsJobOptions *options,
                                       GBytes             *dac_der,
                                       X509               *dac,
                                       GBytes             *pai_der,
                                       EVP_PKEY           *expected_key,
                                       DsTrustStore      **trust_store,
                                       GError            **error);
/* What can be refused before any board or CA is asked: in production, a
 * test vendor ID (0xFFF1-0xFFF4) or test product ID (0x8000-0x801F),
 * whatever the CA; a product the CA's PAA cannot cover.  DS_ERROR_CONFIG.
 * Both front ends call it before ds_station_new(); every job applies it
 * again before it asks the CA. */
gboolean      ds_job_options_validate (const DsJobOptions *options,
                                       GError            **error);
void          ds_job_options_free (DsJobOptions *options);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsJobOptions, ds_job_options_free)

const char   *ds_step_to_string       (DsStep step);
/* A label for people: "Connect", "Generate CSR"... */
const char   *ds_step_get_label       (DsStep step);
const char   *ds_job_state_to_string  (DsJobState state);
/* An estimator with what each step of a job with @options takes before
 * anything was measured (flashing only when there is firmware to flash). */
DsEstimator  *ds_job_estimator_new    (const DsJobOptions *options);

#define DS_TYPE_JOB (ds_job_get_type ())
G_DECLARE_FINAL_TYPE (DsJob, ds_job, DS, JOB, GObject)

/* Properties, each with notify on the main context the job runs on:
 * "state" (DsJobState), "step" (DsStep), "message", "fraction" (0..1,
 * never going back while the job runs) and "expected-end" (monotonic
 * time, g_get_monotonic_time(), when the job is expected to end; 0 when
 * not running).  "changed" follows every batch of updates. */
DsJob        *ds_job_new              (DsBoard             *board,
                                       const DsJobOptions  *options);
/* Step durations measured on other boards, shared with the station;
 * without one, the job's own defaults. */
void          ds_job_set_estimator    (DsJob               *self,
                                       DsEstimator         *estimator);
void          ds_job_run_async        (DsJob               *self,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
/* TRUE when the board passed or was already provisioned. */
gboolean      ds_job_run_finish       (DsJob               *self,
                                       GAsyncResult        *result,
                                       GError             **error);
void          ds_job_cancel           (DsJob               *self);
/* Ends a job that is still queued as cancelled, without starting it: no
 * record is written and "changed" and "finished" are emitted at once. */
void          ds_job_cancel_queued    (DsJob               *self);

DsBoard      *ds_job_get_board        (DsJob *self);
/* What the job was started with. */
const DsJobOptions *ds_job_get_options (DsJob *self);
DsJobState    ds_job_get_state        (DsJob *self);
DsStep        ds_job_get_step         (DsJob *self);
/* The outcome of @step so far: NULL (not reached), "running", "pass",
 * "fail" or "skipped". */
const char   *ds_job_get_step_outcome (DsJob *self,
                                       DsStep step);
/* The message @step ended with (or its latest progress), or NULL. */
const char   *ds_job_get_step_message (DsJob *self,
                                       DsStep step);
/* How long @step took in µs, or -1 when it did not finish. */
gint64        ds_job_get_step_duration (DsJob *self,
                                       DsStep step);
double        ds_job_get_fraction     (DsJob *self);
/* Monotonic µs (g_get_monotonic_time()), 0 when the job is not running. */
gint64        ds_job_get_expected_end (DsJob *self);
/* µs left at @now (monotonic), -1 when the job is not running. */
gint64        ds_job_get_time_left    (DsJob *self,
                                       gint64 now);
/* "About 12 s left", "About 2 min left": what both front ends show. */
char         *ds_job_format_time_left (gint64 usec);
const char   *ds_job_get_message      (DsJob *self);
const GError *ds_job_get_error        (DsJob *self);
/* The step that failed, meaningful when the state is FAILED; DS_N_STEPS
 * when the job failed before its first step (its record could not be
 * written). */
DsStep        ds_job_get_failed_step  (DsJob *self);
gint64        ds_job_get_started      (DsJob *self);
gint64        ds_job_get_finished     (DsJob *self);
gint64        ds_job_get_id           (DsJob *self);
const char   *ds_job_get_uid          (DsJob *self);
const char   *ds_job_get_dac_serial   (DsJob *self);
const char   *ds_job_get_dac_fingerprint (DsJob *self);
const char   *ds_job_get_dac_path     (DsJob *self);
const char   *ds_job_get_pai_path     (DsJob *self);
/* What the board's label shows (QR payload, manual code, serial number,
 * VID/PID, product name) once Install has written its onboarding data and
 * read it back; NULL before that and for boards without onboarding data.
 * Owned by the job; set on the job's main context before "changed". */
const DsLabelInfo *ds_job_get_label_info (DsJob *self);
/* The board's log, one line per entry. */
GPtrArray    *ds_job_get_log          (DsJob *self);
/* "timed-out", "rejected", ... for the error, or NULL. */
const char   *ds_job_get_error_code   (DsJob *self);

G_END_DECLS

/* The per-board provisioning state machine.  The worker thread owns the
 * conversation with the board; it reports through a queue of events that the
 * owning main context applies and turns into signals. */
#include "config.h"

#include "ds-job.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ds-attestation-check.h"
#include "ds-attestation.h"
#include "ds-board-flash.h"
#include "ds-cfssl-ca.h"
#include "ds-crypto.h"
#include "ds-device.h"
#include "ds-error.h"
#include "ds-est-ca.h"
#include "ds-factory-data.h"
#include "ds-frame.h"
#include "ds-matter-validator.h"
#include "ds-onboarding.h"
#include "ds-store-onboarding.h"
#include "ds-util.h"

typedef enum {
  EV_STEP_STARTED,
  EV_STEP_FINISHED,
  EV_PROGRESS,
  EV_IDENTIFIED,
  EV_CERTIFICATE,
  EV_LOG,
  EV_ATTEMPT,
  EV_LABEL,
  EV_DONE,
} EventKind;

typedef struct {
  EventKind  kind;
  DsStep     step;
  char      *outcome;
  char      *text;
  double     fraction;
  gint64     job_id;
  char      *serial;
  char      *fingerprint;
  char      *dac_path;
  char      *pai_path;
  DsJobState state;
  GError    *error;
  gint64     time;        /* monotonic, when the worker posted it */
  guint      attempt;     /* EV_ATTEMPT */
  guint      retries;
  guint      timeout_ms;
  char      *label[4];    /* EV_LABEL: QR payload, manual code, serial number, product name */
  guint16    vid;
  guint16    pid;
} Event;

static void
event_free (Event *ev)
{
  g_free (ev->outcome);
  g_free (ev->text);
  g_free (ev->serial);
  g_free (ev->fingerprint);
  g_free (ev->dac_path);
  g_free (ev->pai_path);
  for (guint i = 0; i < G_N_ELEMENTS (ev->label); i++)
    g_free (ev->label[i]);
  g_clear_error (&ev->error);
  g_free (ev);
}

struct _DsJob
{
  GObject       parent_instance;

  DsBoard      *board;
  DsJobOptions *options;
  GCancellable *cancellable;
  GMainContext *context;
  GThread      *thread;       /* the worker, joined before the job finishes */

  /* Events from the worker, guarded by lock. */
  GMutex        lock;
  GQueue        events;
  GSource      *dispatch_source;

  /* Main-context state. */
  DsJobState    state;
  DsStep        step;
  DsStep        failed_step;
  char         *step_outcome[DS_N_STEPS];
  char         *step_message[DS_N_STEPS];
  gint64        step_started[DS_N_STEPS];   /* monotonic */
  gint64        step_duration[DS_N_STEPS];  /* µs, -1: not finished */
  double        fraction;
  char         *message;
  /* Time left: the running step's attempt and where it stands. */
  DsEstimator  *estimator;
  DsStep        est_step;        /* the step running or about to */
  double        step_fraction;   /* < 0: the step does not say */
  gint64        attempt_started; /* monotonic */
  gint64        attempt_timeout; /* µs, 0: unknown */
  guint         retries_left;
  gint64        expected_end;    /* monotonic, 0: not running */
  gboolean      retried;         /* a retry since the last estimate: say it, however small */
  GSource      *tick_source;     /* re-estimates while a step overruns */
  GCancellable *outer_cancellable;
  gulong        outer_cancel_id;
  GError       *error;
  gint64        started;
  gint64        finished;
  gint64        job_id;
  /* The board's label, NULL until Install wrote its onboarding data. */
  DsLabelInfo  *label_info;
  char         *label_strings[4];   /* owns the label's strings */
  char         *uid;
  char         *dac_serial;
  char         *dac_fingerprint;
  char         *dac_path;
  char         *pai_path;
  GPtrArray    *log;
};

G_DEFINE_FINAL_TYPE (DsJob, ds_job, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (DsStep, ds_step,
  G_DEFINE_ENUM_VALUE (DS_STEP_FLASH, "flash"),
  G_DEFINE_ENUM_VALUE (DS_STEP_CONNECT, "connect"),
  G_DEFINE_ENUM_VALUE (DS_STEP_CSR, "csr"),
  G_DEFINE_ENUM_VALUE (DS_STEP_FORWARD, "forward"),
  G_DEFINE_ENUM_VALUE (DS_STEP_CHECK, "check"),
  G_DEFINE_ENUM_VALUE (DS_STEP_INSTALL, "install"),
  G_DEFINE_ENUM_VALUE (DS_STEP_ATTEST, "attest"),
  G_DEFINE_ENUM_VALUE (DS_STEP_LOCK, "lock"),
  G_DEFINE_ENUM_VALUE (DS_N_STEPS, "none"))

G_DEFINE_ENUM_TYPE (DsJobState, ds_job_state,
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_QUEUED, "queued"),
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_RUNNING, "running"),
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_PASSED, "passed"),
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_FAILED, "failed"),
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_ALREADY_PROVISIONED, "already-provisioned"),
  G_DEFINE_ENUM_VALUE (DS_JOB_STATE_CANCELLED, "cancelled"))

enum {
  PROP_0,
  PROP_STATE,
  PROP_STEP,
  PROP_MESSAGE,
  PROP_FRACTION,
  PROP_EXPECTED_END,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum {
  STEP_STARTED,
  STEP_FINISHED,
  CHANGED,
  LOG,
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* What each step takes on a board at 115200 baud with the test CA, before
 * the station measured any: a guide for the first board only. */
static const gint64 default_step_ms[DS_N_STEPS] = {
  30000, 1000, 2000, 1500, 200, 1500, 1000, 500,
};

DsEstimator *
ds_job_estimator_new (const DsJobOptions *options)
{
  gint64 defaults[DS_N_STEPS];

  for (guint i = 0; i < DS_N_STEPS; i++)
    defaults[i] = default_step_ms[i] * 1000;
  /* Skipped at once when there is nothing to flash. */
  if (options->firmware_path == NULL)
    defaults[DS_STEP_FLASH] = 50 * 1000;
  return ds_estimator_new (DS_N_STEPS, defaults);
}

static const char *step_names[DS_N_STEPS] = {
  "flash", "connect", "csr", "forward", "check", "install", "attest", "lock",
};

const char *
ds_step_to_string (DsStep step)
{
  g_return_val_if_fail (step < DS_N_STEPS, "unknown");
  return step_names[step];
}

const char *
ds_step_get_label (DsStep step)
{
  switch (step)
    {
    case DS_STEP_FLASH: return _("Flash firmware");
    case DS_STEP_CONNECT: return _("Connect");
    case DS_STEP_CSR: return _("Generate key and CSR");
    case DS_STEP_FORWARD: return _("Get certificate");
    case DS_STEP_CHECK: return _("Check certificate");
    case DS_STEP_INSTALL: return _("Install");
    case DS_STEP_ATTEST: return _("Attest");
    case DS_STEP_LOCK: return _("Lock");
    case DS_N_STEPS:
    default: return "?";
    }
}

const char *
ds_job_state_to_string (DsJobState state)
{
  switch (state)
    {
    case DS_JOB_STATE_QUEUED: return "queued";
    case DS_JOB_STATE_RUNNING: return "running";
    case DS_JOB_STATE_PASSED: return "passed";
    case DS_JOB_STATE_FAILED: return "failed";
    case DS_JOB_STATE_ALREADY_PROVISIONED: return "already-provisioned";
    case DS_JOB_STATE_CANCELLED: return "cancelled";
    default: return "unknown";
    }
}

DsJobOptions *
ds_job_options_copy (const DsJobOptions *o)
{
  DsJobOptions *c = g_new0 (DsJobOptions, 1);

  c->store = o->store != NULL ? g_object_ref (o->store) : NULL;
  c->ca = o->ca != NULL ? g_object_ref (o->ca) : NULL;
  c->vid = o->vid;
  c->pid = o->pid;
  c->operator_id = g_strdup (o->operator_id);
  c->lot = g_strdup (o->lot);
  c->station_name = g_strdup (o->station_name);
  c->certs_dir = g_strdup (o->certs_dir);
  c->timeout_ms = o->timeout_ms;
  c->retries = o->retries;
  c->firmware_path = g_strdup (o->firmware_path);
  c->firmware_address = o->firmware_address;
  c->trust_store = o->trust_store != NULL ? g_object_ref (o->trust_store) : NULL;
  c->cd = o->cd != NULL ? g_bytes_ref (o->cd) : NULL;
  c->cd_signers = o->cd_signers != NULL ? g_ptr_array_ref (o->cd_signers) : NULL;
  c->cd_builtin_test = o->cd_builtin_test;
  c->production = o->production;
  c->legacy_cn = o->legacy_cn;
  c->background = o->background;
  c->reprovision_uids = g_strdupv (o->reprovision_uids);
  c->reprovision_engineer = g_strdup (o->reprovision_engineer);
  c->reprovision_reason = g_strdup (o->reprovision_reason);
  c->onboarding = ds_onboarding_config_copy (o->onboarding);
  c->transport_factory = o->transport_factory;
  c->transport_factory_data = o->transport_factory_data;
  c->flasher_factory = o->flasher_factory;
  c->flasher_factory_data = o->flasher_factory_data;
  return c;
}

static char *
file_digest (const char *path)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  if (!ds_util_read_file (path, DS_UTIL_MAX_IMAGE_FILE, &contents, &len, NULL))
    return g_strdup ("unreadable");
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, len);
}

/* The address of a remote CA, for the configuration record. */
static const char *
ca_url (DsCa *ca)
{
  if (ca != NULL && DS_IS_EST_CA (ca))
    return ds_est_ca_get_url (DS_EST_CA (ca));
  if (ca != NULL && DS_IS_CFSSL_CA (ca))
    return ds_cfssl_ca_get_url (DS_CFSSL_CA (ca));
  return NULL;
}

char *
ds_job_options_describe (const DsJobOptions *o,
                         guint               max_jobs)
{
  g_autoptr(GString) s = g_string_new (NULL);

  g_string_append_printf (s, "ca %s%s%s%s\n", o->ca != NULL ? ds_ca_get_name (o->ca) : "none",
                          ca_url (o->ca) != NULL ? " " : "", ca_url (o->ca) != NULL ? ca_url (o->ca) : "",
                          o->ca != NULL && ds_ca_is_test (o->ca) ? " (test)" : "");
  /* Which CSR subject the boards are asked for: a reviewer sees it change. */
  g_string_append_printf (s, "legacy-cn %s\n", o->legacy_cn ? "yes" : "no");
  g_string_append_printf (s, "product %04X:%04X\n", o->vid, o->pid);
  if (o->trust_store != NULL)
    {
      g_autofree char *digest = ds_trust_store_dup_digest (o->trust_store);
      g_string_append_printf (s, "trust-store %u PAAs sha256 %s\n", ds_trust_store_get_count (o->trust_store), digest);
    }
  else
    g_string_append (s, "trust-store the CA's PAA\n");
  if (o->cd != NULL)
    {
      g_autofree char *digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, o->cd);
      g_string_append_printf (s, "cd %ssha256 %s\n", o->cd_builtin_test ? "built-in test CD " : "", digest);
    }
  else
    g_string_append (s, "cd none\n");
  g_string_append_printf (s, "cd-signers %u\n", o->cd_signers != NULL ? o->cd_signers->len : 0);
  g_string_append_printf (s, "production %s\n", o->production ? "yes" : "no");
  if (o->firmware_path != NULL)
    {
      g_autofree char *digest = file_digest (o->firmware_path);
      g_string_append_printf (s, "firmware %s sha256 %s at 0x%08X\n", o->firmware_path, digest, o->firmware_address);
    }
  else
    g_string_append (s, "firmware none\n");
  g_string_append_printf (s, "jobs %u\ntimeout-ms %u\nretries %u\n", max_jobs, o->timeout_ms, o->retries);
  ds_onboarding_config_describe (o->onboarding, s);
  if (o->reprovision_uids != NULL && o->reprovision_uids[0] != NULL)
    {
      g_autofree char *uids = g_strjoinv (",", o->reprovision_uids);

      g_string_append_printf (s, "reprovision %s by %s: %s\n", uids,
                              o->reprovision_engineer != NULL ? o->reprovision_engineer : "?",
                              o->reprovision_reason != NULL ? o->reprovision_reason : "?");
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

DsTrustStore *
ds_job_options_dup_trust_store (const DsJobOptions *o,
                                GError            **error)
{
  /* Stores made of a CA's PAA, kept by PAA: jobs after the first share
   * the parsed PAA and what the store caches for verification. */
  static GMutex lock;
  static GHashTable *by_paa;  /* GBytes -> DsTrustStore */
  g_autoptr(GBytes) paa_der = NULL;
  g_autoptr(DsTrustStore) store = NULL;

  if (o->trust_store != NULL)
    return g_object_ref (o->trust_store);
  paa_der = o->ca != NULL ? ds_ca_dup_paa (o->ca) : NULL;
  if (paa_der == NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("No trust store is configured and the CA names no PAA to check the DAC against"));
      return NULL;
    }
  g_mutex_lock (&lock);
  if (by_paa == NULL)
    by_paa = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, g_object_unref);
  store = g_hash_table_lookup (by_paa, paa_der);
  if (store != NULL)
    g_object_ref (store);
  g_mutex_unlock (&lock);
  if (store != NULL)
    return g_steal_pointer (&store);

  store = ds_trust_store_new ();
  if (!ds_trust_store_add_der (store, paa_der, ds_ca_get_name (o->ca), error))
    return NULL;
  g_mutex_lock (&lock);
  /* A handful of CAs in a process's life (tests make many: bounded). */
  if (g_hash_table_size (by_paa) >= 16)
    g_hash_table_remove_all (by_paa);
  g_hash_table_replace (by_paa, g_bytes_ref (paa_der), g_object_ref (store));
  g_mutex_unlock (&lock);
  return g_steal_pointer (&store);
}

DsVerdict *
ds_job_options_verify (const DsJobOptions *o,
                       GBytes             *dac_der,
                       X509               *dac,
                       GBytes             *pai_der,
                       EVP_PKEY           *expected_key,
                       DsTrustStore      **trust_store,
                       GError            **error)
{
  g_autoptr(DsTrustStore) store = ds_job_options_dup_trust_store (o, error);
  DsVerifyRequest request = { 0 };
  DsVerdict *verdict;

  if (store == NULL)
    return NULL;
  request.dac = dac_der;
  request.dac_cert = dac;
  request.pai = pai_der;
  request.cd = o->cd;
  request.cd_signers = o->cd_signers;
  request.trust_store = store;
  request.has_product = TRUE;
  request.product_vid = o->vid;
  request.product_pid = o->pid;
  request.production = o->production;
  request.expected_key = expected_key;
  verdict = ds_matter_verify (&request);
  if (trust_store != NULL)
    *trust_store = g_steal_pointer (&store);
  return verdict;
}

/* Matter's test products: the SDK's example DACs and CDs use PIDs
 * 0x8000-0x801F under the test vendor IDs. */
#define DS_PID_TEST_MIN 0x8000
#define DS_PID_TEST_MAX 0x801F

gboolean
ds_job_options_validate (const DsJobOptions *o,
                         GError            **error)
{
  g_autoptr(GBytes) paa_der = NULL;

  /* A passcode, discriminator or SPAKE2+ parameter out of range is
   * refused before any board or CA is asked. */
  if (!ds_onboarding_config_check (o->onboarding, error))
    return FALSE;
  if (o->production && o->vid >= DS_VID_TEST_MIN && o->vid <= DS_VID_TEST_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode refuses the test vendor ID 0x%04X (0xFFF1 to 0xFFF4 are for tests only): "
                     "give the product's own vendor ID"), o->vid);
      return FALSE;
    }
  if (o->production && o->pid >= DS_PID_TEST_MIN && o->pid <= DS_PID_TEST_MAX)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                   _("Production mode refuses the test product ID 0x%04X (0x8000 to 0x801F are Matter's test products): "
                     "give the product's own product ID"), o->pid);
      return FALSE;
    }
  /* A CA whose PAA is for one vendor cannot issue for another: said
   * before it is asked, rather than by the gate after it issued. */
  paa_der = o->ca != NULL ? ds_ca_dup_paa (o->ca) : NULL;
  if (paa_der != NULL)
    {
      g_autoptr(X509) paa = ds_cert_parse (paa_der, NULL);
      gboolean has_vid = FALSE, has_pid = FALSE;
      guint16 vid = 0, pid = 0;

      if (paa != NULL && ds_cert_get_vid_pid (paa, &has_vid, &vid, &has_pid, &pid) && has_vid && vid != o->vid)
        {
          g_set_error (error, DS_ERROR, DS_ERROR_CONFIG,
                       _("The %s CA's PAA is for vendor 0x%04X only: it cannot issue DACs for vendor 0x%04X"),
                       ds_ca_get_name (o->ca), vid, o->vid);
          return FALSE;
        }
    }
  return TRUE;
}

void
ds_job_options_free (DsJobOptions *o)
{
  if (o == NULL)
    return;
  g_clear_object (&o->store);
  g_clear_object (&o->ca);
  g_free (o->operator_id);
  g_free (o->lot);
  g_free (o->station_name);
  g_free (o->certs_dir);
  g_free (o->firmware_path);
  g_clear_object (&o->trust_store);
  g_clear_pointer (&o->cd, g_bytes_unref);
  g_clear_pointer (&o->cd_signers, g_ptr_array_unref);
  g_strfreev (o->reprovision_uids);
  g_free (o->reprovision_engineer);
  g_free (o->reprovision_reason);
  ds_onboarding_config_free (o->onboarding);
  g_free (o);
}

static void
ds_job_finalize (GObject *object)
{
  DsJob *self = DS_JOB (object);

  if (self->dispatch_source != NULL)
    {
      g_source_destroy (self->dispatch_source);
      g_source_unref (self->dispatch_source);
    }
  g_queue_clear_full (&self->events, (GDestroyNotify) event_free);
  g_mutex_clear (&self->lock);
  g_clear_object (&self->board);
  g_clear_pointer (&self->options, ds_job_options_free);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->thread, g_thread_unref);
  g_clear_pointer (&self->tick_source, g_source_destroy);
  if (self->outer_cancellable != NULL)
    g_cancellable_disconnect (self->outer_cancellable, self->outer_cancel_id);
  g_clear_object (&self->outer_cancellable);
  g_clear_pointer (&self->estimator, ds_estimator_unref);
  for (guint i = 0; i < DS_N_STEPS; i++)
    {
      g_free (self->step_outcome[i]);
      g_free (self->step_message[i]);
    }
  g_free (self->message);
  g_free (self->label_info);
  for (guint i = 0; i < G_N_ELEMENTS (self->label_strings); i++)
    g_free (self->label_strings[i]);
  g_clear_error (&self->error);
  g_free (self->uid);
  g_free (self->dac_serial);
  g_free (self->dac_fingerprint);
  g_free (self->dac_path);
  g_free (self->pai_path);
  g_ptr_array_unref (self->log);
  G_OBJECT_CLASS (ds_job_parent_class)->finalize (object);
}

static void
ds_job_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  DsJob *self = DS_JOB (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_STEP:
      g_value_set_enum (value, self->step);
      break;
    case PROP_MESSAGE:
      g_value_set_string (value, self->message);
      break;
    case PROP_FRACTION:
      g_value_set_double (value, self->fraction);
      break;
    case PROP_EXPECTED_END:
      g_value_set_int64 (value, self->expected_end);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
ds_job_class_init (DsJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = ds_job_finalize;
  object_class->get_property = ds_job_get_property;

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, DS_TYPE_JOB_STATE, DS_JOB_STATE_QUEUED,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STEP] =
    g_param_spec_enum ("step", NULL, NULL, DS_TYPE_STEP, DS_STEP_FLASH,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MESSAGE] =
    g_param_spec_string ("message", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_FRACTION] =
    g_param_spec_double ("fraction", NULL, NULL, 0.0, 1.0, 0.0,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Monotonic time (g_get_monotonic_time()); 0 when not running. */
  properties[PROP_EXPECTED_END] =
    g_param_spec_int64 ("expected-end", NULL, NULL, 0, G_MAXINT64, 0,
                        G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /* step-started (DsStep step) */
  signals[STEP_STARTED] =
    g_signal_new ("step-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, DS_TYPE_STEP);
  /* step-finished (DsStep step, const char *outcome, const char *message) */
  signals[STEP_FINISHED] =
    g_signal_new ("step-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3, DS_TYPE_STEP, G_TYPE_STRING, G_TYPE_STRING);
  signals[CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[LOG] =
    g_signal_new ("log", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
ds_job_init (DsJob *self)
{
  g_mutex_init (&self->lock);
  g_queue_init (&self->events);
  self->cancellable = g_cancellable_new ();
  self->log = g_ptr_array_new_with_free_func (g_free);
  self->job_id = -1;
  self->state = DS_JOB_STATE_QUEUED;
  self->failed_step = DS_N_STEPS;
  self->step_fraction = -1;
  for (guint i = 0; i < DS_N_STEPS; i++)
    self->step_duration[i] = -1;
}

DsJob *
ds_job_new (DsBoard            *board,
            const DsJobOptions *options)
{
  DsJob *self = g_object_new (DS_TYPE_JOB, NULL);

  self->board = g_object_ref (board);
  self->options = ds_job_options_copy (options);
  self->estimator = ds_job_estimator_new (options);
  return self;
}

void
ds_job_set_estimator (DsJob       *self,
                      DsEstimator *estimator)
{
  g_return_if_fail (DS_IS_JOB (self));
  g_return_if_fail (estimator != NULL);

  ds_estimator_ref (estimator);
  g_clear_pointer (&self->estimator, ds_estimator_unref);
  self->estimator = estimator;
}

static void
set_message (DsJob      *self,
             const char *message)
{
  if (g_strcmp0 (self->message, message) == 0)
    return;
  g_free (self->message);
  self->message = g_strdup (message);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE]);
}

static void
set_state (DsJob      *self,
           DsJobState  state)
{
  if (self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

/* Forwards only, while the job runs: a bar that goes back is a lie. */
static void
set_fraction (DsJob  *self,
              double  fraction)
{
  fraction = CLAMP (fraction, 0.0, 1.0);
  if (fraction <= self->fraction)
    return;
  self->fraction = fraction;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRACTION]);
}

static void
set_expected_end (DsJob  *self,
                  gint64  end)
{
  /* Half a second either way is not worth a redraw. */
  if (!self->retried && (end == 0) == (self->expected_end == 0) &&
      ABS (end - self->expected_end) < G_USEC_PER_SEC / 2)
    return;
  self->retried = FALSE;
  self->expected_end = end;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EXPECTED_END]);
}

static void
update_estimate (DsJob  *self,
                 gint64  now)
{
  DsEstimatorPosition pos = { 0 };

  if (self->state != DS_JOB_STATE_RUNNING)
    {
      set_expected_end (self, 0);
      return;
    }
  if (self->est_step >= DS_N_STEPS)
    {
      set_expected_end (self, now);
      return;
    }
  pos.step = self->est_step;
  pos.attempt_started = self->attempt_started > 0 ? self->attempt_started : now;
  pos.step_fraction = self->step_fraction;
  pos.timeout = self->attempt_timeout;
  pos.retries_left = self->retries_left;
  set_expected_end (self, now + ds_estimator_get_remaining (self->estimator, &pos, now));
}

static gboolean
tick_cb (gpointer user_data)
{
  update_estimate (DS_JOB (user_data), g_get_monotonic_time ());
  return G_SOURCE_CONTINUE;
}

/* Main context: apply queued events. */

/* Takes @texts (QR, manual code, serial number, product name; each may
 * be NULL) as the board's label. */
static void
take_label (DsJob   *self,
            char    *texts[4],
            guint16  vid,
            guint16  pid)
{
  for (guint i = 0; i < G_N_ELEMENTS (self->label_strings); i++)
    {
      g_free (self->label_strings[i]);
      self->label_strings[i] = g_steal_pointer (&texts[i]);
    }
  if (self->label_info == NULL)
    self->label_info = g_new0 (DsLabelInfo, 1);
  self->label_info->qr = self->label_strings[0];
  self->label_info->manual_code = self->label_strings[1];
  self->label_info->serial_number = self->label_strings[2];
  self->label_info->product_name = self->label_strings[3];
  self->label_info->vid = vid;
  self->label_info->pid = pid;
}

static void
apply_event (DsJob *self,
             Event *ev)
{
  switch (ev->kind)
    {
    case EV_STEP_STARTED:
      self->step = ev->step;
      g_free (self->step_outcome[ev->step]);
      self->step_outcome[ev->step] = g_strdup ("running");
      self->step_started[ev->step] = ev->time;
      self->est_step = ev->step;
      self->attempt_started = ev->time;
      self->attempt_timeout = 0;
      self->retries_left = 0;
      self->step_fraction = -1;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STEP]);
      set_fraction (self, ds_estimator_get_fraction (self->estimator, ev->step, 0));
      set_message (self, ds_step_get_label (ev->step));
      g_signal_emit (self, signals[STEP_STARTED], 0, ev->step);
      break;
    case EV_STEP_FINISHED:
      g_free (self->step_outcome[ev->step]);
      self->step_outcome[ev->step] = g_strdup (ev->outcome);
      self->step_duration[ev->step] = MAX (ev->time - self->step_started[ev->step], 0);
      if (ev->text != NULL)
        {
          g_free (self->step_message[ev->step]);
          self->step_message[ev->step] = g_strdup (ev->text);
          set_message (self, ev->text);
        }
      if (g_strcmp0 (ev->outcome, "fail") != 0)
        {
          set_fraction (self, ds_estimator_get_fraction (self->estimator, ev->step + 1, 0));
          /* Until the next step starts, it is the one on its way. */
          self->est_step = ev->step + 1;
            {
              self->attempt_started = ev->time;
              self->step_fraction = -1;
              self->attempt_timeout = 0;
            }
        }
      g_signal_emit (self, signals[STEP_FINISHED], 0, ev->step, ev->outcome, ev->text);
      break;
    case EV_PROGRESS:
      self->step_fraction = ev->fraction;
      set_fraction (self, ds_estimator_get_fraction (self->estimator, self->step, ev->fraction));
      if (ev->text != NULL)
        {
          g_free (self->step_message[self->step]);
          self->step_message[self->step] = g_strdup (ev->text);
          set_message (self, ev->text);
        }
      break;
    case EV_ATTEMPT:
      /* A retry starts the step's wait over; each attempt may take its
       * timeout. */
      if (ev->attempt > 0)
        {
          self->attempt_started = ev->time;
          self->retried = TRUE;
        }
      self->attempt_timeout = (gint64) ev->timeout_ms * 1000;
      self->retries_left = ev->retries > ev->attempt ? ev->retries - ev->attempt - 1 : 0;
      break;
    case EV_IDENTIFIED:
      g_free (self->uid);
      self->uid = g_strdup (ev->text);
      self->job_id = ev->job_id;
      break;
    case EV_CERTIFICATE:
      g_free (self->dac_serial);
      self->dac_serial = g_strdup (ev->serial);
      g_free (self->dac_fingerprint);
      self->dac_fingerprint = g_strdup (ev->fingerprint);
      g_free (self->dac_path);
      self->dac_path = g_strdup (ev->dac_path);
      g_free (self->pai_path);
      self->pai_path = g_strdup (ev->pai_path);
      break;
    case EV_LABEL:
      take_label (self, ev->label, ev->vid, ev->pid);
      break;
    case EV_LOG:
      g_ptr_array_add (self->log, g_strdup (ev->text));
      g_signal_emit (self, signals[LOG], 0, ev->text);
      break;
    case EV_DONE:
      self->finished = g_get_real_time ();
      self->failed_step = ev->step;
      g_clear_error (&self->error);
      self->error = g_steal_pointer (&ev->error);
      if (ev->state == DS_JOB_STATE_PASSED || ev->state == DS_JOB_STATE_ALREADY_PROVISIONED)
        set_fraction (self, 1.0);
      set_message (self, ev->text);
      set_state (self, ev->state);
      g_clear_pointer (&self->tick_source, g_source_destroy);
      break;
    }
}

static gboolean
dispatch_cb (gpointer user_data)
{
  DsJob *self = DS_JOB (user_data);
  GQueue pending = G_QUEUE_INIT;

  g_mutex_lock (&self->lock);
  pending = self->events;
  g_queue_init (&self->events);
  g_clear_pointer (&self->dispatch_source, g_source_unref);
  g_mutex_unlock (&self->lock);

  g_object_freeze_notify (G_OBJECT (self));
  for (GList *l = pending.head; l != NULL; l = l->next)
    apply_event (self, l->data);
  update_estimate (self, g_get_monotonic_time ());
  g_object_thaw_notify (G_OBJECT (self));
  g_queue_clear_full (&pending, (GDestroyNotify) event_free);
  g_signal_emit (self, signals[CHANGED], 0);
  return G_SOURCE_REMOVE;
}

/* Worker thread: queue an event, coalescing progress updates so a fast
 * board cannot flood the main loop. */
static void
post (DsJob *self,
      Event *ev)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&self->lock);
  Event *last = g_queue_peek_tail (&self->events);

  ev->time = g_get_monotonic_time ();
  if (ev->kind == EV_PROGRESS && last != NULL && last->kind == EV_PROGRESS)
    {
      event_free (g_queue_pop_tail (&self->events));
    }
  g_queue_push_tail (&self->events, ev);
  if (self->dispatch_source == NULL)
    {
      self->dispatch_source = g_idle_source_new ();
      g_source_set_priority (self->dispatch_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (self->dispatch_source, dispatch_cb, g_object_ref (self), g_object_unref);
      g_source_attach (self->dispatch_source, self->context);
    }
}

static void
post_log (DsJob      *self,
          const char *format,
          ...) G_GNUC_PRINTF (2, 3);

static void
post_log (DsJob      *self,
          const char *format,
          ...)
{
  Event *ev = g_new0 (Event, 1);
  g_autofree char *text = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *stamp = g_date_time_format (now, "%H:%M:%S");
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  ev->kind = EV_LOG;
  ev->text = g_strdup_printf ("%s %s", stamp, text);
  g_debug ("%s: %s", ds_board_get_name (self->board), text);
  post (self, ev);
}

static void
post_certificate (DsJob              *self,
                  const DsCertRecord *rec)
{
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_CERTIFICATE;
  ev->serial = g_strdup (rec->serial);
  ev->fingerprint = g_strdup (rec->fingerprint);
  ev->dac_path = g_strdup (rec->dac_path);
  ev->pai_path = g_strdup (rec->pai_path);
  post (self, ev);
}

/* The product name the factory data and the label carry: the configured
 * one, else one made of the product ID. */
static char *
product_name_for (const DsOnboardingConfig *c,
                  guint16                   pid)
{
  return c != NULL && c->product_name != NULL ? g_strdup (c->product_name) : g_strdup_printf ("Product %04X", pid);
}

/* @rec's codes as the board's label; a row recorded before the records
 * kept the product name gets this run's. */
static void
post_label (DsJob                    *self,
            const DsOnboardingRecord *rec)
{
  const DsOnboardingConfig *c = self->options->onboarding;
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_LABEL;
  ev->label[0] = g_strdup (rec->qr);
  ev->label[1] = g_strdup (rec->manual_code);
  ev->label[2] = g_strdup (rec->serial_number);
  ev->label[3] = rec->product_name != NULL ? g_strdup (rec->product_name) : product_name_for (c, rec->pid);
  ev->vid = rec->vid;
  ev->pid = rec->pid;
  post (self, ev);
}

/* The worker's run. */

typedef struct {
  DsJob        *job;
  GCancellable *cancellable;
  DsDevice     *device;
  gint64        job_id;
  DsDeviceInfo  info;
  char         *skip_reason;    /* set by a step that decided to skip */
  char         *done_message;   /* set by a step with a notable result */
  gboolean      already_provisioned;
  gboolean      already_installed;
  GBytes       *csr_der;
  X509_REQ     *csr;      /* parsed and checked */
  char         *csr_key_fp;
  DsCertRecord *cert;
  gboolean      cert_is_new;
  X509         *dac;
  char         *claimed_uid;  /* claims held against other running jobs */
  char         *claimed_key;
} Run;

/* What running jobs hold: a board UID and a public key each.  A second
 * job for the same UID (a cloned UID on another port) or the same key (a
 * copied key or CSR) is refused while the first runs: the records cannot
 * tell them apart before one of them is certified. */
static GMutex claims_lock;
static GHashTable *claims;  /* "uid:…" / "key:…" -> port */

/* Claims @what for @port; FALSE with *holder (the other port) when another
 * running job holds it. */
static gboolean
claim (const char  *what,
       const char  *port,
       char       **holder)
{
  g_autoptr(GMutexLocker) locker G_GNUC_UNUSED = g_mutex_locker_new (&claims_lock);
  const char *other;

  if (claims == NULL)
    claims = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  other = g_hash_table_lookup (claims, what);
  if (other != NULL)
    {
      *holder = g_strdup (other);
      return FALSE;
    }
  g_hash_table_insert (claims, g_strdup (what), g_strdup (port));
  return TRUE;
}

static void
release (char **what)
{
  if (*what == NULL)
    return;
  g_mutex_lock (&claims_lock);
  g_hash_table_remove (claims, *what);
  g_mutex_unlock (&claims_lock);
  g_clear_pointer (what, g_free);
}

static void
run_clear (Run *run)
{
  if (run->device != NULL)
    ds_transport_close (ds_device_get_transport (run->device));
  g_clear_object (&run->device);
  ds_device_info_clear (&run->info);
  g_free (run->skip_reason);
  g_free (run->done_message);
  g_clear_pointer (&run->csr_der, g_bytes_unref);
  g_clear_pointer (&run->csr, X509_REQ_free);
  g_free (run->csr_key_fp);
  g_clear_pointer (&run->cert, ds_cert_record_free);
  g_clear_pointer (&run->dac, X509_free);
  release (&run->claimed_uid);
  release (&run->claimed_key);
}

static const char *
error_code (const GError *error)
{
  if (error == NULL)
    return NULL;
  if (error->domain == DS_ERROR)
    return ds_error_code_to_string (error->code);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return "cancelled";
  return "failed";
}

static gboolean
is_cancelled (const GError *error)
{
  return ds_error_is_cancelled (error);
}

/* The transport for the board, through the options' seam. */
static DsTransport *
new_transport (DsJob *self)
{
  if (self->options->transport_factory != NULL)
    return self->options->transport_factory (self->board, self->options->transport_factory_data);
  return ds_board_new_transport (self->board);
}

static void
attempt_cb (guint8   command,
            guint    attempt,
            guint    retries,
            guint    timeout_ms,
            gpointer user_data)
{
  DsJob *self = user_data;
  Event *ev = g_new0 (Event, 1);

  ev->kind = EV_ATTEMPT;
  ev->attempt = attempt;
  ev->retries = retries;
  ev->timeout_ms = timeout_ms;
  post (self, ev);
}

static void
flash_progress (const char *phase,
                guint64     done,
                guint64     total,
                gpointer    user_data)
{
  DsJob *self = user_data;
  Event *ev = g_new0 (Event, 1);
  /* Erase, write and verify share the flash step's slice of the bar. */
  double base = g_str_equal (phase, "erase") ? 0 : g_str_equal (phase, "write") ? 0.1 : 0.55;
  double span = g_str_equal (phase, "erase") ? 0.1 : 0.45;
  double within = base + span * (total > 0 ? (double) done / total : 1);

  ev->kind = EV_PROGRESS;
  ev->fraction = within;
  ev->text = g_strdup_printf (_("Flashing: %s %d %%"), phase, total > 0 ? (int) (100 * done / total) : 100);
  post (self, ev);
}

static gboolean
step_flash (Run     *run,
            GError **error)
{
  DsJob *self = run->job;
  g_autoptr(DsFirmwareImage) image = NULL;
  g_autoptr(DsTransport) transport = NULL;
  g_autoptr(DsFlasher) flasher = NULL;
  g_auto(DsBoardFlashResult) result = { 0 };

  if (self->options->firmware_path == NULL)
    {
      run->skip_reason = g_strdup (_("no firmware image configured: the board must already run the provisioning firmware"));
      return TRUE;
    }
  image = ds_firmware_image_load (self->options->firmware_path, self->options->firmware_address, error);
  if (image == NULL)
    return FALSE;
  transport = new_transport (self);
  if (!ds_transport_open (transport, error))
    return FALSE;
  if (self->options->flasher_factory != NULL)
    flasher = self->options->flasher_factory (self->board, self->options->flasher_factory_data);
  if (!ds_board_flash (transport, flasher, image, TRUE, flash_progress, self, &result, run->cancellable, error))
    {
      g_prefix_error (error, _("Flashing failed: "));
      return FALSE;
    }
  if (result.skipped)
    run->skip_reason = g_strdup_printf (_("the board already runs firmware %s"), result.new_version);
  else
    {
      run->done_message = g_strdup_printf (_("Firmware %s flashed and verified"),
                                           result.new_version != NULL ? result.new_version : "");
      /* TRANSLATORS: a line of a board's log; the new firmware version,
       * then the old one or "the ROM bootloader". */
      post_log (self, _("firmware %s flashed, verified and started (was %s)"),
                result.new_version != NULL ? result.new_version : "?",
                result.old_version != NULL ? result.old_version : _("the ROM bootloader"));
    }
  return TRUE;
}

static gboolean
step_connect (Run     *run,
              GError **error)
{
  DsJob *self = run->job;
  const char *port = ds_board_get_port (self->board);
  g_autoptr(DsTransport) transport = new_transport (self);
  Event *ev;

  if (!ds_transport_open (transport, error))
    return FALSE;
  run->device = ds_device_new (transport);
  ds_device_set_attempt_func (run->device, attempt_cb, self);
  ds_device_set_timeout (run->device, self->options->timeout_ms);
  if (self->options->retries > 0)
    ds_device_set_retries (run->device, self->options->retries);
  if (!ds_device_info (run->device, &run->info, run->cancellable, error))
    return FALSE;
  if (run->info.proto_version != DS_PROTOCOL_VERSION)
    {
      if (run->info.proto_version < DS_PROTOCOL_VERSION_2)
        g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                     _("The board's provisioning firmware speaks protocol version %u and cannot store factory data "
                       "or answer a commissioner's attestation: flash provisioning firmware of protocol %u"),
                     run->info.proto_version, DS_PROTOCOL_VERSION);
      else
        g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                     _("The board speaks protocol version %u, the station %u: update the provisioning firmware"),
                     run->info.proto_version, DS_PROTOCOL_VERSION);
      return FALSE;
    }

  ds_board_set_uid (self->board, run->info.uid);
  if (!ds_store_set_job_board (self->options->store, run->job_id, run->info.uid, error))
    return FALSE;
  {
    g_autofree char *what = g_strconcat ("uid:", run->info.uid, NULL);
    g_autofree char *holder = NULL;

    if (!claim (what, port, &holder))
      {
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("Board UID %s is in use by the board on %s at this moment: one of them has a cloned UID; set both aside"),
                     run->info.uid, holder);
        return FALSE;
      }
    run->claimed_uid = g_steal_pointer (&what);
  }
  ev = g_new0 (Event, 1);
  ev->kind = EV_IDENTIFIED;
  ev->text = g_strdup (run->info.uid);
  ev->job_id = run->job_id;
  post (self, ev);
  /* TRANSLATORS: a line of a board's log: its unique ID, firmware version,
   * hardware model and the protocol's name of its credential state
   * (blank, installed, locked…), which stays untranslated. */
  post_log (self, _("board %s, firmware %s, %s, credentials %s"), run->info.uid,
            run->info.fw_version ? run->info.fw_version : "?",
            run->info.hw_model ? run->info.hw_model : "?",
            ds_board_state_to_string (run->info.state));

  /* Believed only once proven: the following steps read back its DAC, PAI
   * and CD, check them against the records and the Matter gate, and have
   * the board sign a fresh nonce. */
  if (run->info.state == DS_BOARD_STATE_LOCKED)
    run->already_provisioned = TRUE;
  run->done_message = g_strdup_printf (_("Board %s"), run->info.uid);
  return TRUE;
}

static gboolean
step_csr (Run     *run,
          GError **error)
{
  DsJob *self = run->job;
  g_autofree char *cn = self->options->legacy_cn
                          ? g_strdup_printf ("Mvid:%04X Mpid:%04X", self->options->vid, self->options->pid)
                          : g_strdup_printf ("DAC %s", run->info.uid);
  DsCsrSubject expected = { cn, self->options->vid, self->options->pid };
  g_autoptr(X509_REQ) req = NULL;
  g_autofree char *what = NULL;
  g_autofree char *holder = NULL;

  if (run->already_provisioned)
    {
      run->skip_reason = g_strdup (_("the board's credentials are locked"));
      return TRUE;
    }
  run->csr_der = ds_device_generate_csr (run->device, self->options->vid, self->options->pid, cn,
                                         run->cancellable, error);
  if (run->csr_der == NULL)
    return FALSE;
  req = ds_csr_parse (run->csr_der, error);
  if (req == NULL)
    {
      g_prefix_error (error, _("The board sent an unreadable CSR: "));
      return FALSE;
    }
  if (!ds_csr_check (req, &expected, error))
    return FALSE;
  run->csr_key_fp = ds_spki_fingerprint (X509_REQ_get_X509_PUBKEY (req));
  what = g_strconcat ("key:", run->csr_key_fp, NULL);
  if (!claim (what, ds_board_get_port (self->board), &holder))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The board's CSR is for the same key as the board on %s at this moment: a copied key or CSR; set both aside"),
                   holder);
      return FALSE;
    }
  run->claimed_key = g_steal_pointer (&what);
  g_clear_pointer (&run->csr, X509_REQ_free);
  run->csr = g_steal_pointer (&req);
  /* TRANSLATORS: a line of a board's log; the CSR's signature (proof of
   * possession), key type and subject were checked; %.16s is the start of
   * the public key's fingerprint. */
  post_log (self, _("CSR checked: proof of possession, P-256, subject; public key %.16s…"), run->csr_key_fp);
  return TRUE;
}

static char *
write_cert_file (const char *dir,
                 const char *name,
                 GBytes     *der,
                 GError    **error)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  g_autofree char *path = g_build_filename (dir, name, NULL);
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (der, &len);
  char *pem = NULL;
  long pem_len;

  /* The DAC's DER was parsed before it came here; a PAI the CA sent
   * broken fails the check step (pai.parse) before anything is installed. */
  if (bio == NULL || PEM_write_bio (bio, PEM_STRING_X509, "", data, (long) len) <= 0)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("Cannot write a certificate as PEM"));
      return NULL;
    }
  pem_len = BIO_get_mem_data (bio, &pem);
  /* A copy for people and tools, not a record: the record store holds the
   * DER durably, and resume and exports read it from there.  Written
   * atomically, but not synced: four fsyncs a board, for files the
   * station never reads back, would only delay the job. */
  if (!ds_write_file_replace (path, pem, (gsize) pem_len, 0644, error))
    return NULL;
  return g_steal_pointer (&path);
}

/* A board that says its credentials are locked: its DAC, PAI and CD read
 * back and held against what the records say this board was given.  The
 * check step then applies the Matter gate to them and the attest step
 * checks the board's attestation as a commissioner does (with a CD; without
 * one, the board signs a fresh nonce with the DAC's key). */
static gboolean
read_back_locked (Run     *run,
                  GError **error)
{
  DsJob *self = run->job;
  DsStore *store = self->options->store;
  g_autoptr(GBytes) dac_der = NULL;
  g_autoptr(GBytes) pai_der = NULL;
  g_autoptr(X509) dac = NULL;
  g_autoptr(DsCertRecord) rec = NULL;
  g_autoptr(DsOnboardingRecord) onboarding = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) label_error = NULL;
  g_autofree char *fp = NULL;
  g_autofree char *serial = NULL;

  dac_der = ds_device_read (run->device, DS_OBJECT_DAC, run->cancellable, &local_error);
  if (dac_der == NULL)
    {
      if (g_error_matches (local_error, DS_ERROR, DS_ERROR_NOT_FOUND))
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("The board says its credentials are locked but holds no DAC: set it aside"));
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Reading back the DAC: "));
      return FALSE;
    }
  pai_der = ds_device_read (run->device, DS_OBJECT_PAI, run->cancellable, &local_error);
  if (pai_der == NULL)
    {
      if (g_error_matches (local_error, DS_ERROR, DS_ERROR_NOT_FOUND))
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("The board says its credentials are locked but holds no PAI: set it aside"));
      else
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Reading back the PAI: "));
      return FALSE;
    }
  if (self->options->cd != NULL)
    {
      g_autoptr(GBytes) cd = ds_device_read (run->device, DS_OBJECT_CD, run->cancellable, &local_error);

      if (cd == NULL && !g_error_matches (local_error, DS_ERROR, DS_ERROR_NOT_FOUND))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("Reading back the CD: "));
          return FALSE;
        }
      if (cd == NULL || !g_bytes_equal (cd, self->options->cd))
        {
          g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                       _("The locked board does not hold this product's Certification Declaration"));
          return FALSE;
        }
    }
  dac = ds_cert_parse (dac_der, &local_error);
  if (dac == NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), _("The locked board holds an unreadable DAC: "));
      return FALSE;
    }
  fp = ds_cert_fingerprint (dac);
  serial = ds_cert_serial_hex (dac);

  rec = ds_store_find_board_certificate (store, run->info.uid, error);
  if (rec == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (rec == NULL)
    {
      g_autoptr(DsCertRecord) other = ds_store_find_certificate_by (store, "fingerprint", fp, error);

      if (other == NULL && error != NULL && *error != NULL)
        return FALSE;
      if (other != NULL)
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("The locked board says it is %s, but its DAC %s was issued to board %s: a cloned or copied identity; set it aside"),
                     run->info.uid, serial, other->board_uid);
      else
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("A locked board with a DAC this station has no record of (serial %s): "
                       "credentials not made here; set it aside"), serial);
      return FALSE;
    }
  if (g_strcmp0 (rec->fingerprint, fp) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The locked board holds DAC %s, not DAC %s that the records say it was given; set it aside"),
                   serial, rec->serial);
      return FALSE;
    }
  if (!g_bytes_equal (pai_der, rec->pai_der))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The locked board holds a PAI other than the one recorded with its DAC %s; set it aside"),
                   rec->serial);
      return FALSE;
    }

  /* TRANSLATORS: a line of a board's log; %s is the DAC's serial number. */
  post_log (self, _("locked board: DAC %s and PAI read back, the ones recorded for it"), rec->serial);
  post_certificate (self, rec);
  /* Its label, from the onboarding data recorded for this DAC. */
  onboarding = ds_store_find_board_onboarding (store, run->info.uid, rec->issued_at, &label_error);
  if (onboarding != NULL)
    post_label (self, onboarding);
  else if (label_error != NULL)
    g_warning ("Board %s, its label: %s", run->info.uid, label_error->message);
  g_clear_pointer (&run->dac, X509_free);
  run->dac = g_steal_pointer (&dac);
  run->cert = g_steal_pointer (&rec);
  run->skip_reason = g_strdup_printf (_("the board is locked; its DAC %s read back is the one recorded for it"),
                                      run->cert->serial);
  return TRUE;
}

static gboolean
reprovision_authorised (const DsJobOptions *o,
                        const char         *uid)
{
  if (o->reprovision_uids == NULL || o->reprovision_engineer == NULL || o->reprovision_reason == NULL)
    return FALSE;
  for (guint i = 0; o->reprovision_uids[i] != NULL; i++)
    if (g_ascii_strcasecmp (o->reprovision_uids[i], uid) == 0)
      return TRUE;
  return FALSE;
}

/* Every refusal that can be made before the CA is asked: a DAC the CA
 * issues is one the records then keep. */
static gboolean
check_before_issuing (Run     *run,
                      GError **error)
{
  DsJob *self = run->job;
  DsStore *store = self->options->store;
  g_autoptr(DsCertRecord) live = NULL;
  g_autoptr(DsCertRecord) same_key = NULL;

  if (!ds_job_options_validate (self->options, error))
    return FALSE;
  live = ds_store_find_board_certificate (store, run->info.uid, error);
  if (live == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (live != NULL && reprovision_authorised (self->options, run->info.uid))
    {
      g_autofree char *why = g_strdup_printf ("UID %s: DAC %s superseded for a new key; authorised by %s: %s",
                                              run->info.uid, live->serial, self->options->reprovision_engineer,
                                              self->options->reprovision_reason);

      /* The authorisation is on the record before the old DAC leaves it. */
      if (!ds_store_log_event (store, run->job_id, run->info.uid, "reprovision-authorised", why, error)
          || !ds_store_mark_superseded (store, live->id, why, error))
        return FALSE;
      /* TRANSLATORS: a line of a board's log; the old DAC's serial, then the engineer's ID */
      post_log (self, _("re-provisioning: DAC %s superseded, as authorised by %s"),
                live->serial, self->options->reprovision_engineer);
      g_clear_pointer (&live, ds_cert_record_free);
    }
  if (live != NULL)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_ALREADY_PROVISIONED,
                   _("Board UID %s already holds the installed DAC %s, for another key: a cloned UID, "
                     "or a provisioned board whose storage was wiped; set it aside, or have an engineer "
                     "authorise a second DAC for this UID"),
                   run->info.uid, live->serial);
      return FALSE;
    }
  same_key = ds_store_find_key_certificate (store, run->csr_key_fp, error);
  if (same_key == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (same_key != NULL)
    {
      if (g_strcmp0 (same_key->board_uid, run->info.uid) != 0)
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("The board's key is already certified for board %s (DAC %s): "
                       "a copied key or CSR; set it aside"),
                     same_key->board_uid, same_key->serial);
      else
        g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                     _("The board's key was already certified (DAC %s, superseded); a key is never certified twice"),
                     same_key->serial);
      return FALSE;
    }
  return TRUE;
}

/* A DAC the CA issued that the records cannot keep as a certificate: the
 * event log says so, so that the CA's issuance log and the records still
 * agree. */
static void
log_unrecorded (Run          *run,
                DsCertRecord *rec,
                const char   *why)
{
  DsJob *self = run->job;
  g_autoptr(GError) error = NULL;
  g_autofree char *msg = g_strdup_printf ("serial %s fingerprint %s: %s", rec->serial, rec->fingerprint, why);

  if (!ds_store_log_event (self->options->store, run->job_id, run->info.uid, "certificate-rejected", msg, &error))
    g_warning ("Cannot record that DAC %s was rejected: %s", rec->serial, error->message);
}

static gboolean
step_forward (Run     *run,
              GError **error)
{
  DsJob *self = run->job;
  DsStore *store = self->options->store;
  g_autoptr(DsIssued) issued = NULL;
  g_autoptr(X509) dac = NULL;
  g_autoptr(DsCertRecord) rec = NULL;
  g_autoptr(DsCertRecord) live = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *dac_name = NULL;
  g_autofree char *pai_name = NULL;
  DsIssueRequest request = { run->csr_der, run->info.uid, self->options->vid, self->options->pid, run->csr };

  if (run->already_provisioned)
    return read_back_locked (run, error);

  /* A DAC issued for this key before an interruption is installed, never
   * requested again: the CA's issuance log stays one DAC per board. */
  rec = ds_store_find_pending_certificate (store, run->info.uid, run->csr_key_fp, error);
  if (rec == NULL && error != NULL && *error != NULL)
    return FALSE;
  if (rec != NULL)
    {
      /* TRANSLATORS: a line of a board's log; %s is the DAC's serial number. */
      post_log (self, _("re-using DAC %s issued before an interruption"), rec->serial);
      run->skip_reason = g_strdup_printf (_("DAC %s was issued before an interruption; installing it"), rec->serial);
    }
  else
    {
      live = ds_store_find_board_certificate (store, run->info.uid, error);
      if (live == NULL && error != NULL && *error != NULL)
        return FALSE;
      if (live != NULL && g_strcmp0 (live->pubkey_sha256, run->csr_key_fp) == 0)
        {
          /* Installed before an interruption, but not locked yet. */
          g_autoptr(GBytes) on_board = ds_device_read (run->device, DS_OBJECT_DAC, run->cancellable, NULL);
          g_autoptr(X509) board_dac = on_board ? ds_cert_parse (on_board, NULL) : NULL;
          g_autofree char *board_fp = board_dac ? ds_cert_fingerprint (board_dac) : NULL;

          run->already_installed = g_strcmp0 (board_fp, live->fingerprint) == 0;
          rec = g_steal_pointer (&live);
          run->skip_reason = g_strdup_printf (_("DAC %s was issued before an interruption"), rec->serial);
        }
    }

  if (rec == NULL)
    {
      g_autoptr(DsCertRecord) reused = NULL;
      g_autoptr(GError) local_error = NULL;

      if (!check_before_issuing (run, error))
        return FALSE;
      /* TRANSLATORS: a line of a board's log; %s is the CA's name (e.g. "test"). */
      post_log (self, _("sending the CSR to the %s CA"), ds_ca_get_name (self->options->ca));
      issued = ds_ca_issue (self->options->ca, &request, run->cancellable, error);
      if (issued == NULL)
        {
          g_prefix_error (error, _("The certificate authority did not issue a DAC: "));
          return FALSE;
        }
      dac = ds_cert_parse (issued->dac_der, error);
      if (dac == NULL)
        {
          g_autofree char *digest = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, issued->dac_der);
          g_autofree char *msg = g_strdup_printf ("an unreadable DAC, sha256 %s", digest);

          /* No serial to record it by; the event log still has it. */
          ds_store_log_event (store, run->job_id, run->info.uid, "certificate-rejected", msg, NULL);
          g_prefix_error (error, _("The certificate authority sent an unreadable DAC: "));
          return FALSE;
        }

      rec = g_new0 (DsCertRecord, 1);
      rec->job_id = run->job_id;
      rec->board_uid = g_strdup (run->info.uid);
      rec->serial = ds_cert_serial_hex (dac);
      rec->fingerprint = ds_cert_fingerprint (dac);
      rec->pubkey_sha256 = ds_spki_fingerprint (X509_get_X509_PUBKEY (dac));
      if (rec->pubkey_sha256 == NULL)
        rec->pubkey_sha256 = g_strdup ("");
      rec->subject = ds_cert_subject (dac);
      rec->dac_der = g_bytes_ref (issued->dac_der);
      rec->pai_der = g_bytes_ref (issued->pai_der);
      rec->issued_at = g_get_real_time ();

      /* A serial is the CA's to keep unique: one it used before is its
       * fault, said as such rather than as a database constraint. */
      reused = ds_store_find_certificate_by (store, "serial", rec->serial, error);
      if (reused == NULL && error != NULL && *error != NULL)
        return FALSE;
      if (reused != NULL)
        {
          g_autofree char *why = g_strdup_printf ("the CA reused the serial of board %s's DAC", reused->board_uid);

          log_unrecorded (run, rec, why);
          g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                       _("The certificate authority issued DAC serial %s, a serial it already used for board %s: "
                         "the CA is at fault; tell its operator"), rec->serial, reused->board_uid);
          return FALSE;
        }

      dir = g_build_filename (self->options->certs_dir, run->info.uid, NULL);
      dac_name = g_strdup_printf ("%s-dac.pem", rec->serial);
      pai_name = g_strdup_printf ("%s-pai.pem", rec->serial);
      rec->dac_path = write_cert_file (dir, dac_name, issued->dac_der, error);
      if (rec->dac_path == NULL)
        {
          log_unrecorded (run, rec, "its PEM copy could not be written");
          return FALSE;
        }
      rec->pai_path = write_cert_file (dir, pai_name, issued->pai_der, error);
      if (rec->pai_path == NULL)
        {
          log_unrecorded (run, rec, "its PEM copy could not be written");
          g_unlink (rec->dac_path);
          return FALSE;
        }
      if (!ds_store_add_certificate (store, rec, &local_error))
        {
          /* No PEM copy of a DAC the records do not hold. */
          g_unlink (rec->dac_path);
          g_unlink (rec->pai_path);
          log_unrecorded (run, rec, local_error->message);
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      _("Cannot record DAC %s that the CA issued: "), rec->serial);
          return FALSE;
        }
      run->cert_is_new = TRUE;
      g_clear_pointer (&run->dac, X509_free);
      run->dac = g_steal_pointer (&dac);  /* the check step's */
      /* TRANSLATORS: a line of a board's log: the DAC's serial and fingerprint. */
      post_log (self, _("DAC %s issued, fingerprint %s"), rec->serial, rec->fingerprint);
    }

  post_certificate (self, rec);
  run->cert = g_steal_pointer (&rec);
  if (run->skip_reason == NULL)
    run->done_message = g_strdup_printf (_("DAC %s issued"), run->cert->serial);
  return TRUE;
}

static gboolean
step_check (Run     *run,
            GError **error)
{
  DsJob *self = run->job;
  g_autoptr(DsVerdict) verdict = NULL;
  g_autoptr(GError) local_error = NULL;

  if (run->dac == NULL)
    run->dac = ds_cert_parse (run->cert->dac_der, &local_error);
  if (run->dac != NULL)
    verdict = ds_job_options_verify (self->options, run->cert->dac_der, run->dac, run->cert->pai_der,
                                     run->csr != NULL ? X509_REQ_get0_pubkey (run->csr) : NULL,
                                     NULL, &local_error);
  if (verdict != NULL)
    {
      for (guint i = 0; i < verdict->notes->len; i++)
        /* TRANSLATORS: a line of a board's log: a note that the chain is
         * test material, not valid for production devices. */
        post_log (self, _("TEST MATERIAL: %s"), (const char *) verdict->notes->pdata[i]);
      for (guint i = 0; i < verdict->violations->len; i++)
        {
          DsViolation *v = verdict->violations->pdata[i];
          /* TRANSLATORS: a line of a board's log: a Matter certificate
           * rule's identifier, then what is wrong. */
          post_log (self, _("rule %s violated: %s"), v->rule, v->message);
        }
      if (!ds_verdict_is_valid (verdict))
        {
          DsViolation *first = verdict->violations->pdata[0];

          /* The first rule is the cause people read; the log has them all. */
          if (run->already_provisioned && verdict->violations->len == 1)
            g_set_error (&local_error, DS_ERROR, DS_ERROR_INVALID_DATA,
                         _("The locked board's DAC breaks a Matter rule (%s): %s"), first->rule, first->message);
          else if (run->already_provisioned)
            g_set_error (&local_error, DS_ERROR, DS_ERROR_INVALID_DATA,
                         _("The locked board's DAC breaks %u Matter rules, first %s: %s"),
                         verdict->violations->len, first->rule, first->message);
          else if (verdict->violations->len == 1)
            g_set_error (&local_error, DS_ERROR, DS_ERROR_INVALID_DATA,
                         _("The CA's DAC breaks a Matter rule (%s): %s"), first->rule, first->message);
          else
            g_set_error (&local_error, DS_ERROR, DS_ERROR_INVALID_DATA,
                         _("The CA's DAC breaks %u Matter rules, first %s: %s"),
                         verdict->violations->len, first->rule, first->message);
        }
    }

  if (local_error != NULL)
    {
      /* Never install this one later on resume (a locked board's is
       * installed already: the records keep saying so). */
      if (run->cert->id > 0 && !run->already_provisioned)
        ds_store_mark_superseded (self->options->store, run->cert->id, local_error->message, NULL);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  /* TRANSLATORS: a line of a board's log: the PAA's subject, the vendor
   * and product IDs, then ", Certification Declaration" or nothing. */
  post_log (self, _("DAC passes every Matter rule: chain to %s, VID/PID %04X/%04X%s"),
            verdict->paa_subject, self->options->vid, self->options->pid,
            self->options->cd != NULL ? _(", Certification Declaration") : "");
  return TRUE;
}

/* The board's onboarding data (passcode, discriminator, SPAKE2+ salt,
 * iterations and verifier, QR and manual codes) and its serial number,
 * recorded; and the factory data blob that carries them with the DAC, PAI
 * and CD and the device instance data, without the DAC key (tags 5 and 6).
 * Nothing is sent to the board here. */
static GBytes *
make_factory_data (Run                 *run,
                   DsOnboardingRecord **record_out,
                   GError             **error)
{
  DsJob *self = run->job;
  const DsJobOptions *o = self->options;
  const DsOnboardingConfig *c = o->onboarding;
  DsOnboardingRequest request;
  DsOnboarding ob;
  DsSetupPayload payload = { 0 };
  DsFactoryDataInfo info = { 0 };
  g_autoptr(DsOnboardingRecord) rec = g_new0 (DsOnboardingRecord, 1);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GBytes) salt = NULL;
  g_autoptr(GBytes) verifier = NULL;
  g_autoptr(GBytes) rotating = NULL;
  g_autofree char *vendor_name = NULL;
  g_autofree char *product_name = NULL;
  guint8 rotating_id[DS_ROTATING_ID_MIN];
  GBytes *blob;

  ds_onboarding_config_get_request (c, &request);
  if (!ds_onboarding_make (&request, &ob, error))
    {
      ds_onboarding_clear (&ob);
      g_prefix_error (error, _("Cannot make the board's onboarding data: "));
      return NULL;
    }
  payload.vid = o->vid;
  payload.pid = o->pid;
  payload.has_vid_pid = TRUE;
  payload.flow = c != NULL ? c->flow : DS_FLOW_STANDARD;
  payload.has_discovery = TRUE;
  payload.discovery = c != NULL && c->discovery != 0 ? c->discovery : DS_DISCOVERY_BLE;
  payload.discriminator = ob.discriminator;
  payload.passcode = ob.passcode;
  rec->qr = ds_setup_payload_to_qr (&payload, error);
  rec->manual_code = rec->qr != NULL ? ds_setup_payload_to_manual (&payload, error) : NULL;
  memset (&payload, 0, sizeof payload);
  if (rec->manual_code == NULL || !ds_random_bytes (rotating_id, sizeof rotating_id, error))
    {
      ds_onboarding_clear (&ob);
      return NULL;
    }

  rec->job_id = run->job_id;
  rec->board_uid = g_strdup (run->info.uid);
  rec->vid = o->vid;
  rec->pid = o->pid;
  rec->discriminator = ob.discriminator;
  rec->iterations = ob.iterations;
  rec->salt_hex = ds_hex_encode (ob.salt, ob.salt_len);
  rec->verifier_hex = ds_hex_encode (ob.verifier, sizeof ob.verifier);
  rec->passcode = ob.passcode;
  rec->manufacturing_date = g_date_time_format (now, "%Y-%m-%d");
  rec->created_us = g_get_real_time ();
  rec->product_name = product_name_for (c, o->pid);
  /* Recorded before the board hears of it, with its serial number. */
  if (!ds_store_add_onboarding (o->store, rec, ds_onboarding_config_get_serial_pattern (c), now, error))
    {
      ds_onboarding_clear (&ob);
      g_prefix_error (error, _("Cannot record the board's onboarding data: "));
      return NULL;
    }

  vendor_name = c != NULL && c->vendor_name != NULL ? g_strdup (c->vendor_name)
                                                     : g_strdup_printf ("Vendor %04X", o->vid);
  product_name = g_strdup (rec->product_name);
  salt = g_bytes_new (ob.salt, ob.salt_len);
  verifier = g_bytes_new (ob.verifier, sizeof ob.verifier);
  rotating = g_bytes_new (rotating_id, sizeof rotating_id);
  OPENSSL_cleanse (rotating_id, sizeof rotating_id);
  info.cd = o->cd;
  info.dac = run->cert->dac_der;
  info.pai = run->cert->pai_der;
  info.discriminator = ob.discriminator;
  info.iterations = ob.iterations;
  info.salt = salt;
  info.verifier = verifier;
  info.has_passcode = c == NULL || !c->no_passcode_tag;
  info.passcode = ob.passcode;
  info.vendor_name = vendor_name;
  info.vid = o->vid;
  info.product_name = product_name;
  info.pid = o->pid;
  info.serial_number = rec->serial_number;
  info.manufacturing_date = rec->manufacturing_date;
  info.hardware_version = c != NULL ? c->hardware_version : 0;
  info.hardware_version_string = c != NULL && c->hardware_version_string != NULL ? c->hardware_version_string
                                                                                 : DS_HARDWARE_VERSION_STRING_DEFAULT;
  info.rotating_id = rotating;
  blob = ds_factory_data_build (&info, ds_onboarding_config_get_fd_size (c), error);
  ds_onboarding_clear (&ob);
  info.passcode = 0;
  if (blob == NULL)
    {
      g_prefix_error (error, _("Cannot assemble the factory data for serial number %s: "), rec->serial_number);
      return NULL;
    }
  *record_out = g_steal_pointer (&rec);
  return blob;
}

/* Sends the factory data, reads it back and checks every byte the board
 * returns against what was sent, and that the board added the DAC's
 * public key (tag 6) and kept its private key (tag 5) to itself. */
static gboolean
write_factory_data (Run                      *run,
                    GBytes                   *blob,
                    const DsOnboardingRecord *rec,
                    GError                  **error)
{
  DsJob *self = run->job;
  const DsOnboardingConfig *c = self->options->onboarding;
  guint32 address = ds_onboarding_config_get_fd_address (c);
  g_autoptr(GBytes) read_back = NULL;
  g_autoptr(GError) local_error = NULL;

  if (!ds_device_write_factory_data (run->device, address, blob, run->cancellable, error))
    {
      g_prefix_error (error, _("Writing the factory data at 0x%08X: "), address);
      return FALSE;
    }
  read_back = ds_device_read_factory_data (run->device, address, run->cancellable, error);
  if (read_back == NULL)
    {
      g_prefix_error (error, _("Reading the factory data back from 0x%08X: "), address);
      return FALSE;
    }
  if (!ds_factory_data_compare (blob, read_back, run->cert->dac_der, ds_onboarding_config_get_fd_size (c),
                                &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_INVALID_DATA,
                   _("The factory data the board read back is not what was sent: %s; set the board aside"),
                   local_error->message);
      return FALSE;
    }

  post_label (self, rec);
  /* TRANSLATORS: a line of a board's log: the serial number, the
   * discriminator, the number of bytes and the flash address.  The
   * passcode and the codes that hold it are never logged. */
  post_log (self, _("factory data for serial number %s (discriminator %u) written, %zu bytes at 0x%08X, "
                    "read back and checked"),
            rec->serial_number, rec->discriminator, g_bytes_get_size (blob), address);
  return TRUE;
}

static gboolean
step_install (Run     *run,
              GError **error)
{
  DsJob *self = run->job;
  g_autoptr(DsOnboardingRecord) rec = NULL;
  g_autoptr(GBytes) blob = NULL;

  if (run->already_provisioned)
    {
      run->skip_reason = g_strdup (_("the board's credentials are locked"));
      return TRUE;
    }
  /* Made and checked before the DAC goes in: factory data that cannot be
   * assembled (a blob larger than the region) leaves the board as it was. */
  blob = make_factory_data (run, &rec, error);
  if (blob == NULL)
    return FALSE;
  if (run->already_installed)
    /* TRANSLATORS: a line of a board's log. */
    post_log (self, "%s", _("the DAC was installed before an interruption"));
  else
    {
      if (!ds_device_install (run->device, run->cert->dac_der, run->cert->pai_der, self->options->cd,
                              run->cancellable, error))
        {
          if (ds_device_get_last_status (run->device) == DS_STATUS_KEY_MISMATCH)
            ds_store_mark_superseded (self->options->store, run->cert->id,
                                      "the board refused it: not for its key", NULL);
          return FALSE;
        }
      if (!ds_store_mark_installed (self->options->store, run->cert->id, error))
        return FALSE;
      /* TRANSLATORS: a line of a board's log. */
      post_log (self, "%s", _("DAC and PAI installed"));
    }
  if (!write_factory_data (run, blob, rec, error))
    return FALSE;
  /* A resumed board's DAC was in already; its factory data is written now. */
  run->done_message = run->already_installed
    ? g_strdup_printf (_("DAC installed before an interruption; factory data for serial number %s"),
                       rec->serial_number)
    : g_strdup_printf (_("Serial number %s"), rec->serial_number);
  return TRUE;
}

/* With a CD, what a commissioner does (Matter core 6.2.3.1): a fresh
 * attestation nonce and challenge, the board's attestation elements and
 * signature, checked with ds_attestation_check_response().  Without one
 * the board cannot answer a commissioner (its elements carry the CD), and
 * the step only proves that the board holds the DAC's key. */
static gboolean
step_attest (Run     *run,
             GError **error)
{
  DsJob *self = run->job;
  guint8 nonce[DS_NONCE_LEN];
  g_autoptr(GBytes) sig = NULL;
  g_autoptr(EVP_PKEY) key = X509_get_pubkey (run->dac);
  g_autoptr(GError) local_error = NULL;

  if (self->options->cd != NULL)
    {
      guint8 att_nonce[DS_ATTESTATION_NONCE_LEN];
      guint8 challenge[DS_ATTESTATION_CHALLENGE_LEN];
      g_autoptr(GBytes) elements = NULL;
      g_autoptr(DsTrustStore) store = NULL;
      DsVerifyRequest gate = { 0 };

      if (RAND_bytes (att_nonce, sizeof att_nonce) != 1 || RAND_bytes (challenge, sizeof challenge) != 1)
        {
          ds_set_error_openssl (error, DS_ERROR_FAILED, _("No random numbers for the attestation nonce"));
          return FALSE;
        }
      if (!ds_device_attestation (run->device, att_nonce, sizeof att_nonce, challenge, sizeof challenge,
                                  &elements, &sig, run->cancellable, error))
        return FALSE;
      store = ds_job_options_dup_trust_store (self->options, error);
      if (store == NULL)
        return FALSE;
      gate.dac = run->cert->dac_der;
      gate.dac_cert = run->dac;
      gate.pai = run->cert->pai_der;
      gate.cd = self->options->cd;
      gate.cd_signers = self->options->cd_signers;
      gate.trust_store = store;
      gate.has_product = TRUE;
      gate.product_vid = self->options->vid;
      gate.product_pid = self->options->pid;
      gate.production = self->options->production;
      if (!ds_attestation_check_response (&gate, elements, sig, att_nonce, challenge, error))
        return FALSE;
      /* TRANSLATORS: a line of a board's log. */
      post_log (self, "%s", _("attestation checked as a commissioner does: DAC signature over the elements, "
                              "nonce, Certification Declaration, chain to a trusted PAA"));
      return TRUE;
    }

  if (RAND_bytes (nonce, sizeof nonce) != 1)
    {
      ds_set_error_openssl (error, DS_ERROR_FAILED, _("No random numbers for the attestation nonce"));
      return FALSE;
    }
  sig = ds_device_attest (run->device, nonce, sizeof nonce, run->cancellable, error);
  if (sig == NULL)
    return FALSE;
  if (key == NULL ||
      !ds_verify_signature (key, nonce, sizeof nonce, g_bytes_get_data (sig, NULL),
                            g_bytes_get_size (sig), &local_error))
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The board's attestation signature does not verify with its DAC: the key inside the board is not the certified one"));
      return FALSE;
    }
  /* TRANSLATORS: a line of a board's log. */
  post_log (self, "%s", _("board signed a fresh nonce with the DAC key"));
  return TRUE;
}

static gboolean
step_lock (Run     *run,
           GError **error)
{
  DsJob *self = run->job;
  g_auto(DsDeviceInfo) after = { 0 };

  if (!run->already_provisioned && !ds_device_lock (run->device, run->cancellable, error))
    return FALSE;
  if (!ds_device_info (run->device, &after, run->cancellable, error))
    return FALSE;
  /* The board that was certified is the board that locked. */
  if (g_strcmp0 (after.uid, run->info.uid) != 0)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_REJECTED,
                   _("The board's UID changed from %s to %s: a board that is not what it says; set it aside"),
                   run->info.uid, after.uid);
      return FALSE;
    }
  if (after.state != DS_BOARD_STATE_LOCKED)
    {
      g_set_error (error, DS_ERROR, DS_ERROR_PROTOCOL,
                   run->already_provisioned ? _("The board said its credentials were locked, but now reports them as %s")
                                            : _("The board acknowledged LOCK but reports its credentials as %s"),
                   ds_board_state_to_string (after.state));
      return FALSE;
    }
  if (run->already_provisioned)
    {
      run->skip_reason = g_strdup (_("the credentials were locked already"));
      return TRUE;
    }
  /* TRANSLATORS: a line of a board's log. */
  post_log (self, "%s", _("credentials locked"));
  return TRUE;
}

/* Text a board sent (an ERROR_TEXT inside a message) goes to terminals, logs
 * and JSON: control characters, escape sequences included, become U+FFFD. */
static void
sanitise_message (GError *error)
{
  g_autofree char *valid = NULL;
  GString *out;

  if (error == NULL || error->message == NULL)
    return;
  valid = g_utf8_make_valid (error->message, -1);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_unichar (out, 0xFFFD);
      else
        g_string_append_unichar (out, c);
    }
  g_free (error->message);
  error->message = g_string_free (out, FALSE);
}

typedef gboolean (*StepFunc) (Run *run, GError **error);

static const StepFunc step_funcs[DS_N_STEPS] = {
  step_flash, step_connect, step_csr, step_forward, step_check, step_install, step_attest, step_lock,
};

/* Runs one step and records it durably before returning. */
static gboolean
run_step (Run     *run,
          DsStep   step,
          GError **error)
{
  DsJob *self = run->job;
  DsStore *store = self->options->store;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GError) store_error = NULL;
  gint64 started = g_get_real_time ();
  const char *outcome;
  gboolean ok;
  Event *ev;

  ev = g_new0 (Event, 1);
  ev->kind = EV_STEP_STARTED;
  ev->step = step;
  post (self, ev);

  g_clear_pointer (&run->skip_reason, g_free);
  g_clear_pointer (&run->done_message, g_free);
  if (ds_error_set_if_cancelled (run->cancellable, &local_error))
    ok = FALSE;
  else
    ok = step_funcs[step] (run, &local_error);
  sanitise_message (local_error);
  /* One way of saying "cancelled" (DS_ERROR_CANCELLED), whichever call
   * noticed it. */
  if (local_error != NULL && local_error->domain != DS_ERROR && is_cancelled (local_error))
    {
      GError *cancelled = g_error_new_literal (DS_ERROR, DS_ERROR_CANCELLED, local_error->message);

      g_clear_error (&local_error);
      local_error = cancelled;
    }
  outcome = !ok ? "fail" : run->skip_reason != NULL ? "skipped" : "pass";

  /* Durable before the board or the CA hears from the station again.
   * After FORWARD comes the check, which talks to neither, and after LOCK
   * the end of the job: those two records ride on the next commit. */
  if (step == DS_STEP_FORWARD || step == DS_STEP_LOCK)
    ds_store_record_step_later (store, run->job_id, ds_step_to_string (step), outcome, started,
                                g_get_real_time (), error_code (local_error),
                                local_error ? local_error->message : run->skip_reason);
  else if (!ds_store_record_step (store, run->job_id, ds_step_to_string (step), outcome, started,
                                  g_get_real_time (), error_code (local_error),
                                  local_error ? local_error->message : run->skip_reason, &store_error))
    {
      /* A step that cannot be recorded must not be followed by the next. */
      if (local_error == NULL)
        local_error = g_steal_pointer (&store_error);
      ok = FALSE;
      outcome = "fail";
    }

  ev = g_new0 (Event, 1);
  ev->kind = EV_STEP_FINISHED;
  ev->step = step;
  ev->outcome = g_strdup (outcome);
  ev->text = g_strdup (local_error ? local_error->message
                       : run->skip_reason ? run->skip_reason : run->done_message);
  post (self, ev);

  if (!ok)
    {
      /* TRANSLATORS: a line of a board's log: the step (e.g. "Flash
       * firmware"), then why it failed. */
      post_log (self, _("%s failed: %s"), ds_step_get_label (step), local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  if (run->skip_reason != NULL)
    /* TRANSLATORS: a line of a board's log: the step (e.g. "Flash
     * firmware"), then why it was not needed. */
    post_log (self, _("%s skipped: %s"), ds_step_get_label (step), run->skip_reason);
  return TRUE;
}

static void
job_worker (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  DsJob *self = DS_JOB (source_object);
  Run run = { .job = self, .cancellable = self->cancellable, .job_id = -1 };
  g_autoptr(GError) error = NULL;
  DsJobState state = DS_JOB_STATE_PASSED;
  DsStep failed_step = DS_N_STEPS;
  g_autofree char *message = NULL;
  const char *outcome;
  Event *ev;

  run.job_id = ds_store_begin_job (self->options->store, NULL, ds_board_get_port (self->board),
                                   self->options->operator_id, self->options->lot,
                                   self->options->station_name, &error);
  if (run.job_id < 0)
    {
      g_prefix_error (&error, _("Cannot record the job: "));
      state = DS_JOB_STATE_FAILED;
      /* No step was reached: the station's records failed, not the board. */
      failed_step = DS_N_STEPS;
    }

  for (DsStep step = DS_STEP_FLASH; error == NULL && step < DS_N_STEPS; step++)
    {
      if (!run_step (&run, step, &error))
        {
          failed_step = step;
          state = is_cancelled (error) ? DS_JOB_STATE_CANCELLED : DS_JOB_STATE_FAILED;
          break;
        }
    }
  /* Already provisioned only once every step proved it so. */
  if (state == DS_JOB_STATE_PASSED && run.already_provisioned)
    state = DS_JOB_STATE_ALREADY_PROVISIONED;

  switch (state)
    {
    case DS_JOB_STATE_PASSED:
      outcome = "passed";
      message = g_strdup_printf (_("PASS: DAC %s installed, attested and locked"), run.cert->serial);
      break;
    case DS_JOB_STATE_ALREADY_PROVISIONED:
      outcome = "already-provisioned";
      message = g_strdup_printf (_("Already provisioned: DAC %s read back, checked and attested; "
                                   "the credentials are locked; it needs nothing more"), run.cert->serial);
      break;
    case DS_JOB_STATE_CANCELLED:
      outcome = "cancelled";
      message = g_strdup (_("Cancelled"));
      break;
    case DS_JOB_STATE_FAILED:
    default:
      outcome = "failed";
      if (failed_step < DS_N_STEPS)
        message = g_strdup_printf (_("FAIL at %s: %s"), ds_step_get_label (failed_step), error->message);
      else
        /* TRANSLATORS: a job that failed before its first step; %s says why. */
        message = g_strdup_printf (_("FAIL: %s"), error->message);
      break;
    }

  if (run.job_id >= 0)
    {
      g_autoptr(GError) store_error = NULL;

      if (!ds_store_finish_job (self->options->store, run.job_id, outcome,
                                failed_step < DS_N_STEPS ? ds_step_to_string (failed_step) : NULL,
                                error_code (error), error ? error->message : NULL, &store_error))
        {
          g_warning ("Cannot record the end of job %" G_GINT64_FORMAT ": %s", run.job_id, store_error->message);
          /* PASS is said only once it is on disk. */
          if (state == DS_JOB_STATE_PASSED || state == DS_JOB_STATE_ALREADY_PROVISIONED)
            {
              state = DS_JOB_STATE_FAILED;
              failed_step = DS_STEP_LOCK;
              g_clear_error (&error);
              error = g_error_copy (store_error);
              g_prefix_error (&error, _("The end of the job could not be recorded: "));
              g_free (message);
              message = g_strdup_printf (_("FAIL at %s: %s"), ds_step_get_label (failed_step), error->message);
            }
        }
    }

  /* The board's port closed and its UID and key let go before the job says
   * it has ended: the window enables Identify, and may start another job
   * for the board, the moment it hears (a job thread at low priority took
   * long enough under load for Identify to meet the port still open). */
  run_clear (&run);
  ev = g_new0 (Event, 1);
  ev->kind = EV_DONE;
  ev->state = state;
  ev->step = failed_step;
  ev->text = g_strdup (message);
  ev->error = error != NULL ? g_error_copy (error) : NULL;
  post (self, ev);

  if (error != NULL && state != DS_JOB_STATE_ALREADY_PROVISIONED)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static gpointer
job_thread (gpointer data)
{
  g_autoptr(GTask) task = data;
  DsJob *self = g_task_get_source_object (task);

  /* Linux: a thread's own nice value (setpriority() on its thread ID). */
  if (self->options->background &&
      setpriority (PRIO_PROCESS, (id_t) syscall (SYS_gettid), 19) != 0)
    g_debug ("Cannot lower the job thread's priority: %s", g_strerror (errno));
  job_worker (task, self, NULL, NULL);
  return NULL;
}

static void
job_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) outer = user_data;
  DsJob *self = DS_JOB (object);
  GError *error = NULL;

  /* The worker has returned its result and only lets go of its task now:
   * wait for it, so that no worker thread outlives its job's end.  A front
   * end that exits once every job has finished would otherwise tear down
   * OpenSSL and the C library under a thread still freeing (seen as a
   * crash of the CLI at exit under load). */
  if (self->thread != NULL)
    g_thread_join (g_steal_pointer (&self->thread));
  /* The caller's cancellable (a station's) outlives this job. */
  if (self->outer_cancellable != NULL)
    {
      g_cancellable_disconnect (self->outer_cancellable, self->outer_cancel_id);
      self->outer_cancel_id = 0;
      g_clear_object (&self->outer_cancellable);
    }

  /* Apply whatever the worker posted last before telling anybody. */
  if (self->dispatch_source != NULL)
    {
      g_source_destroy (self->dispatch_source);
      dispatch_cb (self);
    }
  g_signal_emit (self, signals[FINISHED], 0);
  if (g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_boolean (outer, TRUE);
  else
    g_task_return_error (outer, error);
}

static void
forward_cancel_cb (GCancellable *outer,
                   gpointer      inner)
{
  g_cancellable_cancel (G_CANCELLABLE (inner));
}

void
ds_job_run_async (DsJob               *self,
                  GCancellable        *cancellable,
                  GAsyncReadyCallback  callback,
                  gpointer             user_data)
{
  GTask *outer;
  GTask *inner;

  g_return_if_fail (DS_IS_JOB (self));
  g_return_if_fail (self->state == DS_JOB_STATE_QUEUED);

  outer = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (outer, ds_job_run_async);
  /* The job says how it ended, DS_ERROR_CANCELLED included; GTask would
   * put GIO's own error in its place. */
  g_task_set_check_cancellable (outer, FALSE);
  if (cancellable != NULL)
    {
      self->outer_cancellable = g_object_ref (cancellable);
      self->outer_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel_cb),
                                                     g_object_ref (self->cancellable), g_object_unref);
    }

  self->context = g_main_context_ref_thread_default ();
  self->started = g_get_real_time ();
  self->attempt_started = g_get_monotonic_time ();
  set_state (self, DS_JOB_STATE_RUNNING);
  update_estimate (self, self->attempt_started);
  /* Time left keeps moving while a step waits on a slow answer. */
  self->tick_source = g_timeout_source_new_seconds (1);
  g_source_set_callback (self->tick_source, tick_cb, self, NULL);
  g_source_attach (self->tick_source, self->context);
  g_source_unref (self->tick_source);

  /* One thread per job rather than GTask's shared pool: a job spends its
   * life blocked on a serial port, and the station bounds how many run. */
  inner = g_task_new (self, NULL, job_done_cb, outer);
  self->thread = g_thread_new ("ds-job", job_thread, inner);
}

gboolean
ds_job_run_finish (DsJob        *self,
                   GAsyncResult *result,
                   GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
ds_job_cancel (DsJob *self)
{
  g_cancellable_cancel (self->cancellable);
}

void
ds_job_cancel_queued (DsJob *self)
{
  g_return_if_fail (DS_IS_JOB (self));
  g_return_if_fail (self->state == DS_JOB_STATE_QUEUED);

  /* Never started: nothing to record, no board to talk to. */
  g_cancellable_cancel (self->cancellable);
  self->started = self->finished = g_get_real_time ();
  self->failed_step = DS_N_STEPS;
  g_object_freeze_notify (G_OBJECT (self));
  set_message (self, _("Cancelled before it started"));
  set_state (self, DS_JOB_STATE_CANCELLED);
  g_object_thaw_notify (G_OBJECT (self));
  g_signal_emit (self, signals[CHANGED], 0);
  g_signal_emit (self, signals[FINISHED], 0);
}

DsBoard *ds_job_get_board (DsJob *self) { return self->board; }
const DsJobOptions *ds_job_get_options (DsJob *self) { return self->options; }
DsJobState ds_job_get_state (DsJob *self) { return self->state; }
DsStep ds_job_get_step (DsJob *self) { return self->step; }
double ds_job_get_fraction (DsJob *self) { return self->fraction; }
const char *ds_job_get_message (DsJob *self) { return self->message; }
const GError *ds_job_get_error (DsJob *self) { return self->error; }
DsStep ds_job_get_failed_step (DsJob *self) { return self->failed_step; }
gint64 ds_job_get_started (DsJob *self) { return self->started; }
gint64 ds_job_get_finished (DsJob *self) { return self->finished; }
gint64 ds_job_get_id (DsJob *self) { return self->job_id; }
const char *ds_job_get_uid (DsJob *self) { return self->uid; }
const char *ds_job_get_dac_serial (DsJob *self) { return self->dac_serial; }
const char *ds_job_get_dac_fingerprint (DsJob *self) { return self->dac_fingerprint; }
const char *ds_job_get_dac_path (DsJob *self) { return self->dac_path; }
const char *ds_job_get_pai_path (DsJob *self) { return self->pai_path; }
GPtrArray *ds_job_get_log (DsJob *self) { return self->log; }
const DsLabelInfo *ds_job_get_label_info (DsJob *self) { return self->label_info; }

void
ds_job_set_label_info (DsJob             *self,
                       const DsLabelInfo *info)
{
  char *texts[] = { g_strdup (info->qr), g_strdup (info->manual_code),
                    g_strdup (info->serial_number), g_strdup (info->product_name) };

  g_return_if_fail (DS_IS_JOB (self));
  take_label (self, texts, info->vid, info->pid);
  g_signal_emit (self, signals[CHANGED], 0);
}

gint64 ds_job_get_expected_end (DsJob *self) { return self->expected_end; }

gint64
ds_job_get_time_left (DsJob  *self,
                      gint64  now)
{
  if (self->state != DS_JOB_STATE_RUNNING || self->expected_end == 0)
    return -1;
  return MAX (self->expected_end - now, 0);
}

char *
ds_job_format_time_left (gint64 usec)
{
  int secs = (int) ((MAX (usec, G_USEC_PER_SEC) + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC);

  if (secs < 60)
    /* TRANSLATORS: time left for a board, in seconds; keep it short */
    return g_strdup_printf (_("About %d s left"), secs);
  /* TRANSLATORS: time left for a board, in minutes; keep it short */
  return g_strdup_printf (_("About %d min left"), (secs + 59) / 60);
}

const char *
ds_job_get_step_message (DsJob *self,
                         DsStep step)
{
  g_return_val_if_fail (step < DS_N_STEPS, NULL);
  return self->step_message[step];
}

gint64
ds_job_get_step_duration (DsJob *self,
                          DsStep step)
{
  g_return_val_if_fail (step < DS_N_STEPS, -1);
  return self->step_duration[step];
}

const char *
ds_job_get_step_outcome (DsJob *self,
                         DsStep step)
{
  g_return_val_if_fail (step < DS_N_STEPS, NULL);
  return self->step_outcome[step];
}

const char *
ds_job_get_error_code (DsJob *self)
{
  return error_code (self->error);
}

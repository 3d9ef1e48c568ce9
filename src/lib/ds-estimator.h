/* Time left for a job of weighted steps: pure arithmetic over measured step
 * durations (running medians of finished jobs), the current step's attempt
 * and its timeout.  No clock of its own: every call is given "now". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _DsEstimator DsEstimator;

/* Where a running job is, in the estimator's terms. */
typedef struct {
  guint  step;             /* the running step */
  gint64 attempt_started;  /* µs: when the step, or its latest retry, started */
  double step_fraction;    /* 0..1 of the step, when the step reports it; < 0: unknown */
  gint64 timeout;          /* µs an attempt may take before it is retried; 0: unknown */
  guint  retries_left;     /* further attempts after the current one */
} DsEstimatorPosition;

/* @defaults: what each of @n_steps takes when nothing was measured yet, in µs. */
DsEstimator *ds_estimator_new           (guint         n_steps,
                                         const gint64 *defaults);
DsEstimator *ds_estimator_ref           (DsEstimator  *self);
void         ds_estimator_unref         (DsEstimator  *self);
/* A finished step's duration; the median of the latest few is its weight. */
void         ds_estimator_add_sample    (DsEstimator  *self,
                                         guint         step,
                                         gint64        duration);
/* The step's expected duration in µs: the median of its samples, or its default. */
gint64       ds_estimator_get_duration  (DsEstimator  *self,
                                         guint         step);
guint        ds_estimator_get_n_samples (DsEstimator  *self,
                                         guint         step);
/* µs left in the job at @now: the running step's remainder and every
 * later step's expected duration.  A step overrunning its expectation
 * (waiting on a retry) is expected to take longer the longer it overruns,
 * never more than its attempts' timeouts allow; a retry restarts it. */
gint64       ds_estimator_get_remaining (DsEstimator  *self,
                                         const DsEstimatorPosition *pos,
                                         gint64        now);
/* The share of the job done, steps weighted by their expected durations. */
double       ds_estimator_get_fraction  (DsEstimator  *self,
                                         guint         step,
                                         double        step_fraction);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DsEstimator, ds_estimator_unref)

G_END_DECLS

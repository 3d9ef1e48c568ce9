/* Time left for a job of weighted steps (see ds-estimator.h). */
#include "config.h"

#include "ds-estimator.h"

#include <stdlib.h>
#include <string.h>

/* Enough finished boards to follow a change of CA or firmware within a
 * few minutes, few enough to sort on every board. */
#define N_SAMPLES 15

typedef struct {
  gint64 samples[N_SAMPLES];
  guint  n;      /* samples held, up to N_SAMPLES */
  guint  next;   /* where the next one goes */
  gint64 fallback;
} Step;

struct _DsEstimator
{
  gatomicrefcount ref_count;
  guint n_steps;
  Step *steps;
};

DsEstimator *
ds_estimator_new (guint         n_steps,
                  const gint64 *defaults)
{
  DsEstimator *self = g_new0 (DsEstimator, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->n_steps = n_steps;
  self->steps = g_new0 (Step, n_steps);
  for (guint i = 0; i < n_steps; i++)
    self->steps[i].fallback = defaults != NULL ? MAX (defaults[i], 0) : 0;
  return self;
}

DsEstimator *
ds_estimator_ref (DsEstimator *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
ds_estimator_unref (DsEstimator *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->steps);
  g_free (self);
}

void
ds_estimator_add_sample (DsEstimator *self,
                         guint        step,
                         gint64       duration)
{
  Step *s;

  g_return_if_fail (step < self->n_steps);
  s = &self->steps[step];
  s->samples[s->next] = MAX (duration, 0);
  s->next = (s->next + 1) % N_SAMPLES;
  s->n = MIN (s->n + 1, N_SAMPLES);
}

static int
cmp_gint64 (const void *a,
            const void *b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y ? 1 : 0;
}

gint64
ds_estimator_get_duration (DsEstimator *self,
                           guint        step)
{
  gint64 sorted[N_SAMPLES];
  Step *s;

  g_return_val_if_fail (step < self->n_steps, 0);
  s = &self->steps[step];
  if (s->n == 0)
    return s->fallback;
  memcpy (sorted, s->samples, s->n * sizeof (gint64));
  qsort (sorted, s->n, sizeof (gint64), cmp_gint64);
  /* A median, not a mean: one board stuck on retries must not make every
   * later one look slow. */
  return s->n % 2 == 1 ? sorted[s->n / 2] : (sorted[s->n / 2 - 1] + sorted[s->n / 2]) / 2;
}

guint
ds_estimator_get_n_samples (DsEstimator *self,
                            guint        step)
{
  g_return_val_if_fail (step < self->n_steps, 0);
  return self->steps[step].n;
}

gint64
ds_estimator_get_remaining (DsEstimator               *self,
                            const DsEstimatorPosition *pos,
                            gint64                     now)
{
  gint64 expected, elapsed, current, left = 0;

  g_return_val_if_fail (pos->step < self->n_steps, 0);
  expected = ds_estimator_get_duration (self, pos->step);
  elapsed = MAX (now - pos->attempt_started, 0);
  if (pos->step_fraction > 0 && pos->step_fraction < 1 && elapsed > 0)
    /* A step that says how far it is (flashing) is its own best guess. */
    current = (gint64) (elapsed / pos->step_fraction) - elapsed;
  else
    {
      /* On time: what is left of the expectation.  Late (an answer that
       * does not come, a retry on its way): the longer it overran, the
       * longer it is expected to take still, never less than a quarter of
       * the step, so that time left grows instead of reading "about a
       * second" for as long as a retry takes. */
      current = MAX (expected - elapsed, elapsed - expected / 2);
      current = MAX (current, expected / 4);
    }
  if (pos->timeout > 0)
    {
      /* No attempt outlives its timeout; each retry may take one more. */
      gint64 worst = MAX (pos->timeout - elapsed, 0) + (gint64) pos->retries_left * pos->timeout;

      current = MIN (current, MAX (worst, 0));
    }
  left = MAX (current, 0);
  for (guint i = pos->step + 1; i < self->n_steps; i++)
    left += ds_estimator_get_duration (self, i);
  return left;
}

double
ds_estimator_get_fraction (DsEstimator *self,
                           guint        step,
                           double       step_fraction)
{
  gint64 total = 0, done = 0;

  for (guint i = 0; i < self->n_steps; i++)
    {
      gint64 d = ds_estimator_get_duration (self, i);

      total += d;
      if (i < step)
        done += d;
    }
  if (step >= self->n_steps)
    return 1.0;
  if (total <= 0)
    return (double) step / self->n_steps;
  return CLAMP ((done + CLAMP (step_fraction, 0.0, 1.0) * ds_estimator_get_duration (self, step)) / (double) total,
                0.0, 1.0);
}

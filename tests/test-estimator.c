/* The time-left estimator: medians, weights, retries and timeouts. */
#include "config.h"

#include <glib.h>

#include "ds-estimator.h"

#define S G_USEC_PER_SEC

static const gint64 defaults[3] = { 1 * S, 2 * S, 1 * S };

static void
test_defaults_and_median (void)
{
  g_autoptr(DsEstimator) e = ds_estimator_new (3, defaults);

  g_assert_cmpint (ds_estimator_get_duration (e, 1), ==, 2 * S);
  g_assert_cmpuint (ds_estimator_get_n_samples (e, 1), ==, 0);
  ds_estimator_add_sample (e, 1, 3 * S);
  g_assert_cmpint (ds_estimator_get_duration (e, 1), ==, 3 * S);
  ds_estimator_add_sample (e, 1, 5 * S);
  ds_estimator_add_sample (e, 1, 60 * S);  /* one board stuck on retries */
  g_assert_cmpint (ds_estimator_get_duration (e, 1), ==, 5 * S);
  ds_estimator_add_sample (e, 1, 4 * S);
  g_assert_cmpint (ds_estimator_get_duration (e, 1), ==, (4 * S + 5 * S) / 2);
  /* Only the latest samples count: a slower CA shows after a few boards. */
  for (guint i = 0; i < 20; i++)
    ds_estimator_add_sample (e, 1, 10 * S);
  g_assert_cmpuint (ds_estimator_get_n_samples (e, 1), ==, 15);
  g_assert_cmpint (ds_estimator_get_duration (e, 1), ==, 10 * S);
}

static void
test_weighted_fraction (void)
{
  g_autoptr(DsEstimator) e = ds_estimator_new (3, defaults);

  /* 1 + 2 + 1 s: the long middle step is half the job. */
  g_assert_cmpfloat_with_epsilon (ds_estimator_get_fraction (e, 0, 0), 0.0, 1e-9);
  g_assert_cmpfloat_with_epsilon (ds_estimator_get_fraction (e, 1, 0), 0.25, 1e-9);
  g_assert_cmpfloat_with_epsilon (ds_estimator_get_fraction (e, 1, 0.5), 0.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (ds_estimator_get_fraction (e, 2, 0), 0.75, 1e-9);
  g_assert_cmpfloat_with_epsilon (ds_estimator_get_fraction (e, 3, 0), 1.0, 1e-9);
}

static void
test_remaining_on_time (void)
{
  g_autoptr(DsEstimator) e = ds_estimator_new (3, defaults);
  DsEstimatorPosition pos = { .step = 1, .attempt_started = 100 * S, .step_fraction = -1 };

  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 100 * S), ==, 3 * S);
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 101 * S), ==, 2 * S);
  pos.step = 2;
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 100 * S), ==, 1 * S);
  /* A step that reports its own progress: 1 s for the first quarter. */
  pos.step = 0;
  pos.step_fraction = 0.25;
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 101 * S), ==, 3 * S + 3 * S);
}

/* A step waiting on an answer that does not come: time left grows while
 * it overruns, instead of reading "about 1 s" for the whole retry. */
static void
test_remaining_grows_when_late (void)
{
  g_autoptr(DsEstimator) e = ds_estimator_new (3, defaults);
  DsEstimatorPosition pos = { .step = 2, .attempt_started = 0, .step_fraction = -1,
                              .timeout = 5 * S, .retries_left = 2 };
  gint64 previous = 0;

  for (gint64 t = 2 * S; t <= 9 * S; t += S)
    {
      gint64 left = ds_estimator_get_remaining (e, &pos, t);

      g_test_message ("%" G_GINT64_FORMAT " s late: %" G_GINT64_FORMAT " µs left", t, left);
      g_assert_cmpint (left, >, previous);
      previous = left;
      /* Never beyond what the attempts' timeouts allow. */
      g_assert_cmpint (left, <=, MAX (5 * S - t, 0) + 2 * 5 * S);
    }
  /* A retry restarts the step's expectation. */
  pos.attempt_started = 10 * S;
  pos.retries_left = 1;
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 10 * S), ==, 1 * S);
}

static void
test_remaining_capped_by_timeout (void)
{
  g_autoptr(DsEstimator) e = ds_estimator_new (3, defaults);
  DsEstimatorPosition pos = { .step = 1, .attempt_started = 0, .step_fraction = -1,
                              .timeout = 3 * S, .retries_left = 0 };

  /* The last attempt times out at 3 s: nothing of step 1 is left then. */
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, 3 * S), ==, 1 * S);
  g_assert_cmpint (ds_estimator_get_remaining (e, &pos, (gint64) (2.5 * S)), ==, 1 * S + S / 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/estimator/defaults-and-median", test_defaults_and_median);
  g_test_add_func ("/estimator/weighted-fraction", test_weighted_fraction);
  g_test_add_func ("/estimator/remaining-on-time", test_remaining_on_time);
  g_test_add_func ("/estimator/remaining-grows-when-late", test_remaining_grows_when_late);
  g_test_add_func ("/estimator/remaining-capped-by-timeout", test_remaining_capped_by_timeout);
  return g_test_run ();
}

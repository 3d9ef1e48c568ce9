/* The station: runs provisioning jobs for many boards at once, at most
 * max-jobs at a time, each independent of the others. */
#pragma once

#include "ds-job.h"

G_BEGIN_DECLS

#define DS_TYPE_STATION (ds_station_get_type ())
/* A GListModel of its jobs (DsJob), oldest first: every job queued,
 * running or finished, until ds_station_release_finished() lets the
 * finished ones go. */
G_DECLARE_FINAL_TYPE (DsStation, ds_station, DS, STATION, GObject)

DsStation          *ds_station_new          (const DsJobOptions *options,
                                             guint               max_jobs);
const DsJobOptions *ds_station_get_options  (DsStation          *self);
/* Queues a job for @board; it starts as soon as a slot is free.  Fails with
 * DS_ERROR_REJECTED when the board already has a job queued or running. */
DsJob              *ds_station_provision    (DsStation          *self,
                                             DsBoard            *board,
                                             GError            **error);
/* The latest job of the board on @port, or NULL. */
DsJob              *ds_station_find_job     (DsStation          *self,
                                             const char         *port);
/* Cancels @job: a queued one ends at once without being started (nor
 * recorded), a running one at its current step. */
void                ds_station_cancel_job   (DsStation          *self,
                                             DsJob              *job);
/* Cancels every job: queued ones end at once, unstarted and unrecorded;
 * running ones at their current step, recorded as cancelled.  "idle" is
 * emitted when nothing runs any more. */
void                ds_station_cancel_all   (DsStation          *self);
/* Jobs queued or running. */
guint               ds_station_get_n_active (DsStation          *self);
/* Every job the station holds, in order (the list model's items). */
GPtrArray          *ds_station_get_jobs     (DsStation          *self);
/* Drops the finished jobs from the station (and its list model); their
 * step durations stay in the estimator.  Returns how many went. */
guint               ds_station_release_finished (DsStation      *self);
/* The step durations measured on the boards that passed, shared by every
 * job of the station for its expected end. */
DsEstimator        *ds_station_get_estimator (DsStation         *self);

G_END_DECLS

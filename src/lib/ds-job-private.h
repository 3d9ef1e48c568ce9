/* What only the library and its white-box tests may do to a job. */
#pragma once

#include "ds-job.h"

G_BEGIN_DECLS

/* Sets what the board's label shows (copied) and emits "changed"; on the
 * job's main context.  The GUI tests give a job a label this way. */
void ds_job_set_label_info (DsJob             *self,
                            const DsLabelInfo *info);

G_END_DECLS

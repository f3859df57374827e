/* probe_report.h: the figures of the attention-sink probe (engine/model.h,
 * lcx_probe) as `lcx probe` prints and writes them and `lcx serve`'s
 * POST /v1/probe answers them: per layer the first-token share (mean over
 * heads and the counted query positions), max |hidden|, and for gated
 * models the mean gate score and the fraction of scores < 0.1; and their
 * means over the layers. */
#ifndef LCX_PROBE_REPORT_H
#define LCX_PROBE_REPORT_H

#include <jansson.h>

#include "engine/model.h"

/* {"layers": [{"layer", "sink_share", "max_abs_hidden"[, "gate_mean",
 * "gate_lt_0_1"]}...], "mean": {...}}. New reference. */
json_t *lcx_probe_report(const lcx_config *c, const lcx_probe *p);

#endif

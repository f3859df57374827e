/* probe_report.h: the figures of the attention-sink probe (engine/model.h,
 * lcx_probe) as `lcx probe` prints and writes them and `lcx serve`'s
 * POST /v1/probe answers them: per layer the first-token share (mean over
 * heads and the counted query positions), Gu et al.'s sink metric,
 * attention entropy, max |hidden|, and for gated models the mean gate score
 * and the fraction of scores < 0.1; and their means over the layers. */
#ifndef LCX_PROBE_REPORT_H
#define LCX_PROBE_REPORT_H

#include <jansson.h>

#include "engine/model.h"

/* The default epsilon of Gu et al.'s sink metric (theirs). */
#define LCX_PROBE_SINK_EPS 0.3

/* One prompt's figures as lcx_probe_summary gives them for one prompt
 * (each interval is the point), epsilon LCX_PROBE_SINK_EPS:
 * {"layers": [{"layer", "sink_share", "gu_sink", "entropy", "entropy_norm",
 * "max_abs_hidden"[, "gate_mean", "gate_lt_0_1"], and each with "_ci"}...],
 * "mean": {...}}. New reference, NULL when out of memory. */
json_t *lcx_probe_report(const lcx_config *c, const lcx_probe *p);

/* ---- lcx probe over many prompts ----
 *
 * One prompt's figures are a row of LCX_PF_COUNT numbers per layer, and one
 * more row over the layers (lcx_probe_figures). Over prompts each figure is
 * reported as its mean with a 95% percentile-bootstrap interval
 * (lcx_bootstrap_mean): LCX_PROBE_RESAMPLES resamples of the prompts, drawn
 * with lcx_rng from a seed the caller fixes, the same resamples for every
 * figure. */
enum {
    LCX_PF_SINK,         /* first-token share over heads and positions >= from_pos */
    LCX_PF_GU_SINK,      /* Gu et al.'s sink metric: share of heads with alpha > eps */
    LCX_PF_ENTROPY,      /* attention entropy, nats, over heads and positions >= from_pos */
    LCX_PF_ENTROPY_NORM, /* the same divided by ln(keys seen) */
    LCX_PF_MAX_HIDDEN,   /* max |hidden| */
    LCX_PF_GATE_MEAN,    /* mean gate score (NAN without a gate) */
    LCX_PF_GATE_LOW,     /* share of gate scores < 0.1 (NAN without a gate) */
    LCX_PF_COUNT
};
enum { LCX_PROBE_RESAMPLES = 2000 };

/* The JSON key of figure f ("sink_share", "gu_sink", "entropy",
 * "entropy_norm", "max_abs_hidden", "gate_mean", "gate_lt_0_1"). */
const char *lcx_probe_figure_key(int f);

/* Gu et al. (ICLR 2025), "When Attention Sink Emerges in Language Models":
 * a head's first-token score alpha is its softmax weight on key 0 averaged
 * over every query position (sum / count); the metric is the share of the
 * n_heads heads whose alpha exceeds eps. */
double lcx_gu_sink_share(const double *head_first_sum, long count, int n_heads, double eps);

/* One prompt's figures from a probe: out[l * LCX_PF_COUNT + f] for each layer
 * l < p->n_layers, and row p->n_layers over the layers (the mean of the layer
 * rows; for LCX_PF_GU_SINK that is the share of all (layer, head) pairs,
 * every layer having the same heads). */
void lcx_probe_figures(const lcx_config *c, const lcx_probe *p, double eps, double *out);

typedef struct lcx_interval {
    double mean, lo, hi;
} lcx_interval;

/* Mean of x[0], x[stride], ... (n values) and its 95% percentile-bootstrap
 * interval: `resamples` means of n values drawn with replacement (lcx_rng
 * seeded with seed), their 2.5% and 97.5% quantiles (linear interpolation
 * between order statistics). One value gives [x, x]; NAN values give NAN. */
int lcx_bootstrap_mean(const double *x, size_t n, size_t stride, size_t resamples,
                       unsigned long long seed, lcx_interval *out, lcx_err *err);

/* The figures of n_prompts prompts (rows of lcx_probe_figures, one block of
 * (n_layers + 1) x LCX_PF_COUNT per prompt) as {"layers": [{"layer", key:
 * mean, key_ci: [lo, hi], ...}], "mean": {...}}: the keys of
 * lcx_probe_report, so readers of a single-prompt probe.json read it too,
 * plus the interval of each. Gate keys only for gated models. *out is a new
 * reference. */
int lcx_probe_summary(const lcx_config *c, int n_layers, const double *figures, size_t n_prompts,
                      unsigned long long seed, json_t **out, lcx_err *err);

#endif

/* probe_report.c: per-layer probe figures and their means (see
 * probe_report.h). */
#include "harness/probe_report.h"

json_t *lcx_probe_report(const lcx_config *c, const lcx_probe *p)
{
    int gated = c->gate != LCX_GATE_NONE, L = p->n_layers;
    json_t *root = json_object(), *jl = json_array();
    double sum_sink = 0, sum_h = 0, sum_g = 0, sum_low = 0;
    for (int l = 0; l < L; l++) {
        const lcx_probe_layer *pl = &p->layers[l];
        double sink = pl->sink_count ? pl->sink_sum / pl->sink_count : 0;
        double gm = pl->gate_count ? pl->gate_sum / pl->gate_count : 0;
        double low = pl->gate_count ? (double)pl->gate_low / pl->gate_count : 0;
        sum_sink += sink;
        sum_h += pl->max_abs_hidden;
        sum_g += gm;
        sum_low += low;
        json_t *o_l = json_object();
        json_object_set_new(o_l, "layer", json_integer(l));
        json_object_set_new(o_l, "sink_share", json_real(sink));
        json_object_set_new(o_l, "max_abs_hidden", json_real(pl->max_abs_hidden));
        if (gated) {
            json_object_set_new(o_l, "gate_mean", json_real(gm));
            json_object_set_new(o_l, "gate_lt_0_1", json_real(low));
        }
        json_array_append_new(jl, o_l);
    }
    json_t *mean = json_object();
    json_object_set_new(mean, "sink_share", json_real(L ? sum_sink / L : 0));
    json_object_set_new(mean, "max_abs_hidden", json_real(L ? sum_h / L : 0));
    if (gated) {
        json_object_set_new(mean, "gate_mean", json_real(L ? sum_g / L : 0));
        json_object_set_new(mean, "gate_lt_0_1", json_real(L ? sum_low / L : 0));
    }
    json_object_set_new(root, "layers", jl);
    json_object_set_new(root, "mean", mean);
    return root;
}

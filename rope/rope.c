/* yarn.c: RoPE inverse frequencies and magnitude factors (see yarn.h). */
#include "rope/rope.h"

#include <stdio.h>

#include <math.h>
#include <string.h>

void lcx_rope_params_init(lcx_rope_params *p)
{
    memset(p, 0, sizeof *p);
    p->type = LCX_ROPE_DEFAULT;
    p->theta = 10000.0;
    p->truncate = 1;
    p->attention_factor = -1.0;
}

static const char *const rope_type_names[] = {"default", "linear", "dynamic", "yarn", "llama3"};

int lcx_rope_type_parse(const char *name)
{
    if (!strcmp(name, "none"))
        return LCX_ROPE_DEFAULT;
    for (int i = 0; i < (int)(sizeof rope_type_names / sizeof rope_type_names[0]); i++)
        if (!strcmp(name, rope_type_names[i]))
            return i;
    return -1;
}

const char *lcx_rope_type_name(lcx_rope_type t)
{
    if ((int)t < 0 || (int)t >= (int)(sizeof rope_type_names / sizeof rope_type_names[0]))
        return "?";
    return rope_type_names[t];
}

int lcx_rope_rot_dim(const lcx_rope_params *p)
{
    double prf = p->partial_rotary > 0 ? p->partial_rotary : 1.0;
    int d = (int)(p->head_dim * prf); /* int() as transformers does */
    return d;
}

static double factor_of(const lcx_rope_params *p)
{
    return p->factor > 0 ? p->factor : 1.0;
}

static int orig_ctx_of(const lcx_rope_params *p)
{
    return p->orig_ctx > 0 ? p->orig_ctx : p->max_pos;
}

double lcx_yarn_mscale(double s, double m)
{
    if (s <= 1.0)
        return 1.0;
    return 0.1 * m * log(s) + 1.0;
}

/* corr_dim(r) = d * ln(L / (r * 2 pi)) / (2 ln base) */
static double yarn_corr_dim(double rotations, int d, double base, int L)
{
    return d * log(L / (rotations * 2.0 * M_PI)) / (2.0 * log(base));
}

void lcx_yarn_corr_range(const lcx_rope_params *p, double *low, double *high)
{
    int d = lcx_rope_rot_dim(p);
    double beta_fast = p->beta_fast > 0 ? p->beta_fast : 32.0;
    double beta_slow = p->beta_slow > 0 ? p->beta_slow : 1.0;
    int L = orig_ctx_of(p);
    double lo = yarn_corr_dim(beta_fast, d, p->theta, L);
    double hi = yarn_corr_dim(beta_slow, d, p->theta, L);
    if (p->truncate) {
        lo = floor(lo);
        hi = ceil(hi);
    }
    if (lo < 0)
        lo = 0;
    if (hi > d - 1)
        hi = d - 1;
    if (lo == hi)
        hi += 0.001;
    *low = lo;
    *high = hi;
}

int lcx_rope_table(const lcx_rope_params *p, int seq_len, double *inv_freq, double *magnitude,
                   lcx_err *err)
{
    int d = lcx_rope_rot_dim(p);
    double s = factor_of(p);
    if (d <= 0 || d % 2 != 0 || d > p->head_dim)
        return lcx_errf(err, LCX_EINPUT,
                        "rotary dimension %d (head_dim %d x partial_rotary_factor %g) must be "
                        "even and in (0, head_dim]",
                        d, p->head_dim, p->partial_rotary);
    if (!(p->theta > 1.0) || !isfinite(p->theta))
        return lcx_errf(err, LCX_EINPUT, "rope_theta %g must be > 1", p->theta);
    if (!(s > 0) || !isfinite(s))
        return lcx_errf(err, LCX_EINPUT, "rope factor %g must be > 0", s);
    if (p->type != LCX_ROPE_DEFAULT && p->type != LCX_ROPE_LINEAR && orig_ctx_of(p) <= 0)
        return lcx_errf(err, LCX_EINPUT,
                        "rope type %s needs original_max_position_embeddings or "
                        "max_position_embeddings > 0",
                        lcx_rope_type_name(p->type));
    int half = d / 2;
    double base = p->theta;
    if (p->type == LCX_ROPE_DYNAMIC) {
        int L = orig_ctx_of(p);
        if (seq_len > L)
            base = base * pow(s * seq_len / L - (s - 1.0), (double)d / (d - 2));
    }
    for (int i = 0; i < half; i++)
        inv_freq[i] = 1.0 / pow(base, (2.0 * i) / d);
    *magnitude = 1.0;
    switch (p->type) {
    case LCX_ROPE_DEFAULT:
    case LCX_ROPE_DYNAMIC:
        break;
    case LCX_ROPE_LINEAR:
        for (int i = 0; i < half; i++)
            inv_freq[i] /= s;
        break;
    case LCX_ROPE_YARN: {
        double low, high;
        lcx_yarn_corr_range(p, &low, &high);
        for (int i = 0; i < half; i++) {
            double ramp = (i - low) / (high - low);
            ramp = ramp < 0 ? 0 : ramp > 1 ? 1 : ramp;
            double extrap = 1.0 - ramp;
            inv_freq[i] = inv_freq[i] / s * (1.0 - extrap) + inv_freq[i] * extrap;
        }
        if (p->attention_factor >= 0)
            *magnitude = p->attention_factor;
        else if (p->mscale > 0 && p->mscale_all_dim > 0)
            *magnitude = lcx_yarn_mscale(s, p->mscale) / lcx_yarn_mscale(s, p->mscale_all_dim);
        else
            *magnitude = lcx_yarn_mscale(s, 1.0);
        break;
    }
    case LCX_ROPE_LLAMA3: {
        double lff = p->low_freq_factor > 0 ? p->low_freq_factor : 1.0;
        double hff = p->high_freq_factor > 0 ? p->high_freq_factor : 4.0;
        if (hff == lff)
            return lcx_errf(err, LCX_EINPUT, "llama3 rope: high_freq_factor equals low_freq_factor");
        double L = orig_ctx_of(p);
        double low_wavelen = L / lff, high_wavelen = L / hff;
        for (int i = 0; i < half; i++) {
            double wavelen = 2.0 * M_PI / inv_freq[i];
            if (wavelen > low_wavelen) {
                inv_freq[i] /= s;
            } else if (wavelen >= high_wavelen) {
                double smooth = (L / wavelen - lff) / (hff - lff);
                inv_freq[i] = (1.0 - smooth) * inv_freq[i] / s + smooth * inv_freq[i];
            }
        }
        break;
    }
    default:
        return lcx_errf(err, LCX_EINPUT, "unknown rope type %d", (int)p->type);
    }
    /* An explicit attention factor overrides every type's magnitude. */
    if (p->type != LCX_ROPE_YARN && p->attention_factor >= 0)
        *magnitude = p->attention_factor;
    return 0;
}

int lcx_rope_describe(const lcx_rope_params *p, int seq_len, lcx_rope_info *out, lcx_err *err)
{
    memset(out, 0, sizeof *out);
    out->params = *p;
    out->rot_dim = lcx_rope_rot_dim(p);
    if (out->rot_dim / 2 > 4096)
        return lcx_errf(err, LCX_EINPUT, "rotary dimension %d too large", out->rot_dim);
    double inv[4096 + 1];
    int rc = lcx_rope_table(p, seq_len, inv, &out->magnitude, err);
    if (!rc) {
        double t = p->temperature > 0 ? p->temperature : 1.0;
        out->logit_scale = out->magnitude * out->magnitude / t;
        out->inv_freq_first = inv[0];
        out->inv_freq_last = inv[out->rot_dim / 2 - 1];
        if (p->type == LCX_ROPE_YARN)
            lcx_yarn_corr_range(p, &out->low, &out->high);
    }
    return rc;
}

void lcx_rope_info_format(const lcx_rope_info *ri, char *buf, size_t size)
{
    const lcx_rope_params *p = &ri->params;
    int L = p->orig_ctx > 0 ? p->orig_ctx : p->max_pos;
    int n = snprintf(buf, size, "rope %s: theta %g rot_dim %d factor %g orig_ctx %d",
                     lcx_rope_type_name(p->type), p->theta, ri->rot_dim,
                     p->factor > 0 ? p->factor : 1.0, L);
    if (n < 0 || (size_t)n >= size)
        return;
    if (p->type == LCX_ROPE_YARN)
        n += snprintf(buf + n, size - n, " beta_fast %g beta_slow %g truncate %d corr [%g, %g]",
                      p->beta_fast > 0 ? p->beta_fast : 32.0, p->beta_slow > 0 ? p->beta_slow : 1.0,
                      p->truncate, ri->low, ri->high);
    if (n < 0 || (size_t)n >= size)
        return;
    n += snprintf(buf + n, size - n, " attention_factor %.6g temperature %g logit_scale %.6g",
                  ri->magnitude, p->temperature > 0 ? p->temperature : 1.0, ri->logit_scale);
    if (n >= 0 && (size_t)n < size && p->llama4_beta != 0)
        snprintf(buf + n, size - n, " llama_4_scaling_beta %g", p->llama4_beta);
}

double lcx_rope_query_scale(const lcx_rope_params *p, long pos)
{
    long L = p->orig_ctx > 0 ? p->orig_ctx : p->max_pos;
    if (p->llama4_beta == 0 || L <= 0 || pos < 0)
        return 1.0;
    return 1.0 + p->llama4_beta * log(1.0 + (double)(pos / L));
}

int lcx_rope_params_equal(const lcx_rope_params *a, const lcx_rope_params *b)
{
    return a->type == b->type && a->theta == b->theta && a->head_dim == b->head_dim &&
           a->partial_rotary == b->partial_rotary && a->factor == b->factor &&
           a->orig_ctx == b->orig_ctx && a->max_pos == b->max_pos && a->beta_fast == b->beta_fast &&
           a->beta_slow == b->beta_slow && a->mscale == b->mscale &&
           a->mscale_all_dim == b->mscale_all_dim && a->attention_factor == b->attention_factor &&
           a->truncate == b->truncate && a->low_freq_factor == b->low_freq_factor &&
           a->high_freq_factor == b->high_freq_factor && a->temperature == b->temperature &&
           a->llama4_beta == b->llama4_beta;
}

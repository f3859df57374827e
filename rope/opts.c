/* opts.c: parse the RoPE scaling overrides (see opts.h). */
#include "opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void lcx_rope_opts_init(lcx_rope_opts *o)
{
    o->type = -1;
    o->factor = 0;
    o->factor_auto = 0;
    o->orig_ctx = 0;
    o->beta_fast = 0;
    o->beta_slow = 0;
    o->truncate = -1;
    o->attn_factor = -1;
    o->temperature = 0;
    o->llama4_beta = -1;
}

const char *lcx_rope_opts_usage(void)
{
    return "  --rope-scaling TYPE     default|linear|dynamic|yarn|llama3 (overrides config)\n"
           "  --yarn-factor S|auto    RoPE scaling factor (alias --rope-scale); auto (lcx run,\n"
           "                          lcx sweep): per length, length / original context\n"
           "  --yarn-orig-ctx L       original context length (original_max_position_embeddings)\n"
           "  --yarn-beta-fast B      YaRN beta_fast (default 32)\n"
           "  --yarn-beta-slow B      YaRN beta_slow (default 1)\n"
           "  --yarn-truncate 0|1     floor/ceil the YaRN correction range (default 1)\n"
           "  --attn-factor F         magnitude factor on cos/sin (overrides YaRN's mscale)\n"
           "  --attn-temperature T    divide attention logits by T\n"
           "  --llama4-scaling-beta B scale queries at position p by 1 + B ln(1 + floor(p/L)),\n"
           "                          L the original context (Llama-4, Ministral-3; 0 = off)\n";
}

/* Match "--name" or "--name=value"; on a match set *value (NULL when the
 * value is the next argument). */
static int match_opt(const char *arg, const char *name, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '\0') {
        *value = NULL;
        return 1;
    }
    if (arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    return 0;
}

static int parse_double(const char *opt, const char *s, double lo_excl, double *out, lcx_err *err)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || !(v > lo_excl))
        return lcx_errf(err, LCX_EINPUT, "%s: bad value '%s' (a number > %g)", opt, s, lo_excl);
    *out = v;
    return 0;
}

int lcx_rope_opts_parse(lcx_rope_opts *o, int argc, char **argv, int *i, lcx_err *err)
{
    static const char *const names[] = {"--rope-scaling",  "--yarn-factor",   "--rope-scale",
                                        "--yarn-orig-ctx", "--yarn-beta-fast", "--yarn-beta-slow",
                                        "--yarn-truncate", "--attn-factor",    "--attn-temperature",
                                        "--llama4-scaling-beta"};
    const char *arg = argv[*i], *value = NULL;
    int which = -1;
    for (int k = 0; k < (int)(sizeof names / sizeof names[0]); k++)
        if (match_opt(arg, names[k], &value)) {
            which = k;
            break;
        }
    if (which < 0)
        return 0;
    const char *opt = names[which];
    if (!value) {
        if (*i + 1 >= argc) {
            lcx_errf(err, LCX_EINPUT, "%s needs a value", opt);
            return -1;
        }
        value = argv[++*i];
    }
    double v = 0;
    int rc = 0;
    switch (which) {
    case 0: {
        int t = lcx_rope_type_parse(value);
        if (t < 0)
            rc = lcx_errf(err, LCX_EINPUT,
                          "%s: unknown type '%s' (default, linear, dynamic, yarn, llama3)", opt,
                          value);
        else
            o->type = t;
        break;
    }
    case 1:
    case 2:
        if (!strcmp(value, "auto")) {
            o->factor_auto = 1;
            o->factor = 0;
        } else if (!(rc = parse_double(opt, value, 0, &v, err))) {
            o->factor = v;
            o->factor_auto = 0;
        }
        break;
    case 3:
        if (!(rc = parse_double(opt, value, 0, &v, err))) {
            if (v > 1e9 || v != floor(v))
                rc = lcx_errf(err, LCX_EINPUT, "%s: bad value '%s' (a whole number)", opt, value);
            else
                o->orig_ctx = (int)v;
        }
        break;
    case 4:
        if (!(rc = parse_double(opt, value, 0, &v, err)))
            o->beta_fast = v;
        break;
    case 5:
        if (!(rc = parse_double(opt, value, 0, &v, err)))
            o->beta_slow = v;
        break;
    case 6:
        if (!strcmp(value, "0") || !strcmp(value, "false"))
            o->truncate = 0;
        else if (!strcmp(value, "1") || !strcmp(value, "true"))
            o->truncate = 1;
        else
            rc = lcx_errf(err, LCX_EINPUT, "%s: bad value '%s' (0 or 1)", opt, value);
        break;
    case 7:
        if (!(rc = parse_double(opt, value, 0, &v, err)))
            o->attn_factor = v;
        break;
    case 8:
        if (!(rc = parse_double(opt, value, 0, &v, err)))
            o->temperature = v;
        break;
    case 9:
        if (!(rc = parse_double(opt, value, -1e-300, &v, err)) && v > 100)
            rc = lcx_errf(err, LCX_EINPUT, "%s: %g is not in [0, 100]", opt, v);
        if (!rc && v < 0)
            v = 0; /* -0 */
        if (!rc)
            o->llama4_beta = v;
        break;
    }
    return rc ? -1 : 1;
}

void lcx_rope_opts_merge(const lcx_rope_opts *base, const lcx_rope_opts *over, lcx_rope_opts *out)
{
    lcx_rope_opts o = *base;
    if (over->type >= 0)
        o.type = over->type;
    if (over->factor > 0 || over->factor_auto) {
        o.factor = over->factor;
        o.factor_auto = over->factor_auto;
    }
    if (over->orig_ctx > 0)
        o.orig_ctx = over->orig_ctx;
    if (over->beta_fast > 0)
        o.beta_fast = over->beta_fast;
    if (over->beta_slow > 0)
        o.beta_slow = over->beta_slow;
    if (over->truncate >= 0)
        o.truncate = over->truncate;
    if (over->attn_factor >= 0)
        o.attn_factor = over->attn_factor;
    if (over->temperature > 0)
        o.temperature = over->temperature;
    if (over->llama4_beta >= 0)
        o.llama4_beta = over->llama4_beta;
    *out = o;
}

void lcx_rope_opts_apply(const lcx_rope_opts *o, lcx_rope_params *p)
{
    if (o->type >= 0)
        p->type = (lcx_rope_type)o->type;
    else if (o->factor > 0 && p->type == LCX_ROPE_DEFAULT)
        p->type = LCX_ROPE_YARN;
    if (o->factor > 0)
        p->factor = o->factor;
    if (o->orig_ctx > 0)
        p->orig_ctx = o->orig_ctx;
    if (o->beta_fast > 0)
        p->beta_fast = o->beta_fast;
    if (o->beta_slow > 0)
        p->beta_slow = o->beta_slow;
    if (o->truncate >= 0)
        p->truncate = o->truncate;
    if (o->attn_factor >= 0)
        p->attention_factor = o->attn_factor;
    if (o->temperature > 0)
        p->temperature = o->temperature;
    if (o->llama4_beta >= 0)
        p->llama4_beta = o->llama4_beta;
}

double lcx_rope_auto_factor(size_t length, int orig_ctx)
{
    if (orig_ctx <= 0 || length <= (size_t)orig_ctx)
        return 1.0;
    return (double)length / (double)orig_ctx;
}

void lcx_rope_resolve(const lcx_rope_params *base, const lcx_rope_opts *o, size_t length,
                      lcx_rope_params *out)
{
    *out = *base;
    if (!o)
        return;
    lcx_rope_opts r = *o;
    if (o->factor_auto) {
        int orig = o->orig_ctx > 0 ? o->orig_ctx : base->orig_ctx > 0 ? base->orig_ctx : base->max_pos;
        double f = lcx_rope_auto_factor(length, orig);
        r.factor_auto = 0;
        r.factor = f > 1.0 ? f : 0;
        if (f > 1.0 && r.type < 0)
            r.type = LCX_ROPE_YARN;
    }
    lcx_rope_opts_apply(&r, out);
}

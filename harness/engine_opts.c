/* engine_opts.c: --kv-dtype, --max-memory and the memory check (see
 * engine_opts.h). */
#include "harness/engine_opts.h"

#include <stdio.h>
#include <string.h>

#include "common/meminfo.h"
#include "harness/args.h"

void lcx_engine_opts_init(lcx_engine_opts *o)
{
    memset(o, 0, sizeof *o);
    o->kv_dtype = LCX_DT_F32;
    o->check_memory = 1;
}

int lcx_engine_opts_parse(lcx_engine_opts *o, int argc, char **argv, int *i, lcx_err *err)
{
    const char *v = NULL;
    int r = lcx_arg_value(argc, argv, i, "--kv-dtype", &v, err);
    if (r > 0) {
        if (lcx_kv_dtype_parse(v, &o->kv_dtype)) {
            lcx_errf(err, LCX_EINPUT, "option --kv-dtype: unknown KV cache dtype '%s' (f32, bf16 "
                     "or f16)", v);
            return -1;
        }
        return 1;
    }
    if (r < 0)
        return r;
    r = lcx_arg_value(argc, argv, i, "--max-memory", &v, err);
    if (r <= 0)
        return r;
    if (!strcmp(v, "off")) {
        o->check_memory = 0;
        o->max_memory = 0;
        return 1;
    }
    lcx_err e = {0};
    if (lcx_bytes_parse(v, &o->max_memory, &e)) {
        lcx_errf(err, LCX_EINPUT, "option --max-memory: %s, or 'off'", e.msg);
        return -1;
    }
    o->check_memory = 1;
    return 1;
}

const char *lcx_engine_opts_usage(void)
{
    return "  --kv-dtype T            KV cache element type: f32 (default, exact), bf16 or f16\n"
           "                          (half the memory; attention still computed in F32)\n"
           "  --max-memory SIZE|off   refuse a session needing more than SIZE (24G, 512M)\n"
           "                          instead of more than MemAvailable; off: never refuse\n";
}

int lcx_engine_check_memory(const lcx_engine_opts *o, const lcx_model *m, int max_seq, int chunk,
                            char *line, size_t size, lcx_err *err)
{
    if (line && size)
        line[0] = '\0';
    lcx_session_opts so = {.chunk = chunk, .kv_dtype = o->kv_dtype};
    lcx_session_mem mem;
    int rc = lcx_session_mem_estimate(m, max_seq, &so, &mem, err);
    if (rc)
        return rc;
    size_t total = mem.weights + mem.kv_cache + mem.activations;
    char t[32], w[32], kv[32], act[32], have[32];
    lcx_bytes_format(total, t, sizeof t);
    lcx_bytes_format(mem.weights, w, sizeof w);
    lcx_bytes_format(mem.kv_cache, kv, sizeof kv);
    lcx_bytes_format(mem.activations, act, sizeof act);
    const char *dt = lcx_kv_dtype_name(o->kv_dtype);

    /* the budget: --max-memory, else MemAvailable; none with off or when
     * /proc/meminfo cannot say */
    size_t budget = 0;
    const char *source = NULL;
    char unknown[sizeof err->msg] = "";
    if (!o->check_memory) {
        source = NULL;
    } else if (o->max_memory) {
        budget = o->max_memory;
        source = "--max-memory";
    } else {
        lcx_err e = {0};
        if (lcx_meminfo_available(&budget, &e))
            memcpy(unknown, e.msg, sizeof unknown);
        else
            source = "MemAvailable";
    }
    if (source)
        lcx_bytes_format(budget, have, sizeof have);

    if (source && total > budget) {
        char hint[128] = "";
        if (o->kv_dtype == LCX_DT_F32) {
            lcx_session_opts half = so;
            half.kv_dtype = LCX_DT_BF16;
            lcx_session_mem hm;
            if (!lcx_session_mem_estimate(m, max_seq, &half, &hm, err)) {
                char ht[32];
                lcx_bytes_format(hm.weights + hm.kv_cache + hm.activations, ht, sizeof ht);
                snprintf(hint, sizeof hint, "--kv-dtype bf16 (needs %s), ", ht);
            }
        }
        return lcx_errf(err, LCX_EINPUT, "a %d-position session needs %s (weights %s + KV cache "
                        "%s %s + activations %s) but %s %s; try %sa shorter context, or "
                        "--max-memory off to run anyway", max_seq, t, w, kv, dt, act,
                        !strcmp(source, "MemAvailable") ? "MemAvailable is" : "--max-memory is",
                        have, hint);
    }
    if (line && size) {
        int n = snprintf(line, size, "memory: %s = weights %s + KV cache %s (%s, %d positions) + "
                         "activations %s; ", t, w, kv, dt, max_seq, act);
        if (n < 0 || (size_t)n >= size)
            return 0;
        if (source)
            snprintf(line + n, size - n, "%s %s (%s)", have,
                     o->max_memory ? "allowed" : "available", source);
        else if (!o->check_memory)
            snprintf(line + n, size - n, "not checked (--max-memory off)");
        else
            snprintf(line + n, size - n, "not checked (%s)", unknown);
    }
    return 0;
}

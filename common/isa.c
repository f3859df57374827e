/* isa.c: CPU feature detection (cpuid and xgetbv on x86-64) and the choice
 * of kernel variant (see isa.h). Nothing is cached: detection is a few
 * cpuid instructions, done when a model or trainer starts. */
#include "common/isa.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define LCX_X86 1
#endif
#if defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif

static const char *const isa_names[LCX_ISA_COUNT] = {"generic", "avx2", "avx512", "neon",
                                                            "amx"};

const char *lcx_isa_name(lcx_isa isa)
{
    return isa >= 0 && isa < LCX_ISA_COUNT ? isa_names[isa] : "unknown";
}

int lcx_isa_built(lcx_isa isa)
{
    switch (isa) {
    case LCX_ISA_GENERIC:
        return 1;
#if defined(__x86_64__)
    case LCX_ISA_AVX2:
    case LCX_ISA_AVX512:
    case LCX_ISA_AMX:
        return 1;
#endif
#if defined(__aarch64__)
    case LCX_ISA_NEON:
        return 1;
#endif
    default:
        return 0;
    }
}

#ifdef LCX_X86
typedef struct x86_features {
    int avx, avx2, fma, f16c, avx512f, avx512bw, avx512dq, avx512vl, ymm_os, zmm_os;
    int avx512bf16, amx_tile, amx_bf16, tile_os;
} x86_features;

static unsigned long long xgetbv0(void)
{
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static x86_features x86_detect(void)
{
    x86_features f;
    memset(&f, 0, sizeof f);
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return f;
    int osxsave = (c >> 27) & 1;
    f.avx = (c >> 28) & 1;
    f.fma = (c >> 12) & 1;
    f.f16c = (c >> 29) & 1;
    if (osxsave) {
        unsigned long long xcr0 = xgetbv0();
        f.ymm_os = (xcr0 & 0x6) == 0x6;    /* SSE and AVX state */
        f.zmm_os = (xcr0 & 0xe6) == 0xe6;  /* plus opmask and ZMM state */
        f.tile_os = (xcr0 & 0x60000) == 0x60000; /* XTILECFG and XTILEDATA */
    }
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        f.avx2 = (b >> 5) & 1;
        f.avx512f = (b >> 16) & 1;
        f.avx512dq = (b >> 17) & 1;
        f.avx512bw = (b >> 30) & 1;
        f.avx512vl = (b >> 31) & 1;
        f.amx_bf16 = (d >> 22) & 1;
        f.amx_tile = (d >> 24) & 1;
        if (a >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d))
            f.avx512bf16 = (a >> 5) & 1;
    }
    return f;
}
#endif

int lcx_isa_supported(lcx_isa isa)
{
    if (!lcx_isa_built(isa))
        return 0;
    switch (isa) {
    case LCX_ISA_GENERIC:
        return 1;
#ifdef LCX_X86
    case LCX_ISA_AVX2: {
        x86_features f = x86_detect();
        return f.avx && f.avx2 && f.fma && f.f16c && f.ymm_os;
    }
    case LCX_ISA_AVX512: {
        x86_features f = x86_detect();
        return f.avx && f.avx2 && f.fma && f.f16c && f.ymm_os && f.zmm_os && f.avx512f &&
               f.avx512bw && f.avx512dq && f.avx512vl;
    }
    case LCX_ISA_AMX: {
        x86_features f = x86_detect();
        if (!(f.avx && f.avx2 && f.fma && f.f16c && f.ymm_os && f.zmm_os && f.avx512f &&
              f.avx512bw && f.avx512dq && f.avx512vl && f.avx512bf16 && f.amx_tile &&
              f.amx_bf16 && f.tile_os))
            return 0;
#if defined(__x86_64__) && defined(__linux__)
        /* Linux hands out the 8 KiB tile state on request only
         * (ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18);
         * granting it again is a no-op. */
        return syscall(SYS_arch_prctl, 0x1023, 18) == 0;
#else
        return 0;
#endif
    }
#endif
    case LCX_ISA_NEON:
        return 1; /* Advanced SIMD is part of the aarch64 base */
    default:
        return 0;
    }
}

lcx_isa lcx_isa_best(void)
{
    static const lcx_isa order[] = {LCX_ISA_AMX, LCX_ISA_AVX512, LCX_ISA_AVX2, LCX_ISA_NEON};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (lcx_isa_supported(order[i]))
            return order[i];
    return LCX_ISA_GENERIC;
}

const char *lcx_isa_cpu_features(char *buf, int size)
{
    if (size <= 0)
        return buf;
    buf[0] = 0;
#ifdef LCX_X86
    x86_features f = x86_detect();
    snprintf(buf, (size_t)size, "x86-64%s%s%s%s%s%s%s%s%s%s%s", f.avx && f.ymm_os ? " avx" : "",
             f.avx2 ? " avx2" : "", f.fma ? " fma" : "", f.f16c ? " f16c" : "",
             f.avx512f && f.zmm_os ? " avx512f" : "", f.avx512bw ? " avx512bw" : "",
             f.avx512dq ? " avx512dq" : "", f.avx512vl ? " avx512vl" : "",
             f.avx512bf16 ? " avx512bf16" : "", f.amx_tile && f.tile_os ? " amx-tile" : "",
             f.amx_bf16 ? " amx-bf16" : "");
#elif defined(__aarch64__)
    snprintf(buf, (size_t)size, "aarch64 neon");
#else
    snprintf(buf, (size_t)size, "portable");
#endif
    return buf;
}

static int isa_choose(const char *request, const char *what, lcx_isa *out, lcx_err *err)
{
    if (!request || !*request || !strcmp(request, "auto")) {
        *out = lcx_isa_best();
        return 0;
    }
    for (int i = 0; i < LCX_ISA_COUNT; i++) {
        if (strcmp(request, isa_names[i]))
            continue;
        char feats[160];
        if (!lcx_isa_built((lcx_isa)i))
            return lcx_errf(err, LCX_EINPUT, "%s=%s: this build has no %s kernels (this CPU "
                            "runs %s)", what, request, request, lcx_isa_name(lcx_isa_best()));
        if (!lcx_isa_supported((lcx_isa)i))
            return lcx_errf(err, LCX_EINPUT, "%s=%s: this CPU cannot run the %s kernels (it "
                            "has: %s; best variant here: %s)", what, request, request,
                            lcx_isa_cpu_features(feats, sizeof feats),
                            lcx_isa_name(lcx_isa_best()));
        *out = (lcx_isa)i;
        return 0;
    }
    return lcx_errf(err, LCX_EINPUT, "%s=%s: unknown kernel variant (expected generic, avx2, "
                    "avx512, amx, neon or auto)", what, request);
}

int lcx_isa_choose(const char *request, lcx_isa *out, lcx_err *err)
{
    return isa_choose(request, "kernel variant", out, err);
}

int lcx_isa_from_env(lcx_isa *out, lcx_err *err)
{
    return isa_choose(getenv("LCX_ISA"), "LCX_ISA", out, err);
}

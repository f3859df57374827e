/* isa.h: the instruction sets lcx has kernel variants for, what this CPU
 * runs, and the choice between them.
 *
 * Every variant is compiled into one binary (each in its own translation
 * unit with its own target flags); one is picked at start-up from the CPU's
 * features, or forced with the environment variable LCX_ISA
 * (generic|avx2|avx512|amx|neon|auto). A forced variant this CPU cannot run,
 * or one this build does not have, is an error, never a silent fallback. */
#ifndef LCX_ISA_H
#define LCX_ISA_H

#include "common/err.h"

typedef enum lcx_isa {
    LCX_ISA_GENERIC = 0, /* portable C with 16-byte vectors, no FMA */
    LCX_ISA_AVX2,        /* x86-64: AVX2 + FMA + F16C */
    LCX_ISA_AVX512,      /* x86-64: AVX-512 F/BW/DQ/VL + the AVX2 set */
    LCX_ISA_NEON,        /* aarch64: Advanced SIMD with FMA */
    LCX_ISA_AMX,         /* x86-64: the avx512 set + AVX512-BF16 + AMX tiles (BF16),
                          * with the operating system's permission to use them */
    LCX_ISA_COUNT
} lcx_isa;

/* "generic", "avx2", "avx512", "neon", "amx". */
const char *lcx_isa_name(lcx_isa isa);

/* 1 when this build contains the variant (x86-64 builds have generic, avx2,
 * avx512 and amx; aarch64 builds generic and neon; others generic). */
int lcx_isa_built(lcx_isa isa);

/* 1 when this CPU (and its operating system, for the wider registers) can
 * run the variant. For amx this asks Linux for the tile state
 * (arch_prctl ARCH_REQ_XCOMP_PERM), once per process: after a 1 the whole
 * process may use the tiles. */
int lcx_isa_supported(lcx_isa isa);

/* The best variant that is built and supported. */
lcx_isa lcx_isa_best(void);

/* The variant for a request: NULL, "" or "auto" -> lcx_isa_best(); a name
 * -> that variant if built and supported, else LCX_EINPUT with a one-line
 * message saying why and what this CPU runs. */
int lcx_isa_choose(const char *request, lcx_isa *out, lcx_err *err);

/* lcx_isa_choose(getenv("LCX_ISA")), with the message naming LCX_ISA. */
int lcx_isa_from_env(lcx_isa *out, lcx_err *err);

/* The CPU's features that matter here, e.g. "avx2 fma f16c" (into buf). */
const char *lcx_isa_cpu_features(char *buf, int size);

#endif

/* ops_table.c: the trainer's op tables, one per kernel variant compiled
 * from train/ops.c (see ops.h). */
#include "train/ops.h"

#include <stddef.h>

extern const lcx_train_ops lcx_train_ops_generic;
#if defined(__x86_64__)
extern const lcx_train_ops lcx_train_ops_avx2;
extern const lcx_train_ops lcx_train_ops_avx512;
extern const lcx_train_ops lcx_train_ops_amx;
#endif
#if defined(__aarch64__)
extern const lcx_train_ops lcx_train_ops_neon;
#endif

const lcx_train_ops *lcx_train_ops_get(lcx_isa isa)
{
    switch (isa) {
    case LCX_ISA_GENERIC:
        return &lcx_train_ops_generic;
#if defined(__x86_64__)
    case LCX_ISA_AVX2:
        return &lcx_train_ops_avx2;
    case LCX_ISA_AVX512:
        return &lcx_train_ops_avx512;
    case LCX_ISA_AMX:
        return &lcx_train_ops_amx;
#endif
#if defined(__aarch64__)
    case LCX_ISA_NEON:
        return &lcx_train_ops_neon;
#endif
    default:
        return NULL;
    }
}

/* fuzz_config.c: libFuzzer target for config.json parsing (engine/config.c)
 * and the RoPE tables computed from it (rope/). Built by `make fuzz`. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/config.h"
#include "rope/rope.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lcx_config c;
    lcx_err err = {0};
    if (lcx_config_parse((const char *)data, size, "fuzz.json", &c, &err) == 0) {
        if (c.n_heads % c.n_kv_heads || c.head_dim <= 0 || c.dim <= 0)
            abort();
        int d = lcx_rope_rot_dim(&c.rope);
        if (d < 2 || d > c.head_dim || d % 2)
            abort();
        double *inv = malloc(sizeof(double) * (size_t)(d / 2)), mag;
        if (inv && lcx_rope_table(&c.rope, 100000, inv, &mag, &err) == 0) {
            for (int i = 0; i < d / 2; i++)
                if (isnan(inv[i]))
                    abort();
        }
        free(inv);
    }
    return 0;
}

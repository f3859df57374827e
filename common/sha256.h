/* sha256.h: SHA-256 (FIPS 180-4), for fingerprints in run.json. */
#ifndef LCX_SHA256_H
#define LCX_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

typedef struct lcx_sha256 {
    uint32_t h[8];
    uint64_t bytes;
    unsigned char buf[64];
    size_t used;
} lcx_sha256;

void lcx_sha256_init(lcx_sha256 *s);
void lcx_sha256_update(lcx_sha256 *s, const void *data, size_t len);
void lcx_sha256_final(lcx_sha256 *s, unsigned char out[32]);
/* Hex digest of a buffer / of a file's contents (hex: 65 bytes). */
void lcx_sha256_hex(const void *data, size_t len, char hex[65]);
int lcx_sha256_file(const char *path, char hex[65], lcx_err *err);

#endif

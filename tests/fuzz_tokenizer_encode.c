/* fuzz_tokenizer_encode.c: libFuzzer target: arbitrary bytes encoded and
 * decoded by the fixture tokenizers (the first byte picks one). Checks:
 * count equals the number of ids; decoding the ids, and decoding the input
 * read as ids, never crash; for the byte-per-token NFC fixtures, ASCII text
 * round-trips exactly. Run from the repository root (make fuzz does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer.h"

static const char *const FIXTURES[] = {
    "tests/fixtures/tokenizer/bytelevel.json", "tests/fixtures/tokenizer/metaspace.json",
    "tests/fixtures/tokenizer/metaspace_pretok.json", "tests/fixtures/tokenizer/split_regex.json",
    "tests/fixtures/tokenizer/nfc.json",
};
enum { N_FIXTURES = sizeof FIXTURES / sizeof FIXTURES[0] };

static lcx_tokenizer *fixture(size_t i)
{
    static lcx_tokenizer *loaded[N_FIXTURES]; /* loaded once per fuzzing process */
    if (!loaded[i]) {
        lcx_err err = {0};
        if (lcx_tokenizer_load(FIXTURES[i], &loaded[i], &err)) {
            fprintf(stderr, "fuzz_tokenizer_encode: %s\n", err.msg);
            abort();
        }
    }
    return loaded[i];
}

static int is_ascii(const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 0x80 || s[i] == 0)
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t which = data[0] % N_FIXTURES;
    const lcx_tokenizer *tok = fixture(which);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    int32_t *ids = NULL;
    size_t n = 0, out_len = 0;
    char *out = NULL;
    lcx_err err = {0};
    if (lcx_tokenizer_encode(tok, text, len, 0, &ids, &n, &err))
        abort();
    if (lcx_tokenizer_count(tok, text, len) != n)
        abort();
    if (lcx_tokenizer_decode(tok, ids, n, 0, &out, &out_len, &err))
        abort();
    if (which >= 3 && is_ascii(data + 1, len) && !memchr(text, '<', len) &&
        (out_len != len || memcmp(out, text, len) != 0))
        abort(); /* byte vocabulary + ByteLevel: ASCII must round-trip */
    free(out);
    free(ids);
    /* the input itself as a list of ids */
    size_t n_raw = len / 4;
    int32_t *raw = malloc((n_raw + 1) * sizeof *raw);
    if (!raw)
        return 0;
    for (size_t i = 0; i < n_raw; i++) {
        uint32_t v;
        memcpy(&v, text + 4 * i, 4);
        raw[i] = (int32_t)(v % 600);
    }
    if (lcx_tokenizer_decode(tok, raw, n_raw, data[0] & 1, &out, &out_len, &err))
        abort();
    free(out);
    free(raw);
    return 0;
}

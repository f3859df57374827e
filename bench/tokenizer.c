/* tokenizer.c: single-threaded encode speed of tokenizer/.
 *   tokenizer TOKENIZER_JSON TEXT_FILE [ROUNDS] [paragraphs]
 * Prints the best of ROUNDS (default 5) as MB/s and tokens, and the first
 * round alone (the word cache cold): the whole text as
 * one string, or with "paragraphs" each piece between blank lines ("\n\n")
 * encoded on its own (the separators are not encoded). Without
 * arguments it says how to run it (bench/tokenizer.sh runs it against the
 * Hugging Face reference on the same text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/fsio.h"
#include "tokenizer/tokenizer.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Encode text whole, or paragraph by paragraph; returns the token count or -1. */
static long encode_all(const lcx_tokenizer *tok, const char *text, size_t len, int paragraphs, lcx_err *err)
{
    long total = 0;
    size_t pos = 0;
    while (pos <= len) {
        const char *end = paragraphs ? memmem(text + pos, len - pos, "\n\n", 2) : NULL;
        size_t n = end ? (size_t)(end - (text + pos)) : len - pos;
        int32_t *ids;
        size_t count;
        if (lcx_tokenizer_encode(tok, text + pos, n, 0, &ids, &count, err))
            return -1;
        free(ids);
        total += (long)count;
        pos += n + 2;
    }
    return total;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        printf("tokenizer: usage: tokenizer TOKENIZER_JSON TEXT_FILE [ROUNDS] (bench/tokenizer.sh runs it)\n");
        return 0;
    }
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    int paragraphs = argc > 4 && !strcmp(argv[4], "paragraphs");
    lcx_err err = {0};
    lcx_tokenizer *tok;
    char *text;
    size_t len;
    double t0 = now_seconds();
    if (lcx_tokenizer_load(argv[1], &tok, &err)) {
        fprintf(stderr, "tokenizer: %s\n", err.msg);
        return 2;
    }
    double load = now_seconds() - t0;
    if (lcx_read_file(argv[2], &text, &len, &err)) {
        fprintf(stderr, "tokenizer: %s\n", err.msg);
        lcx_tokenizer_free(tok);
        return 2;
    }
    double best = 1e30, first = 0;
    long n = 0;
    for (int r = 0; r < rounds; r++) {
        t0 = now_seconds();
        if ((n = encode_all(tok, text, len, paragraphs, &err)) < 0) {
            fprintf(stderr, "tokenizer: %s\n", err.msg);
            return 2;
        }
        double dt = now_seconds() - t0;
        if (r == 0)
            first = dt;
        if (dt < best)
            best = dt;
    }
    printf("lcx %.2f MB/s (%zu bytes -> %ld tokens, %s, best of %d: %.4f s; first round %.2f MB/s; "
           "load %.3f s)\n", (double)len / best / 1e6, len, n, paragraphs ? "paragraphs" : "one string", rounds,
           best, (double)len / first / 1e6, load);
    free(text);
    lcx_tokenizer_free(tok);
    return 0;
}

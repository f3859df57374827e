/* lcx_vocab: learn a byte-level BPE vocabulary and write its tokenizer.json.
 *
 *   lcx_vocab OUT.json [--merges N] [--samples N] [--seed S] [--text FILE] [--dump-text FILE]
 *
 * Without --text the training text comes from the RULER generators
 * (lcx_vocab_sample_text: all 13 tasks at 512 and 1024 bytes, training
 * seeds). --dump-text writes that text out for inspection. Prints one line:
 * merges learnt, vocabulary size, text size and the time taken. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/progress.h"
#include "tasks/tasks.h"
#include "train/vocab.h"

static int usage(void)
{
    fprintf(stderr, "usage: lcx_vocab OUT.json [--merges N] [--samples N] [--seed S] [--text FILE] "
                    "[--dump-text FILE]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-')
        return usage();
    const char *out = argv[1], *text_file = NULL, *dump = NULL;
    size_t merges = 2000;
    lcx_vocab_text_opts o = {0};
    for (int i = 2; i < argc; i++) {
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "--merges"))
            merges = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--samples"))
            o.samples = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed"))
            o.seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--text"))
            text_file = argv[++i];
        else if (!strcmp(argv[i], "--dump-text"))
            dump = argv[++i];
        else
            return usage();
    }
    lcx_err err = {0};
    char *text = NULL;
    size_t len = 0;
    double t0 = lcx_now();
    int rc;
    if (text_file) {
        rc = lcx_read_file(text_file, &text, &len, &err);
    } else {
        lcx_data_opts dopts = {NULL, NULL, NULL, 4096};
        lcx_task_data *data = NULL;
        rc = lcx_task_data_load(&dopts, &data, &err);
        if (!rc)
            rc = lcx_vocab_sample_text(data, &o, &text, &len, &err);
        lcx_task_data_free(data);
    }
    if (!rc && dump)
        rc = lcx_write_file_atomic(dump, text, len, &err);
    double t1 = lcx_now();
    lcx_vocab *v = NULL;
    if (!rc)
        rc = lcx_vocab_learn(text, len, merges, &v, &err);
    double t2 = lcx_now();
    if (!rc)
        rc = lcx_vocab_save(v, out, &err);
    if (rc) {
        fprintf(stderr, "lcx_vocab: %s\n", err.msg);
        free(text);
        lcx_vocab_free(v);
        return 2;
    }
    printf("%s: %zu merges, %zu tokens (+2 special), text %zu bytes (%.2f s), "
           "learnt in %.2f s (%.0f merges/s)\n",
           out, lcx_vocab_merge_count(v), lcx_vocab_size(v), len, t1 - t0, t2 - t1,
           (double)lcx_vocab_merge_count(v) / (t2 - t1 > 0 ? t2 - t1 : 1e-9));
    free(text);
    lcx_vocab_free(v);
    return 0;
}

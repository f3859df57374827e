/* test_train_vocab.c: byte-level BPE learning and the tokenizer.json it
 * writes (train/vocab.c). */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "common/rng.h"
#include "tokenizer/tokenizer.h"
#include "tasks/tasks.h"
#include "train/vocab.h"

static lcx_vocab *learn_str(const char *text, size_t n_merges)
{
    lcx_vocab *v = NULL;
    lcx_err err = {0};
    if (lcx_vocab_learn(text, strlen(text), n_merges, &v, &err))
        fprintf(stderr, "learn: %s\n", err.msg);
    return v;
}

/* Worked out by hand. Words (GPT-2 regex): "aab" x1, " aab" x2, " ab" x1.
 * Pairs: (a,b) 4, (a,a) 3, (Ġ,a) 3 -> merge "a b".
 * Then: (a,ab) 3, (Ġ,a) 2, (Ġ,ab) 1 -> "a ab".
 * Then: (Ġ,aab) 2, (Ġ,ab) 1 -> "Ġ aab", then "Ġ ab", then nothing is left. */
TEST(first_merges_of_a_tiny_corpus)
{
    lcx_vocab *v = learn_str("aab aab aab ab", 10);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_INT(lcx_vocab_merge_count(v), 4);
    CHECK_STR(lcx_vocab_merge(v, 0), "a b");
    CHECK_STR(lcx_vocab_merge(v, 1), "a ab");
    CHECK_STR(lcx_vocab_merge(v, 2), "Ġ aab");
    CHECK_STR(lcx_vocab_merge(v, 3), "Ġ ab");
    CHECK(lcx_vocab_merge(v, 4) == NULL);
    CHECK_INT(lcx_vocab_size(v), 256 + 4);
    lcx_vocab_free(v);
}

/* Ties go to the smallest (left, right) as raw bytes: ' ' (0x20) < 'x' < 'z'.
 * Words "xy", " zw": all pairs count 1 -> "Ġ z", then " z" < "x" -> "Ġz w",
 * then "x y". */
TEST(ties_break_by_raw_bytes)
{
    lcx_vocab *v = learn_str("xy zw", 10);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_INT(lcx_vocab_merge_count(v), 3);
    CHECK_STR(lcx_vocab_merge(v, 0), "Ġ z");
    CHECK_STR(lcx_vocab_merge(v, 1), "Ġz w");
    CHECK_STR(lcx_vocab_merge(v, 2), "x y");
    lcx_vocab_free(v);
}

/* Overlapping pairs: "aaaa" x1 -> (a,a) counts 3 but merges as [aa, aa],
 * after which (aa,aa) counts 1. */
TEST(overlapping_pairs)
{
    lcx_vocab *v = learn_str("aaaa", 10);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_INT(lcx_vocab_merge_count(v), 2);
    CHECK_STR(lcx_vocab_merge(v, 0), "a a");
    CHECK_STR(lcx_vocab_merge(v, 1), "aa aa");
    lcx_vocab_free(v);
}

TEST(rejects_invalid_utf8)
{
    lcx_vocab *v = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_vocab_learn("ab\xff", 3, 10, &v, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "byte 2") != NULL);
    CHECK(v == NULL);
}

/* No merges: the 256 bytes and the specials still make a working tokenizer;
 * an unwritable path is an error naming it. */
TEST(zero_merges_and_unwritable_path)
{
    lcx_vocab *v = learn_str("hello", 0);
    CHECK(v != NULL);
    if (!v)
        return;
    CHECK_INT(lcx_vocab_merge_count(v), 0);
    char *json = NULL;
    size_t len = 0;
    lcx_err err = {0};
    lcx_tokenizer *tok = NULL;
    CHECK_INT(lcx_vocab_json(v, &json, &len, &err), 0);
    CHECK_INT(lcx_tokenizer_load_json(json, len, "zero", &tok, &err), 0);
    if (tok) {
        int32_t *ids = NULL;
        size_t n = 0;
        CHECK_INT(lcx_tokenizer_encode(tok, "hé", 3, 0, &ids, &n, &err), 0);
        CHECK_INT(n, 3);
        free(ids);
        CHECK_INT(lcx_tokenizer_vocab_size(tok), 258);
    }
    lcx_tokenizer_free(tok);
    free(json);
    CHECK_INT(lcx_vocab_save(v, "/nonexistent-dir/tokenizer.json", &err), LCX_EIO);
    CHECK(strstr(err.msg, "/nonexistent-dir/tokenizer.json") != NULL);
    lcx_vocab_free(v);
}

static lcx_task_data *task_data(void)
{
    lcx_task_data *data = NULL;
    lcx_data_opts o = {NULL, NULL, NULL, 4096};
    lcx_err err = {0};
    if (lcx_task_data_load(&o, &data, &err))
        fprintf(stderr, "task data: %s\n", err.msg);
    return data;
}

/* The RULER text and its 2000-merge vocabulary, shared by the tests below. */
static char *ruler_text;
static size_t ruler_len;
static lcx_vocab *ruler_vocab;
static char tmpdir[] = "/tmp/lcx-test-vocab-XXXXXX";
static char json_path[128];

TEST(sample_text_covers_every_task)
{
    lcx_task_data *data = task_data();
    lcx_err err = {0};
    CHECK(data != NULL);
    if (!data)
        return;
    lcx_vocab_text_opts bad = {.seed = 42};
    char *t = NULL;
    size_t n = 0;
    CHECK_INT(lcx_vocab_sample_text(data, &bad, &t, &n, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "evaluation range") != NULL);
    int rc = lcx_vocab_sample_text(data, NULL, &ruler_text, &ruler_len, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    lcx_task_data_free(data);
    if (rc)
        return;
    CHECK(ruler_len > 500000);
    CHECK(strstr(ruler_text, "special magic number") != NULL);   /* niah */
    CHECK(strstr(ruler_text, "VAR ") != NULL);                    /* vt */
    CHECK(strstr(ruler_text, "most common words") != NULL);       /* cwe */
    CHECK(strstr(ruler_text, "coded text") != NULL);              /* fwe */
    CHECK(strstr(ruler_text, "Answer the question") != NULL);     /* qa */
}

TEST(learns_2000_merges_deterministically)
{
    if (!ruler_text)
        return;
    lcx_err err = {0};
    lcx_vocab *a = NULL, *b = NULL;
    CHECK_INT(lcx_vocab_learn(ruler_text, ruler_len, 2000, &a, &err), 0);
    CHECK_INT(lcx_vocab_learn(ruler_text, ruler_len, 2000, &b, &err), 0);
    if (!a || !b) {
        lcx_vocab_free(a);
        lcx_vocab_free(b);
        return;
    }
    CHECK_INT(lcx_vocab_merge_count(a), 2000);
    char *ja, *jb;
    size_t na, nb;
    CHECK_INT(lcx_vocab_json(a, &ja, &na, &err), 0);
    CHECK_INT(lcx_vocab_json(b, &jb, &nb, &err), 0);
    CHECK(na == nb && memcmp(ja, jb, na) == 0);
    CHECK(mkdtemp(tmpdir) != NULL);
    snprintf(json_path, sizeof json_path, "%s/tokenizer.json", tmpdir);
    CHECK_INT(lcx_vocab_save(a, json_path, &err), 0);
    char *file;
    size_t nf;
    CHECK_INT(lcx_read_file(json_path, &file, &nf, &err), 0);
    CHECK(nf == na && memcmp(file, ja, na) == 0);
    free(file);
    free(ja);
    free(jb);
    lcx_vocab_free(b);
    ruler_vocab = a;
}

/* Random valid UTF-8: ASCII, whitespace runs, Latin-1, CJK, emoji, controls. */
static size_t random_text(lcx_rng *r, char *buf, size_t max_chars)
{
    static const uint32_t ranges[][2] = {{0x20, 0x7E},     {0x09, 0x0D},      {0x20, 0x20},
                                         {0xA0, 0x24F},    {0x4E00, 0x4F00},  {0x1F600, 0x1F64F},
                                         {0x00, 0x1F},     {0x0300, 0x036F}};
    size_t n = 0, chars = 1 + lcx_rng_below(r, max_chars);
    for (size_t k = 0; k < chars; k++) {
        const uint32_t *rg = ranges[lcx_rng_below(r, sizeof ranges / sizeof *ranges)];
        uint32_t cp = rg[0] + (uint32_t)lcx_rng_below(r, rg[1] - rg[0] + 1);
        if (cp < 0x80) {
            buf[n++] = (char)cp;
        } else if (cp < 0x800) {
            buf[n++] = (char)(0xC0 | (cp >> 6));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[n++] = (char)(0xE0 | (cp >> 12));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | (cp >> 18));
            buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    buf[n] = 0;
    return n;
}

static int round_trips(const lcx_tokenizer *tok, const char *text, size_t len, int add_special)
{
    int32_t *ids = NULL;
    size_t n = 0, dn = 0;
    char *dec = NULL;
    lcx_err err = {0};
    int ok = lcx_tokenizer_encode(tok, text, len, add_special, &ids, &n, &err) == 0 &&
             lcx_tokenizer_decode(tok, ids, n, 1, &dec, &dn, &err) == 0 && dn == len &&
             memcmp(dec, text, len) == 0;
    if (add_special)
        ok = ok && n > 0 && ids[0] == lcx_tokenizer_token_id(tok, LCX_VOCAB_EOS);
    free(ids);
    free(dec);
    return ok;
}

TEST(tokenizer_json_loads_and_round_trips)
{
    if (!ruler_vocab)
        return;
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    int rc = lcx_tokenizer_load(json_path, &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc)
        return;
    CHECK_INT(lcx_tokenizer_vocab_size(tok), lcx_vocab_size(ruler_vocab) + 2);
    int32_t eos = lcx_tokenizer_token_id(tok, LCX_VOCAB_EOS);
    int32_t pad = lcx_tokenizer_token_id(tok, LCX_VOCAB_PAD);
    CHECK_INT(eos, (int64_t)lcx_vocab_size(ruler_vocab));
    CHECK_INT(pad, eos + 1);
    CHECK(lcx_tokenizer_is_special(tok, eos) && lcx_tokenizer_is_special(tok, pad));
    CHECK_INT(lcx_tokenizer_bos_id(tok), eos);
    CHECK_INT(lcx_tokenizer_token_id(tok, "Ġ"), 220); /* GPT-2's id of the space */

    lcx_rng r;
    lcx_rng_seed(&r, 7);
    char buf[64 * 4 + 1];
    int failures = 0;
    for (int k = 0; k < 2000; k++) {
        size_t len = random_text(&r, buf, 64);
        failures += !round_trips(tok, buf, len, k & 1);
    }
    CHECK_INT(failures, 0);
    /* a slice of the training text, and specials written in the text */
    CHECK(round_trips(tok, ruler_text, 20000, 0));
    const char *with_special = "a<|endoftext|>b <|pad|>";
    int32_t *ids = NULL;
    size_t n = 0;
    CHECK_INT(lcx_tokenizer_encode(tok, with_special, strlen(with_special), 0, &ids, &n, &err), 0);
    CHECK_INT(n, 5); /* a, <|endoftext|>, b, Ġ, <|pad|> */
    if (n == 5) {
        CHECK_INT(ids[1], eos);
        CHECK_INT(ids[4], pad);
    }
    free(ids);
    lcx_tokenizer_free(tok);
}

static size_t count(const lcx_tokenizer *tok, const char *s)
{
    return lcx_tokenizer_count(tok, s, strlen(s));
}

/* The RULER keys become few tokens. Figures for 2000 merges are printed. */
TEST(ruler_keys_are_few_tokens)
{
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    if (!ruler_vocab || lcx_tokenizer_load(json_path, &tok, &err))
        return;
    size_t phrase = count(tok, " special magic number");
    const char *sentence = "One of the special magic numbers for bright-river is: 4817302.";
    size_t sent = count(tok, sentence);
    lcx_rng r;
    lcx_rng_seed(&r, 11);
    size_t digits = 0, n_numbers = 200;
    char num[16];
    for (size_t k = 0; k < n_numbers; k++) {
        snprintf(num, sizeof num, " %07llu", (unsigned long long)(1000000 + lcx_rng_below(&r, 9000000)));
        digits += count(tok, num);
    }
    printf("     2000 merges: \" special magic number\" %zu tokens; needle sentence %zu tokens (%zu bytes); "
           "7-digit number %.2f tokens on average\n",
           phrase, sent, strlen(sentence), (double)digits / (double)n_numbers);
    CHECK(phrase <= 3);
    CHECK(sent <= 20);
    CHECK((double)digits / (double)n_numbers <= 5.0);
    lcx_tokenizer_free(tok);
}

int main(void)
{
    RUN(first_merges_of_a_tiny_corpus);
    RUN(ties_break_by_raw_bytes);
    RUN(overlapping_pairs);
    RUN(rejects_invalid_utf8);
    RUN(zero_merges_and_unwritable_path);
    RUN(sample_text_covers_every_task);
    RUN(learns_2000_merges_deterministically);
    RUN(tokenizer_json_loads_and_round_trips);
    RUN(ruler_keys_are_few_tokens);
    lcx_vocab_free(ruler_vocab);
    free(ruler_text);
    if (json_path[0]) {
        unlink(json_path);
        rmdir(tmpdir);
    }
    return check_summary();
}

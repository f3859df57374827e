/* test_tokenizer.c: tokenizer/ on small tokenizer.json fixtures
 * (tests/fixtures/tokenizer/). Expected ids were worked out by hand and
 * checked against Hugging Face tokenizers 0.22 (@anush008/tokenizers). */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "tokenizer/tokenizer.h"

#define FIX "tests/fixtures/tokenizer/"

static lcx_tokenizer *load(const char *path)
{
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    int rc = lcx_tokenizer_load(path, &tok, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    return tok;
}

/* Encode text and compare with want[0..n). */
static void check_ids(const lcx_tokenizer *tok, const char *text, int add_special, const int32_t *want,
                      size_t n)
{
    int32_t *ids = NULL;
    size_t got = 0;
    lcx_err err = {0};
    int rc = lcx_tokenizer_encode(tok, text, strlen(text), add_special, &ids, &got, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    CHECK_MSG(got == n, "\"%s\": %zu ids, want %zu", text, got, n);
    for (size_t i = 0; i < n && i < got; i++)
        CHECK_MSG(ids[i] == want[i], "\"%s\": id %zu is %d, want %d", text, i, ids[i], want[i]);
    if (!add_special)
        CHECK_INT(lcx_tokenizer_count(tok, text, strlen(text)), n);
    free(ids);
}

#define IDS(...) ((const int32_t[]){__VA_ARGS__}), sizeof((const int32_t[]){__VA_ARGS__}) / sizeof(int32_t)

static void check_decode(const lcx_tokenizer *tok, const int32_t *ids, size_t n, int skip, const char *want)
{
    char *text = NULL;
    size_t len = 0;
    lcx_err err = {0};
    CHECK_MSG(lcx_tokenizer_decode(tok, ids, n, skip, &text, &len, &err) == 0, "%s", err.msg);
    CHECK_STR(text, want);
    CHECK_INT(len, strlen(want));
    free(text);
}

TEST(bytelevel_bpe_merges_words)
{
    lcx_tokenizer *tok = load(FIX "bytelevel.json");
    if (!tok)
        return;
    /* "hello" merges h e -> he, l l -> ll, ll o -> llo, he llo -> hello */
    check_ids(tok, "hello world's\n", 0, IDS(11, 16, 19, 20));
    check_ids(tok, "hellx", 0, IDS(8, 9)); /* x is not in the vocabulary and there is no unk */
    check_ids(tok, "", 0, NULL, 0);
    CHECK_INT(lcx_tokenizer_vocab_size(tok), 26);
    CHECK_INT(lcx_tokenizer_token_id(tok, "Ġworld"), 16);
    CHECK_INT(lcx_tokenizer_token_id(tok, "<|end|>"), 22);
    CHECK_INT(lcx_tokenizer_token_id(tok, "nope"), -1);
    CHECK_STR(lcx_tokenizer_id_token(tok, 14), "Ġwor");
    lcx_tokenizer_free(tok);
}

TEST(added_tokens_lstrip_rstrip_single_word)
{
    lcx_tokenizer *tok = load(FIX "bytelevel.json");
    if (!tok)
        return;
    check_ids(tok, "hello<|end|>", 0, IDS(11, 22));
    /* [MASK] has lstrip and rstrip: the spaces around it go with it */
    check_ids(tok, "hello  [MASK]  world", 0, IDS(11, 23, 5, 13, 15));
    /* "yo" is single_word: only where no word character touches it */
    check_ids(tok, "yo hello", 0, IDS(24, 4, 11));
    check_ids(tok, "x yo", 0, IDS(4, 24));
    check_ids(tok, "hyo", 0, IDS(0, 3));
    check_ids(tok, "yo_", 0, IDS(3));
    lcx_tokenizer_free(tok);
}

TEST(template_processing_adds_bos_only_when_asked)
{
    lcx_tokenizer *tok = load(FIX "bytelevel.json");
    if (!tok)
        return;
    check_ids(tok, "hello", 1, IDS(25, 11, 22));
    check_ids(tok, "hello", 0, IDS(11));
    CHECK_INT(lcx_tokenizer_bos_id(tok), 25);
    CHECK(lcx_tokenizer_is_special(tok, 25));
    CHECK(!lcx_tokenizer_is_special(tok, 23));
    lcx_tokenizer_free(tok);
}

TEST(bytelevel_decode)
{
    lcx_tokenizer *tok = load(FIX "bytelevel.json");
    if (!tok)
        return;
    check_decode(tok, IDS(11, 16, 19, 20), 0, "hello world's\n");
    check_decode(tok, IDS(25, 11, 22), 0, "<s>hello<|end|>");
    check_decode(tok, IDS(25, 11, 22), 1, "hello");
    /* a lone UTF-8 lead byte decodes to U+FFFD, as from_utf8_lossy */
    check_decode(tok, IDS(21), 0, "\xEF\xBF\xBD");
    check_decode(tok, IDS(21, 11), 0, "\xEF\xBF\xBDhello");
    check_decode(tok, IDS(9999, 11), 0, "hello"); /* unknown ids are dropped */
    lcx_tokenizer_free(tok);
}

TEST(metaspace_normalizer_byte_fallback_and_unk)
{
    lcx_tokenizer *tok = load(FIX "metaspace.json");
    if (!tok)
        return;
    /* "▁hi▁hi\né": \n and é are not tokens, so they fall back to bytes */
    check_ids(tok, "hi hi\n\xC3\xA9", 0, IDS(11, 11, 3, 4, 5));
    check_ids(tok, "hi hi\n\xC3\xA9", 1, IDS(1, 11, 11, 3, 4, 5));
    /* z has no byte token either: unk, and fuse_unk joins the two */
    check_ids(tok, "hizz", 0, IDS(11, 0));
    /* Prepend applies to each piece between added tokens */
    check_ids(tok, "hi<s>hi", 0, IDS(11, 1, 11));
    check_ids(tok, " hi", 0, IDS(6, 11));
    lcx_tokenizer_free(tok);
}

TEST(metaspace_decode_strip_and_byte_fallback)
{
    lcx_tokenizer *tok = load(FIX "metaspace.json");
    if (!tok)
        return;
    check_decode(tok, IDS(1, 11, 11, 3, 4, 5), 0, "<s> hi hi\n\xC3\xA9");
    check_decode(tok, IDS(1, 11, 11, 3, 4, 5), 1, "hi hi\n\xC3\xA9");
    check_decode(tok, IDS(4), 0, "\xEF\xBF\xBD"); /* <0xC3> alone is not UTF-8 */
    check_decode(tok, IDS(11, 0), 0, "hi<unk>");
    lcx_tokenizer_free(tok);
}

TEST(metaspace_pretokenizer_prepend_first_and_split)
{
    lcx_tokenizer *tok = load(FIX "metaspace_pretok.json");
    if (!tok)
        return;
    /* prepend_scheme first: only the piece at the start of the input */
    check_ids(tok, "hi<s>hi", 0, IDS(11, 1, 10));
    check_ids(tok, "hi hi", 0, IDS(11, 11));
    check_ids(tok, " hi", 0, IDS(11));
    check_ids(tok, "hi  hi", 0, IDS(11, 6, 11));
    check_decode(tok, IDS(11, 6, 11), 0, "hihi");
    lcx_tokenizer_free(tok);
}

TEST(nfc_normalizer)
{
    lcx_tokenizer *tok = load(FIX "nfc.json");
    if (!tok)
        return;
    /* the vocabulary is one token per byte, plus the merge of é */
    check_ids(tok, "e\xCC\x81", 0, IDS(256));                  /* e + U+0301 -> U+00E9 */
    check_ids(tok, "A\xCC\x8A", 0, IDS(195, 133));              /* A + ring -> U+00C5 */
    check_ids(tok, "\xE2\x84\xAB", 0, IDS(195, 133));           /* U+212B (singleton) -> U+00C5 */
    check_ids(tok, "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8", 0, IDS(234, 176, 129)); /* jamo -> U+AC01 */
    check_ids(tok, "q\xCC\x87\xCC\xA3", 0, IDS(113, 204, 163, 204, 135));          /* reordered marks */
    check_ids(tok, "\xE0\xA5\x98", 0, IDS(224, 164, 149, 224, 164, 188));          /* excluded: stays decomposed */
    check_decode(tok, IDS(113, 204, 163, 204, 135), 0, "q\xCC\xA3\xCC\x87");
    lcx_tokenizer_free(tok);
}

/* ---- Split behaviours, on a tiny vocabulary where merges show the cuts ---- */

static const char *SPLIT_TEMPLATE =
    "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"-\": 2, \"a-\": 3, \"-b\": 4, "
    "\"a-b\": 5, \"ab\": 6}, \"merges\": [\"a -\", \"- b\", \"a- b\", \"a b\"]}, "
    "\"pre_tokenizer\": %s}";

static lcx_tokenizer *split_tokenizer(const char *pre_tokenizer)
{
    char json[1024];
    snprintf(json, sizeof json, SPLIT_TEMPLATE, pre_tokenizer);
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    CHECK_MSG(lcx_tokenizer_load_json(json, strlen(json), "split", &tok, &err) == 0, "%s", err.msg);
    return tok;
}

static void check_split(const char *pre_tokenizer, const char *text, const int32_t *want, size_t n)
{
    lcx_tokenizer *tok = split_tokenizer(pre_tokenizer);
    if (!tok)
        return;
    check_ids(tok, text, 0, want, n);
    lcx_tokenizer_free(tok);
}

#define SPLIT(behavior, invert) \
    "{\"type\": \"Split\", \"pattern\": {\"String\": \"-\"}, \"behavior\": \"" behavior "\", \"invert\": " invert "}"

TEST(split_behaviors)
{
    check_split("null", "a-b", IDS(5));
    check_split(SPLIT("Removed", "false"), "a-b", IDS(0, 1));
    check_split(SPLIT("Isolated", "false"), "a-b", IDS(0, 2, 1));
    check_split(SPLIT("MergedWithPrevious", "false"), "a-b", IDS(3, 1));
    check_split(SPLIT("MergedWithNext", "false"), "a-b", IDS(0, 4));
    check_split(SPLIT("Contiguous", "false"), "a--b", IDS(0, 2, 2, 1));
    check_split(SPLIT("Removed", "true"), "a-b", IDS(2));
    check_split(SPLIT("MergedWithPrevious", "true"), "a-b", IDS(0, 4));
    check_split("{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", \"pattern\": "
                "{\"Regex\": \"\\\\s+(?!\\\\S)|\\\\s+\"}, \"behavior\": \"Removed\", \"invert\": false}]}",
                "ab a-b", IDS(6, 5));
}

TEST(continuing_subword_prefix_and_end_of_word_suffix)
{
    static const char json[] =
        "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"##b\": 1, \"##c</w>\": 2, \"ab\": 3, "
        "\"abc</w>\": 4, \"a</w>\": 5, \"<unk>\": 6}, \"merges\": [\"a ##b\", \"ab ##c</w>\"], "
        "\"continuing_subword_prefix\": \"##\", \"end_of_word_suffix\": \"</w>\", \"unk_token\": \"<unk>\"}, "
        "\"pre_tokenizer\": {\"type\": \"WhitespaceSplit\"}}";
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    CHECK_MSG(lcx_tokenizer_load_json(json, strlen(json), "subword", &tok, &err) == 0, "%s", err.msg);
    if (!tok)
        return;
    /* a ##b -> ab (the prefix of the right part is dropped), ab ##c</w> -> abc</w> */
    check_ids(tok, "abc a ba abx", 0, IDS(4, 5, 6, 6, 3, 6));
    lcx_tokenizer_free(tok);
}

/* ---- bad input: one-line errors naming the file and the field ---- */

static void check_load_error(const char *json, const char *field)
{
    char path[] = "/tmp/lcx-test-tokenizer-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return;
    FILE *fp = fdopen(fd, "w");
    fputs(json, fp);
    fclose(fp);
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    int rc = lcx_tokenizer_load(path, &tok, &err);
    CHECK_MSG(rc == LCX_EINPUT, "%s: rc %d (%s)", json, rc, err.msg);
    CHECK(tok == NULL);
    CHECK_MSG(strstr(err.msg, path) != NULL, "message does not name the file: %s", err.msg);
    CHECK_MSG(strstr(err.msg, field) != NULL, "message does not name %s: %s", field, err.msg);
    CHECK(strchr(err.msg, '\n') == NULL);
    unlink(path);
}

#define VOCAB "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}"

TEST(bad_tokenizer_json_is_an_error)
{
    check_load_error("{\"model\": {", "invalid JSON");
    check_load_error("[1, 2]", "JSON object");
    check_load_error("{}", "model");
    check_load_error("{\"model\": {\"type\": \"Unigram\", \"vocab\": []}}", "model.type");
    check_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {}, \"merges\": []}}", "model.vocab");
    check_load_error("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}}}", "model.vocab");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"a c\"]}}", "model.merges[0]");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB ", \"merges\": [\"ab\"]}}", "model.merges[0]");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"pre_tokenizer\": {\"type\": \"Bert\"}}",
                     "pre_tokenizer.type");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"pre_tokenizer\": {\"type\": \"Split\", "
                     "\"pattern\": {\"Regex\": \"(unclosed\"}, \"behavior\": \"Isolated\"}}",
                     "pre_tokenizer(Split).pattern");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"pre_tokenizer\": {\"type\": \"Split\", "
                     "\"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\"}}",
                     "behavior");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"normalizer\": {\"type\": \"NFKC\"}}",
                     "normalizer.type");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"decoder\": {\"type\": \"CTC\"}}", "decoder.type");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"added_tokens\": [{\"id\": 3}]}",
                     "added_tokens[0].content");
    check_load_error("{\"model\": {\"type\": \"BPE\", " VOCAB "}, \"post_processor\": {\"type\": "
                     "\"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": \"<s>\"}}], "
                     "\"special_tokens\": {}}}",
                     "post_processor.special_tokens");
}

TEST(missing_file_is_an_error)
{
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    CHECK(lcx_tokenizer_load("tests/fixtures/tokenizer/no-such-file.json", &tok, &err) != 0);
    CHECK(strstr(err.msg, "no-such-file.json") != NULL);
    CHECK(lcx_tokenizer_load("tests/fixtures/tokenizer", &tok, &err) != 0); /* a directory without one */
    CHECK(strstr(err.msg, "tokenizer.json") != NULL);
}

TEST(invalid_utf8_reads_as_replacement_character)
{
    lcx_tokenizer *tok = load(FIX "nfc.json");
    if (!tok)
        return;
    /* "a", a stray continuation byte, a truncated 3-byte sequence, "b" ->
     * a U+FFFD U+FFFD b, each U+FFFD as its three bytes EF BF BD */
    check_ids(tok, "a\x80\xE2\x82" "b", 0, IDS(97, 239, 191, 189, 239, 191, 189, 98));
    CHECK_INT(lcx_tokenizer_invalid_utf8_at("ab\xC3", 3), 2);
    CHECK_INT(lcx_tokenizer_invalid_utf8_at("ab\xC3\xA9", 4), 4);
    lcx_tokenizer_free(tok);
}

TEST(count_is_thread_safe)
{
    lcx_tokenizer *tok = load(FIX "bytelevel.json");
    if (!tok)
        return;
    char text[4096];
    size_t len = 0, want[3];
    static const char *const words[] = {"hello", " world", "'s", "\n", " hello", "  [MASK] ", "yo "};
    for (int i = 0; len + 16 < sizeof text; i++)
        len += (size_t)sprintf(text + len, "%s", words[(i * 7 + i / 3) % 7]);
    for (int k = 0; k < 3; k++)
        want[k] = lcx_tokenizer_count(tok, text, len - 100 * (size_t)k);
    lcx_tokenizer_free(tok);
    /* a fresh tokenizer: its shared word cache is cold, so threads race to fill it */
    if (!(tok = load(FIX "bytelevel.json")))
        return;
    int mismatches = 0;
#pragma omp parallel for num_threads(4) reduction(+ : mismatches)
    for (int i = 0; i < 64; i++)
        mismatches += lcx_tokenizer_count(tok, text, len - 100 * (size_t)(i % 3)) != want[i % 3];
    CHECK_INT(mismatches, 0);
    CHECK(want[0] > 500);
    lcx_tokenizer_free(tok);
}

int main(void)
{
    RUN(bytelevel_bpe_merges_words);
    RUN(added_tokens_lstrip_rstrip_single_word);
    RUN(template_processing_adds_bos_only_when_asked);
    RUN(bytelevel_decode);
    RUN(metaspace_normalizer_byte_fallback_and_unk);
    RUN(metaspace_decode_strip_and_byte_fallback);
    RUN(metaspace_pretokenizer_prepend_first_and_split);
    RUN(nfc_normalizer);
    RUN(split_behaviors);
    RUN(continuing_subword_prefix_and_end_of_word_suffix);
    RUN(bad_tokenizer_json_is_an_error);
    RUN(missing_file_is_an_error);
    RUN(invalid_utf8_reads_as_replacement_character);
    RUN(count_is_thread_safe);
    return check_summary();
}

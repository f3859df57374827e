/* lcx_rulerconf: check `lcx gen` output against RULER's prompt strings.
 *
 *   lcx_rulerconf DIR TEMPLATE
 *
 * For every DIR/<length>/<task>.jsonl record, rebuilds the prompt the way
 * RULER's generators do (NVIDIA/RULER main c3f5e3b: scripts/data/template.py,
 * scripts/data/synthetic/constants.py and the five generator scripts),
 * from this file's own copy of RULER's strings and rules, and compares it
 * byte for byte with the record's input + answer_prefix. Nothing here comes
 * from lcx's generators (tasks/): the random parts of a sample (its context,
 * keys, values, words, example) are read back from the record, checked
 * against RULER's rules for them (needle sentence, noise sentence, joins,
 * numbering, repeats, the zeta law, the example's layout), rebuilt from the
 * parsed pieces with RULER's joins, and the whole prompt is formatted again:
 *   model_template.format(task_template=T) + answer_prefix, singularised for
 *   niah when queries x values == 1, then .format(context=..., query=...).
 * The answer prefix must be RULER's split: everything from the last
 * occurrence of the first 10 characters of the task's answer prefix.
 *
 * Prints one line per file and a summary; exit 0 when every record matches,
 * 1 otherwise, 2 on bad usage. */
#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

/* ---- RULER's strings ---------------------------------------------------- */

static const struct {
    const char *name, *ruler, *format;
} MODEL[] = {
    {"base", "base", "{task_template}"},
    {"chatml", NULL, "<|im_start|>user\n{task_template}<|im_end|>\n<|im_start|>assistant\n"},
    {"meta-chat", "meta-chat", "[INST] {task_template} [/INST]"},
    {"vicuna-chat", "vicuna-chat",
     "A chat between a curious user and an artificial intelligence assistant. The assistant gives "
     "helpful, detailed, and polite answers to the user's questions. USER: {task_template} ASSISTANT:"},
    {"lwm-chat", "lwm-chat", "You are a helpful assistant. USER: {task_template} ASSISTANT: "},
    {"command-r", "command-r-chat",
     "<BOS_TOKEN><|START_OF_TURN_TOKEN|><|USER_TOKEN|>{task_template}<|END_OF_TURN_TOKEN|>"
     "<|START_OF_TURN_TOKEN|><|CHATBOT_TOKEN|>"},
    {"chatglm", "chatglm-chat", "[gMASK]sop<|user|> \n {task_template}<|assistant|> \n "},
    {"rwkv", "RWKV",
     "User: hi\n\nAssistant: Hi. I am your assistant and I will provide expert full response in "
     "full details. Please feel free to ask any question and I will always answer it\n\nUser: "
     "{task_template}\n\nAssistant:"},
    {"phi3", "Phi3", "<|user|>\n{task_template}<|end|>\n<|assistant|>\n"},
    {"llama3", "meta-llama3",
     "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n{task_template}<|eot_id|>"
     "<|start_header_id|>assistant<|end_header_id|>\n\n"},
    {"jamba", "jamba",
     "<|startoftext|><|bom|><|system|> <|eom|><|bom|><|user|> {task_template}<|eom|><|bom|>"
     "<|assistant|>"},
    {"nemotron5", "nemotron5-instruct",
     "<SPECIAL_10>System\n\n<SPECIAL_11>User\n{task_template}\n<SPECIAL_11>Assistant\n"},
};

static const char NIAH_T[] =
    "Some special magic {type_needle_v} are hidden within the following text. Make sure to "
    "memorize it. I will quiz you about the {type_needle_v} afterwards.\n{context}\nWhat are all "
    "the special magic {type_needle_v} for {query} mentioned in the provided text?";
static const char NIAH_AP[] =
    " The special magic {type_needle_v} for {query} mentioned in the provided text are";
static const char VT_T[] =
    "Memorize and track the chain(s) of variable assignment hidden in the following text.\n\n"
    "{context}\nQuestion: Find all variables that are assigned the value {query} in the text above.";
static const char VT_AP[] =
    " Answer: According to the chain(s) of variable assignment in the text above, {num_v} "
    "variables are assigned the value {query}, they are: ";
static const char CWE_T[] =
    "Below is a numbered list of words. In these words, some appear more often than others. "
    "Memorize the ones that appear most often.\n{context}\nQuestion: What are the 10 most common "
    "words in the above list?";
static const char CWE_AP[] = " Answer: The top 10 words that appear most often in the list are:";
static const char FWE_T[] =
    "Read the following coded text and track the frequency of each coded word. Find the three "
    "most frequently appeared coded words. {context}\nQuestion: Do not provide any explanation. "
    "Please ignore the dots '....'. What are the three most frequently appeared words in the "
    "above coded text?";
static const char FWE_AP[] =
    " Answer: According to the coded text above, the three most frequently appeared words are:";
static const char QA_T[] =
    "Answer the question based on the given documents. Only give me the answer and do not output "
    "any other words.\n\nThe following are given documents.\n\n{context}\n\nAnswer the question "
    "based on the given documents. Only give me the answer and do not output any other "
    "words.\n\nQuestion: {query}";
static const char QA_AP[] = " Answer:";
static const char NEEDLE[] = "One of the special magic {type_needle_v} for {key} is: {value}.";
static const char NOISE[] =
    "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again.";

/* synthetic.yaml: the niah rows (haystack, key type, value type, k, v, q). */
static const struct {
    const char *task, *haystack, *ktype, *vtype;
    int k, v, q;
} NIAH[] = {
    {"niah_single_1", "noise", "words", "numbers", 1, 1, 1},
    {"niah_single_2", "essay", "words", "numbers", 1, 1, 1},
    {"niah_single_3", "essay", "words", "uuids", 1, 1, 1},
    {"niah_multikey_1", "essay", "words", "numbers", 4, 1, 1},
    {"niah_multikey_2", "needle", "words", "numbers", 1, 1, 1},
    {"niah_multikey_3", "needle", "uuids", "uuids", 1, 1, 1},
    {"niah_multivalue", "essay", "words", "numbers", 1, 4, 1},
    {"niah_multiquery", "essay", "words", "numbers", 1, 1, 4},
};

/* ---- small helpers ---------------------------------------------------- */

static char why[1024];

static int fail(const char *fmt, const char *a)
{
    snprintf(why, sizeof why, fmt, a ? a : "");
    return -1;
}

/* Python's str.replace(from, to) on s. */
static char *replace_all(const char *s, const char *from, const char *to)
{
    strbuf b;
    sb_init(&b);
    size_t n = strlen(from);
    for (const char *p = s;;) {
        const char *q = strstr(p, from);
        if (!q) {
            sb_puts(&b, p);
            break;
        }
        sb_append(&b, p, (size_t)(q - p));
        sb_puts(&b, to);
        p = q + n;
    }
    return sb_take(&b);
}

/* Python's str.format with named fields only ({name}); names not given are
 * an error in Python, so they must all be given here. */
static int pyformat(strbuf *out, const char *tmpl, const char *const *names,
                    const char *const *values, int n)
{
    for (const char *p = tmpl; *p;) {
        if (*p != '{') {
            sb_putc(out, *p++);
            continue;
        }
        const char *close = strchr(p, '}');
        int k = 0;
        while (close && k < n &&
               !(strlen(names[k]) == (size_t)(close - p - 1) && !strncmp(p + 1, names[k], (size_t)(close - p - 1))))
            k++;
        if (!close || k == n)
            return fail("template field not given: %s", p);
        sb_puts(out, values[k]);
        p = close + 1;
    }
    return 0;
}

/* Match s against a template with {name} fields; repeated names must match
 * the same text. Returns 1 and fills caps (malloc'd) on a match. */
typedef struct capture {
    const char *name;
    size_t name_len;
    const char *at;
    size_t len;
} capture;

static int match_rec(const char *t, const char *s, const char *end, capture *caps, int *ncaps)
{
    while (*t && *t != '{') {
        if (s >= end || *s != *t)
            return 0;
        s++;
        t++;
    }
    if (!*t)
        return s == end;
    const char *close = strchr(t, '}');
    size_t nl = (size_t)(close - t - 1);
    for (int i = 0; i < *ncaps; i++)
        if (caps[i].name_len == nl && !strncmp(caps[i].name, t + 1, nl)) {
            if ((size_t)(end - s) < caps[i].len || memcmp(s, caps[i].at, caps[i].len))
                return 0;
            return match_rec(close + 1, s + caps[i].len, end, caps, ncaps);
        }
    /* The literal that follows the field (up to the next field). */
    const char *lit = close + 1;
    size_t ll = strcspn(lit, "{");
    int me = (*ncaps)++;
    caps[me].name = t + 1;
    caps[me].name_len = nl;
    caps[me].at = s;
    for (const char *c = s; c <= end; c++) {
        if (ll) {
            c = memmem(c, (size_t)(end - c), lit, ll);
            if (!c)
                break;
        } else if (!lit[0]) {
            c = end; /* the field runs to the end */
        }
        caps[me].len = (size_t)(c - s);
        int saved = *ncaps;
        if (match_rec(close + 1, c, end, caps, ncaps))
            return 1;
        *ncaps = saved;
    }
    (*ncaps)--;
    return 0;
}

static char *cap_dup(const capture *caps, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strlen(name) == caps[i].name_len && !strncmp(caps[i].name, name, caps[i].name_len))
            return strndup(caps[i].at, caps[i].len);
    return strdup("");
}

/* Split s on sep; returns the pieces (malloc'd, NULL-terminated). */
static char **split(const char *s, const char *sep, size_t *n)
{
    size_t cap = 16, k = 0, sl = strlen(sep);
    char **v = malloc(cap * sizeof *v);
    for (const char *p = s;;) {
        const char *q = strstr(p, sep);
        if (k + 2 > cap)
            v = realloc(v, (cap *= 2) * sizeof *v);
        v[k++] = q ? strndup(p, (size_t)(q - p)) : strdup(p);
        if (!q)
            break;
        p = q + sl;
    }
    v[k] = NULL;
    *n = k;
    return v;
}

static void free_split(char **v)
{
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

static char *join(char **v, size_t n, const char *sep)
{
    strbuf b;
    sb_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sb_puts(&b, sep);
        sb_puts(&b, v[i]);
    }
    return sb_take(&b);
}

static int all_of(const char *s, const char *set, size_t len)
{
    if (strlen(s) != len)
        return 0;
    for (; *s; s++)
        if (!strchr(set, *s))
            return 0;
    return 1;
}

static int is_uuid4(const char *s)
{
    if (strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !strchr("0123456789abcdef", s[i]))
            return 0;
    }
    return s[14] == '4' && strchr("89ab", s[19]) != NULL;
}

static int is_word_key(const char *s)
{
    /* adjective-noun: lower-case letters around at least one hyphen */
    if (!*s || !strchr(s, '-') || s[0] == '-' || s[strlen(s) - 1] == '-')
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && *s != '-')
            return 0;
    return 1;
}

static int valid_of(const char *type, const char *s)
{
    if (!strcmp(type, "numbers"))
        return all_of(s, "0123456789", 7) && s[0] != '0';
    if (!strcmp(type, "uuids"))
        return is_uuid4(s);
    return is_word_key(s);
}

/* ---- one record ------------------------------------------------------- */

typedef struct rec {
    const char *task;
    size_t max_length;
    const char *input, *answer_prefix;
    char **outputs;
    size_t n_outputs;
    const char *mpre_tmpl; /* model template */
} rec;

/* "a, b, c, and d" -> items (RULER's query join). */
static char **parse_query(const char *q, int n, size_t *got)
{
    if (n == 1) {
        char **v = malloc(2 * sizeof *v);
        v[0] = strdup(q);
        v[1] = NULL;
        *got = 1;
        return v;
    }
    const char *last = NULL;
    for (const char *p = strstr(q, ", and "); p; p = strstr(p + 1, ", and "))
        last = p;
    if (!last) {
        *got = 0;
        return NULL;
    }
    char *head = strndup(q, (size_t)(last - q));
    char **v = split(head, ", ", got);
    free(head);
    v = realloc(v, (*got + 2) * sizeof *v);
    v[(*got)++] = strdup(last + 6);
    v[*got] = NULL;
    return v;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* niah: returns the rebuilt context in *ctx_out. */
static int check_niah(const rec *r, int ti, const char *context, const char *query, char **ctx_out)
{
    int k = NIAH[ti].k > NIAH[ti].q ? NIAH[ti].k : NIAH[ti].q, v = NIAH[ti].v, q = NIAH[ti].q;
    size_t nq;
    char **keys = parse_query(query, q, &nq);
    if ((int)nq != q) {
        free_split(keys);
        return fail("query '%s' is not RULER's join of the queries", query);
    }
    char *rejoined = nq > 1 ? NULL : strdup(keys[0]);
    if (nq > 1) {
        char *head = join(keys, nq - 1, ", ");
        strbuf b;
        sb_init(&b);
        sb_printf(&b, "%s, and %s", head, keys[nq - 1]);
        free(head);
        rejoined = sb_take(&b);
    }
    int bad = strcmp(rejoined, query) != 0;
    free(rejoined);
    for (size_t i = 0; i < nq && !bad; i++)
        bad = !valid_of(NIAH[ti].ktype, keys[i]);
    if (bad) {
        free_split(keys);
        return fail("bad query keys: %s", query);
    }
    /* Needle sentences: type_needle_v stays plural inside needles. */
    const char *type = NIAH[ti].vtype;
    char **found_vals = calloc((size_t)(q * v) + 1, sizeof(char *));
    size_t nfound = 0, needles = 0;
    int rc = 0;
    char *head = replace_all(NEEDLE, "{type_needle_v}", type);
    char *pre = strndup(head, (size_t)(strstr(head, "{key}") - head));
    const char *is = " is: ";
    if (!strcmp(NIAH[ti].haystack, "essay")) {
        /* Sentences joined with " "; needles are whole sentences among them. */
        *ctx_out = strdup(context);
        for (const char *p = strstr(context, pre); p; p = strstr(p + 1, pre)) {
            if (p != context && p[-1] != ' ') {
                rc = fail("a needle not at a sentence boundary: %.60s", p);
                break;
            }
            const char *key = p + strlen(pre), *mid = strstr(key, is);
            const char *dot = mid ? strchr(mid + strlen(is), '.') : NULL;
            if (!mid || !dot || (dot[1] && dot[1] != ' ')) {
                rc = fail("malformed needle: %.80s", p);
                break;
            }
            char *kk = strndup(key, (size_t)(mid - key));
            char *vv = strndup(mid + strlen(is), (size_t)(dot - mid - strlen(is)));
            needles++;
            for (size_t i = 0; i < nq; i++)
                if (!strcmp(kk, keys[i]) && nfound < (size_t)(q * v))
                    found_vals[nfound++] = strdup(vv);
            if (!valid_of(type, vv))
                rc = fail("bad needle value: %s", vv);
            free(kk);
            free(vv);
        }
        if (!rc && (int)needles != k * v)
            rc = fail("wrong number of needles in the essay%s", "");
    } else {
        size_t nl;
        char **lines = split(context, "\n", &nl);
        for (size_t i = 0; i < nl && !rc; i++) {
            if (!strcmp(lines[i], NOISE) && !strcmp(NIAH[ti].haystack, "noise"))
                continue;
            const char *L = lines[i];
            if (strncmp(L, pre, strlen(pre))) {
                rc = fail("line is neither the noise sentence nor a needle: %.80s", L);
                break;
            }
            const char *key = L + strlen(pre), *mid = strstr(key, is);
            if (!mid || L[strlen(L) - 1] != '.') {
                rc = fail("malformed needle line: %.80s", L);
                break;
            }
            char *kk = strndup(key, (size_t)(mid - key));
            char *vv = strndup(mid + strlen(is), strlen(mid + strlen(is)) - 1);
            /* rebuild the line with RULER's needle format */
            strbuf b;
            sb_init(&b);
            const char *nn[] = {"type_needle_v", "key", "value"}, *vals[] = {type, kk, vv};
            pyformat(&b, NEEDLE, nn, vals, 3);
            if (strcmp(sb_str(&b), L))
                rc = fail("needle line differs from RULER's format: %.80s", L);
            sb_free(&b);
            if (!valid_of(NIAH[ti].ktype, kk) || !valid_of(type, vv))
                rc = fail("bad key or value in: %.80s", L);
            needles++;
            for (size_t j = 0; j < nq; j++)
                if (!strcmp(kk, keys[j]) && nfound < (size_t)(q * v))
                    found_vals[nfound++] = strdup(vv);
            free(kk);
            free(vv);
        }
        if (!rc && !strcmp(NIAH[ti].haystack, "noise") && (int)needles != k * v)
            rc = fail("wrong number of needle lines%s", "");
        *ctx_out = join(lines, nl, "\n");
        free_split(lines);
    }
    /* The answers: every value of the queried keys. */
    if (!rc && (nfound != r->n_outputs || nfound != (size_t)(q * v)))
        rc = fail("the queried keys' needles do not give the outputs%s", "");
    if (!rc) {
        char **o = malloc(r->n_outputs * sizeof *o);
        memcpy(o, r->outputs, r->n_outputs * sizeof *o);
        qsort(o, r->n_outputs, sizeof *o, cmp_str);
        qsort(found_vals, nfound, sizeof *found_vals, cmp_str);
        for (size_t i = 0; i < nfound && !rc; i++)
            if (strcmp(o[i], found_vals[i]))
                rc = fail("output %s is not a value of a queried key", o[i]);
        free(o);
    }
    for (size_t i = 0; i < nfound; i++)
        free(found_vals[i]);
    free(found_vals);
    free(head);
    free(pre);
    free_split(keys);
    return rc;
}

/* vt context: lines joined with "\n", each the noise sentence or a chain
 * line, the chain in order. names: letters per name. */
static int check_vt_context(const char *context, const char *value, int letters, char **names,
                            char **ctx_out)
{
    size_t nl;
    char **lines = split(context, "\n", &nl);
    int nchain = 0, rc = 0;
    size_t noise = 0;
    for (size_t i = 0; i < nl && !rc; i++) {
        if (!strcmp(lines[i], NOISE)) {
            noise++;
            continue;
        }
        char a[16], b[16];
        strbuf want;
        sb_init(&want);
        if (nchain == 0 && sscanf(lines[i], "VAR %15s = %15s", a, b) == 2) {
            sb_printf(&want, "VAR %s = %s", a, value);
        } else if (nchain > 0 && nchain < 5 && sscanf(lines[i], "VAR %15s = VAR %15s", a, b) == 2) {
            sb_printf(&want, "VAR %s = VAR %s ", a, names[nchain - 1]);
        } else {
            sb_free(&want);
            rc = fail("vt line is neither noise nor the next chain line: %.80s", lines[i]);
            break;
        }
        if (strcmp(sb_str(&want), lines[i]) || !all_of(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", (size_t)letters))
            rc = fail("vt chain line differs from RULER's: %.80s", lines[i]);
        names[nchain++] = strdup(a);
        sb_free(&want);
    }
    if (!rc && (nchain != 5 || noise < 5))
        rc = fail("vt: the chain is not 5 lines among at least 5 noise lines%s", "");
    /* RULER: "\n".join(sentences).replace(". \n", ".\n") */
    char *j = join(lines, nl, "\n");
    *ctx_out = replace_all(j, ". \n", ".\n");
    free(j);
    free_split(lines);
    return rc;
}

/* cwe list "1. w 2. w ...": words and their counts; rebuilt in *out. */
static int parse_list(const char *ctx, char ***words_out, size_t *n_out, char **out)
{
    size_t cap = 64, n = 0;
    char **w = malloc(cap * sizeof *w);
    const char *p = ctx;
    strbuf b;
    sb_init(&b);
    int rc = 0;
    while (*p) {
        char num[32];
        snprintf(num, sizeof num, "%zu. ", n + 1);
        if (strncmp(p, num, strlen(num))) {
            rc = fail("cwe list numbering broken at: %.40s", p);
            break;
        }
        p += strlen(num);
        char want[32];
        snprintf(want, sizeof want, " %zu. ", n + 2);
        const char *q = strstr(p, want);
        const char *e = q ? q : p + strlen(p);
        if (n + 1 >= cap)
            w = realloc(w, (cap *= 2) * sizeof *w);
        w[n++] = strndup(p, (size_t)(e - p));
        p = q ? q + 1 : e;
    }
    for (size_t i = 0; i < n; i++)
        sb_printf(&b, "%s%zu. %s", i ? " " : "", i + 1, w[i]);
    *out = sb_take(&b);
    *words_out = w;
    *n_out = n;
    return rc;
}

/* Distinct words with counts; common = the words seen `common` times. */
static int check_counts(char **w, size_t n, int common, int uncommon, int num_cw, char **outputs,
                        size_t n_out, const char *what)
{
    char **s = malloc((n ? n : 1) * sizeof *s);
    memcpy(s, w, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_str);
    int rc = 0, ncommon = 0;
    for (size_t i = 0; i < n && !rc;) {
        size_t j = i;
        while (j < n && !strcmp(s[j], s[i]))
            j++;
        int c = (int)(j - i);
        if (c == common) {
            ncommon++;
            int listed = 0;
            for (size_t k = 0; k < n_out; k++)
                listed |= !strcmp(outputs[k], s[i]);
            if (!listed)
                rc = fail("cwe: a common word is not in the answer: %s", what);
        } else if (c != uncommon) {
            rc = fail("cwe: a word repeated neither the common nor the uncommon number of times (%s)", what);
        }
        i = j;
    }
    if (!rc && (ncommon != num_cw || n_out != (size_t)num_cw))
        rc = fail("cwe: not 10 common words (%s)", what);
    free(s);
    return rc;
}

static const double ZETA2 = 1.6449340668482264;

/* fwe: "..." the most frequent; outputs = ranks 2-4; counts follow
 * int(N k^-2 / zeta(2)) for one N. */
static int check_fwe(const rec *r, const char *context)
{
    size_t n;
    char **w = split(context, " ", &n);
    char **s = malloc(n * sizeof *s);
    memcpy(s, w, n * sizeof *s);
    qsort(s, n, sizeof *s, cmp_str);
    typedef struct {
        const char *w;
        size_t c;
    } wc;
    wc *d = calloc(n, sizeof *d);
    size_t nd = 0;
    int rc = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && !strcmp(s[j], s[i]))
            j++;
        if (strcmp(s[i], "...") && !all_of(s[i], "abcdefghijklmnopqrstuvwxyz", 6))
            rc = fail("fwe: not a 6-letter coded word: %s", s[i]);
        d[nd].w = s[i];
        d[nd++].c = j - i;
        i = j;
    }
    /* sort by count, descending */
    for (size_t i = 1; i < nd; i++)
        for (size_t j = i; j > 0 && d[j].c > d[j - 1].c; j--) {
            wc t = d[j];
            d[j] = d[j - 1];
            d[j - 1] = t;
        }
    if (!rc && (nd < 4 || strcmp(d[0].w, "...") || d[0].c == d[1].c))
        rc = fail("fwe: the noise word '...' (three dots) is not the most frequent%s", "");
    for (size_t i = 0; i < 3 && !rc; i++) {
        int ok = 0;
        for (size_t k = 1; k < nd; k++)
            if (d[k].c == d[i + 1].c && !strcmp(d[k].w, r->outputs[i]))
                ok = 1;
        if (!ok || r->n_outputs != 3)
            rc = fail("fwe: output %s is not the rank 2-4 word", r->outputs[i]);
    }
    /* one N for every count */
    if (!rc) {
        int good = 0;
        for (double N = floor((double)d[0].c * ZETA2); N <= ceil(((double)d[0].c + 1) * ZETA2) && !good; N++) {
            good = 1;
            for (size_t k = 0; k < nd && good; k++)
                good = (size_t)(N * (1.0 / ((double)(k + 1) * (double)(k + 1))) / ZETA2) == d[k].c;
        }
        if (!good)
            rc = fail("fwe: counts do not follow int(N k^-2 / zeta(2))%s", "");
    }
    size_t vocab = (r->max_length - 50) / 50;
    if (!rc && nd > vocab)
        rc = fail("fwe: more coded words than the vocabulary (length - 50) // 50%s", "");
    free(d);
    free(s);
    free_split(w);
    return rc;
}

static int check_qa(const char *context, char **ctx_out)
{
    /* "Document {i}:\n{document}" joined with "\n\n", i = 1.. */
    strbuf b;
    sb_init(&b);
    const char *p = context;
    int i = 1, rc = 0;
    while (*p) {
        char head[64];
        snprintf(head, sizeof head, "Document %d:\n", i);
        if (strncmp(p, head, strlen(head))) {
            rc = fail("qa: document numbering broken at: %.40s", p);
            break;
        }
        p += strlen(head);
        char next[64];
        snprintf(next, sizeof next, "\n\nDocument %d:\n", i + 1);
        const char *q = strstr(p, next);
        const char *e = q ? q : p + strlen(p);
        char *doc = strndup(p, (size_t)(e - p));
        /* a document never holds another's header */
        for (const char *h = strstr(doc, "Document "); h && !rc; h = strstr(h + 1, "Document ")) {
            const char *dg = h + 9;
            while (isdigit((unsigned char)*dg))
                dg++;
            if (dg > h + 9 && dg[0] == ':' && dg[1] == '\n')
                rc = fail("qa: documents not joined with a blank line near: %.40s", h);
        }
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        const char *nn[] = {"i", "document"}, *vv[] = {num, doc};
        if (i > 1)
            sb_puts(&b, "\n\n");
        pyformat(&b, "Document {i}:\n{document}", nn, vv, 2);
        free(doc);
        p = q ? q + 2 : e;
        i++;
    }
    *ctx_out = sb_take(&b);
    return rc;
}

static int check_record(const rec *r)
{
    const char *task = r->task;
    strbuf full, W;
    sb_init(&full);
    sb_init(&W);
    sb_puts(&full, r->input);
    sb_puts(&full, r->answer_prefix);
    const char *T, *AP;
    int ti = -1;
    for (int i = 0; i < 8; i++)
        if (!strcmp(task, NIAH[i].task))
            ti = i;
    if (ti >= 0) {
        T = NIAH_T;
        AP = NIAH_AP;
    } else if (!strcmp(task, "vt")) {
        T = VT_T;
        AP = VT_AP;
    } else if (!strcmp(task, "cwe")) {
        T = CWE_T;
        AP = CWE_AP;
    } else if (!strcmp(task, "fwe")) {
        T = FWE_T;
        AP = FWE_AP;
    } else if (!strcmp(task, "qa_1") || !strcmp(task, "qa_2")) {
        T = QA_T;
        AP = QA_AP;
    } else {
        return fail("unknown task %s", task);
    }
    /* RULER's split: from the last occurrence of AP[:10]. */
    char ap10[11];
    size_t ap_n = strlen(AP) < 10 ? strlen(AP) : 10; /* Python's AP[:10] */
    memcpy(ap10, AP, ap_n);
    ap10[ap_n] = '\0';
    const char *last = NULL;
    for (const char *p = strstr(sb_str(&full), ap10); p; p = strstr(p + 1, ap10))
        last = p;
    if (!last || strcmp(last, r->answer_prefix))
        return fail("the answer prefix is not RULER's split (from the last '%s')", ap10);

    /* config['template'] = model_template.format(task_template=T) + AP */
    const char *nn[] = {"task_template"}, *vv[] = {T};
    sb_clear(&W);
    {
        strbuf m;
        sb_init(&m);
        /* format only {task_template}: the task's own fields stay */
        const char *mt = r->mpre_tmpl, *at = strstr(mt, "{task_template}");
        sb_append(&m, mt, (size_t)(at - mt));
        sb_puts(&m, vv[0]);
        sb_puts(&m, at + strlen("{task_template}"));
        (void)nn;
        sb_puts(&m, AP);
        sb_puts(&W, sb_str(&m));
        sb_free(&m);
    }
    char *whole = strdup(sb_str(&W));
    const char *type = ti >= 0 ? NIAH[ti].vtype : "";
    char type_s[16];
    if (ti >= 0 && NIAH[ti].q * NIAH[ti].v == 1) {
        static const char *const rules[][2] = {
            {"Some", "A"}, {"are all", "is"}, {"are", "is"}, {"answers", "answer"}};
        for (int i = 0; i < 4; i++) {
            char *t = replace_all(whole, rules[i][0], rules[i][1]);
            free(whole);
            whole = t;
        }
        snprintf(type_s, sizeof type_s, "%.*s", (int)strlen(type) - 1, type); /* [:-1] */
        type = type_s;
    }

    /* The pattern: known fields filled, unknown ones left as fields. */
    strbuf pat;
    sb_init(&pat);
    if (!strcmp(task, "vt")) {
        /* model prefix + example + "\n" + task: the example is T + AP (no
         * model template), " " + its answer, "\n" (RULER's icl_example). */
        const char *mt = strstr(whole, T);
        sb_append(&pat, whole, (size_t)(mt - whole));
        char *ex = replace_all(VT_T, "{context}", "{ex_context}");
        char *ex2 = replace_all(ex, "{query}", "{ex_value}");
        char *ap = replace_all(VT_AP, "{query}", "{ex_value}");
        char *ap2 = replace_all(ap, "{num_v}", "5");
        sb_printf(&pat, "%s%s {ex_answer}\n\n", ex2, ap2);
        char *rest = replace_all(mt, "{num_v}", "5");
        sb_puts(&pat, rest);
        free(ex);
        free(ex2);
        free(ap);
        free(ap2);
        free(rest);
    } else if (!strcmp(task, "cwe")) {
        char *ex = replace_all(whole, "{context}", "{ex_context}");
        sb_printf(&pat, "%s {ex_answer}\n%s", ex, whole);
        free(ex);
    } else if (ti >= 0) {
        char *t = replace_all(whole, "{type_needle_v}", type);
        sb_puts(&pat, t);
        free(t);
    } else {
        sb_puts(&pat, whole);
    }
    capture caps[16];
    int ncaps = 0;
    int rc = 0;
    if (!match_rec(sb_str(&pat), sb_str(&full), sb_str(&full) + full.len, caps, &ncaps))
        rc = fail("the prompt does not follow RULER's template%s", "");
    char *context = rc ? NULL : cap_dup(caps, ncaps, "context");
    char *query = rc ? NULL : cap_dup(caps, ncaps, "query");
    char *rebuilt_ctx = NULL;
    strbuf expect;
    sb_init(&expect);
    if (!rc && ti >= 0) {
        rc = check_niah(r, ti, context, query, &rebuilt_ctx);
        const char *n2[] = {"type_needle_v", "context", "query"}, *v2[] = {type, rebuilt_ctx, query};
        if (!rc)
            rc = pyformat(&expect, whole, n2, v2, 3);
    } else if (!rc && !strcmp(task, "vt")) {
        char *ex_ctx = cap_dup(caps, ncaps, "ex_context"), *ex_val = cap_dup(caps, ncaps, "ex_value");
        char *ex_ans = cap_dup(caps, ncaps, "ex_answer");
        char *names[5] = {0}, *ex_names[5] = {0}, *ex_rebuilt = NULL;
        rc = check_vt_context(context, query, 5, names, &rebuilt_ctx);
        if (!rc && !all_of(query, "0123456789", 5))
            rc = fail("vt: the value is not 5 digits: %s", query);
        for (size_t i = 0; i < 5 && !rc; i++)
            if (r->n_outputs != 5 || strcmp(r->outputs[i], names[i]))
                rc = fail("vt: outputs are not the chain's variables%s", "");
        if (!rc)
            rc = check_vt_context(ex_ctx, ex_val, 3, ex_names, &ex_rebuilt);
        if (!rc && !all_of(ex_val, "0123456789", 5))
            rc = fail("vt example: the value is not 5 digits: %s", ex_val);
        if (!rc) {
            char *want = join(ex_names, 5, " ");
            if (strcmp(want, ex_ans))
                rc = fail("vt example: its answer is not its chain: %s", ex_ans);
            free(want);
        }
        if (!rc) {
            /* Rebuild: model prefix + (T + AP).format(ex) + " " + answer +
             * "\n" + "\n" + rest of the whole template formatted. */
            const char *mt = strstr(whole, T);
            sb_append(&expect, whole, (size_t)(mt - whole));
            strbuf exs;
            sb_init(&exs);
            sb_puts(&exs, VT_T);
            sb_puts(&exs, VT_AP);
            const char *n3[] = {"context", "query", "num_v"}, *v3[] = {ex_rebuilt, ex_val, "5"};
            pyformat(&expect, sb_str(&exs), n3, v3, 3);
            sb_printf(&expect, " %s\n\n", ex_ans);
            const char *v4[] = {rebuilt_ctx, query, "5"};
            strbuf tail;
            sb_init(&tail);
            sb_puts(&tail, mt);
            /* the model template's prefix was before T: only T.. is formatted */
            rc = pyformat(&expect, sb_str(&tail), n3, v4, 3);
            sb_free(&tail);
            sb_free(&exs);
        }
        for (int i = 0; i < 5; i++) {
            free(names[i]);
            free(ex_names[i]);
        }
        free(ex_rebuilt);
        free(ex_ctx);
        free(ex_val);
        free(ex_ans);
    } else if (!rc && !strcmp(task, "cwe")) {
        char *ex_ctx = cap_dup(caps, ncaps, "ex_context"), *ex_ans = cap_dup(caps, ncaps, "ex_answer");
        char **w = NULL, **ew = NULL, *ex_rebuilt = NULL;
        size_t n = 0, en = 0;
        rc = parse_list(context, &w, &n, &rebuilt_ctx);
        if (!rc)
            rc = parse_list(ex_ctx, &ew, &en, &ex_rebuilt);
        /* RULER: below 4096, 6/1 and an example of 20 words 3/1; else 30/3
         * and 40 words 10/3. (lcx also uses the small regime when the
         * standard one cannot fit; docs/ruler.md.) */
        int small = en == 10 * 3 + 10 * 1; /* 20 words: 10 x 3 + 10 x 1 entries */
        if (!rc && r->max_length < 4096 && !small)
            rc = fail("cwe: below 4096 RULER uses the small example%s", "");
        /* the example's answer: "1. w1 2. w2 ..." of its common words */
        char **ans = NULL, *ans_rebuilt = NULL;
        size_t na = 0;
        if (!rc)
            rc = parse_list(ex_ans, &ans, &na, &ans_rebuilt);
        if (!rc)
            rc = check_counts(ew, en, small ? 3 : 10, small ? 1 : 3, 10, ans, na, "example");
        if (!rc)
            rc = check_counts(w, n, small ? 6 : 30, small ? 1 : 3, 10, r->outputs, r->n_outputs, "task");
        if (!rc) {
            const char *n2[] = {"context"}, *v2[] = {ex_rebuilt};
            pyformat(&expect, whole, n2, v2, 1);
            sb_printf(&expect, " %s\n", ans_rebuilt);
            const char *v3[] = {rebuilt_ctx};
            rc = pyformat(&expect, whole, n2, v3, 1);
        }
        for (size_t i = 0; i < n; i++)
            free(w[i]);
        for (size_t i = 0; i < en; i++)
            free(ew[i]);
        for (size_t i = 0; i < na; i++)
            free(ans[i]);
        free(w);
        free(ew);
        free(ans);
        free(ans_rebuilt);
        free(ex_rebuilt);
        free(ex_ctx);
        free(ex_ans);
    } else if (!rc && !strcmp(task, "fwe")) {
        rc = check_fwe(r, context);
        size_t n;
        char **w = split(context, " ", &n);
        rebuilt_ctx = join(w, n, " ");
        free_split(w);
        const char *n2[] = {"context", "query"}, *v2[] = {rebuilt_ctx, ""};
        if (!rc)
            rc = pyformat(&expect, whole, n2, v2, 2);
    } else if (!rc) {
        rc = check_qa(context, &rebuilt_ctx);
        if (!rc && !*query)
            rc = fail("qa: empty question%s", "");
        const char *n2[] = {"context", "query"}, *v2[] = {rebuilt_ctx, query};
        if (!rc)
            rc = pyformat(&expect, whole, n2, v2, 2);
    }
    if (!rc && strcmp(sb_str(&expect), sb_str(&full))) {
        size_t i = 0;
        const char *a = sb_str(&expect), *b = sb_str(&full);
        while (a[i] && a[i] == b[i])
            i++;
        snprintf(why, sizeof why, "rebuilt prompt differs at byte %zu: RULER '%.40s' lcx '%.40s'", i,
                 a + i, b + i);
        rc = -1;
    }
    sb_free(&expect);
    free(rebuilt_ctx);
    free(context);
    free(query);
    free(whole);
    sb_free(&pat);
    sb_free(&W);
    sb_free(&full);
    return rc;
}

/* ---- files ------------------------------------------------------------ */

static int check_file(const char *path, const char *task, const char *mt, size_t *n_ok, size_t *n_bad)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    char *line = NULL;
    size_t cap = 0, lineno = 0, ok = 0, bad = 0;
    while (getline(&line, &cap, fp) > 0) {
        lineno++;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        json_t *outs = json_object_get(j, "outputs");
        rec r = {task, (size_t)json_integer_value(json_object_get(j, "max_length")),
                 json_string_value(json_object_get(j, "input")),
                 json_string_value(json_object_get(j, "answer_prefix")), NULL,
                 json_array_size(outs), mt};
        r.outputs = calloc(r.n_outputs + 1, sizeof(char *));
        for (size_t i = 0; i < r.n_outputs; i++)
            r.outputs[i] = (char *)json_string_value(json_array_get(outs, i));
        why[0] = '\0';
        int rc = !r.input || !r.answer_prefix ? fail("record without input%s", "") : check_record(&r);
        if (rc) {
            if (bad < 3)
                printf("  %s:%zu: %s\n", path, lineno, why);
            bad++;
        } else {
            ok++;
        }
        free(r.outputs);
        json_decref(j);
    }
    free(line);
    fclose(fp);
    *n_ok += ok;
    *n_bad += bad;
    printf("%s %s: %zu records\n", bad ? "FAIL" : "ok  ", path, ok + bad);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lcx_rulerconf DIR TEMPLATE\n");
        return 2;
    }
    const char *mt = NULL;
    for (size_t i = 0; i < sizeof MODEL / sizeof MODEL[0]; i++)
        if (!strcmp(MODEL[i].name, argv[2]) || (MODEL[i].ruler && !strcmp(MODEL[i].ruler, argv[2])))
            mt = MODEL[i].format;
    if (!mt) {
        fprintf(stderr, "lcx_rulerconf: unknown template %s\n", argv[2]);
        return 2;
    }
    size_t ok = 0, bad = 0;
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "lcx_rulerconf: cannot open %s\n", argv[1]);
        return 2;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", argv[1], e->d_name);
        DIR *d2 = opendir(sub);
        struct dirent *f;
        while (d2 && (f = readdir(d2))) {
            size_t n = strlen(f->d_name);
            if (n < 7 || strcmp(f->d_name + n - 6, ".jsonl"))
                continue;
            char path[8192], task[256];
            snprintf(path, sizeof path, "%s/%s", sub, f->d_name);
            snprintf(task, sizeof task, "%.*s", (int)(n - 6), f->d_name);
            check_file(path, task, mt, &ok, &bad);
        }
        if (d2)
            closedir(d2);
    }
    closedir(d);
    printf("%s: %zu records match RULER's prompts, %zu do not\n", argv[2], ok, bad);
    return bad || !ok ? 1 : 0;
}

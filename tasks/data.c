/* data.c: loading the read-only task data: word lists, the essay corpus and
 * the QA sets, either bundled (compiled in) or from the user's files. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/rng.h"
#include "common/utf8.h"
#include "tasks/data_internal.h"
#include "tasks/embedded.h"

#define BUNDLED_NOUNS "tasks/data/words/nouns.txt"
#define BUNDLED_ADJECTIVES "tasks/data/words/adjectives.txt"
#define BUNDLED_VERBS "tasks/data/words/verbs.txt"
#define BUNDLED_ESSAY_DIR "tasks/data/essays/"
#define BUNDLED_SQUAD "tasks/data/qa/squad_mini.json"
#define BUNDLED_HOTPOT "tasks/data/qa/hotpot_mini.json"

static const lcx_blob *find_blob(const char *name)
{
    for (const lcx_blob *b = lcx_embedded_blobs; b->name; b++)
        if (!strcmp(b->name, name))
            return b;
    return NULL;
}

/* ---- word lists ------------------------------------------------------- */

static void word_list_free(word_list *w)
{
    free(w->words);
    free(w->storage);
    memset(w, 0, sizeof *w);
}

/* Split text on whitespace into words (copies text). */
static int split_words(const char *text, size_t len, word_list *out, lcx_err *err,
                       const char *source)
{
    memset(out, 0, sizeof *out);
    out->storage = malloc(len + 1);
    size_t cap = len / 4 + 16;
    out->words = malloc(cap * sizeof *out->words);
    if (!out->storage || !out->words) {
        word_list_free(out);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", source);
    }
    memcpy(out->storage, text, len);
    out->storage[len] = '\0';
    char *p = out->storage, *end = out->storage + len;
    while (p < end) {
        while (p < end && isspace((unsigned char)*p))
            *p++ = '\0';
        if (p >= end)
            break;
        if (out->n == cap) {
            cap *= 2;
            char **w = realloc(out->words, cap * sizeof *w);
            if (!w) {
                word_list_free(out);
                return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", source);
            }
            out->words = w;
        }
        out->words[out->n++] = p;
        while (p < end && !isspace((unsigned char)*p))
            p++;
    }
    return 0;
}

static int load_word_blob(const char *name, word_list *out, lcx_err *err)
{
    const lcx_blob *b = find_blob(name);
    if (!b)
        return lcx_errf(err, LCX_EINTERNAL, "%s: not compiled into this binary", name);
    int rc = split_words(b->data, b->len, out, err, name);
    if (!rc && out->n == 0)
        return lcx_errf(err, LCX_EINTERNAL, "%s: empty word list", name);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int word_is_real(const word_list *sorted_real, const char *w)
{
    return bsearch(&w, sorted_real->words, sorted_real->n, sizeof(char *), cmp_str) != NULL;
}

void tasks_pseudo_word(size_t i, char *buf, size_t size)
{
    static const char *const onsets[] = {"b", "c", "d", "f", "g", "h", "j", "k", "l", "m",
                                         "n", "p", "r", "s", "t", "v", "w", "z", "br", "cl",
                                         "dr", "fl", "gr", "pl", "st", "tr", "sh", "ch", "th"};
    static const char *const vowels[] = {"a", "e", "i", "o", "u", "ai", "ea", "oo", "ou", "ie"};
    static const char *const codas[] = {"", "", "", "n", "r", "l", "s", "t", "m", "nd", "st", "ck"};
    lcx_rng r;
    lcx_rng_seed(&r, 0x5eed0000ull + i);
    size_t syllables = 2 + (size_t)lcx_rng_below(&r, 2), n = 0;
    buf[0] = '\0';
    for (size_t s = 0; s < syllables; s++) {
        const char *parts[3] = {
            onsets[lcx_rng_below(&r, sizeof onsets / sizeof *onsets)],
            vowels[lcx_rng_below(&r, sizeof vowels / sizeof *vowels)],
            s + 1 == syllables ? codas[lcx_rng_below(&r, sizeof codas / sizeof *codas)] : ""};
        for (int k = 0; k < 3; k++) {
            size_t l = strlen(parts[k]);
            if (n + l + 1 > size)
                return;
            memcpy(buf + n, parts[k], l + 1);
            n += l;
        }
    }
}

/* The cwe vocabulary: real words deduplicated and sorted, then as many
 * pseudo-words as `need` asks for, none equal to a real word or each other. */
static int build_cwe_vocab(lcx_task_data *d, size_t need, lcx_err *err)
{
    size_t nreal = d->nouns.n + d->adjectives.n + d->verbs.n;
    size_t total = nreal > need ? nreal : need;
    word_list *v = &d->cwe_vocab;
    v->words = malloc(total * sizeof(char *));
    v->storage = malloc((total - 0) * 16 + 1);
    if (!v->words || !v->storage)
        return lcx_errf(err, LCX_ENOMEM, "cwe vocabulary: out of memory");
    const word_list *lists[] = {&d->nouns, &d->adjectives, &d->verbs};
    for (int l = 0; l < 3; l++)
        for (size_t i = 0; i < lists[l]->n; i++)
            v->words[v->n++] = lists[l]->words[i];
    qsort(v->words, v->n, sizeof(char *), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < v->n; i++)
        if (u == 0 || strcmp(v->words[u - 1], v->words[i]))
            v->words[u++] = v->words[i];
    v->n = u;
    d->cwe_real = u;

    /* Pseudo-words: a hash set over what is already taken. */
    size_t cap = 1024;
    while (cap < 2 * (total + 1))
        cap <<= 1;
    const char **set = calloc(cap, sizeof *set);
    if (!set)
        return lcx_errf(err, LCX_ENOMEM, "cwe vocabulary: out of memory");
    word_list real_sorted = {v->words, u, NULL};
    char *store = v->storage;
    for (size_t i = 0; v->n < need; i++) {
        char w[16];
        tasks_pseudo_word(i, w, sizeof w);
        size_t len = strlen(w);
        if (len < 4 || word_is_real(&real_sorted, w))
            continue;
        uint64_t h = 0xcbf29ce484222325ull;
        for (const char *c = w; *c; c++)
            h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
        size_t slot = (size_t)h & (cap - 1);
        int dup = 0;
        while (set[slot]) {
            if (!strcmp(set[slot], w)) {
                dup = 1;
                break;
            }
            slot = (slot + 1) & (cap - 1);
        }
        if (dup)
            continue;
        memcpy(store, w, len + 1);
        set[slot] = store;
        v->words[v->n++] = store;
        store += len + 1;
    }
    free(set);
    return 0;
}

/* ---- essay corpus ----------------------------------------------------- */

static int is_abbreviation(const char *w, size_t len)
{
    static const char *const abbrevs[] = {"mr.", "mrs.", "ms.", "dr.", "st.", "vs.", "e.g.",
                                          "i.e.", "etc.", "jr.", "sr.", "prof.", "inc.", "no.",
                                          "fig.", "cf.", "u.s.", "a.m.", "p.m."};
    char low[16];
    if (len >= sizeof low)
        return 0;
    for (size_t i = 0; i < len; i++)
        low[i] = (char)tolower((unsigned char)w[i]);
    low[len] = '\0';
    for (size_t i = 0; i < sizeof abbrevs / sizeof *abbrevs; i++)
        if (!strcmp(low, abbrevs[i]))
            return 1;
    /* A single initial such as "J." */
    return len == 2 && isupper((unsigned char)w[0]);
}

int tasks_essay_ends_sentence(const char *word, const char *next_word)
{
    size_t len = strlen(word);
    while (len > 0 && strchr("\"')]", word[len - 1]))
        len--;
    if (len == 0 || !strchr(".!?", word[len - 1]))
        return 0;
    if (word[len - 1] == '.' && is_abbreviation(word, len))
        return 0;
    /* A sentence does not go on with a lower-case word. */
    if (next_word && islower((unsigned char)next_word[0]))
        return 0;
    return 1;
}

static int essay_from_text(const char *text, size_t len, const char *source, essay_corpus *out,
                           lcx_err *err)
{
    int rc = split_words(text, len, &out->words, err, source);
    if (rc)
        return rc;
    if (out->words.n == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: essay corpus has no words", source);
    out->ends_sentence = malloc(out->words.n);
    if (!out->ends_sentence)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", source);
    for (size_t i = 0; i < out->words.n; i++) {
        /* The corpus repeats, so the last word is followed by the first. */
        const char *next = out->words.words[(i + 1) % out->words.n];
        out->ends_sentence[i] = (unsigned char)tasks_essay_ends_sentence(out->words.words[i], next);
    }
    return 0;
}

/* A user's essay corpus, the contents of path: plain text or {"text": ...}. */
static int essay_parse(const char *buf, size_t len, const char *path, essay_corpus *out,
                       lcx_err *err)
{
    size_t bad;
    if (memchr(buf, '\0', len) || !lcx_utf8_valid(buf, len, &bad)) {
        if (memchr(buf, '\0', len))
            bad = (size_t)((const char *)memchr(buf, '\0', len) - buf);
        return lcx_errf(err, LCX_EINPUT, "%s: byte offset %zu: not valid UTF-8 text", path, bad);
    }
    size_t i = 0;
    while (i < len && isspace((unsigned char)buf[i]))
        i++;
    if (i < len && buf[i] == '{') {
        /* RULER's PaulGrahamEssays.json: {"text": "..."} */
        json_error_t je;
        json_t *root = json_loadb(buf, len, 0, &je);
        if (!root)
            return lcx_errf(err, LCX_EINPUT, "%s: line %d: invalid JSON: %s", path, je.line,
                            je.text);
        json_t *t = json_object_get(root, "text");
        if (!json_is_string(t)) {
            json_decref(root);
            return lcx_errf(err, LCX_EINPUT, "%s: field 'text': missing or not a string", path);
        }
        int rc = essay_from_text(json_string_value(t), json_string_length(t), path, out, err);
        json_decref(root);
        return rc;
    }
    return essay_from_text(buf, len, path, out, err);
}

static int load_essay_file(const char *path, essay_corpus *out, lcx_err *err)
{
    char *buf;
    size_t len;
    int rc = lcx_read_file(path, &buf, &len, err);
    if (rc)
        return rc;
    rc = essay_parse(buf, len, path, out, err);
    free(buf);
    return rc;
}

static int load_bundled_essays(essay_corpus *out, lcx_err *err)
{
    size_t total = 0;
    size_t prefix = strlen(BUNDLED_ESSAY_DIR);
    for (const lcx_blob *b = lcx_embedded_blobs; b->name; b++)
        if (!strncmp(b->name, BUNDLED_ESSAY_DIR, prefix))
            total += b->len + 1;
    if (!total)
        return lcx_errf(err, LCX_EINTERNAL, "%s: no essays compiled into this binary",
                        BUNDLED_ESSAY_DIR);
    char *all = malloc(total + 1), *p = all;
    if (!all)
        return lcx_errf(err, LCX_ENOMEM, "essays: out of memory");
    /* Blobs are in sorted path order (the Makefile sorts EMBED). */
    for (const lcx_blob *b = lcx_embedded_blobs; b->name; b++)
        if (!strncmp(b->name, BUNDLED_ESSAY_DIR, prefix)) {
            /* Each bundled essay opens with a title line: leave it out, it
             * is not a sentence. */
            const char *body = memchr(b->data, '\n', b->len);
            body = body ? body + 1 : b->data;
            size_t n = b->len - (size_t)(body - b->data);
            memcpy(p, body, n);
            p += n;
            *p++ = '\n';
        }
    int rc = essay_from_text(all, (size_t)(p - all), "bundled essays", out, err);
    free(all);
    return rc;
}

static void essay_free(essay_corpus *e)
{
    word_list_free(&e->words);
    free(e->ends_sentence);
    e->ends_sentence = NULL;
}

/* ---- QA sets ---------------------------------------------------------- */

static void qa_set_free(qa_set *q)
{
    for (size_t i = 0; i < q->n_docs; i++)
        free(q->docs[i]);
    free(q->docs);
    for (size_t i = 0; i < q->n_items; i++) {
        qa_item *it = &q->items[i];
        free(it->query);
        for (size_t k = 0; k < it->n_outputs; k++)
            free(it->outputs[k]);
        free(it->outputs);
        free(it->gold);
        free(it->more);
    }
    free(q->items);
    memset(q, 0, sizeof *q);
}

/* Sort and deduplicate q->docs (takes ownership of the strings). */
static void sort_unique_docs(qa_set *q)
{
    qsort(q->docs, q->n_docs, sizeof(char *), cmp_str);
    size_t u = 0;
    for (size_t i = 0; i < q->n_docs; i++) {
        if (u && !strcmp(q->docs[u - 1], q->docs[i]))
            free(q->docs[i]);
        else
            q->docs[u++] = q->docs[i];
    }
    q->n_docs = u;
}

static size_t doc_id(const qa_set *q, const char *doc)
{
    char **hit = bsearch(&doc, q->docs, q->n_docs, sizeof(char *), cmp_str);
    return (size_t)(hit - q->docs);
}

static int push_doc(qa_set *q, size_t *cap, char *doc)
{
    if (!doc)
        return -1;
    if (q->n_docs == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        char **d = realloc(q->docs, *cap * sizeof *d);
        if (!d) {
            free(doc);
            return -1;
        }
        q->docs = d;
    }
    q->docs[q->n_docs++] = doc;
    return 0;
}

static qa_item *push_item(qa_set *q, size_t *cap)
{
    if (q->n_items == *cap) {
        *cap = *cap ? *cap * 2 : 256;
        qa_item *it = realloc(q->items, *cap * sizeof *it);
        if (!it)
            return NULL;
        q->items = it;
    }
    qa_item *it = &q->items[q->n_items++];
    memset(it, 0, sizeof *it);
    return it;
}

static const char *get_string(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static char *hotpot_doc(json_t *entry)
{
    /* [title, [sentence, ...]] -> "title\n" + "".join(sentences) */
    json_t *title = json_array_get(entry, 0), *sents = json_array_get(entry, 1);
    if (!json_is_string(title) || !json_is_array(sents))
        return NULL;
    size_t len = json_string_length(title) + 2, i;
    json_t *s;
    json_array_foreach(sents, i, s) {
        if (!json_is_string(s))
            return NULL;
        len += json_string_length(s);
    }
    char *doc = malloc(len), *p = doc;
    if (!doc)
        return NULL;
    memcpy(p, json_string_value(title), json_string_length(title));
    p += json_string_length(title);
    *p++ = '\n';
    json_array_foreach(sents, i, s) {
        memcpy(p, json_string_value(s), json_string_length(s));
        p += json_string_length(s);
    }
    *p = '\0';
    return doc;
}

static int parse_squad(json_t *root, const char *src, qa_set *q, lcx_err *err)
{
    json_t *data = json_object_get(root, "data");
    if (!json_is_array(data) || json_array_size(data) == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: field 'data': missing or empty (not SQuAD JSON?)", src);
    size_t dcap = 0, icap = 0, a, p, k;
    json_t *art, *par, *qa;
    /* Pass 1: every paragraph is a document. */
    json_array_foreach(data, a, art) {
        json_t *pars = json_object_get(art, "paragraphs");
        if (!json_is_array(pars))
            return lcx_errf(err, LCX_EINPUT, "%s: data[%zu].paragraphs: missing or not an array", src, a);
        json_array_foreach(pars, p, par) {
            const char *ctx = get_string(par, "context");
            if (!ctx)
                return lcx_errf(err, LCX_EINPUT, "%s: data[%zu].paragraphs[%zu].context: missing or not a string", src, a, p);
            if (push_doc(q, &dcap, strdup(ctx)))
                return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
        }
    }
    sort_unique_docs(q);
    /* Pass 2: answerable questions. */
    json_array_foreach(data, a, art) {
        json_t *pars = json_object_get(art, "paragraphs");
        size_t np = json_array_size(pars);
        json_array_foreach(pars, p, par) {
            size_t own = doc_id(q, get_string(par, "context"));
            json_t *qas = json_object_get(par, "qas");
            if (!json_is_array(qas))
                return lcx_errf(err, LCX_EINPUT, "%s: data[%zu].paragraphs[%zu].qas: missing or not an array", src, a, p);
            json_array_foreach(qas, k, qa) {
                json_t *imp = json_object_get(qa, "is_impossible");
                if (json_is_true(imp))
                    continue;
                const char *question = get_string(qa, "question");
                json_t *answers = json_object_get(qa, "answers");
                if (!question || !json_is_array(answers) || json_array_size(answers) == 0)
                    return lcx_errf(err, LCX_EINPUT, "%s: data[%zu].paragraphs[%zu].qas[%zu]: needs 'question' and non-empty 'answers'", src, a, p, k);
                qa_item *it = push_item(q, &icap);
                if (!it)
                    return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
                it->query = strdup(question);
                it->outputs = calloc(json_array_size(answers), sizeof(char *));
                it->gold = malloc(sizeof(size_t));
                it->more = malloc((np ? np : 1) * sizeof(size_t));
                if (!it->query || !it->outputs || !it->gold || !it->more)
                    return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
                size_t j;
                json_t *ans;
                json_array_foreach(answers, j, ans) {
                    const char *text = get_string(ans, "text");
                    if (!text)
                        return lcx_errf(err, LCX_EINPUT, "%s: data[%zu].paragraphs[%zu].qas[%zu].answers[%zu].text: missing or not a string", src, a, p, k, j);
                    if (!(it->outputs[it->n_outputs++] = strdup(text)))
                        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
                }
                it->gold[it->n_gold++] = own;
                size_t m;
                json_t *other;
                json_array_foreach(pars, m, other) {
                    size_t id = doc_id(q, get_string(other, "context"));
                    if (id != own)
                        it->more[it->n_more++] = id;
                }
            }
        }
    }
    if (q->n_items == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: no answerable questions", src);
    return 0;
}

static int parse_hotpot(json_t *root, const char *src, qa_set *q, lcx_err *err)
{
    if (!json_is_array(root) || json_array_size(root) == 0)
        return lcx_errf(err, LCX_EINPUT, "%s: expected a non-empty JSON array of HotpotQA items", src);
    size_t dcap = 0, icap = 0, i, c;
    json_t *item, *entry;
    json_array_foreach(root, i, item) {
        json_t *ctx = json_object_get(item, "context");
        if (!json_is_array(ctx) || json_array_size(ctx) == 0)
            return lcx_errf(err, LCX_EINPUT, "%s: [%zu].context: missing or empty", src, i);
        json_array_foreach(ctx, c, entry) {
            char *doc = hotpot_doc(entry);
            if (!doc)
                return lcx_errf(err, LCX_EINPUT, "%s: [%zu].context[%zu]: expected [title, [sentences]]", src, i, c);
            if (push_doc(q, &dcap, doc))
                return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
        }
    }
    sort_unique_docs(q);
    json_array_foreach(root, i, item) {
        const char *question = get_string(item, "question");
        const char *answer = get_string(item, "answer");
        if (!question || !answer)
            return lcx_errf(err, LCX_EINPUT, "%s: [%zu]: needs string fields 'question' and 'answer'", src, i);
        json_t *ctx = json_object_get(item, "context");
        qa_item *it = push_item(q, &icap);
        if (!it)
            return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
        it->query = strdup(question);
        it->outputs = malloc(sizeof(char *));
        it->gold = malloc(json_array_size(ctx) * sizeof(size_t));
        if (!it->query || !it->outputs || !it->gold || !(it->outputs[0] = strdup(answer)))
            return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
        it->n_outputs = 1;
        json_array_foreach(ctx, c, entry) {
            char *doc = hotpot_doc(entry);
            if (!doc)
                return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", src);
            it->gold[it->n_gold++] = doc_id(q, doc);
            free(doc);
        }
    }
    return 0;
}

/* A QA set from the JSON in buf (src names it in messages, q->source gets
 * source); q is freed on error. */
static int qa_parse(const char *buf, size_t len, const char *src, const char *source,
                    lcx_qa_set kind, qa_set *q, lcx_err *err)
{
    memset(q, 0, sizeof *q);
    snprintf(q->source, sizeof q->source, "%s", source);
    json_error_t je;
    json_t *root = json_loadb(buf, len, 0, &je);
    if (!root)
        return lcx_errf(err, LCX_EINPUT, "%s: line %d column %d: invalid JSON: %s", src, je.line,
                        je.column, je.text);
    int rc = kind == QA_SQUAD ? parse_squad(root, src, q, err) : parse_hotpot(root, src, q, err);
    json_decref(root);
    if (rc)
        qa_set_free(q);
    return rc;
}

static int load_qa(const char *path, const char *bundled, lcx_qa_set kind, qa_set *q,
                   lcx_err *err)
{
    memset(q, 0, sizeof *q);
    if (path) {
        char *buf;
        size_t len;
        int rc = lcx_read_file(path, &buf, &len, err);
        if (rc)
            return rc;
        rc = qa_parse(buf, len, path, path, kind, q, err);
        free(buf);
        return rc;
    }
    const lcx_blob *b = find_blob(bundled);
    if (!b)
        return lcx_errf(err, LCX_EINTERNAL, "%s: not compiled into this binary", bundled);
    return qa_parse(b->data, b->len, bundled, "bundled", kind, q, err);
}

/* ---- the whole ---------------------------------------------------------- */

int lcx_task_data_load(const lcx_data_opts *opts, lcx_task_data **out, lcx_err *err)
{
    *out = NULL;
    lcx_task_data *d = calloc(1, sizeof *d);
    if (!d)
        return lcx_errf(err, LCX_ENOMEM, "task data: out of memory");
    int rc = load_word_blob(BUNDLED_NOUNS, &d->nouns, err);
    if (!rc)
        rc = load_word_blob(BUNDLED_ADJECTIVES, &d->adjectives, err);
    if (!rc)
        rc = load_word_blob(BUNDLED_VERBS, &d->verbs, err);
    if (!rc) {
        /* cwe needs at most one distinct word per 3 tokens of context (each
         * uncommon word appears 3 times, every entry costs >= 1 token). */
        size_t need = opts->max_length / 3 + 64;
        rc = build_cwe_vocab(d, need, err);
    }
    if (!rc)
        rc = opts->essay_corpus ? load_essay_file(opts->essay_corpus, &d->essay, err)
                                : load_bundled_essays(&d->essay, err);
    if (!rc)
        rc = load_qa(opts->squad, BUNDLED_SQUAD, QA_SQUAD, &d->squad, err);
    if (!rc)
        rc = load_qa(opts->hotpotqa, BUNDLED_HOTPOT, QA_HOTPOTQA, &d->hotpot, err);
    if (rc) {
        lcx_task_data_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

void lcx_task_data_free(lcx_task_data *d)
{
    if (!d)
        return;
    word_list_free(&d->nouns);
    word_list_free(&d->adjectives);
    word_list_free(&d->verbs);
    free(d->cwe_vocab.words);
    free(d->cwe_vocab.storage);
    essay_free(&d->essay);
    qa_set_free(&d->squad);
    qa_set_free(&d->hotpot);
    free(d);
}

int lcx_task_data_set_essay(lcx_task_data *d, const char *text, size_t len, const char *src,
                            lcx_err *err)
{
    essay_corpus e;
    memset(&e, 0, sizeof e);
    int rc = essay_parse(text, len, src, &e, err);
    if (rc) {
        essay_free(&e);
        return rc;
    }
    essay_free(&d->essay);
    d->essay = e;
    return 0;
}

int lcx_task_data_set_qa(lcx_task_data *d, lcx_qa_set which, const char *json, size_t len,
                         const char *src, lcx_err *err)
{
    qa_set q;
    int rc = qa_parse(json, len, src, src, which, &q, err);
    if (rc)
        return rc;
    qa_set *dst = which == QA_SQUAD ? &d->squad : &d->hotpot;
    qa_set_free(dst);
    *dst = q;
    return 0;
}

size_t lcx_task_data_cwe_vocab(const lcx_task_data *d) { return d->cwe_vocab.n; }

/* load.c: reading the normalizer, pre_tokenizer, decoder and
 * post_processor sections of tokenizer.json. A Sequence is flattened into a
 * list; anything unsupported is an error naming the file and the field. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

#define GPT2_REGEX "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
/* The cl100k-style splits of Qwen2/Qwen3 (single digits) and Llama 3 (up to
 * three digits), as their tokenizer.json files spell them. */
#define QWEN2_REGEX                                                                                  \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"    \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define LLAMA3_REGEX                                                                                 \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|" \
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

/* Which known regex this is (tok_pretok.regex_family). */
static int regex_family(json_t *pattern)
{
    json_t *re = json_object_get(pattern, "Regex");
    const char *s = json_is_string(re) ? json_string_value(re) : NULL;
    if (!s)
        return TOK_RE_OTHER;
    if (!strcmp(s, QWEN2_REGEX) || !strcmp(s, LLAMA3_REGEX))
        return TOK_RE_CL100K;
    return !strcmp(s, GPT2_REGEX) ? TOK_RE_GPT2 : TOK_RE_OTHER;
}

static const char *type_of(json_t *obj)
{
    json_t *t = json_object_get(obj, "type");
    return json_is_string(t) ? json_string_value(t) : NULL;
}

static int flag_or(json_t *obj, const char *field, int fallback)
{
    json_t *v = json_object_get(obj, field);
    return json_is_boolean(v) ? json_is_true(v) : fallback;
}

static char *dup_string(json_t *v, size_t *len)
{
    char *s = malloc(json_string_length(v) + 1);
    if (s) {
        memcpy(s, json_string_value(v), json_string_length(v) + 1);
        *len = json_string_length(v);
    }
    return s;
}

static int oom(const char *path, lcx_err *err)
{
    return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
}

/* {"String": s} or {"Regex": r}. */
int tok_pattern_from_json(tok_pattern *p, void *json_pattern, const char *where, lcx_err *err)
{
    json_t *pat = json_pattern;
    json_t *str = json_object_get(pat, "String"), *re = json_object_get(pat, "Regex");
    memset(p, 0, sizeof *p);
    if (json_is_string(str))
        return tok_pattern_set_literal(p, json_string_value(str), json_string_length(str))
                   ? lcx_errf(err, LCX_ENOMEM, "%s: out of memory", where)
                   : 0;
    if (json_is_string(re)) {
        if (strlen(json_string_value(re)) != json_string_length(re))
            return lcx_errf(err, LCX_EINPUT, "%s: invalid regex: contains a NUL", where);
        return tok_pattern_compile_regex(p, json_string_value(re), where, err);
    }
    return lcx_errf(err, LCX_EINPUT, "%s: expected {\"String\": ...} or {\"Regex\": ...}", where);
}

/* A one-character UTF-8 string into buf (up to 7 bytes). */
static int one_char(json_t *v, char *buf, size_t *len)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) > 4)
        return -1;
    size_t k;
    tok_utf8_decode(json_string_value(v), json_string_length(v), &k);
    if (k != json_string_length(v))
        return -1;
    memcpy(buf, json_string_value(v), k);
    buf[k] = 0;
    *len = k;
    return 0;
}

static int prepend_scheme_of(json_t *obj, int *scheme)
{
    json_t *ps = json_object_get(obj, "prepend_scheme");
    if (!ps || json_is_null(ps)) {
        *scheme = flag_or(obj, "add_prefix_space", 1) ? PREPEND_ALWAYS : PREPEND_NEVER;
        return 0;
    }
    const char *s = json_is_string(ps) ? json_string_value(ps) : "";
    if (!strcmp(s, "always"))
        *scheme = PREPEND_ALWAYS;
    else if (!strcmp(s, "first"))
        *scheme = PREPEND_FIRST;
    else if (!strcmp(s, "never"))
        *scheme = PREPEND_NEVER;
    else
        return -1;
    return 0;
}

/* ---- normalizer ---- */

static int add_normalizer(lcx_tokenizer *tok, tok_normalizer **out, const char *path, lcx_err *err)
{
    tok_normalizer *v = realloc(tok->norms, (tok->n_norms + 1) * sizeof *v);
    if (!v)
        return oom(path, err);
    tok->norms = v;
    *out = memset(&v[tok->n_norms++], 0, sizeof *v);
    return 0;
}

int tok_load_normalizer(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err)
{
    json_t *obj = json;
    char where[256];
    tok_normalizer *nm = NULL;
    if (!obj || json_is_null(obj))
        return 0;
    const char *type = type_of(obj);
    if (!type)
        return lcx_errf(err, LCX_EINPUT, "%s: normalizer.type: missing", path);
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(obj, "normalizers"), *item;
        size_t i;
        if (!json_is_array(list))
            return lcx_errf(err, LCX_EINPUT, "%s: normalizer.normalizers: expected an array", path);
        json_array_foreach(list, i, item) {
            int rc = tok_load_normalizer(tok, item, path, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!strcmp(type, "NFC")) {
        if (add_normalizer(tok, &nm, path, err))
            return LCX_ENOMEM;
        nm->kind = NORM_NFC;
        return 0;
    }
    if (!strcmp(type, "Replace") || !strcmp(type, "Prepend")) {
        int replace = type[0] == 'R';
        json_t *content = json_object_get(obj, replace ? "content" : "prepend");
        if (!json_is_string(content))
            return lcx_errf(err, LCX_EINPUT, "%s: normalizer.%s: expected a string", path,
                            replace ? "content" : "prepend");
        if (add_normalizer(tok, &nm, path, err))
            return LCX_ENOMEM;
        nm->kind = replace ? NORM_REPLACE : NORM_PREPEND;
        if (!(nm->content = dup_string(content, &nm->content_len)))
            return oom(path, err);
        snprintf(where, sizeof where, "%s: normalizer(Replace).pattern", path);
        return replace ? tok_pattern_from_json(&nm->pattern, json_object_get(obj, "pattern"), where, err) : 0;
    }
    if (!strcmp(type, "Strip")) {
        if (add_normalizer(tok, &nm, path, err))
            return LCX_ENOMEM;
        nm->kind = NORM_STRIP;
        nm->strip_left = flag_or(obj, "strip_left", 1);
        nm->strip_right = flag_or(obj, "strip_right", 1);
        return 0;
    }
    return lcx_errf(err, LCX_EINPUT, "%s: normalizer.type: unsupported normalizer \"%.40s\"", path, type);
}

/* ---- pre-tokenizer ---- */

static int add_pretok(lcx_tokenizer *tok, tok_pretok **out, const char *path, lcx_err *err)
{
    tok_pretok *v = realloc(tok->pretoks, (tok->n_pretoks + 1) * sizeof *v);
    if (!v)
        return oom(path, err);
    tok->pretoks = v;
    *out = memset(&v[tok->n_pretoks++], 0, sizeof *v);
    return 0;
}

static int behavior_of(json_t *v, int *out)
{
    static const char *const names[] = {"Removed", "Isolated", "MergedWithPrevious", "MergedWithNext",
                                        "Contiguous"};
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *out = i;
            return 0;
        }
    return -1;
}

static int split_from_regex(lcx_tokenizer *tok, const char *regex, int behavior, int invert,
                            const char *path, lcx_err *err)
{
    tok_pretok *pt = NULL;
    if (add_pretok(tok, &pt, path, err))
        return LCX_ENOMEM;
    pt->kind = PRETOK_SPLIT;
    pt->behavior = behavior;
    pt->invert = invert;
    return tok_pattern_compile_regex(&pt->pattern, regex, path, err);
}

static int load_split(lcx_tokenizer *tok, json_t *obj, const char *path, lcx_err *err)
{
    tok_pretok *pt = NULL;
    char where[256];
    int behavior;
    if (behavior_of(json_object_get(obj, "behavior"), &behavior))
        return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer(Split).behavior: unknown behavior", path);
    if (add_pretok(tok, &pt, path, err))
        return LCX_ENOMEM;
    pt->kind = PRETOK_SPLIT;
    pt->behavior = behavior;
    pt->invert = flag_or(obj, "invert", 0);
    snprintf(where, sizeof where, "%s: pre_tokenizer(Split).pattern", path);
    pt->regex_family = regex_family(json_object_get(obj, "pattern"));
    return tok_pattern_from_json(&pt->pattern, json_object_get(obj, "pattern"), where, err);
}

static int load_bytelevel(lcx_tokenizer *tok, json_t *obj, const char *path, lcx_err *err)
{
    tok_pretok *pt = NULL;
    if (add_pretok(tok, &pt, path, err))
        return LCX_ENOMEM;
    pt->kind = PRETOK_BYTELEVEL;
    pt->add_prefix_space = flag_or(obj, "add_prefix_space", 1);
    pt->use_regex = flag_or(obj, "use_regex", 1);
    pt->regex_family = pt->use_regex ? TOK_RE_GPT2 : TOK_RE_OTHER;
    return pt->use_regex ? tok_pattern_compile_regex(&pt->pattern, GPT2_REGEX, path, err) : 0;
}

static int load_metaspace(lcx_tokenizer *tok, json_t *obj, const char *path, lcx_err *err)
{
    tok_pretok *pt = NULL;
    if (add_pretok(tok, &pt, path, err))
        return LCX_ENOMEM;
    pt->kind = PRETOK_METASPACE;
    json_t *rep = json_object_get(obj, "replacement");
    if (!rep) {
        strcpy(pt->replacement, "\xE2\x96\x81");
        pt->replacement_len = 3;
    } else if (one_char(rep, pt->replacement, &pt->replacement_len))
        return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer(Metaspace).replacement: expected one character", path);
    if (prepend_scheme_of(obj, &pt->prepend_scheme))
        return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer(Metaspace).prepend_scheme: expected first, always or never", path);
    pt->split = flag_or(obj, "split", 1);
    return 0;
}

int tok_load_pretokenizer(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err)
{
    json_t *obj = json;
    if (!obj || json_is_null(obj))
        return 0;
    const char *type = type_of(obj);
    if (!type)
        return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer.type: missing", path);
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(obj, "pretokenizers"), *item;
        size_t i;
        if (!json_is_array(list))
            return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer.pretokenizers: expected an array", path);
        json_array_foreach(list, i, item) {
            int rc = tok_load_pretokenizer(tok, item, path, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!strcmp(type, "Split"))
        return load_split(tok, obj, path, err);
    if (!strcmp(type, "ByteLevel"))
        return load_bytelevel(tok, obj, path, err);
    if (!strcmp(type, "Metaspace"))
        return load_metaspace(tok, obj, path, err);
    if (!strcmp(type, "Digits"))
        return split_from_regex(tok, flag_or(obj, "individual_digits", 0) ? "\\p{N}" : "\\p{N}+",
                                SPLIT_ISOLATED, 0, path, err);
    if (!strcmp(type, "WhitespaceSplit"))
        return split_from_regex(tok, "\\s+", SPLIT_REMOVED, 0, path, err);
    if (!strcmp(type, "Whitespace"))
        return split_from_regex(tok, "\\w+|[^\\w\\s]+", SPLIT_REMOVED, 1, path, err);
    return lcx_errf(err, LCX_EINPUT, "%s: pre_tokenizer.type: unsupported pre-tokenizer \"%.40s\"", path, type);
}

/* ---- decoder ---- */

static int add_decoder(lcx_tokenizer *tok, tok_decoder **out, const char *path, lcx_err *err)
{
    tok_decoder *v = realloc(tok->decoders, (tok->n_decoders + 1) * sizeof *v);
    if (!v)
        return oom(path, err);
    tok->decoders = v;
    *out = memset(&v[tok->n_decoders++], 0, sizeof *v);
    return 0;
}

static int load_decoder_item(lcx_tokenizer *tok, json_t *obj, const char *type, const char *path,
                             lcx_err *err)
{
    tok_decoder *d = NULL;
    char where[256];
    size_t len;
    if (add_decoder(tok, &d, path, err))
        return LCX_ENOMEM;
    if (!strcmp(type, "ByteLevel")) {
        d->kind = DEC_BYTELEVEL;
    } else if (!strcmp(type, "ByteFallback")) {
        d->kind = DEC_BYTEFALLBACK;
    } else if (!strcmp(type, "Fuse")) {
        d->kind = DEC_FUSE;
    } else if (!strcmp(type, "Replace")) {
        json_t *content = json_object_get(obj, "content");
        d->kind = DEC_REPLACE;
        if (!json_is_string(content))
            return lcx_errf(err, LCX_EINPUT, "%s: decoder(Replace).content: expected a string", path);
        if (!(d->content = dup_string(content, &d->content_len)))
            return oom(path, err);
        snprintf(where, sizeof where, "%s: decoder(Replace).pattern", path);
        return tok_pattern_from_json(&d->pattern, json_object_get(obj, "pattern"), where, err);
    } else if (!strcmp(type, "Strip")) {
        char c[8];
        json_t *start = json_object_get(obj, "start"), *stop = json_object_get(obj, "stop");
        d->kind = DEC_STRIP;
        if (one_char(json_object_get(obj, "content"), c, &len) || !json_is_integer(start) ||
            !json_is_integer(stop) || json_integer_value(start) < 0 || json_integer_value(stop) < 0)
            return lcx_errf(err, LCX_EINPUT, "%s: decoder(Strip): expected content, start and stop", path);
        d->strip_char = tok_utf8_decode(c, len, &len);
        d->strip_start = (size_t)json_integer_value(start);
        d->strip_stop = (size_t)json_integer_value(stop);
    } else if (!strcmp(type, "Metaspace")) {
        json_t *rep = json_object_get(obj, "replacement");
        d->kind = DEC_METASPACE;
        if (!rep) {
            strcpy(d->replacement, "\xE2\x96\x81");
            d->replacement_len = 3;
        } else if (one_char(rep, d->replacement, &d->replacement_len))
            return lcx_errf(err, LCX_EINPUT, "%s: decoder(Metaspace).replacement: expected one character", path);
        if (prepend_scheme_of(obj, &d->prepend_scheme))
            return lcx_errf(err, LCX_EINPUT, "%s: decoder(Metaspace).prepend_scheme: unknown scheme", path);
    } else {
        return lcx_errf(err, LCX_EINPUT, "%s: decoder.type: unsupported decoder \"%.40s\"", path, type);
    }
    return 0;
}

int tok_load_decoder(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err)
{
    json_t *obj = json;
    if (!obj || json_is_null(obj))
        return 0;
    tok->has_decoder = 1;
    const char *type = type_of(obj);
    if (!type)
        return lcx_errf(err, LCX_EINPUT, "%s: decoder.type: missing", path);
    if (strcmp(type, "Sequence") != 0)
        return load_decoder_item(tok, obj, type, path, err);
    json_t *list = json_object_get(obj, "decoders"), *item;
    size_t i;
    if (!json_is_array(list))
        return lcx_errf(err, LCX_EINPUT, "%s: decoder.decoders: expected an array", path);
    json_array_foreach(list, i, item) {
        int rc = tok_load_decoder(tok, item, path, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---- post-processor ---- */

static int special_ids(json_t *specials, const char *name, tok_ids *out, const char *path, lcx_err *err)
{
    json_t *ids = json_object_get(json_object_get(specials, name), "ids"), *id;
    size_t i;
    if (!json_is_array(ids))
        return lcx_errf(err, LCX_EINPUT, "%s: post_processor.special_tokens[\"%.60s\"].ids: missing", path, name);
    json_array_foreach(ids, i, id) {
        if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX)
            return lcx_errf(err, LCX_EINPUT, "%s: post_processor.special_tokens[\"%.60s\"].ids: bad id", path, name);
        if (tok_ids_push(out, (int32_t)json_integer_value(id)))
            return oom(path, err);
    }
    return 0;
}

static int load_template(lcx_tokenizer *tok, json_t *obj, const char *path, lcx_err *err)
{
    json_t *single = json_object_get(obj, "single"), *specials = json_object_get(obj, "special_tokens"), *item;
    size_t i;
    int after = 0;
    tok_ids prefix = {0}, suffix = {0};
    if (!json_is_array(single))
        return lcx_errf(err, LCX_EINPUT, "%s: post_processor.single: expected an array", path);
    json_array_foreach(single, i, item) {
        json_t *sp = json_object_get(item, "SpecialToken");
        int rc = 0;
        if (json_object_get(item, "Sequence"))
            after = 1;
        else if (json_is_string(json_object_get(sp, "id")))
            rc = special_ids(specials, json_string_value(json_object_get(sp, "id")), after ? &suffix : &prefix,
                             path, err);
        else
            rc = lcx_errf(err, LCX_EINPUT, "%s: post_processor.single[%zu]: expected SpecialToken or Sequence", path, i);
        if (rc) {
            free(prefix.v);
            free(suffix.v);
            return rc;
        }
    }
    /* nested processors wrap: new prefix = this prefix + old prefix */
    for (size_t k = 0; k < tok->post_prefix.n; k++)
        tok_ids_push(&prefix, tok->post_prefix.v[k]);
    for (size_t k = 0; k < suffix.n; k++)
        tok_ids_push(&tok->post_suffix, suffix.v[k]);
    free(tok->post_prefix.v);
    free(suffix.v);
    tok->post_prefix = prefix;
    return 0;
}

static int load_bert_like(lcx_tokenizer *tok, json_t *obj, const char *path, lcx_err *err)
{
    json_t *cls = json_object_get(obj, "cls"), *sep = json_object_get(obj, "sep");
    json_t *cls_id = json_array_get(cls, 1), *sep_id = json_array_get(sep, 1);
    if (!json_is_integer(cls_id) || !json_is_integer(sep_id))
        return lcx_errf(err, LCX_EINPUT, "%s: post_processor.cls/sep: expected [token, id]", path);
    tok_ids prefix = {0};
    if (tok_ids_push(&prefix, (int32_t)json_integer_value(cls_id)))
        return oom(path, err);
    for (size_t k = 0; k < tok->post_prefix.n; k++)
        tok_ids_push(&prefix, tok->post_prefix.v[k]);
    free(tok->post_prefix.v);
    tok->post_prefix = prefix;
    return tok_ids_push(&tok->post_suffix, (int32_t)json_integer_value(sep_id)) ? oom(path, err) : 0;
}

int tok_load_post_processor(lcx_tokenizer *tok, void *json, const char *path, lcx_err *err)
{
    json_t *obj = json;
    if (!obj || json_is_null(obj))
        return 0;
    const char *type = type_of(obj);
    if (!type)
        return lcx_errf(err, LCX_EINPUT, "%s: post_processor.type: missing", path);
    if (!strcmp(type, "ByteLevel"))
        return 0; /* only trims offsets */
    if (!strcmp(type, "TemplateProcessing"))
        return load_template(tok, obj, path, err);
    if (!strcmp(type, "BertProcessing") || !strcmp(type, "RobertaProcessing"))
        return load_bert_like(tok, obj, path, err);
    if (!strcmp(type, "Sequence")) {
        json_t *list = json_object_get(obj, "processors"), *item;
        size_t i;
        if (!json_is_array(list))
            return lcx_errf(err, LCX_EINPUT, "%s: post_processor.processors: expected an array", path);
        json_array_foreach(list, i, item) {
            int rc = tok_load_post_processor(tok, item, path, err);
            if (rc)
                return rc;
        }
        return 0;
    }
    return lcx_errf(err, LCX_EINPUT, "%s: post_processor.type: unsupported post-processor \"%.40s\"", path, type);
}

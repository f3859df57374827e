/* tokenizer.c: the public API of tokenizer/tokenizer.h: load tokenizer.json,
 * encode (added tokens, normalize, pre-tokenize, BPE, post-process), count,
 * decode.
 *
 * Invalid UTF-8 input is not an error here: it is encoded as Rust's
 * String::from_utf8_lossy would read it (each maximal invalid subsequence
 * becomes U+FFFD), which is what the reference sees when it is handed the
 * same bytes through a lossy reader. `lcx tokenize` rejects it up front. */
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

/* ---- loading ---- */

/* GPT-2's bytes_to_unicode: printable bytes stand for themselves, the rest
 * map to U+0100 upwards in byte order. */
static void byte_level_tables(lcx_tokenizer *tok)
{
    uint32_t next = 256;
    for (int i = 0; i < 0x144; i++)
        tok->char_byte[i] = -1;
    for (int b = 0; b < 256; b++) {
        int printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
        uint32_t cp = printable ? (uint32_t)b : next++;
        tok->byte_char_len[b] = (uint8_t)tok_utf8_encode(cp, tok->byte_char[b]);
        tok->char_byte[cp] = (int16_t)b;
    }
}

static char *resolve_path(const char *path)
{
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, path);
    if (lcx_is_dir(path))
        sb_puts(&sb, sb.len && path[sb.len - 1] == '/' ? "tokenizer.json" : "/tokenizer.json");
    return sb.oom ? NULL : sb_take(&sb);
}

static int load_added_token(lcx_tokenizer *tok, json_t *obj, size_t i, tok_added *a, lcx_err *err)
{
    json_t *id = json_object_get(obj, "id"), *content = json_object_get(obj, "content");
    if (!json_is_integer(id) || json_integer_value(id) < 0 || json_integer_value(id) > INT32_MAX - 1)
        return lcx_errf(err, LCX_EINPUT, "%s: added_tokens[%zu].id: expected a non-negative integer",
                        tok->source, i);
    if (!json_is_string(content) || !json_string_length(content))
        return lcx_errf(err, LCX_EINPUT, "%s: added_tokens[%zu].content: expected a non-empty string",
                        tok->source, i);
    a->id = (int32_t)json_integer_value(id);
    a->content = strdup(json_string_value(content));
    if (!a->content)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
    a->special = json_is_true(json_object_get(obj, "special"));
    a->lstrip = json_is_true(json_object_get(obj, "lstrip"));
    a->rstrip = json_is_true(json_object_get(obj, "rstrip"));
    a->single_word = json_is_true(json_object_get(obj, "single_word"));
    json_t *normalized = json_object_get(obj, "normalized");
    a->normalized = normalized ? json_is_true(normalized) : !a->special;
    return 0;
}

/* Normalized tokens are searched for in their normalized form. */
static int normalize_added(lcx_tokenizer *tok, lcx_err *err)
{
    tok_work w;
    tok_ids none = {0};
    strbuf out;
    sb_init(&out);
    if (tok_work_init(&w, tok, &none))
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
    int rc = 0;
    for (size_t i = 0; i < tok->n_added && !rc; i++) {
        tok_added *a = &tok->added[i];
        if (a->normalized && tok->n_norms) {
            if (tok_normalize(tok, &w, a->content, strlen(a->content), &out) || !(a->match = sb_take(&out)))
                rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
        } else if (!(a->match = strdup(a->content))) {
            rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
        }
        if (a->match)
            a->match_len = strlen(a->match);
    }
    sb_free(&out);
    tok_work_free(&w);
    return rc;
}

/* The ids the reference gives added tokens when it reads tokenizer.json: a
 * token already in the vocabulary (model or added) keeps that id; a new one
 * gets the next id after the largest so far (AddedVocabulary::add_tokens).
 * Files the reference wrote always agree with their "id" fields. */
static void assign_added_ids(lcx_tokenizer *tok)
{
    int64_t vocab_n = (int64_t)tok->bpe.vocab.n, max = -1;
    for (size_t i = 0; i < tok->n_added; i++) {
        tok_added *a = &tok->added[i];
        int32_t id = -1;
        for (size_t j = 0; j < i && id < 0; j++)
            if (!strcmp(tok->added[j].content, a->content))
                id = tok->added[j].id;
        if (id < 0)
            id = tok_vocab_find(&tok->bpe.vocab, a->content, strlen(a->content));
        if (id < 0)
            id = (int32_t)(max < 0 ? vocab_n : (max >= vocab_n || vocab_n == 0) ? max + 1 : vocab_n);
        a->id = id;
        if (id > max)
            max = id;
    }
}

static int load_added_tokens(lcx_tokenizer *tok, json_t *list, lcx_err *err)
{
    json_t *obj;
    size_t i;
    if (!list || json_is_null(list))
        return 0;
    if (!json_is_array(list))
        return lcx_errf(err, LCX_EINPUT, "%s: added_tokens: expected an array", tok->source);
    tok->added = calloc(json_array_size(list) + 1, sizeof *tok->added);
    if (!tok->added)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
    json_array_foreach(list, i, obj) {
        int rc = load_added_token(tok, obj, i, &tok->added[i], err);
        if (rc)
            return rc;
        tok->n_added++;
    }
    assign_added_ids(tok);
    int rc = normalize_added(tok, err);
    return rc ? rc : tok_added_build(tok, err);
}

static size_t count_vocab(const lcx_tokenizer *tok)
{
    size_t n = tok->bpe.vocab.n;
    for (size_t i = 0; i < tok->n_added; i++) {
        size_t len;
        const char *t = tok_vocab_token(&tok->bpe.vocab, tok->added[i].id, &len);
        int dup = t && len == strlen(tok->added[i].content) && !memcmp(t, tok->added[i].content, len);
        for (size_t j = 0; j < i && !dup; j++)
            dup = tok->added[j].id == tok->added[i].id;
        n += !dup;
    }
    return n;
}

static int load_sections(lcx_tokenizer *tok, json_t *root, lcx_err *err)
{
    const char *path = tok->source;
    int rc = tok_bpe_load(&tok->bpe, json_object_get(root, "model"), path, err);
    if (!rc)
        rc = tok_load_normalizer(tok, json_object_get(root, "normalizer"), path, err);
    if (!rc)
        rc = tok_load_pretokenizer(tok, json_object_get(root, "pre_tokenizer"), path, err);
    if (!rc)
        rc = tok_load_post_processor(tok, json_object_get(root, "post_processor"), path, err);
    if (!rc)
        rc = tok_load_decoder(tok, json_object_get(root, "decoder"), path, err);
    if (!rc)
        rc = load_added_tokens(tok, json_object_get(root, "added_tokens"), err);
    return rc;
}

/* The cut rules (tokenizer.h) this pipeline satisfies; docs/tokenizer.md
 * gives the argument for each regex family. Normalizer: none or NFC (a
 * space, a newline and every printable ASCII character are starters that
 * compose with nothing across the cut). Pre-tokenizer: a known regex
 * followed by (or inside) a plain ByteLevel. Added tokens: none that holds
 * a space or a newline, and none that strips or checks its neighbours. */
static unsigned cut_rules_of(const lcx_tokenizer *tok)
{
    if (tok->n_norms > 1 || (tok->n_norms == 1 && tok->norms[0].kind != NORM_NFC))
        return 0;
    for (size_t i = 0; i < tok->n_added; i++) {
        const tok_added *a = &tok->added[i];
        if (a->lstrip || a->rstrip || a->single_word || strpbrk(a->content, " \n") ||
            (a->match && strpbrk(a->match, " \n")))
            return 0;
    }
    const tok_pretok *p = tok->pretoks;
    if (tok->n_pretoks == 1 && p[0].kind == PRETOK_BYTELEVEL && !p[0].add_prefix_space &&
        p[0].regex_family == TOK_RE_GPT2)
        return LCX_TOK_CUT_SPACE | LCX_TOK_CUT_NEWLINE_SINGLE;
    if (tok->n_pretoks == 2 && p[0].kind == PRETOK_SPLIT && p[0].behavior == SPLIT_ISOLATED &&
        !p[0].invert && p[0].regex_family == TOK_RE_CL100K && p[1].kind == PRETOK_BYTELEVEL &&
        !p[1].use_regex && !p[1].add_prefix_space)
        return LCX_TOK_CUT_SPACE | LCX_TOK_CUT_NEWLINES;
    return 0;
}

static int load_from_text(lcx_tokenizer *tok, const char *data, size_t len, lcx_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc;
    if (!root)
        rc = lcx_errf(err, LCX_EINPUT, "%s:%d:%d: invalid JSON: %s", tok->source, jerr.line, jerr.column,
                      jerr.text);
    else if (!json_is_object(root))
        rc = lcx_errf(err, LCX_EINPUT, "%s: expected a JSON object at the top", tok->source);
    else
        rc = load_sections(tok, root, err);
    json_decref(root);
    if (!rc) {
        tok->vocab_size = count_vocab(tok);
        tok->cut_rules = cut_rules_of(tok);
    }
    if (!rc && !(tok->shared_cache = tok_shared_cache_new()))
        rc = lcx_errf(err, LCX_ENOMEM, "%s: out of memory", tok->source);
    return rc;
}

static lcx_tokenizer *tokenizer_new(char *source)
{
    lcx_tokenizer *tok = source ? calloc(1, sizeof *tok) : NULL;
    if (!tok) {
        free(source);
        return NULL;
    }
    tok->source = source;
    byte_level_tables(tok);
    return tok;
}

int lcx_tokenizer_load_json(const char *json, size_t len, const char *name, lcx_tokenizer **out,
                            lcx_err *err)
{
    *out = NULL;
    lcx_tokenizer *tok = tokenizer_new(strdup(name ? name : "<tokenizer.json>"));
    if (!tok)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", name ? name : "<tokenizer.json>");
    int rc = load_from_text(tok, json, len, err);
    if (rc)
        lcx_tokenizer_free(tok);
    else
        *out = tok;
    return rc;
}

int lcx_tokenizer_load(const char *path, lcx_tokenizer **out, lcx_err *err)
{
    char *data = NULL;
    size_t len = 0;
    *out = NULL;
    lcx_tokenizer *tok = tokenizer_new(resolve_path(path));
    if (!tok)
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    int rc = lcx_read_file(tok->source, &data, &len, err);
    if (!rc)
        rc = load_from_text(tok, data, len, err);
    free(data);
    if (rc)
        lcx_tokenizer_free(tok);
    else
        *out = tok;
    return rc;
}

void lcx_tokenizer_free(lcx_tokenizer *tok)
{
    if (!tok)
        return;
    for (size_t i = 0; i < tok->n_norms; i++) {
        tok_pattern_free(&tok->norms[i].pattern);
        free(tok->norms[i].content);
    }
    for (size_t i = 0; i < tok->n_pretoks; i++)
        tok_pattern_free(&tok->pretoks[i].pattern);
    for (size_t i = 0; i < tok->n_decoders; i++) {
        tok_pattern_free(&tok->decoders[i].pattern);
        free(tok->decoders[i].content);
    }
    for (size_t i = 0; i < tok->n_added; i++) {
        free(tok->added[i].content);
        free(tok->added[i].match);
    }
    free(tok->norms);
    free(tok->pretoks);
    free(tok->decoders);
    free(tok->added);
    tok_added_set_free(&tok->raw_set);
    tok_added_set_free(&tok->norm_set);
    tok_bpe_free(&tok->bpe);
    free(tok->post_prefix.v);
    free(tok->post_suffix.v);
    free(tok->shared_cache);
    free(tok->source);
    free(tok);
}

/* ---- encoding ---- */

/* One stretch of text between non-normalized added tokens. */
static int encode_segment(tok_work *w, const char *s, size_t n, int at_origin)
{
    const lcx_tokenizer *tok = w->tok;
    if (tok_normalize(tok, w, s, n, &w->norm_text))
        return -1;
    const char *t = sb_str(&w->norm_text);
    size_t tn = w->norm_text.len;
    if (!tok->norm_set.n)
        return tok_pretokenize_and_encode(w, t, tn, at_origin);
    tok_added_pieces pieces = {0};
    int rc = tok_added_split(tok, &tok->norm_set, t, tn, &pieces);
    for (size_t i = 0; i < pieces.n && !rc; i++) {
        tok_added_piece p = pieces.v[i];
        rc = p.id >= 0 ? tok_ids_push(w->out, p.id)
                       : tok_pretokenize_and_encode(w, t + p.start, p.end - p.start, at_origin && p.start == 0);
    }
    free(pieces.v);
    return rc;
}

static int encode_valid(const lcx_tokenizer *tok, const char *text, size_t len, tok_ids *out)
{
    tok_work w;
    if (tok_work_init(&w, tok, out))
        return -1;
    tok_added_pieces pieces = {0};
    int rc = tok_added_split(tok, &tok->raw_set, text, len, &pieces);
    for (size_t i = 0; i < pieces.n && !rc; i++) {
        tok_added_piece p = pieces.v[i];
        rc = p.id >= 0 ? tok_ids_push(out, p.id)
                       : encode_segment(&w, text + p.start, p.end - p.start, p.start == 0);
    }
    free(pieces.v);
    tok_work_free(&w);
    return rc;
}

static int encode_ids(const lcx_tokenizer *tok, const char *text, size_t len, tok_ids *out)
{
    if (tok_utf8_invalid_at(text, len) == len)
        return encode_valid(tok, text, len, out);
    strbuf clean;
    sb_init(&clean);
    tok_utf8_lossy(&clean, text, len);
    int rc = clean.oom ? -1 : encode_valid(tok, sb_str(&clean), clean.len, out);
    sb_free(&clean);
    return rc;
}

int lcx_tokenizer_encode(const lcx_tokenizer *tok, const char *text, size_t len, int add_special,
                         int32_t **ids, size_t *n, lcx_err *err)
{
    tok_ids out = {0};
    int rc = 0;
    *ids = NULL;
    *n = 0;
    for (size_t i = 0; add_special && i < tok->post_prefix.n && !rc; i++)
        rc = tok_ids_push(&out, tok->post_prefix.v[i]);
    if (!rc)
        rc = encode_ids(tok, text ? text : "", text ? len : 0, &out);
    for (size_t i = 0; add_special && i < tok->post_suffix.n && !rc; i++)
        rc = tok_ids_push(&out, tok->post_suffix.v[i]);
    if (!rc && !out.v)
        rc = tok_ids_push(&out, 0) ? -1 : (out.n = 0, 0);
    if (rc) {
        free(out.v);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory while encoding %zu bytes", tok->source, len);
    }
    *ids = out.v;
    *n = out.n;
    return 0;
}

size_t lcx_tokenizer_count(const lcx_tokenizer *tok, const char *text, size_t len)
{
    tok_ids out = {0};
    int rc = encode_ids(tok, text ? text : "", text ? len : 0, &out);
    size_t n = out.n;
    free(out.v);
    return rc ? 0 : n;
}

unsigned lcx_tokenizer_cut_rules(const lcx_tokenizer *tok)
{
    return tok->cut_rules;
}

/* ---- decoding and the vocabulary ---- */

static const tok_added *added_by_id(const lcx_tokenizer *tok, int32_t id)
{
    for (size_t i = 0; i < tok->n_added; i++)
        if (tok->added[i].id == id)
            return &tok->added[i];
    return NULL;
}

const char *lcx_tokenizer_id_token(const lcx_tokenizer *tok, int32_t id)
{
    const tok_added *a = added_by_id(tok, id);
    size_t len;
    return a ? a->content : tok_vocab_token(&tok->bpe.vocab, id, &len);
}

int lcx_tokenizer_is_special(const lcx_tokenizer *tok, int32_t id)
{
    const tok_added *a = added_by_id(tok, id);
    return a && a->special;
}

int lcx_tokenizer_decode(const lcx_tokenizer *tok, const int32_t *ids, size_t n, int skip_special,
                         char **text, size_t *len, lcx_err *err)
{
    char **tokens = calloc(n + 1, sizeof *tokens);
    size_t *lens = calloc(n + 1, sizeof *lens), k = 0;
    strbuf out;
    sb_init(&out);
    *text = NULL;
    *len = 0;
    if (!tokens || !lens) {
        free(tokens);
        free(lens);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory while decoding", tok->source);
    }
    for (size_t i = 0; i < n; i++) {
        const tok_added *a = added_by_id(tok, ids[i]);
        if (a && a->special && skip_special)
            continue;
        const char *t = a ? a->content : tok_vocab_token(&tok->bpe.vocab, ids[i], &lens[k]);
        if (!t)
            continue; /* unknown ids are dropped, as the reference does */
        if (a)
            lens[k] = strlen(t);
        tokens[k++] = (char *)t;
    }
    int rc = tok_decode_tokens(tok, tokens, lens, k, &out);
    free(tokens);
    free(lens);
    if (rc || out.oom) {
        sb_free(&out);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory while decoding", tok->source);
    }
    *len = out.len;
    *text = sb_take(&out);
    return *text ? 0 : lcx_errf(err, LCX_ENOMEM, "%s: out of memory while decoding", tok->source);
}

size_t lcx_tokenizer_vocab_size(const lcx_tokenizer *tok)
{
    return tok->vocab_size;
}

int32_t lcx_tokenizer_token_id(const lcx_tokenizer *tok, const char *token)
{
    for (size_t i = 0; i < tok->n_added; i++)
        if (!strcmp(tok->added[i].content, token))
            return tok->added[i].id;
    return tok_vocab_find(&tok->bpe.vocab, token, strlen(token));
}

int32_t lcx_tokenizer_bos_id(const lcx_tokenizer *tok)
{
    return tok->post_prefix.n ? tok->post_prefix.v[0] : -1;
}

size_t lcx_tokenizer_invalid_utf8_at(const char *text, size_t len)
{
    return tok_utf8_invalid_at(text, len);
}

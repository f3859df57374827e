/* pretok.c: patterns (literal or PCRE2 regex), the Split
 * behaviours, the pre-tokenizer stages (Split, ByteLevel, Metaspace) and
 * the normalizers. Each pre-tokenizer stage hands its pieces to the next;
 * the last stage hands words to the BPE model. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

/* ---- patterns ---- */

int tok_pattern_compile_regex(tok_pattern *p, const char *regex, const char *where, lcx_err *err)
{
    int code;
    PCRE2_SIZE offset;
    memset(p, 0, sizeof *p);
    p->re = pcre2_compile((PCRE2_SPTR)regex, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP, &code,
                          &offset, NULL);
    if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        return lcx_errf(err, LCX_EINPUT, "%s: invalid regex at offset %zu: %s", where, (size_t)offset,
                        (const char *)msg);
    }
    pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter when absent */
    return 0;
}

int tok_pattern_set_literal(tok_pattern *p, const char *s, size_t n)
{
    memset(p, 0, sizeof *p);
    p->literal = malloc(n + 1);
    if (!p->literal)
        return -1;
    memcpy(p->literal, s, n);
    p->literal[n] = 0;
    p->literal_len = n;
    return 0;
}

void tok_pattern_free(tok_pattern *p)
{
    if (p->re)
        pcre2_code_free(p->re);
    free(p->literal);
    memset(p, 0, sizeof *p);
}

static int regex_match_at(const tok_pattern *p, pcre2_match_data *md, const char *s, size_t n,
                          size_t pos, size_t *start, size_t *end)
{
    int rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, NULL);
    if (rc == PCRE2_ERROR_NOMATCH)
        return 0;
    if (rc < 0)
        return -1;
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    *start = ov[0];
    *end = ov[1];
    return 1;
}

/* Like the onig crate's find_iter: an empty match right where the previous
 * match ended is skipped, and the search then moves one character on. */
static int regex_find_all(const tok_pattern *p, pcre2_match_data *md, const char *s, size_t n,
                          tok_spans *out)
{
    size_t pos = 0, start, end, last_end = 0;
    int have_last = 0;
    while (pos <= n) {
        int rc = regex_match_at(p, md, s, n, pos, &start, &end);
        if (rc <= 0)
            return rc;
        if (start == end && have_last && last_end == end) {
            if (pos >= n)
                break;
            pos += tok_utf8_seq_len((unsigned char)s[pos]);
            continue;
        }
        if (tok_spans_push(out, start, end))
            return -1;
        pos = end;
        last_end = end;
        have_last = 1;
    }
    return 0;
}

int tok_pattern_find_all(const tok_pattern *p, pcre2_match_data *md, const char *s, size_t n,
                         tok_spans *out)
{
    out->n = 0;
    if (p->re)
        return regex_find_all(p, md, s, n, out);
    if (!p->literal_len)
        return 0;
    size_t pos = 0;
    while (pos + p->literal_len <= n) {
        const char *hit = memmem(s + pos, n - pos, p->literal, p->literal_len);
        if (!hit)
            break;
        size_t start = (size_t)(hit - s);
        if (tok_spans_push(out, start, start + p->literal_len))
            return -1;
        pos = start + p->literal_len;
    }
    return 0;
}

/* ---- Split behaviours (SplitDelimiterBehavior) ---- */

static int parts_reserve(tok_work *w, size_t n)
{
    if (n <= w->parts_cap)
        return 0;
    size_t cap = w->parts_cap ? w->parts_cap : 64;
    while (cap < n)
        cap *= 2;
    struct tok_part *p = realloc(w->parts, cap * sizeof *p);
    if (!p)
        return -1;
    w->parts = p;
    w->parts_cap = cap;
    return 0;
}

/* The text cut into alternating non-match / match parts (Pattern::find_matches). */
static int split_parts(tok_work *w, const tok_pattern *p, const char *s, size_t n, int invert,
                       size_t *count)
{
    if (tok_pattern_find_all(p, w->md, s, n, &w->matches) || parts_reserve(w, 2 * w->matches.n + 2))
        return -1;
    size_t k = 0, prev = 0;
    for (size_t i = 0; i < w->matches.n; i++) {
        tok_span m = w->matches.v[i];
        if (m.start != prev)
            w->parts[k++] = (struct tok_part){prev, m.start, invert};
        w->parts[k++] = (struct tok_part){m.start, m.end, !invert};
        prev = m.end;
    }
    if (prev != n || n == 0)
        w->parts[k++] = (struct tok_part){prev, n, invert};
    *count = k;
    return 0;
}

static int apply_behavior(struct tok_part *parts, size_t n, int behavior, tok_spans *out)
{
    size_t first = out->n;
    int prev_match = 0;
    for (size_t i = 0; i < n; i++) {
        struct tok_part p = parts[i];
        int merged = 0;
        switch (behavior) {
        case SPLIT_REMOVED:
            merged = p.is_match; /* dropped */
            break;
        case SPLIT_MERGED_PREV:
            if (p.is_match && !prev_match && out->n > first) {
                out->v[out->n - 1].end = p.end;
                merged = 1;
            }
            break;
        case SPLIT_MERGED_NEXT:
            if (p.is_match && i + 1 < n && !parts[i + 1].is_match) {
                parts[i + 1].start = p.start;
                merged = 1;
            }
            break;
        case SPLIT_CONTIGUOUS:
            if (p.is_match == prev_match && out->n > first) {
                out->v[out->n - 1].end = p.end;
                merged = 1;
            }
            break;
        default:
            break;
        }
        prev_match = p.is_match;
        if (!merged && tok_spans_push(out, p.start, p.end))
            return -1;
    }
    return 0;
}

static int split_text(tok_work *w, const tok_pattern *p, int behavior, int invert, const char *s,
                      size_t n, tok_spans *out)
{
    size_t count;
    out->n = 0;
    if (split_parts(w, p, s, n, invert, &count))
        return -1;
    return apply_behavior(w->parts, count, behavior, out);
}

/* ---- pre-tokenizer stages ---- */

static int run_stage(tok_work *w, size_t stage, const char *s, size_t n, int at_origin);

static int run_pieces(tok_work *w, size_t stage, const char *s, const tok_spans *spans, int at_origin)
{
    for (size_t i = 0; i < spans->n; i++) {
        tok_span sp = spans->v[i];
        if (sp.end > sp.start && run_stage(w, stage + 1, s + sp.start, sp.end - sp.start,
                                           at_origin && sp.start == 0))
            return -1;
    }
    return 0;
}

static int stage_split(tok_work *w, size_t stage, const tok_pretok *pt, const char *s, size_t n,
                       int at_origin)
{
    tok_spans *spans = &w->stage_spans[stage];
    if (split_text(w, &pt->pattern, pt->behavior, pt->invert, s, n, spans))
        return -1;
    return run_pieces(w, stage, s, spans, at_origin);
}

static int stage_bytelevel(tok_work *w, size_t stage, const tok_pretok *pt, const char *s, size_t n,
                           int at_origin)
{
    const lcx_tokenizer *tok = w->tok;
    strbuf *text = &w->stage_text[2 * stage], *mapped = &w->stage_text[2 * stage + 1];
    tok_spans *spans = &w->stage_spans[stage];
    if (pt->add_prefix_space && s[0] != ' ') {
        sb_clear(text);
        sb_putc(text, ' ');
        sb_append(text, s, n);
        if (text->oom)
            return -1;
        s = text->data;
        n = text->len;
    }
    spans->n = 0;
    if (pt->use_regex ? split_text(w, &pt->pattern, SPLIT_ISOLATED, 0, s, n, spans)
                      : tok_spans_push(spans, 0, n))
        return -1;
    for (size_t i = 0; i < spans->n; i++) {
        tok_span sp = spans->v[i];
        if (sp.end == sp.start)
            continue;
        sb_clear(mapped);
        if (sb_reserve(mapped, 2 * (sp.end - sp.start)))
            return -1;
        char *o = mapped->data;
        for (size_t j = sp.start; j < sp.end; j++) {
            unsigned char b = (unsigned char)s[j];
            memcpy(o, tok->byte_char[b], 2);
            o += tok->byte_char_len[b];
        }
        mapped->len = (size_t)(o - mapped->data);
        mapped->data[mapped->len] = 0;
        if (run_stage(w, stage + 1, mapped->data, mapped->len, at_origin && sp.start == 0))
            return -1;
    }
    return 0;
}

static int stage_metaspace(tok_work *w, size_t stage, const tok_pretok *pt, const char *s, size_t n,
                           int at_origin)
{
    strbuf *text = &w->stage_text[2 * stage];
    tok_spans *spans = &w->stage_spans[stage];
    int starts_with = n >= pt->replacement_len && memcmp(s, pt->replacement, pt->replacement_len) == 0;
    int prepend = !starts_with && s[0] != ' ' &&
                  (pt->prepend_scheme == PREPEND_ALWAYS || (pt->prepend_scheme == PREPEND_FIRST && at_origin));
    /* A leading space becomes the replacement, so it counts as starting with it. */
    sb_clear(text);
    if (prepend)
        sb_append(text, pt->replacement, pt->replacement_len);
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j < n && s[j] != ' ')
            j++;
        sb_append(text, s + i, j - i);
        if (j < n)
            sb_append(text, pt->replacement, pt->replacement_len);
        i = j;
    }
    if (text->oom)
        return -1;
    spans->n = 0;
    if (!pt->split) {
        if (tok_spans_push(spans, 0, text->len))
            return -1;
    } else {
        tok_pattern rep = {NULL, (char *)pt->replacement, pt->replacement_len};
        if (split_text(w, &rep, SPLIT_MERGED_NEXT, 0, text->data, text->len, spans))
            return -1;
    }
    return run_pieces(w, stage, text->data, spans, at_origin);
}

static int run_stage(tok_work *w, size_t stage, const char *s, size_t n, int at_origin)
{
    if (!n)
        return 0;
    if (stage >= w->tok->n_pretoks)
        return tok_bpe_word(w, s, n);
    const tok_pretok *pt = &w->tok->pretoks[stage];
    switch (pt->kind) {
    case PRETOK_SPLIT: return stage_split(w, stage, pt, s, n, at_origin);
    case PRETOK_BYTELEVEL: return stage_bytelevel(w, stage, pt, s, n, at_origin);
    default: return stage_metaspace(w, stage, pt, s, n, at_origin);
    }
}

int tok_pretokenize_and_encode(tok_work *w, const char *s, size_t n, int at_origin)
{
    return run_stage(w, 0, s, n, at_origin);
}

/* ---- normalizers ---- */

static int normalize_replace(tok_work *w, const tok_normalizer *nm, const char *s, size_t n, strbuf *out)
{
    if (tok_pattern_find_all(&nm->pattern, w->md, s, n, &w->matches))
        return -1;
    size_t prev = 0;
    for (size_t i = 0; i < w->matches.n; i++) {
        sb_append(out, s + prev, w->matches.v[i].start - prev);
        sb_append(out, nm->content, nm->content_len);
        prev = w->matches.v[i].end;
    }
    sb_append(out, s + prev, n - prev);
    return 0;
}

static void normalize_strip(const tok_normalizer *nm, const char *s, size_t n, strbuf *out)
{
    size_t start = 0, end = n, k;
    while (nm->strip_left && start < end && tok_is_whitespace(tok_utf8_decode(s + start, end - start, &k)))
        start += k;
    while (nm->strip_right && end > start) {
        size_t b = end - 1;
        while (b > start && ((unsigned char)s[b] & 0xC0) == 0x80)
            b--;
        if (!tok_is_whitespace(tok_utf8_decode(s + b, end - b, &k)))
            break;
        end = b;
    }
    sb_append(out, s + start, end - start);
}

static int normalize_one(tok_work *w, const tok_normalizer *nm, const char *s, size_t n, strbuf *out)
{
    switch (nm->kind) {
    case NORM_NFC:
        tok_nfc(out, s, n);
        return 0;
    case NORM_REPLACE:
        return normalize_replace(w, nm, s, n, out);
    case NORM_PREPEND:
        if (n)
            sb_append(out, nm->content, nm->content_len);
        sb_append(out, s, n);
        return 0;
    default:
        normalize_strip(nm, s, n, out);
        return 0;
    }
}

int tok_normalize(const lcx_tokenizer *tok, tok_work *w, const char *s, size_t n, strbuf *out)
{
    strbuf *a = &w->norm_tmp;
    sb_clear(out);
    if (!tok->n_norms) {
        sb_append(out, s, n);
        return out->oom ? -1 : 0;
    }
    for (size_t i = 0; i < tok->n_norms; i++) {
        /* ping-pong so that the last normalizer writes into out */
        strbuf *dst = ((tok->n_norms - 1 - i) % 2 == 0) ? out : a;
        sb_clear(dst);
        if (normalize_one(w, &tok->norms[i], s, n, dst) || dst->oom)
            return -1;
        s = sb_str(dst);
        n = dst->len;
    }
    return 0;
}

/* decode.c: the decoder chain. Each decoder turns a list of token
 * strings into a new list (Decoder::decode_chain); the result is joined. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/internal.h"
#include "tokenizer/unicode.h"

/* A list of strings: spans into one text buffer. */
typedef struct str_list {
    strbuf text;
    tok_spans spans;
} str_list;

static void list_free(str_list *l)
{
    sb_free(&l->text);
    free(l->spans.v);
}

static void list_clear(str_list *l)
{
    sb_clear(&l->text);
    l->spans.n = 0;
}

/* Close the string that was appended since `start`. */
static int list_close(str_list *l, size_t start)
{
    return tok_spans_push(&l->spans, start, l->text.len);
}

static const char *item(const str_list *l, size_t i, size_t *len)
{
    *len = l->spans.v[i].end - l->spans.v[i].start;
    return sb_str(&l->text) + l->spans.v[i].start;
}

static int token_bytes(const lcx_tokenizer *tok, const char *s, size_t n, strbuf *out)
{
    size_t start = out->len, i = 0, k;
    while (i < n) {
        uint32_t cp = tok_utf8_decode(s + i, n - i, &k);
        if (cp >= 0x144 || tok->char_byte[cp] < 0) {
            out->len = start; /* not all byte-level: keep the token as it is */
            sb_append(out, s, n);
            return 0;
        }
        sb_putc(out, (char)tok->char_byte[cp]);
        i += k;
    }
    return 0;
}

static int decode_bytelevel(const lcx_tokenizer *tok, const str_list *in, str_list *out)
{
    strbuf raw;
    size_t len;
    sb_init(&raw);
    for (size_t i = 0; i < in->spans.n; i++) {
        const char *s = item(in, i, &len);
        token_bytes(tok, s, len, &raw);
    }
    tok_utf8_lossy(&out->text, sb_str(&raw), raw.len);
    int rc = raw.oom ? -1 : list_close(out, 0);
    sb_free(&raw);
    return rc;
}

static int byte_token(const char *s, size_t n, unsigned char *byte)
{
    if (n != 6 || memcmp(s, "<0x", 3) != 0 || s[5] != '>')
        return 0;
    unsigned v = 0;
    for (int i = 3; i < 5; i++) {
        char c = s[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
                : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0)
            return 0;
        v = v * 16 + (unsigned)d;
    }
    *byte = (unsigned char)v;
    return 1;
}

static int flush_bytes(strbuf *bytes, str_list *out)
{
    if (!bytes->len)
        return 0;
    if (tok_utf8_invalid_at(bytes->data, bytes->len) == bytes->len) {
        size_t start = out->text.len;
        sb_append(&out->text, bytes->data, bytes->len);
        if (list_close(out, start))
            return -1;
    } else {
        for (size_t i = 0; i < bytes->len; i++) { /* one U+FFFD per byte */
            size_t start = out->text.len;
            sb_append(&out->text, "\xEF\xBF\xBD", 3);
            if (list_close(out, start))
                return -1;
        }
    }
    sb_clear(bytes);
    return 0;
}

static int decode_bytefallback(const str_list *in, str_list *out)
{
    strbuf bytes;
    size_t len;
    int rc = 0;
    sb_init(&bytes);
    for (size_t i = 0; i < in->spans.n && !rc; i++) {
        const char *s = item(in, i, &len);
        unsigned char b;
        if (byte_token(s, len, &b)) {
            sb_putc(&bytes, (char)b);
            continue;
        }
        rc = flush_bytes(&bytes, out);
        size_t start = out->text.len;
        sb_append(&out->text, s, len);
        if (!rc)
            rc = list_close(out, start);
    }
    if (!rc)
        rc = flush_bytes(&bytes, out);
    sb_free(&bytes);
    return rc;
}

static int decode_replace(tok_work *w, const tok_decoder *d, const str_list *in, str_list *out)
{
    size_t len;
    for (size_t i = 0; i < in->spans.n; i++) {
        const char *s = item(in, i, &len);
        size_t start = out->text.len, prev = 0;
        if (tok_pattern_find_all(&d->pattern, w->md, s, len, &w->matches))
            return -1;
        for (size_t m = 0; m < w->matches.n; m++) {
            sb_append(&out->text, s + prev, w->matches.v[m].start - prev);
            sb_append(&out->text, d->content, d->content_len);
            prev = w->matches.v[m].end;
        }
        sb_append(&out->text, s + prev, len - prev);
        if (list_close(out, start))
            return -1;
    }
    return 0;
}

static int decode_strip(const tok_decoder *d, const str_list *in, str_list *out)
{
    size_t len, k;
    for (size_t i = 0; i < in->spans.n; i++) {
        const char *s = item(in, i, &len);
        size_t a = 0, b = len;
        for (size_t c = 0; c < d->strip_start && a < b; c++) {
            if (tok_utf8_decode(s + a, b - a, &k) != d->strip_char)
                break;
            a += k;
        }
        for (size_t c = 0; c < d->strip_stop && b > a; c++) {
            size_t p = b - 1;
            while (p > a && ((unsigned char)s[p] & 0xC0) == 0x80)
                p--;
            if (tok_utf8_decode(s + p, b - p, &k) != d->strip_char)
                break;
            b = p;
        }
        size_t start = out->text.len;
        sb_append(&out->text, s + a, b - a);
        if (list_close(out, start))
            return -1;
    }
    return 0;
}

static int decode_metaspace(const tok_decoder *d, const str_list *in, str_list *out)
{
    size_t len;
    for (size_t i = 0; i < in->spans.n; i++) {
        const char *s = item(in, i, &len);
        size_t start = out->text.len;
        int drop = i == 0 && d->prepend_scheme != PREPEND_NEVER;
        for (size_t j = 0; j < len;) {
            if (j + d->replacement_len <= len && memcmp(s + j, d->replacement, d->replacement_len) == 0) {
                if (!drop)
                    sb_putc(&out->text, ' ');
                j += d->replacement_len;
            } else {
                sb_putc(&out->text, s[j++]);
            }
        }
        if (list_close(out, start))
            return -1;
    }
    return 0;
}

static int decode_fuse(const str_list *in, str_list *out)
{
    size_t len;
    for (size_t i = 0; i < in->spans.n; i++) {
        const char *s = item(in, i, &len);
        sb_append(&out->text, s, len);
    }
    return list_close(out, 0);
}

static int decode_step(tok_work *w, const tok_decoder *d, const str_list *in, str_list *out)
{
    switch (d->kind) {
    case DEC_BYTELEVEL: return decode_bytelevel(w->tok, in, out);
    case DEC_BYTEFALLBACK: return decode_bytefallback(in, out);
    case DEC_REPLACE: return decode_replace(w, d, in, out);
    case DEC_STRIP: return decode_strip(d, in, out);
    case DEC_METASPACE: return decode_metaspace(d, in, out);
    default: return decode_fuse(in, out);
    }
}

int tok_decode_tokens(const lcx_tokenizer *tok, char **tokens, size_t *lens, size_t n, strbuf *out)
{
    str_list a = {0}, b = {0};
    tok_work w;
    tok_ids none = {0};
    int rc = 0;
    if (tok_work_init(&w, tok, &none))
        return -1;
    for (size_t i = 0; i < n && !rc; i++) {
        size_t start = a.text.len;
        sb_append(&a.text, tokens[i], lens[i]);
        rc = list_close(&a, start);
    }
    str_list *cur = &a, *next = &b;
    for (size_t i = 0; i < tok->n_decoders && !rc; i++) {
        list_clear(next);
        rc = decode_step(&w, &tok->decoders[i], cur, next);
        str_list *t = cur;
        cur = next;
        next = t;
    }
    size_t len;
    for (size_t i = 0; i < cur->spans.n && !rc; i++) {
        const char *s = item(cur, i, &len);
        if (i > 0 && !tok->has_decoder)
            sb_putc(out, ' ');
        sb_append(out, s, len);
    }
    if (a.text.oom || b.text.oom || out->oom)
        rc = -1;
    list_free(&a);
    list_free(&b);
    tok_work_free(&w);
    return rc;
}

/* cmd_tokenize.c: `lcx tokenize`: encode text with a Hugging Face
 * tokenizer.json and print the ids as a JSON array, or decode such an array
 * back to text.
 *
 *   lcx tokenize --tokenizer DIR_OR_FILE [--file F] [--add-special]
 *   lcx tokenize --tokenizer DIR_OR_FILE --decode [--file F] [--skip-special]
 *
 * --jsonl: batch mode, one JSON value per line: strings in, id arrays out
 * (or, with --decode, id arrays in, strings out).
 *
 * Input comes from --file or standard input. Invalid UTF-8 input is an
 * error naming the byte offset, unless --lossy: then each maximal invalid
 * sequence reads as U+FFFD (Rust's String::from_utf8_lossy), as the library
 * always does. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fsio.h"
#include "common/strbuf.h"
#include "tokenizer/tokenizer.h"
#include "harness/args.h"
#include "harness/commands.h"

typedef struct tokenize_opts {
    const char *tokenizer, *file;
    int add_special, decode, skip_special, jsonl, lossy;
} tokenize_opts;

static void tokenize_usage(FILE *fp)
{
    fprintf(fp, "usage: lcx tokenize --tokenizer DIR_OR_FILE [--file F] [--add-special]\n"
                "       lcx tokenize --tokenizer DIR_OR_FILE --decode [--file F] [--skip-special]\n"
                "  --jsonl  one JSON value per line: strings to encode, or id arrays to decode\n"
                "  --lossy  read invalid UTF-8 as U+FFFD instead of failing\n"
                "Encode text (standard input or --file) to a JSON array of ids, or decode\n"
                "a JSON array of ids to text.\n");
}

static int parse_opts(int argc, char **argv, tokenize_opts *o, lcx_err *err)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        int rc;
        if ((rc = lcx_arg_value(argc, argv, &i, "--tokenizer", &o->tokenizer, err)) != 0 ||
            (rc = lcx_arg_value(argc, argv, &i, "--file", &o->file, err)) != 0) {
            if (rc < 0)
                return LCX_EINPUT;
            continue;
        }
        if (!strcmp(argv[i], "--add-special"))
            o->add_special = 1;
        else if (!strcmp(argv[i], "--decode"))
            o->decode = 1;
        else if (!strcmp(argv[i], "--skip-special"))
            o->skip_special = 1;
        else if (!strcmp(argv[i], "--jsonl"))
            o->jsonl = 1;
        else if (!strcmp(argv[i], "--lossy"))
            o->lossy = 1;
        else
            return lcx_errf(err, LCX_EINPUT, "unknown option '%s' (try --help)", argv[i]);
    }
    if (!o->tokenizer)
        return lcx_errf(err, LCX_EINPUT, "--tokenizer is required");
    return 0;
}

static int read_input(const char *file, char **data, size_t *len, lcx_err *err)
{
    if (file)
        return lcx_read_file(file, data, len, err);
    strbuf sb;
    char buf[65536];
    size_t got;
    sb_init(&sb);
    while ((got = fread(buf, 1, sizeof buf, stdin)) > 0)
        sb_append(&sb, buf, got);
    if (ferror(stdin) || sb.oom) {
        sb_free(&sb);
        return lcx_errf(err, LCX_EIO, "<stdin>: read failed");
    }
    *len = sb.len;
    *data = sb_take(&sb);
    return *data ? 0 : lcx_errf(err, LCX_ENOMEM, "<stdin>: out of memory");
}

static int print_ids(const int32_t *ids, size_t n)
{
    strbuf sb;
    sb_init(&sb);
    sb_putc(&sb, '[');
    for (size_t i = 0; i < n; i++)
        sb_printf(&sb, i ? ",%d" : "%d", ids[i]);
    sb_puts(&sb, "]\n");
    int ok = !sb.oom && fwrite(sb_str(&sb), 1, sb.len, stdout) == sb.len;
    sb_free(&sb);
    return ok ? 0 : 2;
}

static int run_encode(const lcx_tokenizer *tok, const tokenize_opts *o, const char *data, size_t len,
                      lcx_err *err)
{
    size_t bad = lcx_tokenizer_invalid_utf8_at(data, len);
    if (bad < len && !o->lossy)
        return lcx_errf(err, LCX_EINPUT, "%s: invalid UTF-8 at byte offset %zu", o->file ? o->file : "<stdin>",
                        bad);
    int32_t *ids;
    size_t n;
    int rc = lcx_tokenizer_encode(tok, data, len, o->add_special, &ids, &n, err);
    if (rc)
        return rc;
    rc = print_ids(ids, n);
    free(ids);
    return rc ? lcx_errf(err, LCX_EIO, "<stdout>: write failed") : 0;
}

static int parse_ids(const char *data, size_t len, const char *name, int32_t **ids, size_t *n, lcx_err *err)
{
    json_error_t jerr;
    json_t *arr = json_loadb(data, len, JSON_DECODE_ANY, &jerr);
    if (!arr || !json_is_array(arr)) {
        json_decref(arr);
        return lcx_errf(err, LCX_EINPUT, "%s: expected a JSON array of token ids", name);
    }
    *n = json_array_size(arr);
    *ids = malloc((*n + 1) * sizeof **ids);
    if (!*ids) {
        json_decref(arr);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", name);
    }
    for (size_t i = 0; i < *n; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX) {
            json_decref(arr);
            free(*ids);
            return lcx_errf(err, LCX_EINPUT, "%s: [%zu]: expected a non-negative integer id", name, i);
        }
        (*ids)[i] = (int32_t)json_integer_value(v);
    }
    json_decref(arr);
    return 0;
}

static int run_decode(const lcx_tokenizer *tok, const tokenize_opts *o, const char *data, size_t len,
                      lcx_err *err)
{
    int32_t *ids = NULL;
    size_t n = 0, text_len;
    char *text;
    int rc = parse_ids(data, len, o->file ? o->file : "<stdin>", &ids, &n, err);
    if (rc)
        return rc;
    rc = lcx_tokenizer_decode(tok, ids, n, o->skip_special, &text, &text_len, err);
    free(ids);
    if (rc)
        return rc;
    if (o->jsonl) {
        json_t *js = json_stringn_nocheck(text, text_len);
        char *dumped = js ? json_dumps(js, JSON_ENCODE_ANY | JSON_ENSURE_ASCII) : NULL;
        if (!dumped || fputs(dumped, stdout) < 0)
            rc = lcx_errf(err, LCX_EIO, "<stdout>: write failed");
        free(dumped);
        json_decref(js);
    } else if (fwrite(text, 1, text_len, stdout) != text_len) {
        rc = lcx_errf(err, LCX_EIO, "<stdout>: write failed");
    }
    free(text);
    return rc;
}

/* Batch mode: each input line is a JSON string (encode) or id array (decode). */
static int run_jsonl(const lcx_tokenizer *tok, const tokenize_opts *o, const char *data, size_t len,
                     lcx_err *err)
{
    const char *name = o->file ? o->file : "<stdin>";
    size_t line = 0;
    int rc = 0;
    for (size_t pos = 0; pos < len && !rc; line++) {
        const char *end = memchr(data + pos, '\n', len - pos);
        size_t n = end ? (size_t)(end - (data + pos)) : len - pos;
        const char *s = data + pos;
        pos += n + 1;
        if (!n)
            continue;
        if (o->decode) {
            rc = run_decode(tok, o, s, n, err);
            fputc('\n', stdout);
            continue;
        }
        json_error_t jerr;
        json_t *v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!json_is_string(v))
            rc = lcx_errf(err, LCX_EINPUT, "%s:%zu: expected a JSON string", name, line + 1);
        else
            rc = run_encode(tok, o, json_string_value(v), json_string_length(v), err);
        json_decref(v);
    }
    return rc;
}

int lcx_cmd_tokenize(int argc, char **argv)
{
    tokenize_opts o;
    lcx_err err = {0};
    lcx_tokenizer *tok = NULL;
    char *data = NULL;
    size_t len = 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            tokenize_usage(stdout);
            return 0;
        }
    int rc = parse_opts(argc, argv, &o, &err);
    if (!rc)
        rc = lcx_tokenizer_load(o.tokenizer, &tok, &err);
    if (!rc)
        rc = read_input(o.file, &data, &len, &err);
    if (!rc)
        rc = o.jsonl    ? run_jsonl(tok, &o, data, len, &err)
             : o.decode ? run_decode(tok, &o, data, len, &err)
                        : run_encode(tok, &o, data, len, &err);
    free(data);
    lcx_tokenizer_free(tok);
    return rc ? lcx_arg_fail("tokenize", &err) : 0;
}

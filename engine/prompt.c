/* prompt.c: prompt ids and the RoPE summary line (see prompt.h). */
#include "prompt.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/fsio.h"

int lcx_read_ids_file(const char *path, int32_t **ids, size_t *n, lcx_err *err)
{
    *ids = NULL;
    *n = 0;
    json_error_t jerr;
    json_t *a = json_load_file(path, 0, &jerr);
    if (!a)
        return lcx_errf(err, LCX_EINPUT, "%s: line %d: %s", path, jerr.line, jerr.text);
    if (!json_is_array(a) || json_array_size(a) == 0) {
        json_decref(a);
        return lcx_errf(err, LCX_EINPUT, "%s: expected a non-empty JSON array of token ids", path);
    }
    size_t count = json_array_size(a);
    int32_t *out = malloc(count * sizeof *out);
    if (!out) {
        json_decref(a);
        return lcx_errf(err, LCX_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > INT32_MAX) {
            free(out);
            json_decref(a);
            return lcx_errf(err, LCX_EINPUT, "%s: element %zu is not a token id", path, i);
        }
        out[i] = (int32_t)json_integer_value(v);
    }
    json_decref(a);
    *ids = out;
    *n = count;
    return 0;
}

int lcx_encode_prompt(const lcx_model *m, const char *text, size_t len, int32_t **ids, size_t *n,
                      lcx_err *err)
{
    const lcx_tokenizer *tok = lcx_model_tokenizer(m);
    if (!tok)
        return lcx_errf(err, LCX_EINPUT, "cannot encode the prompt: %s (use --prompt-ids)",
                        lcx_model_tokenizer_note(m));
    return lcx_tokenizer_encode(tok, text, len, 1, ids, n, err);
}

int lcx_load_prompt(const lcx_model *m, const char *ids_file, const char *text_file, int32_t **ids,
                    size_t *n, lcx_err *err)
{
    if (ids_file)
        return lcx_read_ids_file(ids_file, ids, n, err);
    char *text;
    size_t len;
    int rc = lcx_read_file(text_file, &text, &len, err);
    if (rc)
        return rc;
    rc = lcx_encode_prompt(m, text, len, ids, n, err);
    free(text);
    if (!rc && *n == 0) {
        free(*ids);
        *ids = NULL;
        rc = lcx_errf(err, LCX_EINPUT, "%s: the prompt encodes to no tokens", text_file);
    }
    return rc;
}

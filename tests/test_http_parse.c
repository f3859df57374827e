/* test_http_parse.c: the reply parsers of the remote backends, on bodies
 * as the servers send them (harness/backend_http.c, harness/remote_count.c)
 * and on what fuzzing found. */
#include <jansson.h>
#include <string.h>

#include "harness/backend_http.h"
#include "harness/remote_count.h"
#include "tests/check.h"

static int parse(lcx_api api, const char *body, lcx_response *r, lcx_err *err)
{
    memset(r, 0, sizeof *r);
    return lcx_backend_http_parse_reply(api, body, strlen(body), r, err);
}

TEST(completions_reply)
{
    lcx_response r;
    lcx_err err = {0};
    CHECK(parse(API_COMPLETIONS,
                "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"choices\":[{\"index\":0,"
                "\"text\":\" 7340932\",\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":"
                "4021,\"completion_tokens\":5}}",
                &r, &err) == 0);
    CHECK_STR(r.text, " 7340932");
    CHECK_STR(r.finish_reason, "length");
    CHECK(r.prompt_tokens == 4021 && r.output_tokens == 5);
    lcx_response_free(&r);
}

TEST(chat_reply)
{
    lcx_response r;
    lcx_err err = {0};
    CHECK(parse(API_CHAT,
                "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"42.\"},"
                "\"finish_reason\":null}]}",
                &r, &err) == 0);
    CHECK_STR(r.text, "42.");
    CHECK_STR(r.finish_reason, "unknown");
    CHECK(r.prompt_tokens == -1 && r.output_tokens == -1);
    lcx_response_free(&r);
    CHECK(parse(API_CHAT, "{\"choices\":[{\"message\":{\"content\":null}}]}", &r, &err) == LCX_EINPUT);
    CHECK(r.text == NULL);
    CHECK_MSG(strstr(err.msg, "choices[0].message.content") != NULL, "%s", err.msg);
}

TEST(llamacpp_reply)
{
    lcx_response r;
    lcx_err err = {0};
    CHECK(parse(API_LLAMACPP,
                "{\"content\":\" x\",\"tokens_predicted\":128,\"tokens_evaluated\":2048,"
                "\"stop_type\":\"limit\"}",
                &r, &err) == 0);
    CHECK_STR(r.text, " x");
    CHECK_STR(r.finish_reason, "length");
    CHECK(r.prompt_tokens == 2048 && r.output_tokens == 128);
    lcx_response_free(&r);
    CHECK(parse(API_LLAMACPP, "{\"content\":\"\",\"stopped_limit\":true}", &r, &err) == 0);
    CHECK_STR(r.finish_reason, "length");
    lcx_response_free(&r);
    CHECK(parse(API_LLAMACPP, "[1, 2]", &r, &err) == LCX_EINPUT);
    CHECK(parse(API_LLAMACPP, "{\"content\": ", &r, &err) == LCX_EINPUT);
}

/* Found fuzzing fuzz_http_completions: a finish reason longer than the
 * 31 bytes lcx keeps was cut inside a character, and the run record then
 * lost its "finish_reason" (json_string refuses invalid UTF-8). */
TEST(long_finish_reason_cut_at_a_character)
{
    lcx_response r;
    lcx_err err = {0};
    CHECK(parse(API_COMPLETIONS,
                "{\"choices\":[{\"text\":\" 7\",\"finish_reason\":"
                "\"stop_sequence_reached_\\u00e9\\u00e9\\u00e9\\u00e9\\u00e9\"}]}",
                &r, &err) == 0);
    CHECK_STR(r.finish_reason, "stop_sequence_reached_\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9");
    json_t *j = json_string(r.finish_reason);
    CHECK(j != NULL);
    json_decref(j);
    lcx_response_free(&r);
    /* and an empty reason stays what the server said */
    CHECK(parse(API_COMPLETIONS, "{\"choices\":[{\"text\":\" 7\",\"finish_reason\":\"\"}]}", &r,
                &err) == 0);
    CHECK_STR(r.finish_reason, "");
    lcx_response_free(&r);
}

TEST(models_reply)
{
    char name[16];
    lcx_err err = {0};
    const char *vllm = "{\"object\":\"list\",\"data\":[{\"id\":\"Qwen/Qwen3-0.6B\",\"object\":\"model\"}]}";
    CHECK(lcx_backend_http_parse_models(vllm, strlen(vllm), name, sizeof name, &err) == 0);
    CHECK_STR(name, "Qwen/Qwen3-0.6B");
    CHECK(lcx_backend_http_parse_models(vllm, strlen(vllm), name, 8, &err) == LCX_EINPUT);
    const char *empty = "{\"object\":\"list\",\"data\":[]}";
    CHECK(lcx_backend_http_parse_models(empty, strlen(empty), name, sizeof name, &err) == LCX_EINPUT);
}

TEST(tokenize_reply)
{
    long n;
    lcx_err err = {0};
    const char *vllm = "{\"count\":5,\"max_model_len\":32768,\"tokens\":[785,3281,10963,1372,369]}";
    CHECK(lcx_remote_count_parse_reply(vllm, strlen(vllm), &n, &err) == 0 && n == 5);
    const char *llama = "{\"tokens\":[{\"id\":75,\"piece\":\"l\"},{\"id\":10626,\"piece\":\"cx\"}]}";
    CHECK(lcx_remote_count_parse_reply(llama, strlen(llama), &n, &err) == 0 && n == 2);
    const char *bad = "{\"count\":-3}";
    CHECK(lcx_remote_count_parse_reply(bad, strlen(bad), &n, &err) == LCX_EINPUT && n == -1);
}

int main(void)
{
    RUN(completions_reply);
    RUN(chat_reply);
    RUN(llamacpp_reply);
    RUN(long_finish_reason_cut_at_a_character);
    RUN(models_reply);
    RUN(tokenize_reply);
    return check_summary();
}

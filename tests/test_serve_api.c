/* test_serve_api.c: harness/serve_api.c: the request bodies of lcx serve's
 * routes are parsed into checked requests or refused with the status,
 * field and code of an OpenAI-style error; chat messages are rendered with
 * the built-in templates; the RoPE fields lcx run sends parse back to the
 * same overrides; streamed text is cut where it cannot change; the API key
 * comparison; the error body. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "harness/serve_api.h"

static lcx_serve_parse_ctx ctx(void)
{
    lcx_serve_parse_ctx c = {lcx_template_find("base"), "tiny", 100, 4};
    return c;
}

/* Parse body as route; expect an error of status on field (NULL: none). */
static void expect_error(lcx_serve_route route, const char *body, int status, const char *param,
                         const char *code)
{
    lcx_serve_parse_ctx c = ctx();
    lcx_serve_request r;
    lcx_serve_error e;
    memset(&e, 0, sizeof e);
    int rc = lcx_serve_parse(route, body, strlen(body), &c, &r, &e);
    CHECK_MSG(rc != 0, "accepted: %s", body);
    if (!rc) {
        lcx_serve_request_free(&r);
        return;
    }
    CHECK_MSG(e.status == status, "%s: status %d, want %d (%s)", body, e.status, status, e.message);
    CHECK_MSG(!strcmp(e.param, param ? param : ""), "%s: param '%s', want '%s'", body, e.param,
              param ? param : "");
    if (code)
        CHECK_MSG(!strcmp(e.code, code), "%s: code '%s', want '%s'", body, e.code, code);
    CHECK(e.message[0] != '\0');
    CHECK(r.prompts == NULL && r.stops == NULL);
}

static int parse_ok(lcx_serve_route route, const char *body, lcx_serve_request *r)
{
    lcx_serve_parse_ctx c = ctx();
    lcx_serve_error e;
    int rc = lcx_serve_parse(route, body, strlen(body), &c, r, &e);
    CHECK_MSG(rc == 0, "%s: %s", body, e.message);
    return rc == 0;
}

TEST(bad_bodies_name_their_field)
{
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\",", 400, NULL, "invalid_json");
    expect_error(LCX_SERVE_COMPLETIONS, "[1, 2]", 400, NULL, "invalid_json");
    expect_error(LCX_SERVE_COMPLETIONS, "", 400, NULL, "invalid_json");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"prompt\": \"b\"}", 400, NULL,
                 "invalid_json");
    expect_error(LCX_SERVE_COMPLETIONS, "{}", 400, "prompt", "missing_field");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": 5}", 400, "prompt", "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": []}", 400, "prompt", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": [1, \"a\"]}", 400, "prompt", "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": [1, 100]}", 400, "prompt", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": [[1], []]}", 400, "prompt[1]", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": [\"a\",\"b\",\"c\",\"d\",\"e\"]}", 400, "prompt",
                 "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"max_token\": 3}", 400, "max_token",
                 "unknown_field");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"messages\": []}", 400, "messages",
                 "unknown_field");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"max_tokens\": \"3\"}", 400,
                 "max_tokens", "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"max_tokens\": 2.5}", 400,
                 "max_tokens", "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"max_tokens\": -1}", 400,
                 "max_tokens", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"temperature\": -0.5}", 400,
                 "temperature", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"top_p\": 0}", 400, "top_p",
                 "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"stream\": 1}", 400, "stream",
                 "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"stop\": [\"x\", 3]}", 400, "stop[1]",
                 "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"stop\": \"\"}", 400, "stop",
                 "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"logprobs\": 9}", 400, "logprobs",
                 "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"n\": 2}", 422, "n", "unsupported_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"presence_penalty\": 0.5}", 422,
                 "presence_penalty", "unsupported_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"logit_bias\": {\"1\": 2}}", 422,
                 "logit_bias", "unsupported_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"stream\": true, \"logprobs\": 1}", 422,
                 "logprobs", "unsupported_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"stream_options\": {\"include_usage\": true}}",
                 400, "stream_options", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"model\": \"other\"}", 404, "model",
                 "model_not_found");
    /* jansson refuses \\u0000 in strings */
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\\u0000b\"}", 400, NULL, "invalid_json");
    /* RoPE fields */
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"rope_scaling\": 4}", 400,
                 "rope_scaling", "invalid_type");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"rope_scaling\": {\"factor\": 0}}", 400,
                 "rope_scaling.factor", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"rope_scaling\": {\"rope_type\": \"su\"}}",
                 400, "rope_scaling.rope_type", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"rope_scaling\": {\"facter\": 2}}", 400,
                 "rope_scaling.facter", "unknown_field");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"rope_scaling\": {\"llama_4_scaling_beta\": -1}}",
                 400, "rope_scaling.llama_4_scaling_beta", "invalid_value");
    expect_error(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"a\", \"attn_temperature\": 0}", 400,
                 "attn_temperature", "invalid_value");
    /* tokenize forms */
    expect_error(LCX_SERVE_TOKENIZE, "{}", 400, "prompt", "missing_field");
    expect_error(LCX_SERVE_TOKENIZE, "{\"prompt\": \"a\", \"content\": \"a\"}", 400, "content", NULL);
    expect_error(LCX_SERVE_TOKENIZE, "{\"content\": \"a\", \"add_special_tokens\": true}", 400,
                 "add_special_tokens", NULL);
    expect_error(LCX_SERVE_TOKENIZE, "{\"prompt\": \"a\", \"max_tokens\": 3}", 400, "max_tokens",
                 "unknown_field");
    expect_error(LCX_SERVE_DETOKENIZE, "{\"tokens\": [1, -2]}", 400, "tokens", "invalid_value");
    expect_error(LCX_SERVE_DETOKENIZE, "{\"tokens\": \"1\"}", 400, "tokens", "invalid_type");
    expect_error(LCX_SERVE_PROBE, "{\"prompt\": [\"a\", \"b\"]}", 400, "prompt", "invalid_type");
}

TEST(chat_messages_and_templates)
{
    expect_error(LCX_SERVE_CHAT, "{}", 400, "messages", "missing_field");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": []}", 400, "messages", "invalid_value");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": [{\"role\": \"user\"}]}", 400, "messages[0].content",
                 "invalid_type");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\", \"x\": 1}]}",
                 400, "messages[0].x", "unknown_field");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": [{\"role\": \"system\", \"content\": \"a\"}]}", 422,
                 "messages[0].role", "unsupported_value");
    expect_error(LCX_SERVE_CHAT,
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
                 "\"assistant\", \"content\": \"b\"}]}",
                 422, "messages", "unsupported_value");
    expect_error(LCX_SERVE_CHAT,
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": "
                 "\"assistant\", \"content\": \"b\"}], \"continue_final_message\": true}",
                 400, "continue_final_message", "invalid_value");
    expect_error(LCX_SERVE_CHAT,
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], \"chat_template\": "
                 "\"{{ messages }}\"}",
                 400, "chat_template", "invalid_value");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": "
                                 "\"image_url\"}]}]}",
                 400, "messages[0].content[0]", "invalid_value");
    expect_error(LCX_SERVE_CHAT, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}], "
                                 "\"logprobs\": true}",
                 422, "logprobs", "unsupported_value");

    lcx_serve_request r;
    /* base: the user's text, then the continued assistant message */
    if (parse_ok(LCX_SERVE_CHAT,
                 "{\"messages\": [{\"role\": \"user\", \"content\": \"Q?\"}, {\"role\": "
                 "\"assistant\", \"content\": \" A:\"}], \"continue_final_message\": true, "
                 "\"add_generation_prompt\": false, \"max_tokens\": 7}",
                 &r)) {
        CHECK_INT((long)r.n_prompts, 1);
        CHECK_STR(r.prompts[0].text, "Q? A:");
        CHECK_INT(r.max_tokens, 7);
        CHECK_INT(r.add_special, 1); /* BOS from the tokenizer, as lcx run --model */
        lcx_serve_request_free(&r);
    }
    /* a named template per request, with text parts */
    if (parse_ok(LCX_SERVE_CHAT,
                 "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": "
                 "\"hi \"}, {\"type\": \"text\", \"text\": \"there\"}]}], \"chat_template\": "
                 "\"chatml\"}",
                 &r)) {
        CHECK_STR(r.prompts[0].text,
                  "<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n");
        CHECK_STR(r.tmpl->name, "chatml");
        lcx_serve_request_free(&r);
    }
}

TEST(completions_fields)
{
    lcx_serve_request r;
    if (parse_ok(LCX_SERVE_COMPLETIONS,
                 "{\"model\": \"tiny\", \"prompt\": [[1, 2], \"text\"], \"max_tokens\": 16.0, "
                 "\"temperature\": 0.5, \"top_p\": 0.9, \"top_k\": 40, \"seed\": 7, \"stop\": "
                 "[\"\\n\", \"END\"], \"echo\": true, \"logprobs\": 2, \"n\": 1, \"user\": \"u\", "
                 "\"add_special_tokens\": false}",
                 &r)) {
        CHECK_INT((long)r.n_prompts, 2);
        CHECK_INT((long)r.prompts[0].n_ids, 2);
        CHECK(r.prompts[0].text == NULL && r.prompts[0].ids[1] == 2);
        CHECK_STR(r.prompts[1].text, "text");
        CHECK_INT(r.max_tokens, 16);
        CHECK_NEAR(r.temperature, 0.5, 1e-12);
        CHECK_NEAR(r.top_p, 0.9, 1e-12);
        CHECK_INT(r.top_k, 40);
        CHECK_INT((long)r.seed, 7);
        CHECK_INT(r.n_stops, 2);
        CHECK_STR(r.stops[1], "END");
        CHECK(r.echo == 1 && r.logprobs == 2 && r.add_special == 0 && !r.rope_given);
        lcx_serve_request_free(&r);
    }
    /* defaults */
    if (parse_ok(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"x\"}", &r)) {
        CHECK(r.max_tokens == -1 && r.temperature == 0 && r.top_p == 1 && r.logprobs == -1 &&
              r.add_special == 1 && r.stream == 0);
        lcx_serve_request_free(&r);
    }
    /* tokenize: vLLM adds special tokens unless told, llama.cpp does not */
    if (parse_ok(LCX_SERVE_TOKENIZE, "{\"prompt\": \"x\"}", &r)) {
        CHECK(r.form == LCX_SERVE_FORM_VLLM && r.add_special == 1);
        lcx_serve_request_free(&r);
    }
    if (parse_ok(LCX_SERVE_TOKENIZE, "{\"content\": \"x\", \"with_pieces\": true}", &r)) {
        CHECK(r.form == LCX_SERVE_FORM_LLAMACPP && r.add_special == 0 && r.with_pieces == 1);
        lcx_serve_request_free(&r);
    }
}

TEST(rope_fields_round_trip)
{
    /* what lcx run --endpoint sends parses back to the same overrides */
    lcx_rope_opts o;
    lcx_rope_opts_init(&o);
    o.type = LCX_ROPE_YARN;
    o.factor = 4;
    o.orig_ctx = 512;
    o.beta_fast = 16;
    o.beta_slow = 2;
    o.attn_factor = 1.25;
    o.truncate = 0;
    o.temperature = 1.1;
    o.llama4_beta = 0.1;
    json_t *body = json_object();
    json_object_set_new(body, "prompt", json_string("x"));
    CHECK_INT(lcx_serve_rope_request_fields(&o, body), 1);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    lcx_serve_request r;
    if (text && parse_ok(LCX_SERVE_COMPLETIONS, text, &r)) {
        CHECK(r.rope_given);
        const lcx_rope_opts *g = &r.rope;
        CHECK(g->type == o.type && g->factor == o.factor && g->factor_auto == o.factor_auto &&
              g->orig_ctx == o.orig_ctx && g->beta_fast == o.beta_fast &&
              g->beta_slow == o.beta_slow && g->truncate == o.truncate &&
              g->attn_factor == o.attn_factor && g->temperature == o.temperature &&
              g->llama4_beta == o.llama4_beta);
        char line[256];
        lcx_serve_rope_fields(&r, line, sizeof line);
        CHECK_STR(line, "rope_type=yarn factor=4 original_max_position_embeddings=512 beta_fast=16 "
                        "beta_slow=2 attention_factor=1.25 truncate=0 attn_temperature=1.1 "
                        "llama_4_scaling_beta=0.1");
        lcx_serve_request_free(&r);
    }
    free(text);
    /* nothing given: nothing sent */
    lcx_rope_opts_init(&o);
    body = json_object();
    CHECK_INT(lcx_serve_rope_request_fields(&o, body), 0);
    CHECK_INT((long)json_object_size(body), 0);
    json_decref(body);
    if (parse_ok(LCX_SERVE_PROBE, "{\"prompt\": \"x\", \"rope_scaling\": {\"factor\": \"auto\"}}", &r)) {
        CHECK(r.rope.factor_auto == 1 && r.rope_given);
        lcx_serve_request_free(&r);
    }
}

TEST(answers_and_errors)
{
    lcx_serve_error e;
    lcx_serve_errorf(&e, 429, NULL, "queue_full", "the queue is full");
    char *b = lcx_serve_error_body(&e);
    CHECK_STR(b, "{\"error\":{\"message\":\"the queue is full\",\"type\":\"rate_limit_error\","
                 "\"param\":null,\"code\":\"queue_full\"}}");
    free(b);
    lcx_serve_errorf(&e, 400, "max_tokens", "invalid_type", "bad \xff byte");
    b = lcx_serve_error_body(&e);
    CHECK(b && strstr(b, "\"param\":\"max_tokens\"") && strstr(b, "\"invalid_request_error\"") &&
          strstr(b, "bad \xEF\xBF\xBD byte"));
    free(b);
    /* a completions answer with logprobs, the first prompt token null */
    lcx_serve_request r;
    if (!parse_ok(LCX_SERVE_COMPLETIONS, "{\"prompt\": \"x\", \"logprobs\": 1, \"echo\": true}", &r))
        return;
    lcx_serve_choice c;
    memset(&c, 0, sizeof c);
    c.text = strdup("ab");
    c.finish = "length";
    c.prompt_tokens = 1;
    c.completion_tokens = 1;
    c.n_lp = 2;
    c.lp_tokens = calloc(2, sizeof *c.lp_tokens);
    c.lp_values = calloc(2, sizeof *c.lp_values);
    c.text_offset = calloc(2, sizeof *c.text_offset);
    c.lp_top = calloc(2, sizeof *c.lp_top);
    c.lp_tokens[0] = strdup("a");
    c.lp_tokens[1] = strdup("b");
    c.lp_values[0] = NAN;
    c.lp_values[1] = -0.5;
    c.text_offset[1] = 1;
    c.lp_top[1] = json_pack("{s:f}", "b", -0.5);
    json_t *a = lcx_serve_answer_json(&r, "cmpl-1", 5, "tiny", &c, 1, NULL);
    char *s = json_dumps(a, JSON_COMPACT);
    CHECK_STR(s, "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"created\":5,\"model\":\"tiny\","
                 "\"choices\":[{\"index\":0,\"text\":\"ab\",\"logprobs\":{\"tokens\":[\"a\",\"b\"],"
                 "\"token_logprobs\":[null,-0.5],\"top_logprobs\":[null,{\"b\":-0.5}],"
                 "\"text_offset\":[0,1]},\"finish_reason\":\"length\"}],\"usage\":{"
                 "\"prompt_tokens\":1,\"completion_tokens\":1,\"total_tokens\":2}}");
    free(s);
    json_decref(a);
    lcx_serve_choice_free(&c);
    lcx_serve_request_free(&r);
}

TEST(stream_cut_and_key)
{
    /* hold back the stop string's length less one */
    CHECK_INT((long)lcx_serve_stream_safe("hello wor", 9, 3), 6);
    CHECK_INT((long)lcx_serve_stream_safe("hello", 5, 0), 5);
    CHECK_INT((long)lcx_serve_stream_safe("ab", 2, 5), 0);
    /* a character split across tokens, and the decoder's U+FFFD */
    CHECK_INT((long)lcx_serve_stream_safe("a\xC3", 2, 0), 1);
    CHECK_INT((long)lcx_serve_stream_safe("a\xE2\x82", 3, 0), 1);
    CHECK_INT((long)lcx_serve_stream_safe("a\xE2\x82\xAC", 4, 0), 4);
    CHECK_INT((long)lcx_serve_stream_safe("a\xEF\xBF\xBD", 4, 0), 1);
    CHECK(lcx_serve_key_matches("Bearer sk-1", "sk-1"));
    CHECK(!lcx_serve_key_matches("Bearer sk-2", "sk-1"));
    CHECK(!lcx_serve_key_matches("Bearer sk-1x", "sk-1"));
    CHECK(!lcx_serve_key_matches("Bearer sk-", "sk-1"));
    CHECK(!lcx_serve_key_matches("sk-1", "sk-1"));
    CHECK(!lcx_serve_key_matches(NULL, "sk-1"));
}

int main(void)
{
    RUN(bad_bodies_name_their_field);
    RUN(chat_messages_and_templates);
    RUN(completions_fields);
    RUN(rope_fields_round_trip);
    RUN(answers_and_errors);
    RUN(stream_cut_and_key);
    return check_summary();
}

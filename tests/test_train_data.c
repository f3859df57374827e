/* test_train_data.c: the stream of training sequences (train/data.c), with
 * a 2000-merge vocabulary learnt from the RULER text (train/vocab.c). */
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "common/progress.h"
#include "tokenizer/tokenizer.h"
#include "tasks/tasks.h"
#include "train/data.h"
#include "train/vocab.h"

static lcx_task_data *data;
static lcx_tokenizer *tok;

static int setup(void)
{
    lcx_err err = {0};
    lcx_data_opts o = {NULL, NULL, NULL, 4096};
    char *text = NULL, *json = NULL;
    size_t len = 0, jlen = 0;
    lcx_vocab *v = NULL;
    int rc = lcx_task_data_load(&o, &data, &err);
    if (!rc)
        rc = lcx_vocab_sample_text(data, NULL, &text, &len, &err);
    if (!rc)
        rc = lcx_vocab_learn(text, len, 2000, &v, &err);
    if (!rc)
        rc = lcx_vocab_json(v, &json, &jlen, &err);
    if (!rc)
        rc = lcx_tokenizer_load_json(json, jlen, "learnt", &tok, &err);
    if (rc)
        fprintf(stderr, "setup: %s\n", err.msg);
    free(text);
    free(json);
    lcx_vocab_free(v);
    return rc;
}

static lcx_data_stream *stream(float prompt_weight)
{
    lcx_data_stream_opts o = {.prompt_weight = prompt_weight};
    lcx_data_stream *s = NULL;
    lcx_err err = {0};
    if (lcx_data_stream_new(tok, data, &o, &s, &err))
        fprintf(stderr, "stream: %s\n", err.msg);
    return s;
}

static char *decode(const int32_t *ids, size_t n)
{
    char *text = NULL;
    size_t len;
    lcx_err err = {0};
    if (lcx_tokenizer_decode(tok, ids, n, 0, &text, &len, &err))
        return NULL;
    return text;
}

/* Every sequence: T ids, BOS first, prompt (weight w), answer and EOS (weight
 * 1), pads (weight 0); the answer decodes to the reference answers and the
 * prompt to the sample's prompt. */
static int check_sequence(const lcx_data_stream *s, uint64_t i, size_t T, float w, size_t *pad_out,
                          const char **task_out)
{
    int32_t ids[LCX_DATA_MAX_T + 1];
    float weights[LCX_DATA_MAX_T + 1];
    ids[T] = -7; /* never written */
    lcx_data_info info;
    lcx_sample smp;
    lcx_err err = {0};
    int rc = lcx_data_sequence(s, i, T, ids, weights, &info, &smp, &err);
    CHECK_MSG(rc == 0, "%s", err.msg);
    if (rc)
        return 0;
    int before = check_failures_in_test;
    int32_t eos = lcx_data_eos_id(s), pad = lcx_data_pad_id(s);
    CHECK_INT(ids[T], -7);
    CHECK_INT(info.n_prompt + info.n_answer + info.n_pad, T);
    CHECK_INT(ids[0], lcx_data_bos_id(s));
    CHECK(weights[0] == 0.0f);
    size_t a0 = info.n_prompt, e = info.n_prompt + info.n_answer - 1;
    for (size_t t = 1; t < a0; t++)
        CHECK(weights[t] == w && ids[t] != pad && ids[t] != eos);
    for (size_t t = a0; t <= e; t++)
        CHECK(weights[t] == 1.0f);
    CHECK_INT(ids[e], eos);
    for (size_t t = e + 1; t < T; t++)
        CHECK(ids[t] == pad && weights[t] == 0.0f);
    /* the answer */
    char *answer = decode(ids + a0, e - a0);
    char want[4096] = " ";
    for (size_t k = 0; k < smp.n_outputs; k++) {
        if (k)
            strcat(want, ", ");
        strncat(want, smp.outputs[k], sizeof want - strlen(want) - 1);
    }
    CHECK_STR(answer, want);
    /* the prompt */
    char *prompt = decode(ids + 1, a0 - 1);
    size_t ni = strlen(smp.input);
    CHECK(prompt && strncmp(prompt, smp.input, ni) == 0 && strcmp(prompt + ni, smp.answer_prefix) == 0);
    /* the prompt part is what the engine encodes for this prompt (with BOS) */
    int32_t *eng = NULL;
    size_t n_eng = 0;
    if (prompt && lcx_tokenizer_encode(tok, prompt, strlen(prompt), 1, &eng, &n_eng, &err) == 0) {
        CHECK_INT(n_eng, a0);
        CHECK(n_eng == a0 && memcmp(eng, ids, a0 * sizeof *ids) == 0);
    }
    free(eng);
    free(answer);
    free(prompt);
    lcx_sample_free(&smp);
    if (pad_out)
        *pad_out = info.n_pad;
    if (task_out)
        *task_out = info.task;
    return check_failures_in_test == before;
}

TEST(sequences_have_the_format)
{
    lcx_data_stream *s = stream(0.05f);
    CHECK(s != NULL);
    if (!s)
        return;
    static const size_t lengths[] = {256, 512, 1024};
    const char *seen[64];
    size_t n_seen = 0;
    for (size_t l = 0; l < 3; l++) {
        size_t pads = 0, max_pad = 0, n = l == 2 ? 24 : 12;
        double t0 = lcx_now();
        for (uint64_t i = 0; i < n; i++) {
            size_t pad = 0;
            const char *task = NULL;
            CHECK_MSG(check_sequence(s, i, lengths[l], 0.05f, &pad, &task), "sequence %llu at %zu",
                      (unsigned long long)i, lengths[l]);
            pads += pad;
            max_pad = pad > max_pad ? pad : max_pad;
            int known = 0;
            for (size_t k = 0; k < n_seen; k++)
                known |= task && !strcmp(seen[k], task);
            if (task && !known && n_seen < 64)
                seen[n_seen++] = task;
        }
        double dt = lcx_now() - t0;
        printf("     T=%zu: %zu sequences, mean padding %.1f tokens (%.1f%%), max %zu; "
               "%.1f ms per sequence\n",
               lengths[l], n, (double)pads / (double)n, 100.0 * (double)pads / (double)(n * lengths[l]),
               max_pad, 1000.0 * dt / (double)n);
        CHECK((double)pads / (double)n <= 0.10 * (double)lengths[l]);
    }
    printf("     tasks seen: %zu\n", n_seen);
    CHECK(n_seen >= 10);
    lcx_data_stream_free(s);
}

TEST(deterministic_and_distinct)
{
    lcx_data_stream *s = stream(0.05f);
    if (!s)
        return;
    enum { T = 256, B = 4 };
    int32_t a[B * T], b[B * T], one[T];
    float wa[B * T], wb[B * T], wone[T];
    lcx_err err = {0};
    CHECK_INT(lcx_data_batch(s, 100, B, T, a, wa, NULL, &err), 0);
    CHECK_INT(lcx_data_batch(s, 100, B, T, b, wb, NULL, &err), 0);
    CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(wa, wb, sizeof wa) == 0);
    /* row 2 of the batch is sequence 102, however it is asked for */
    CHECK_INT(lcx_data_sequence(s, 102, T, one, wone, NULL, NULL, &err), 0);
    CHECK(memcmp(a + 2 * T, one, sizeof one) == 0 && memcmp(wa + 2 * T, wone, sizeof wone) == 0);
    /* a new stream object gives the same sequence */
    lcx_data_stream *s2 = stream(0.05f);
    CHECK_INT(lcx_data_sequence(s2, 102, T, one, wone, NULL, NULL, &err), 0);
    CHECK(memcmp(a + 2 * T, one, sizeof one) == 0);
    lcx_data_stream_free(s2);
    /* different i, different sequences */
    for (int r = 0; r < B; r++)
        for (int q = r + 1; q < B; q++)
            CHECK(memcmp(a + r * T, a + q * T, T * sizeof *a) != 0);
    /* a different seed, a different sequence */
    lcx_data_stream_opts o = {.seed = LCX_TRAIN_SEED_MIN + 1, .prompt_weight = 0.05f};
    lcx_data_stream *s3 = NULL;
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s3, &err), 0);
    if (s3) {
        CHECK_INT(lcx_data_sequence(s3, 102, T, one, wone, NULL, NULL, &err), 0);
        CHECK(memcmp(a + 2 * T, one, sizeof one) != 0);
    }
    lcx_data_stream_free(s3);
    lcx_data_stream_free(s);
}

/* A curriculum starts short. The RULER prompts have a floor (instructions,
 * question, answer prefix): the smallest T at which each task's first
 * sequences fit is printed. Below a task's floor the stream draws among the
 * tasks that fit. */
TEST(short_sequences_for_a_curriculum)
{
    lcx_err err = {0};
    char line[1024] = "";
    size_t smallest = 0;
    for (size_t k = 0; k < lcx_task_count(); k++) {
        lcx_data_mix mix[] = {{lcx_task_at(k)->name, 1.0}};
        lcx_data_stream_opts o = {.mix = mix, .n_mix = 1, .prompt_weight = 0.05f};
        lcx_data_stream *one = NULL;
        CHECK_INT(lcx_data_stream_new(tok, data, &o, &one, &err), 0);
        if (!one)
            continue;
        size_t T = 32;
        int32_t ids[LCX_DATA_MAX_T];
        float w[LCX_DATA_MAX_T];
        while (T <= LCX_DATA_MAX_T && (lcx_data_sequence(one, 0, T, ids, w, NULL, NULL, &err) ||
                                       lcx_data_sequence(one, 1, T, ids, w, NULL, NULL, &err)))
            T += 32;
        size_t used = strlen(line);
        snprintf(line + used, sizeof line - used, " %s %zu", mix[0].task, T);
        smallest = k == 0 || T < smallest ? T : smallest;
        /* niah fits short; vt and cwe carry a one-shot example; HotpotQA's
         * documents rarely fit 1024 tokens */
        if (lcx_task_at(k)->family == FAMILY_NIAH)
            CHECK_MSG(T <= 320, "%s fits only from T=%zu", mix[0].task, T);
        else if (strcmp(mix[0].task, "qa_2") != 0)
            CHECK_MSG(T <= LCX_DATA_MAX_T, "%s fits only from T=%zu", mix[0].task, T);
        lcx_data_stream_free(one);
    }
    printf("     smallest T (step 32):%s\n", line);
    /* the full mix just above the smallest floor: only the tasks that fit */
    lcx_data_stream *s = stream(0.0f);
    if (!s)
        return;
    for (uint64_t i = 0; i < 8; i++) {
        const char *task = NULL;
        CHECK_MSG(check_sequence(s, i, smallest, 0.0f, NULL, &task), "sequence %llu at %zu",
                  (unsigned long long)i, smallest);
    }
    int32_t ids[16];
    float w[16];
    CHECK_INT(lcx_data_sequence(s, 0, 16, ids, w, NULL, NULL, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "T=16") != NULL);
    lcx_data_stream_free(s);
}

/* text with every `from` replaced by `to` (caller frees) */
static char *replaced(const char *text, const char *from, const char *to)
{
    size_t nf = strlen(from), nt = strlen(to), cap = strlen(text) * (nt / (nf ? nf : 1) + 2) + 1;
    char *out = malloc(cap), *o = out;
    for (const char *p = text; *p;) {
        if (!strncmp(p, from, nf)) {
            memcpy(o, to, nt);
            o += nt;
            p += nf;
        } else
            *o++ = *p++;
    }
    *o = 0;
    return out;
}

/* Extra questions on the multi-key tasks (data.h): between the context and
 * the final question, each line is the final question with the key swapped
 * for another needle's key, then that needle's value; those values (and only
 * they, in the prompt) weigh 1; the final question and answer are the
 * sample's own. Checked against the sample text, not against data.c. */
TEST(extra_questions_about_other_keys)
{
    lcx_data_mix mix[] = {{"niah_multikey_1", 1.0}, {"niah_multikey_2", 1.0}, {"niah_multikey_3", 1.0}};
    lcx_data_stream_opts o = {.mix = mix, .n_mix = 3, .prompt_weight = 0.05f, .rounds = 8};
    lcx_data_stream *s = NULL;
    lcx_err err = {0};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), 0);
    if (!s)
        return;
    size_t total_rounds = 0, n_seq = 0;
    static const size_t lengths[] = {512, 1024};
    for (size_t l = 0; l < 2; l++) {
        size_t T = lengths[l];
        for (uint64_t i = 0; i < 12; i++) {
            int32_t ids[LCX_DATA_MAX_T];
            float w[LCX_DATA_MAX_T];
            lcx_data_info info;
            lcx_sample smp;
            int rc = lcx_data_sequence(s, i, T, ids, w, &info, &smp, &err);
            CHECK_MSG(rc == 0, "%s", err.msg);
            if (rc)
                continue;
            n_seq++;
            total_rounds += info.n_rounds;
            CHECK_MSG(info.n_rounds >= 1, "%s sequence %llu at %zu: no extra question", info.task,
                      (unsigned long long)i, T);
            CHECK_INT(info.n_prompt + info.n_answer + info.n_pad, T);
            /* the prompt: input up to its last newline, the rounds, the final line + answer prefix */
            char *prompt = decode(ids + 1, info.n_prompt - 1);
            const char *nl = strrchr(smp.input, '\n');
            size_t head = (size_t)(nl + 1 - smp.input);
            char final[1024];
            snprintf(final, sizeof final, "%s%s", nl + 1, smp.answer_prefix);
            size_t np = prompt ? strlen(prompt) : 0, nf = strlen(final);
            CHECK(prompt && np > head + nf && !strncmp(prompt, smp.input, head) &&
                  !strcmp(prompt + np - nf, final));
            /* the queried key: the word after "for " in the final question */
            char qkey[128] = "";
            const char *f = strstr(final, " for ");
            if (f)
                sscanf(f + 5, "%127s", qkey);
            CHECK(qkey[0] != 0);
            /* hot (weight 1) prompt tokens, decoded: the round values */
            char hot[4096] = "";
            for (size_t t = 1; t < info.n_prompt; t++) {
                CHECK(w[t] == 1.0f || w[t] == 0.05f);
                if (w[t] == 1.0f) {
                    char *piece = decode(ids + t, 1);
                    strncat(hot, piece ? piece : "?", sizeof hot - strlen(hot) - 1);
                    free(piece);
                }
            }
            char want_hot[4096] = "";
            /* each round line */
            size_t rounds = 0;
            char *mid = prompt ? strndup(prompt + head, np - head - nf) : NULL;
            for (char *line = mid ? strtok(mid, "\n") : NULL; line; line = strtok(NULL, "\n"), rounds++) {
                char *sp = strrchr(line, ' ');
                CHECK(sp != NULL);
                if (!sp)
                    break;
                const char *value = sp + 1;
                *sp = 0;
                /* the key of this question, from the line itself */
                char key[128] = "";
                const char *k = strstr(line, " for ");
                if (k)
                    sscanf(k + 5, "%127s", key);
                CHECK(strcmp(key, qkey) != 0);
                char *q = replaced(final, qkey, key);
                CHECK_STR(line, q);
                free(q);
                /* the context says: "... for KEY is: VALUE." */
                char needle[256];
                snprintf(needle, sizeof needle, " for %s is: %s.", key, value);
                CHECK_MSG(strstr(smp.input, needle) != NULL, "no needle%s", needle);
                strncat(want_hot, " ", sizeof want_hot - strlen(want_hot) - 1);
                strncat(want_hot, value, sizeof want_hot - strlen(want_hot) - 1);
            }
            CHECK_INT(rounds, info.n_rounds);
            CHECK_STR(hot, want_hot);
            /* the answer is the sample's */
            char *answer = decode(ids + info.n_prompt, info.n_answer - 1);
            char want[256];
            snprintf(want, sizeof want, " %s", smp.n_outputs ? smp.outputs[0] : "");
            CHECK(smp.n_outputs == 1);
            CHECK_STR(answer, want);
            if (i == 0 && l == 0)
                printf("     %s at %zu: %zu extra questions, e.g. \"%.*s\"\n", info.task, T, info.n_rounds,
                       (int)strcspn(prompt + head, "\n"), prompt + head);
            free(answer);
            free(mid);
            free(prompt);
            lcx_sample_free(&smp);
        }
    }
    printf("     %.2f extra questions per sequence\n", n_seq ? (double)total_rounds / (double)n_seq : 0.0);
    lcx_data_stream_free(s);
    /* rounds on a task without other keys changes nothing */
    lcx_data_mix single[] = {{"niah_single_2", 1.0}};
    lcx_data_stream_opts o0 = {.mix = single, .n_mix = 1, .prompt_weight = 0.05f};
    lcx_data_stream_opts o8 = o0;
    o8.rounds = 8;
    lcx_data_stream *s0 = NULL, *s8 = NULL;
    CHECK_INT(lcx_data_stream_new(tok, data, &o0, &s0, &err), 0);
    CHECK_INT(lcx_data_stream_new(tok, data, &o8, &s8, &err), 0);
    if (s0 && s8) {
        int32_t a[512], b[512];
        float wa[512], wb[512];
        CHECK_INT(lcx_data_sequence(s0, 5, 512, a, wa, NULL, NULL, &err), 0);
        CHECK_INT(lcx_data_sequence(s8, 5, 512, b, wb, NULL, NULL, &err), 0);
        CHECK(!memcmp(a, b, sizeof a) && !memcmp(wa, wb, sizeof wa));
    }
    lcx_data_stream_free(s0);
    lcx_data_stream_free(s8);
}

TEST(bad_options)
{
    lcx_data_stream *s = NULL;
    lcx_err err = {0};
    lcx_data_stream_opts o = {.seed = 42};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "evaluation range") != NULL);
    lcx_data_mix mix[] = {{"niah_single_1", 1.0}, {"nope", 1.0}};
    o = (lcx_data_stream_opts){.mix = mix, .n_mix = 2};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "mix[1]") != NULL && strstr(err.msg, "nope") != NULL);
    mix[1] = (lcx_data_mix){"vt", 0.0};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "weight") != NULL);
    o = (lcx_data_stream_opts){.prompt_weight = 2.0f};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), LCX_EINPUT);
    o = (lcx_data_stream_opts){.rounds = 17};
    CHECK_INT(lcx_data_stream_new(tok, data, &o, &s, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "rounds 17") != NULL);
    CHECK(s == NULL);
    s = stream(0.05f);
    if (s) {
        int32_t ids[4];
        float w[4];
        CHECK_INT(lcx_data_batch(s, 0, 1, LCX_DATA_MAX_T + 1, ids, w, NULL, &err), LCX_EINPUT);
    }
    lcx_data_stream_free(s);
}

int main(void)
{
    if (setup()) {
        printf("check-summary 0 1\n");
        return 1;
    }
    RUN(sequences_have_the_format);
    RUN(deterministic_and_distinct);
    RUN(short_sequences_for_a_curriculum);
    RUN(extra_questions_about_other_keys);
    RUN(bad_options);
    lcx_tokenizer_free(tok);
    lcx_task_data_free(data);
    return check_summary();
}

/* cmd_run.c: `lcx run`, the main job: its options, then lcx_run_suite
 * (harness/run_suite.h) does the run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/args.h"
#include "harness/commands.h"
#include "harness/engine_opts.h"
#include "harness/run_suite.h"

static void usage(FILE *fp)
{
    fprintf(fp,
            "usage: lcx run --out DIR (--model DIR | --endpoint URL --api API) [options]\n"
            "suite:\n"
            "  --tasks, --lengths, --samples, --seed, --template, --fit,\n"
            "  --verify-counts                                      as in lcx gen\n"
            "  --essay-corpus F, --squad F, --hotpotqa F            as in lcx gen\n"
            "  --data DIR          read DIR/<length>/<task>.jsonl (lcx gen output) instead\n"
            "local engine:\n"
            "  --model DIR         a Hugging Face model directory\n%s%s"
            "remote model:\n"
            "  --endpoint URL      server base URL (http://host:port); give it again for\n"
            "                      replicas of one model (least outstanding requests first)\n"
            "  --endpoints-file F  replicas' URLs, one a line (# comments)\n"
            "  --replica-cooldown S  seconds a failing replica is set aside (default 30)\n"
            "  --api API           completions (/v1/completions), chat (/v1/chat/completions)\n"
            "                      or llamacpp (/completion); default completions\n"
            "  --model-name NAME   the request's \"model\" field\n"
            "  RoPE options        sent in each request as rope_scaling / attn_temperature\n"
            "                      (lcx serve's per-request RoPE; not auto)\n"
            "  --tokenizer PATH    fit prompts with this tokenizer.json, or\n"
            "  --remote-tokenize   fit prompts with the server's /tokenize\n"
            "  --concurrency N     requests in flight per endpoint (default 8)\n"
            "  --timeout S         seconds per request (default 600)\n"
            "  --max-retries N     retries on 429, 5xx, timeouts, resets (default 6)\n"
            "  --backoff S         first retry delay, doubling per attempt (default 0.5)\n"
            "  --backoff-max S     cap on the retry delay (default 30)\n"
            "  --fail-fast         stop at the first request that fails for good\n"
            "  API key: LCX_API_KEY or OPENAI_API_KEY (never written anywhere)\n"
            "decoding:\n"
            "  --temperature T     default 0 (greedy)\n"
            "reasoning models (RULER issue #99):\n"
            "  --no-answer-prefix  send the prompt without the task's answer prefix\n"
            "  --tokens-to-generate N   every task generates up to N tokens (prompts are\n"
            "                      fitted to the length minus N)\n"
            "  --tokens-scale X    each task's own budget times X, rounded up (not with\n"
            "                      --tokens-to-generate)\n"
            "  --strip-think       score the prediction without its <think>...</think> spans\n"
            "                      (an unclosed open tag drops the rest; a close tag without\n"
            "                      an open one drops all before it); pred is what is scored,\n"
            "                      raw_pred the model's text\n"
            "  --think-tags O,C    other tags (implies --strip-think)\n"
            "output:\n"
            "  --quiet             no progress, no table\n"
            "  --skip-unfit        skip the task x length cells whose smallest prompt does\n"
            "                      not fit (recorded in run.json) instead of refusing to run\n",
            lcx_engine_opts_usage(), lcx_rope_opts_usage());
}

int lcx_cmd_run(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    lcx_err err = {0};
    lcx_run_opts o;
    lcx_run_opts_init(&o);
    o.argc = argc;
    o.argv = argv;
    int rc = lcx_run_opts_parse(&o, argc, argv, 1, &err) || lcx_run_opts_check(&o, &err) ||
             lcx_run_suite(&o, NULL, &err);
    lcx_run_opts_free(&o);
    return rc ? lcx_arg_fail("run", &err) : 0;
}

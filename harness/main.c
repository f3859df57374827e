/* main.c: the lcx command line. One table of subcommands; each lives in its
 * own harness/cmd_*.c and returns the exit code. */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/isa.h"
#include "harness/commands.h"
#include "harness/version.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"gen", lcx_cmd_gen, "generate RULER task samples fitted to token lengths"},
    {"complete", lcx_cmd_complete, "run the local engine on a prompt and print the continuation"},
    {"probe", lcx_cmd_probe, "attention-sink probe: first-token share, max |hidden|, gate scores"},
    {"run", lcx_cmd_run, "run the suite against the local engine or a remote model"},
    {"score", lcx_cmd_score, "score prediction records with RULER's metrics"},
    {"report", lcx_cmd_report, "runs side by side: scores, deltas, effective length, wAvg; sweep grids"},
    {"check", lcx_cmd_check, "CI gate: fail when a cell drops below a baseline beyond sampling noise"},
    {"serve", lcx_cmd_serve, "OpenAI-compatible HTTP server on the local engine (per-request RoPE, probe)"},
    {"sweep", lcx_cmd_sweep, "run one local model over a grid of YaRN factors / attention temperatures"},
    {"tasks", lcx_cmd_tasks, "list the tasks and their parameters"},
    {"tokenize", lcx_cmd_tokenize, "encode text to token ids (or decode ids) with a tokenizer.json"},
    {"train", lcx_cmd_train, "train a small baseline or gated model on RULER data, export it for the engine"},
};

static void usage(FILE *fp)
{
    fprintf(fp, "lcx %s: long-context extrapolation benchmark harness\n\n", LCX_VERSION);
    fprintf(fp, "usage: lcx <command> [options]   (lcx <command> --help for its options)\n\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

/* The version, the commit, and the kernel variant this CPU runs (or the one
 * LCX_ISA forces; an impossible one is an error). */
static int print_version(void)
{
    lcx_err err = {0};
    lcx_isa isa;
    if (lcx_isa_from_env(&isa, &err)) {
        fprintf(stderr, "lcx: %s\n", err.msg);
        return 2;
    }
    char feats[160], built[64] = "";
    for (int i = 0; i < LCX_ISA_COUNT; i++)
        if (lcx_isa_built((lcx_isa)i)) {
            if (built[0])
                strcat(built, " ");
            strcat(built, lcx_isa_name((lcx_isa)i));
        }
    printf("lcx %s (commit %s)\n", LCX_VERSION, lcx_commit());
    printf("kernels: %s%s (built: %s; CPU: %s)\n", lcx_isa_name(isa),
           getenv("LCX_ISA") && *getenv("LCX_ISA") ? ", forced by LCX_ISA" : "", built,
           lcx_isa_cpu_features(feats, sizeof feats));
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return print_version();
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            /* libcurl's global set-up, once for the process (it is not
             * thread-safe, so not in the library's own calls). */
            if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "lcx: libcurl failed to initialise\n");
                return 2;
            }
            int rc = commands[i].run(argc - 1, argv + 1);
            curl_global_cleanup();
            return rc;
        }
    fprintf(stderr, "lcx: unknown command '%s' (try lcx --help)\n", argv[1]);
    return 2;
}

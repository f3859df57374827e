/* test_pred_file.c: results/pred_file.c: reading back a prediction file
 * keeps the good records and drops failed ones, and an allocation failure
 * while reading is an error (not a record silently lost or a NULL line).
 *
 * strndup is replaced here (the program's definition takes precedence over
 * libc's for the library code linked in) so it can be made to fail. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "results/pred_file.h"

/* Test-only state: when set, strndup fails as out of memory. */
static int strndup_fails;

char *strndup(const char *s, size_t n)
{
    if (strndup_fails)
        return NULL;
    size_t len = 0;
    while (len < n && s[len])
        len++;
    char *d = malloc(len + 1);
    if (d) {
        memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static const char RECORDS[] =
    "{\"index\":2,\"pred\":\"c\",\"error\":null}\n"
    "{\"index\":0,\"pred\":\"a\",\"error\":null}\n"
    "{\"index\":1,\"pred\":null,\"prompt_tokens\":null,\"output_tokens\":null,"
    "\"error\":\"HTTP 503 (after 2 attempts)\"}\n";

/* A results directory with pred/1024/t.jsonl holding RECORDS; returns 0. */
static int make_dir(char *dir, size_t size)
{
    snprintf(dir, size, "/tmp/lcx_test_pred_file_XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    char path[512];
    lcx_err err = {0};
    snprintf(path, sizeof path, "%s/pred/1024", dir);
    if (lcx_mkdir_p(path, &err))
        return -1;
    snprintf(path, sizeof path, "%s/pred/1024/t.jsonl", dir);
    return lcx_write_file_atomic(path, RECORDS, sizeof RECORDS - 1, &err);
}

static void remove_dir(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/pred/1024/t.jsonl", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/pred/1024", dir);
    rmdir(path);
    snprintf(path, sizeof path, "%s/pred", dir);
    rmdir(path);
    rmdir(dir);
}

TEST(failed_records_are_dropped_on_open)
{
    char dir[64];
    if (make_dir(dir, sizeof dir)) {
        CHECK(!"cannot make a results directory");
        return;
    }
    lcx_pred_file pf;
    lcx_err err = {0};
    CHECK_INT(lcx_pred_file_open(dir, 1024, "t", 3, &pf, &err), 0);
    CHECK_INT(pf.n_done, 2);
    CHECK(pf.done[0] && !pf.done[1] && pf.done[2]);
    CHECK_INT(lcx_pred_file_close(&pf, &err), 0);
    char path[512], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/pred/1024/t.jsonl", dir);
    CHECK_INT(lcx_read_file(path, &buf, &len, &err), 0);
    CHECK_STR(buf, "{\"index\":2,\"pred\":\"c\",\"error\":null}\n"
                   "{\"index\":0,\"pred\":\"a\",\"error\":null}\n");
    free(buf);
    remove_dir(dir);
}

TEST(out_of_memory_reading_records_is_an_error)
{
    char dir[64];
    if (make_dir(dir, sizeof dir)) {
        CHECK(!"cannot make a results directory");
        return;
    }
    lcx_pred_file pf;
    lcx_err err = {0};
    strndup_fails = 1;
    int rc = lcx_pred_file_open(dir, 1024, "t", 3, &pf, &err);
    strndup_fails = 0;
    CHECK_INT(rc, LCX_ENOMEM);
    CHECK_MSG(strstr(err.msg, "t.jsonl: out of memory at offset 0") != NULL, "%s", err.msg);
    CHECK_INT(pf.n_done, 0);
    lcx_err e2 = {0};
    lcx_pred_file_close(&pf, &e2);
    /* The file was not rewritten without its records. */
    char path[512], *buf = NULL;
    size_t len = 0;
    snprintf(path, sizeof path, "%s/pred/1024/t.jsonl", dir);
    CHECK_INT(lcx_read_file(path, &buf, &len, &err), 0);
    CHECK_STR(buf, RECORDS);
    free(buf);
    remove_dir(dir);
}

int main(void)
{
    RUN(failed_records_are_dropped_on_open);
    RUN(out_of_memory_reading_records_is_an_error);
    return check_summary();
}

/* Tests of common/: the PRNG against an independent implementation of
 * splitmix64 + xoshiro256** (values computed in Python), UTF-8 validation,
 * atomic files and strings. */
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "common/fsio.h"
#include "common/meminfo.h"
#include "common/rng.h"
#include "common/sha256.h"
#include "common/strbuf.h"
#include "common/utf8.h"

TEST(xoshiro_matches_reference_stream)
{
    lcx_rng r;
    lcx_rng_seed(&r, 42);
    CHECK(lcx_rng_next(&r) == 0x15780b2e0c2ec716ull);
    CHECK(lcx_rng_next(&r) == 0x6104d9866d113a7eull);
    CHECK(lcx_rng_next(&r) == 0xae17533239e499a1ull);
}

TEST(bounded_draws_stay_in_range_and_cover_it)
{
    lcx_rng r;
    lcx_rng_seed(&r, 7);
    int seen[10] = {0};
    for (int i = 0; i < 10000; i++) {
        int64_t v = lcx_rng_range(&r, 1000000, 9999999);
        CHECK(v >= 1000000 && v <= 9999999);
        seen[lcx_rng_below(&r, 10)]++;
    }
    for (int i = 0; i < 10; i++)
        CHECK_MSG(seen[i] > 850 && seen[i] < 1150, "bucket %d: %d", i, seen[i]);
}

TEST(sample_without_replacement_is_distinct)
{
    lcx_rng r;
    lcx_rng_seed(&r, 1);
    size_t out[40];
    CHECK(lcx_rng_sample(&r, 40, 40, out) == 0);
    int seen[40] = {0};
    for (int i = 0; i < 40; i++) {
        CHECK(out[i] < 40);
        seen[out[i] < 40 ? out[i] : 0]++;
    }
    for (int i = 0; i < 40; i++)
        CHECK_INT(seen[i], 1);
    size_t big[5];
    CHECK(lcx_rng_sample(&r, (size_t)1 << 40, 5, big) == 0);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < i; j++)
            CHECK(big[i] != big[j]);
    CHECK(lcx_rng_sample(&r, 3, 4, out) != 0);
}

TEST(seed_mix_separates_labels)
{
    CHECK(lcx_seed_mix(42, "niah_single_1", 4096, 0) != lcx_seed_mix(42, "niah_single_2", 4096, 0));
    CHECK(lcx_seed_mix(42, "vt", 4096, 0) != lcx_seed_mix(42, "vt", 4096, 1));
    CHECK(lcx_seed_mix(42, "vt", 4096, 0) == lcx_seed_mix(42, "vt", 4096, 0));
}

TEST(utf8_validation)
{
    size_t bad = 0;
    CHECK(lcx_utf8_valid("plain", 5, &bad));
    CHECK(lcx_utf8_valid("\xe4\xb8\xad\xf0\x9f\x98\x80", 7, &bad));
    CHECK(!lcx_utf8_valid("ab\xc0\xaf", 4, &bad) && bad == 2);       /* overlong */
    CHECK(!lcx_utf8_valid("abc\xed\xa0\x80", 6, &bad) && bad == 3);  /* surrogate */
    CHECK(!lcx_utf8_valid("\xe4\xb8", 2, &bad) && bad == 0);         /* truncated */
    CHECK(!lcx_utf8_valid("x\xff", 2, &bad) && bad == 1);
}

TEST(atomic_write_replaces_whole_file_or_nothing)
{
    char dir[] = "/tmp/lcx-fsio-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/out.txt", dir);
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    lcx_err err = {0};
    CHECK(lcx_mkdir_p(sub, &err) == 0);
    CHECK(lcx_write_file_atomic(path, "first", 5, &err) == 0);
    lcx_atomic_file f;
    CHECK(lcx_atomic_open(&f, path, &err) == 0);
    fputs("second, never committed", f.fp);
    lcx_atomic_abort(&f);
    char *text;
    size_t len;
    CHECK(lcx_read_file(path, &text, &len, &err) == 0);
    CHECK_STR(text, "first");
    free(text);
    CHECK(access(f.tmp, F_OK) != 0); /* no temporary left */
    CHECK(lcx_read_file("/nonexistent/x", &text, &len, &err) == LCX_EINPUT);
    CHECK(strstr(err.msg, "/nonexistent/x") != NULL);
    unlink(path);
    rmdir(sub);
    snprintf(sub, sizeof sub, "%s/a", dir);
    rmdir(sub);
    rmdir(dir);
}

/* A reserved but still empty buffer is the empty string (scoring an empty
 * prediction read it with strstr: heap overflow under ASan). */
TEST(strbuf_reserved_empty_reads_as_empty)
{
    strbuf sb;
    sb_init(&sb);
    CHECK(sb_reserve(&sb, 40) == 0);
    CHECK(sb.data != NULL);
    CHECK_STR(sb_str(&sb), "");
    CHECK(strstr(sb_str(&sb), "x") == NULL);
    sb_free(&sb);
}

TEST(strbuf_replace_and_printf)
{
    strbuf sb;
    sb_init(&sb);
    sb_append_replace(&sb, "Some are all here", "are all", "is");
    CHECK_STR(sb_str(&sb), "Some is here");
    sb_clear(&sb);
    sb_printf(&sb, "%d-%s", 7, "x");
    CHECK_STR(sb_str(&sb), "7-x");
    sb_free(&sb);
}

TEST(sha256_known_answers)
{
    char hex[65];
    lcx_sha256_hex("", 0, hex);
    CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    lcx_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    lcx_sha256_hex(two, strlen(two), hex);
    CHECK_STR(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(meminfo_and_byte_counts)
{
    lcx_err err = {0};
    size_t n = 1;
    const char *text = "MemTotal:       24576000 kB\nMemFree:        1000 kB\n"
                       "MemAvailable:   22650880 kB\nBuffers:        1 kB\n";
    CHECK(lcx_meminfo_parse(text, &n, &err) == 0);
    CHECK_INT(n, 22650880ull * 1024);
    CHECK_INT(lcx_meminfo_parse("MemTotal: 5 kB\nMemFree: 3 kB\n", &n, &err), LCX_EINPUT);
    CHECK_INT(n, 0);
    CHECK_INT(lcx_meminfo_parse("MemAvailable: lots\n", &n, &err), LCX_EINPUT);
    CHECK_INT(lcx_meminfo_parse("MemAvailable: 12 MB\n", &n, &err), LCX_EINPUT);
    CHECK_INT(lcx_meminfo_parse("", &n, &err), LCX_EINPUT);
    CHECK(strstr(err.msg, "MemAvailable") != NULL);
    /* this machine's, when it has /proc */
    if (access("/proc/meminfo", R_OK) == 0)
        CHECK(lcx_meminfo_available(&n, &err) == 0 && n > 0);

    static const struct {
        const char *s;
        size_t bytes;
    } ok[] = {{"1", 1},           {"1000000", 1000000},   {"100K", 102400},
              {"512M", 512ull << 20}, {"24G", 24ull << 30}, {"24g", 24ull << 30},
              {"1.5GiB", 3ull << 29}, {"2TB", 2ull << 40},   {"3B", 3},
              {"64kib", 65536}};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        CHECK_MSG(lcx_bytes_parse(ok[i].s, &n, &err) == 0 && n == ok[i].bytes, "%s -> %zu",
                  ok[i].s, n);
    }
    static const char *const bad[] = {"", "0", "-1", "G", "12X", "1.5 G", "1GG", "off", " 1",
                                      "99999999999T", "0.4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(lcx_bytes_parse(bad[i], &n, &err) == LCX_EINPUT, "'%s' accepted", bad[i]);
    CHECK(lcx_bytes_parse(NULL, &n, &err) == LCX_EINPUT);

    char buf[32];
    lcx_bytes_format(12, buf, sizeof buf);
    CHECK_STR(buf, "12 B");
    lcx_bytes_format(3584, buf, sizeof buf);
    CHECK_STR(buf, "3.5 KiB");
    lcx_bytes_format(112ull << 20, buf, sizeof buf);
    CHECK_STR(buf, "112.0 MiB");
    lcx_bytes_format(24ull << 30, buf, sizeof buf);
    CHECK_STR(buf, "24.00 GiB");
}

/* Range search against a linear scan over every code point near the edges. */
TEST(code_point_ranges)
{
    static const lcx_cp_range r[] = {{0x20, 0x20}, {0x41, 0x5a}, {0x300, 0x36f}, {0x10000, 0x10ffff}};
    const size_t n = sizeof r / sizeof r[0];
    static const uint32_t probes[] = {0, 0x1f, 0x20, 0x21, 0x40, 0x41, 0x5a, 0x5b, 0x2ff, 0x300,
                                      0x36f, 0x370, 0xffff, 0x10000, 0x10ffff, 0x110000};
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int want = 0;
        for (size_t k = 0; k < n; k++)
            want |= probes[i] >= r[k].lo && probes[i] <= r[k].hi;
        CHECK_MSG(lcx_cp_in_ranges(r, n, probes[i]) == want, "U+%04X", (unsigned)probes[i]);
    }
    CHECK(lcx_cp_in_ranges(r, 0, 0x20) == 0);
}

int main(void)
{
    RUN(code_point_ranges);
    RUN(sha256_known_answers);
    RUN(xoshiro_matches_reference_stream);
    RUN(bounded_draws_stay_in_range_and_cover_it);
    RUN(sample_without_replacement_is_distinct);
    RUN(seed_mix_separates_labels);
    RUN(utf8_validation);
    RUN(atomic_write_replaces_whole_file_or_nothing);
    RUN(strbuf_reserved_empty_reads_as_empty);
    RUN(strbuf_replace_and_printf);
    RUN(meminfo_and_byte_counts);
    return check_summary();
}

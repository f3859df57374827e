/* Tests of tasks/count_cache.c's chunking: chunk_end (candidates found 16
 * bytes at a time) ends every chunk where chunk_end_from, the byte-by-byte
 * definition, does, for random texts of spaces, newlines, sentence ends,
 * digits and words, under every set of cut rules. The file is included so
 * that its static functions can be reached. */
#include "tasks/count_cache.c"

#include "check.h"

TEST(fast_chunk_ends_equal_the_definition)
{
    static const char *const parts[] = {"a", "bc", "The", " ", " ", "  ", ".", "?", "!", ":", "1",
                                        "23", "\n", "\n\n", "x.", "\xc3\xa9", "\t", "-"};
    uint64_t seed = 1;
    char buf[9000];
    long mismatches = 0, chunks = 0, long_texts = 0;
    for (int it = 0; it < 6000; it++) {
        size_t n = 0, target = (size_t)(seed >> 33) % 6000 + 1;
        long_texts += target > LONG_CHUNK;
        while (n < target) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            const char *p = parts[(seed >> 40) % (sizeof parts / sizeof parts[0])];
            size_t l = strlen(p);
            if (n + l >= sizeof buf)
                break;
            memcpy(buf + n, p, l);
            n += l;
        }
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        unsigned cuts = (unsigned)(seed >> 50) % 8;
        for (size_t i = 0; i < n;) {
            size_t fast = chunk_end(buf, n, i, cuts), slow = chunk_end_from(buf, n, i, i, cuts);
            chunks++;
            if (fast != slow && mismatches++ < 5)
                fprintf(stderr, "  at %zu (cuts %u): %zu != %zu\n", i, cuts, fast, slow);
            CHECK(slow > i);
            i = slow;
        }
    }
    CHECK_MSG(mismatches == 0, "%ld of %ld chunks", mismatches, chunks);
    CHECK(long_texts > 1000);
}

int main(void)
{
    RUN(fast_chunk_ends_equal_the_definition);
    return check_summary();
}

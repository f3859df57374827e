/* json_str.c: see json_str.h. */
#include "common/json_str.h"

#include <string.h>

/* 1 for the bytes that need an escape. */
static int needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

void lcx_json_put_string(strbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789ABCDEF";
    if (sb_reserve(sb, n + 2))
        return;
    sb_putc(sb, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!needs_escape(c))
            continue;
        sb_append(sb, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0};
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            sb_append(sb, esc, 6);
            continue;
        }
        sb_append(sb, esc, 2);
    }
    sb_append(sb, s + run, n - run);
    sb_putc(sb, '"');
}

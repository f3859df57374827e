/* strbuf.h: a growable byte string, always NUL-terminated. */
#ifndef LCX_STRBUF_H
#define LCX_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
    char *data; /* NUL-terminated; NULL until the first append */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    int oom;    /* set once an allocation failed; later appends do nothing */
} strbuf;

void sb_init(strbuf *sb);
void sb_free(strbuf *sb);
void sb_clear(strbuf *sb); /* len = 0, keeps the allocation */
int sb_reserve(strbuf *sb, size_t extra);
void sb_append(strbuf *sb, const char *s, size_t n);
void sb_puts(strbuf *sb, const char *s);
void sb_putc(strbuf *sb, char c);
void sb_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_vprintf(strbuf *sb, const char *fmt, va_list ap);
/* Append s with every occurrence of `from` replaced by `to`. */
void sb_append_replace(strbuf *sb, const char *s, const char *from, const char *to);
/* Detach the buffer (caller frees); sb is reset. Returns "" copy on empty. */
char *sb_take(strbuf *sb);
/* "" when empty, never NULL. */
const char *sb_str(const strbuf *sb);

#endif

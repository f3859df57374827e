/* json_str.h: JSON string literals written fast, byte for byte as jansson's
 * json_dumps writes them (no flags): '"' and '\\' escaped, the control
 * characters as \b \f \n \r \t or \u00XX (upper-case hex), everything else
 * (UTF-8 included, and '/') as it is. For the large records of `lcx gen`,
 * where building a json_t and dumping it costs more than generating. */
#ifndef LCX_JSON_STR_H
#define LCX_JSON_STR_H

#include <stddef.h>

#include "common/strbuf.h"

/* Append s[0..n) as a quoted JSON string. s must be valid UTF-8 (jansson
 * refuses anything else; callers check, as they do before json_string). */
void lcx_json_put_string(strbuf *sb, const char *s, size_t n);

#endif

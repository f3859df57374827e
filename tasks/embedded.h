/* embedded.h: data files compiled into the binary (see scripts/bin2c.c and
 * EMBED in the Makefile), found by their path in the repository. */
#ifndef LCX_TASKS_EMBEDDED_H
#define LCX_TASKS_EMBEDDED_H

#include <stddef.h>

typedef struct lcx_blob {
    const char *name; /* e.g. "tasks/data/words/nouns.txt" */
    const char *data; /* NUL-terminated */
    size_t len;
} lcx_blob;

extern const lcx_blob lcx_embedded_blobs[]; /* ends with {NULL, NULL, 0} */

#endif

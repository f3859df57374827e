/* meminfo.h: how much memory this machine can give a new job, and byte
 * counts as people write them ("24G", "1.5 GiB"). */
#ifndef LCX_MEMINFO_H
#define LCX_MEMINFO_H

#include <stddef.h>

#include "err.h"

/* MemAvailable of a /proc/meminfo text, in bytes (the kernel's estimate of
 * what can be allocated without swapping: free memory plus the page cache
 * and reclaimable slab it can drop). LCX_EINPUT when the line is missing
 * or malformed. */
int lcx_meminfo_parse(const char *text, size_t *available, lcx_err *err);

/* The same read from /proc/meminfo; LCX_EIO when it cannot be read (not
 * Linux, no /proc). */
int lcx_meminfo_available(size_t *available, lcx_err *err);

/* A byte count: digits with an optional fraction and an optional unit
 * K, M, G, T (powers of 1024, also written KiB, MiB, GiB, TiB or with a
 * trailing B), e.g. "24G", "1.5GiB", "512M", "1000000". LCX_EINPUT for
 * anything else, zero, or more than SIZE_MAX. */
int lcx_bytes_parse(const char *s, size_t *out, lcx_err *err);

/* "12 B", "3.5 KiB", "112.0 MiB", "1.27 GiB" into buf. */
void lcx_bytes_format(size_t bytes, char *buf, size_t size);

#endif

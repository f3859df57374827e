/* meminfo.c: MemAvailable and byte counts (see meminfo.h). */
#include "meminfo.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int lcx_meminfo_parse(const char *text, size_t *available, lcx_err *err)
{
    *available = 0;
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, "MemAvailable:", 13)) {
            const char *q = p + 13;
            while (*q == ' ' || *q == '\t')
                q++;
            if (!isdigit((unsigned char)*q))
                break;
            char *end;
            unsigned long long kb = strtoull(q, &end, 10);
            while (*end == ' ' || *end == '\t')
                end++;
            if (strncmp(end, "kB", 2) || kb > SIZE_MAX / 1024)
                break;
            *available = (size_t)kb * 1024;
            return 0;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return lcx_errf(err, LCX_EINPUT, "meminfo: no valid 'MemAvailable: N kB' line");
}

int lcx_meminfo_available(size_t *available, lcx_err *err)
{
    *available = 0;
    FILE *fp = fopen("/proc/meminfo", "r");
    if (!fp)
        return lcx_errf(err, LCX_EIO, "/proc/meminfo: cannot open");
    char text[16384];
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[n] = '\0';
    int rc = lcx_meminfo_parse(text, available, err);
    if (rc)
        lcx_errf(err, LCX_EIO, "/proc/meminfo: no valid 'MemAvailable: N kB' line");
    return rc ? LCX_EIO : 0;
}

int lcx_bytes_parse(const char *s, size_t *out, lcx_err *err)
{
    *out = 0;
    const char *p = s ? s : "";
    if (!isdigit((unsigned char)*p))
        return lcx_errf(err, LCX_EINPUT, "'%s' is not a byte count (like 24G or 512M)", p);
    char *end;
    double x = strtod(p, &end);
    static const char units[] = "KMGT";
    double scale = 1;
    const char *u = end;
    if (*u && strchr(units, toupper((unsigned char)*u))) {
        for (const char *k = units; *k; k++) {
            scale *= 1024;
            if (*k == toupper((unsigned char)*u))
                break;
        }
        u++;
        if (*u == 'i' || *u == 'I')
            u++;
        if (*u == 'B' || *u == 'b')
            u++;
    } else if (*u == 'B' || *u == 'b') {
        u++;
    }
    double bytes = x * scale;
    if (*u || !(bytes >= 1) || bytes >= 18446744073709551616.0 || bytes > (double)SIZE_MAX)
        return lcx_errf(err, LCX_EINPUT, "'%s' is not a byte count (like 24G or 512M)", p);
    *out = (size_t)bytes;
    return 0;
}

void lcx_bytes_format(size_t bytes, char *buf, size_t size)
{
    double b = (double)bytes;
    if (b >= 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.2f GiB", b / (1024.0 * 1024 * 1024));
    else if (b >= 1024.0 * 1024)
        snprintf(buf, size, "%.1f MiB", b / (1024.0 * 1024));
    else if (b >= 1024)
        snprintf(buf, size, "%.1f KiB", b / 1024);
    else
        snprintf(buf, size, "%zu B", bytes);
}

#define _POSIX_C_SOURCE 200809L
#include "fsio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lcx_read_file(const char *path, char **out, size_t *len, lcx_err *err)
{
    *out = NULL;
    if (len)
        *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return lcx_errf(err, LCX_EINPUT, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || S_ISDIR(st.st_mode)) {
        fclose(fp);
        return lcx_errf(err, LCX_EINPUT, "%s: not a regular file", path);
    }
    size_t cap = st.st_size > 0 ? (size_t)st.st_size + 1 : 4096, n = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(fp);
        return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
    }
    for (;;) {
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                fclose(fp);
                return lcx_errf(err, LCX_ENOMEM, "%s: out of memory", path);
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return lcx_errf(err, LCX_EIO, "%s: read error", path);
    }
    buf[n] = '\0';
    *out = buf;
    if (len)
        *len = n;
    return 0;
}

int lcx_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int lcx_mkdir_p(const char *path, lcx_err *err)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof buf)
        return lcx_errf(err, LCX_EINPUT, "%s: bad directory name", path);
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] == '/' || buf[i] == '\0') {
            char c = buf[i];
            buf[i] = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return lcx_errf(err, LCX_EIO, "%s: cannot create directory: %s", buf,
                                strerror(errno));
            if (!lcx_is_dir(buf))
                return lcx_errf(err, LCX_EIO, "%s: exists and is not a directory", buf);
            buf[i] = c;
        }
    }
    return 0;
}

int lcx_atomic_open(lcx_atomic_file *f, const char *path, lcx_err *err)
{
    memset(f, 0, sizeof *f);
    if (strlen(path) >= sizeof f->path)
        return lcx_errf(err, LCX_EINPUT, "%s: path too long", path);
    strcpy(f->path, path);
    snprintf(f->tmp, sizeof f->tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return lcx_errf(err, LCX_EIO, "%s: cannot write: %s", f->tmp, strerror(errno));
    f->fp = fdopen(fd, "wb");
    if (!f->fp) {
        close(fd);
        unlink(f->tmp);
        return lcx_errf(err, LCX_EIO, "%s: cannot write: %s", f->tmp, strerror(errno));
    }
    return 0;
}

int lcx_atomic_commit(lcx_atomic_file *f, lcx_err *err)
{
    if (!f->fp)
        return lcx_errf(err, LCX_EINTERNAL, "%s: not open", f->path);
    int bad = fflush(f->fp) != 0 || ferror(f->fp) || fsync(fileno(f->fp)) != 0;
    int saved = errno;
    if (fclose(f->fp) != 0)
        bad = 1;
    f->fp = NULL;
    if (bad) {
        unlink(f->tmp);
        return lcx_errf(err, LCX_EIO, "%s: write failed: %s", f->path, strerror(saved));
    }
    if (rename(f->tmp, f->path) != 0) {
        saved = errno;
        unlink(f->tmp);
        return lcx_errf(err, LCX_EIO, "%s: cannot rename into place: %s", f->path,
                        strerror(saved));
    }
    return 0;
}

void lcx_atomic_abort(lcx_atomic_file *f)
{
    if (f->fp) {
        fclose(f->fp);
        f->fp = NULL;
        unlink(f->tmp);
    }
}

int lcx_write_file_atomic(const char *path, const void *data, size_t len, lcx_err *err)
{
    lcx_atomic_file f;
    int rc = lcx_atomic_open(&f, path, err);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, f.fp) != len) {
        lcx_atomic_abort(&f);
        return lcx_errf(err, LCX_EIO, "%s: write failed", path);
    }
    return lcx_atomic_commit(&f, err);
}

/* trainer_log.c: the training log, one row per step, and its CSV form
 * (train_log.csv; see trainer_log.h). */
#include "train/trainer_log.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"

static const char *LOG_HEADER =
    "step,seq_len,lr,loss,grad_norm,tokens,elapsed_s,heldout_acc,heldout_niah_acc\n";

trainer_log_row *trainer_log_row_at(trainer_log *lg, long step, int seq_len)
{
    if (lg->n && lg->rows[lg->n - 1].step == step)
        return &lg->rows[lg->n - 1];
    if (lg->n == lg->cap) {
        size_t cap = lg->cap ? lg->cap * 2 : 256;
        trainer_log_row *r = realloc(lg->rows, cap * sizeof *r);
        if (!r)
            return NULL;
        lg->rows = r;
        lg->cap = cap;
    }
    trainer_log_row *r = &lg->rows[lg->n++];
    *r = (trainer_log_row){step, seq_len, NAN, NAN, NAN, NAN, NAN, NAN, NAN};
    return r;
}

static void put_field(strbuf *sb, double v, const char *fmt)
{
    sb_putc(sb, ',');
    if (!isnan(v))
        sb_printf(sb, fmt, v);
}

char *trainer_log_csv(const trainer_log *lg)
{
    strbuf sb;
    sb_init(&sb);
    sb_puts(&sb, LOG_HEADER);
    for (size_t i = 0; i < lg->n; i++) {
        const trainer_log_row *r = &lg->rows[i];
        sb_printf(&sb, "%ld,%d", r->step, r->seq_len);
        put_field(&sb, r->lr, "%.6g");
        put_field(&sb, r->loss, "%.6f");
        put_field(&sb, r->grad_norm, "%.4f");
        put_field(&sb, r->tokens, "%.0f");
        put_field(&sb, r->elapsed, "%.2f");
        put_field(&sb, r->acc, "%.2f");
        put_field(&sb, r->niah_acc, "%.2f");
        sb_putc(&sb, '\n');
    }
    if (sb.oom) {
        sb_free(&sb);
        return NULL;
    }
    return sb_take(&sb);
}

int trainer_log_parse(const char *csv, trainer_log *lg)
{
    const char *p = strchr(csv, '\n');
    while (p && *++p) {
        double f[9];
        int nf = 0;
        const char *q = p;
        for (; nf < 9; nf++) {
            char *end;
            f[nf] = (*q == ',' || *q == '\n' || !*q) ? NAN : strtod(q, &end);
            if (!isnan(f[nf]) || (*q != ',' && *q != '\n' && *q))
                q = end;
            if (*q != ',')
                break;
            q++;
        }
        p = strchr(p, '\n');
        if (nf != 8 || isnan(f[0]) || isnan(f[1]))
            continue;
        trainer_log_row *r = trainer_log_row_at(lg, (long)f[0], (int)f[1]);
        if (!r)
            return -1;
        *r = (trainer_log_row){(long)f[0], (int)f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8]};
        if (!p)
            break;
    }
    return 0;
}

void trainer_log_free(trainer_log *lg)
{
    free(lg->rows);
    lg->rows = NULL;
    lg->n = lg->cap = 0;
}

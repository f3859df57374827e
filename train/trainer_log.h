/* trainer_log.h: the training log of a run, one row per step (evaluation
 * results on the rows of the steps that had one), and its CSV form, what
 * train_log.csv holds:
 *   step,seq_len,lr,loss,grad_norm,tokens,elapsed_s,heldout_acc,heldout_niah_acc
 * with an empty field for a value the step has not got. trainer.c keeps it
 * while training and cuts it back to the checkpoint on resume;
 * trainer_plot.c draws it. */
#ifndef LCX_TRAIN_TRAINER_LOG_H
#define LCX_TRAIN_TRAINER_LOG_H

#include <stddef.h>

typedef struct trainer_log_row {
    long step;
    int seq_len;
    double lr, loss, grad_norm, tokens, elapsed, acc, niah_acc; /* NAN = none */
} trainer_log_row;

typedef struct trainer_log {
    trainer_log_row *rows;
    size_t n, cap;
} trainer_log;

/* The row of step: the last row when it is that step's, else a new row
 * with every value NAN. NULL when memory runs out. */
trainer_log_row *trainer_log_row_at(trainer_log *lg, long step, int seq_len);

/* The log as CSV text with its header line (caller frees); NULL when memory
 * runs out. */
char *trainer_log_csv(const trainer_log *lg);

/* Parse CSV text into rows (malformed lines are skipped: a log is only
 * advisory, the checkpoint is what resumes). -1 when memory runs out. */
int trainer_log_parse(const char *csv, trainer_log *lg);

void trainer_log_free(trainer_log *lg);

#endif

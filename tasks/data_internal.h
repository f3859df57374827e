/* data_internal.h (private to tasks/): the loaded task data. */
#ifndef LCX_TASKS_DATA_INTERNAL_H
#define LCX_TASKS_DATA_INTERNAL_H

#include <stddef.h>

#include "tasks/tasks.h"

typedef struct word_list {
    char **words; /* each NUL-terminated; all point into `storage` */
    size_t n;
    char *storage;
} word_list;

/* The essay haystack: the corpus as whitespace-separated words, with a flag
 * on each word that ends a sentence. */
typedef struct essay_corpus {
    word_list words;
    unsigned char *ends_sentence; /* [words.n] */
} essay_corpus;

typedef struct qa_item {
    char *query;
    char **outputs;
    size_t n_outputs;
    size_t *gold;  /* document ids of the gold paragraphs */
    size_t n_gold;
    size_t *more;  /* SQuAD: other paragraphs of the same article */
    size_t n_more;
} qa_item;

typedef struct qa_set {
    char **docs; /* sorted, unique */
    size_t n_docs;
    qa_item *items;
    size_t n_items;
    char source[512]; /* file name, or "bundled" */
} qa_set;

struct lcx_task_data {
    word_list nouns, adjectives, verbs;
    word_list cwe_vocab; /* nouns+adjectives+verbs, deduplicated and sorted, then pseudo-words */
    size_t cwe_real;     /* how many of cwe_vocab are real words */
    essay_corpus essay;
    qa_set squad, hotpot;
};

/* Sentence splitting over a word array (also used by tests). */
int tasks_essay_ends_sentence(const char *word, const char *next_word);

/* The i-th deterministic pseudo-word candidate (lowercase letters,
 * pronounceable); duplicates are filtered by the caller. */
void tasks_pseudo_word(size_t i, char *buf, size_t size);

#endif

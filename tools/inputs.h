/* Input walking shared by the tools: files, stdin, directories (Maildir
 * aware: tmp/ and the mail store's own files such as dovecot-uidlist are
 * skipped), mbox files split into messages, --files-from lists. */
#ifndef TK_INPUTS_H
#define TK_INPUTS_H
#include <stddef.h>

typedef struct tk_input {
    char *label;          /* Filename label, as rspamc builds it */
    unsigned char *data;  /* message bytes (owned); NULL for an empty request */
    size_t len;
    char *error;          /* set when the input could not be read */
    int exit_code;        /* exit code for that error */
} tk_input;

typedef struct tk_walk_opts {
    char **args; size_t n_args;      /* positional arguments */
    const char *files_from;          /* file with one path per line, "-" = stdin */
    const char *const *exclude; size_t n_exclude;
    int empty;                       /* -E: no body when there are no inputs */
    int raw;                         /* --raw: do not check that inputs look like mail */
    int split_mbox;                  /* split files holding several messages */
    int names_only;                  /* yield labels only: read no file, split no mbox */
    int maildir_folders;             /* walk a Maildir's Maildir++ folders (.Junk, ...) too */
} tk_walk_opts;

typedef struct tk_walker tk_walker;

tk_walker *tk_walker_new(const tk_walk_opts *o);
/* 1: *in filled (free with tk_input_clear), 0: no more inputs. */
int tk_walker_next(tk_walker *w, tk_input *in);
void tk_walker_free(tk_walker *w);
void tk_input_clear(tk_input *in);

/*
 * Count the inputs that a walker will produce from `o` (an mbox counts as
 * one), walking with names_only.  For the ETA of the progress line; 0 when
 * unknown (a file list on stdin).
 */
size_t tk_count_inputs(const tk_walk_opts *o);

/* Read a whole file descriptor; returns 0 or -1 with errno. */
int tk_read_fd(int fd, unsigned char **data, size_t *len);
#endif

/* The suite's vocabulary: rspamc's command words (and the programs' own
 * words), and the program that serves each.  The front door routes by this
 * table, the programs recognise their words by it, --commands prints it, and
 * tests/options.bats checks the man pages and completions against it. */
#ifndef TK_COMMANDS_H
#define TK_COMMANDS_H
#include <stdio.h>

enum {
    TK_CMD_RSPAMC = 1, /* an rspamc command word: `rspamkit WORD` runs the program */
    TK_CMD_KEEP = 2    /* the front door passes the word on to the program */
};

typedef struct tk_command {
    const char *word; /* ends in ':' when an argument is glued on (learn_class:NAME) */
    const char *args; /* what follows, for --commands */
    const char *tool; /* "learn": rspamkit-learn */
    int flags;        /* TK_CMD_* */
    const char *what; /* one line for --commands */
} tk_command;

/* Ends with an entry whose word is NULL. */
extern const tk_command tk_commands[];

/* The entry of the word `a` (without regard to case; a word ending in ':'
 * matches as a prefix), or NULL. */
const tk_command *tk_command_find(const char *a);
/* Is `a` one of `tool`'s words? */
int tk_command_of(const char *a, const char *tool);
/* The rspamc words, one a line: word and arguments, program, description. */
void tk_commands_print(FILE *f);
#endif

/* Private parts of the message layer (lib/message.c), for the unit tests. */
#ifndef RK_MESSAGE_H
#define RK_MESSAGE_H
#include <stddef.h>

/* Where the top-level header block ends. */
typedef struct rk_eoh {
    size_t pos;        /* where added fields go: start of the empty line, or len */
    const char *eol;   /* "\r\n", "\n" or "\r": the message's own line ending there */
    int found;         /* 1: an empty line ends the headers; 0: headers only */
    int need_eol;      /* headers only and the last line has no line ending */
} rk_eoh;

void rk_find_eoh(const unsigned char *p, size_t len, rk_eoh *out);
#endif

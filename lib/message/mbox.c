/* mbox splitting: a message starts at a "From " line that opens the file or
 * follows an empty line. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* A separator looks like "From sender Sat Nov 21 10:00:00 2026": an address
 * and a time of day, which tells it from a body line starting with "From ". */
static int is_from_line(const unsigned char *d, size_t len, size_t i)
{
    const unsigned char *eol = memchr(d + i, '\n', len - i);
    size_t end = eol ? (size_t)(eol - d) : len;
    size_t k = i + 5;
    if (k >= end || d[k] == ' ')
        return 0;
    while (k < end && d[k] != ' ')
        k++;
    for (; k + 4 < end; k++)
        if (d[k] >= '0' && d[k] <= '9' && d[k + 1] >= '0' && d[k + 1] <= '9' && d[k + 2] == ':' &&
            d[k + 3] >= '0' && d[k + 3] <= '9' && d[k + 4] >= '0' && d[k + 4] <= '9')
            return 1;
    return 0;
}

/* Offset of the next separator line at or after `from`, or len. Candidates
 * are found with memmem(): every input is checked for a second message. */
static size_t next_sep(const unsigned char *d, size_t len, size_t from)
{
    if (from == 0) {
        if (len >= 5 && memcmp(d, "From ", 5) == 0 && is_from_line(d, len, 0))
            return 0;
        from = 1;
    }
    size_t i = from - 1; /* where the newline before a candidate at `from` is */
    while (i < len) {
        const unsigned char *p = memmem(d + i, len - i, "\nFrom ", 6);
        if (!p)
            break;
        size_t at = (size_t)(p - d) + 1;
        /* preceded by an empty line: "\n\n" or "\r\n\r\n" */
        if (at >= 2 && (d[at - 2] == '\n' || (at >= 4 && d[at - 2] == '\r' && d[at - 3] == '\n')) &&
            is_from_line(d, len, at))
            return at;
        i = at;
    }
    return len;
}

RK_API int rk_mbox_is_multi(const unsigned char *d, size_t len)
{
    if (len < 5 || memcmp(d, "From ", 5) != 0)
        return 0;
    return next_sep(d, len, 1) < len;
}

RK_API int rk_mbox_split(const unsigned char *d, size_t len, size_t **offs, size_t **lens,
                         size_t *n)
{
    size_t cap = 16, k = 0;
    size_t *o = malloc(cap * sizeof *o), *l = malloc(cap * sizeof *l);
    if (!o || !l)
        goto nomem;
    /* What comes before the first separator is dropped only when it is
     * blank: else it is a message too (none is ever lost). */
    size_t start = next_sep(d, len, 0);
    for (size_t i = 0; i < start; i++)
        if (!strchr(" \t\r\n", d[i]) || !d[i]) {
            start = 0;
            break;
        }
    while (start < len) {
        size_t next = next_sep(d, len, start + 1);
        size_t end = next;
        /* drop the empty line that separates this message from the next */
        if (next < len) {
            end--;
            if (end > start && d[end - 1] == '\r')
                end--;
        }
        if (k == cap) {
            cap *= 2;
            size_t *o2 = realloc(o, cap * sizeof *o);
            if (!o2)
                goto nomem;
            o = o2;
            size_t *l2 = realloc(l, cap * sizeof *l);
            if (!l2)
                goto nomem;
            l = l2;
        }
        o[k] = start;
        l[k] = end - start;
        k++;
        start = next;
    }
    *offs = o;
    *lens = l;
    *n = k;
    return 0;
nomem:
    free(o);
    free(l);
    return -1;
}

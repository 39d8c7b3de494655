/*
 * libFuzzer harness for the splitters: the mbox splitter (rk_mbox_split,
 * rk_mbox_is_multi) and the end of the header block (rk_find_eoh).
 * Checked: no byte is lost by the mbox splitter (the parts cover the input
 * in order, less only blanks before the first part and the empty line
 * before each "From " line that starts a part), rk_mbox_is_multi says yes exactly when there are several parts
 * and the input starts with "From ", and
 * the header block's end is in the input, at a line start or after a last
 * line without its line ending.
 */
#include "config.h"
#include "internal.h"
#include "message/message.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t len);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t len)
{
    size_t *offs, *lens, n;
    if (rk_mbox_split(d, len, &offs, &lens, &n) == 0) {
        for (size_t i = 0; i < (n ? offs[0] : len); i++)
            if (!d[i] || !strchr(" \t\r\n", d[i]))
                abort(); /* the start lost */
        for (size_t i = 0; i < n; i++) {
            size_t end = offs[i] + lens[i];
            if (end > len || (i + 1 == n && end != len))
                abort();
            if (i + 1 < n) {
                size_t gap = offs[i + 1] - end; /* the empty line dropped */
                if (offs[i + 1] < end || memcmp(d + offs[i + 1], "From ", 5) != 0 ||
                    !(gap == 1 ? d[end] == '\n' : gap == 2 && d[end] == '\r' && d[end + 1] == '\n'))
                    abort();
            }
        }
        if (rk_mbox_is_multi(d, len) != (n > 1 && memcmp(d, "From ", 5) == 0))
            abort();
        free(offs);
        free(lens);
    }

    rk_eoh e;
    rk_find_eoh(d, len, &e);
    if (e.pos > len || (e.pos > 0 && e.pos < len && d[e.pos - 1] != '\n' && d[e.pos - 1] != '\r'))
        abort();
    if (e.need_eol != (e.pos > 0 && d[e.pos - 1] != '\n' && d[e.pos - 1] != '\r') ||
        (e.need_eol && e.found))
        abort();
    if (strcmp(e.eol, "\n") && strcmp(e.eol, "\r\n") && strcmp(e.eol, "\r"))
        abort();
    return 0;
}

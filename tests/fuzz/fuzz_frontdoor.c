/*
 * libFuzzer harness for the front door's routing (tools/frontdoor.c): the
 * input is a command line, its words separated by NUL bytes (the first is
 * argv[0]).  Checked: help and version only for those words in first place,
 * a program of the suite, a dropped word that names it (the subcommand or an
 * rspamc command word of that program), an extra "--" only before a "--".
 */
#include "config.h"
#include "commands.h"
#include "frontdoor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *buf = malloc(size + 1), *argv[65];
    memcpy(buf, data, size);
    buf[size] = 0;
    int argc = 0;
    for (char *p = buf; argc < 64 && p <= buf + size; p += strlen(p) + 1)
        argv[argc++] = p;
    argv[argc] = NULL;
    tk_route r;
    tk_door d = tk_frontdoor_route(argc, argv, &r);
    const char *base = strrchr(argv[0], '/');
    int help = argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-?"));
    int version = argc > 1 && !strcmp(argv[1], "--version");
    if (d != (!strcmp(base ? base + 1 : argv[0], "spamc") ? TK_DOOR_RUN
              : help                                     ? TK_DOOR_HELP
              : version                                  ? TK_DOOR_VERSION
                                                         : TK_DOOR_RUN))
        abort();
    if (d == TK_DOOR_RUN) {
        static const char *const tools[] = {"scan", "learn", "fuzzy", "pw", "configdump", "ctl", "spamc"};
        size_t t = 0;
        while (t < 7 && strcmp(r.tool, tools[t]))
            t++;
        if (t == 7 || r.skip < 0 || r.skip >= argc || r.dashes < 0 || r.dashes >= argc ||
            (r.skip && r.dashes))
            abort();
        if (r.skip && !(r.skip == 1 && !strcmp(argv[1], r.tool)) &&
            !tk_command_of(argv[r.skip], r.tool))
            abort();
        if (r.dashes && strcmp(argv[r.dashes], "--"))
            abort();
    }
    free(buf);
    return 0;
}

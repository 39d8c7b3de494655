/* rspamkit: the front door. `rspamkit WORD ...` runs rspamkit-WORD, and an
 * rspamc command line works with the word `rspamc` replaced (the routing is
 * in frontdoor.c). */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frontdoor.h"

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rspamkit scan|learn|fuzzy|ctl|pw|configdump [OPTION...] [ARG...]\n"
            "       rspamkit [rspamc OPTION...] [COMMAND] [FILE...]\n"
            "COMMAND is one of rspamc's command words (rspamkit --commands lists them).\n"
            "See rspamkit(1).\n"
            "  -?, --help   print this text\n"
            "      --version  print the version\n");
}

/* Run rspamkit-TOOL with argv minus argv[skip] (when skip > 0), and with an
 * extra "--" before argv[dashes] (when dashes > 0): that makes the "--"
 * there an input, as GLib leaves it for rspamc.  With `rspamc`, the command
 * line is rspamc's: the program is told to print failures as rspamc does
 * (the hidden option --rspamc-output). */
static int run_tool(const char *tool, char **argv, int argc, int skip, int dashes, int rspamc)
{
    char self[PATH_MAX], path[PATH_MAX + 32];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    const char *dir = ".";
    if (n > 0) {
        self[n] = 0;
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = 0;
            dir = self;
        }
    }
    snprintf(path, sizeof path, "%s/rspamkit-%s", dir, tool);
    if (access(path, X_OK) != 0)
        snprintf(path, sizeof path, "rspamkit-%s", tool); /* fall back to PATH */
    char **nargv = calloc((size_t)argc + 3, sizeof *nargv);
    if (!nargv)
        return 70;
    int k = 0;
    nargv[k++] = path;
    if (rspamc)
        nargv[k++] = "--rspamc-output";
    for (int i = 1; i < argc; i++) {
        if (i == dashes)
            nargv[k++] = "--";
        if (i != skip)
            nargv[k++] = argv[i];
    }
    nargv[k] = NULL;
    execvp(path, nargv);
    int e = errno;
    free(nargv);
    if (e == ENOENT) {
        fprintf(stderr, "rspamkit: '%s' is not available yet (rspamkit-%s is not installed)\n",
                argv[skip > 0 ? skip : 0], tool);
        return 64;
    }
    fprintf(stderr, "rspamkit: cannot run %s: %s\n", path, strerror(e));
    return 70;
}

int main(int argc, char **argv)
{
    tk_route r;
    switch (tk_frontdoor_route(argc, argv, &r)) {
    case TK_DOOR_HELP:
        usage(stdout);
        return 0;
    case TK_DOOR_VERSION:
        printf("rspamkit %s\n", PACKAGE_VERSION);
        return 0;
    default:
        return run_tool(r.tool, argv, argc, r.skip, r.dashes, r.rspamc);
    }
}

/* rspamkit: the front door. `rspamkit WORD ...` runs rspamkit-WORD, and an
 * rspamc command line works with the word `rspamc` replaced. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* rspamc command words and the tool that implements each. */
static const struct {
    const char *word, *tool;
    int keep; /* pass the word on to the tool */
} routes[] = {
    {"symbols", "scan", 0}, {"check", "scan", 0}, {"report", "scan", 0},
    {"learn_spam", "learn", 1}, {"learn_ham", "learn", 1},
    {"fuzzy_add", "fuzzy", 1}, {"fuzzy_del", "fuzzy", 1}, {"fuzzy_delhash", "fuzzy", 1},
    {"stat", "ctl", 1}, {"stat_reset", "ctl", 1}, {"counters", "ctl", 1}, {"uptime", "ctl", 1},
    {"add_symbol", "ctl", 1}, {"add_action", "ctl", 1},
};

/* Subcommands: rspamkit scan|learn|fuzzy|pw|configdump|ctl ... */
static const char *const tools[] = {"scan", "learn", "fuzzy", "pw", "configdump", "ctl", "spamc"};

/* Options of rspamc (and ours) that take a separate value, so that the value
 * is not mistaken for a command word. -P takes an optional value and never
 * swallows a command word here (unlike rspamc). */
static const char *const valued[] = {
    "-h", "--connect", "-c", "--classifier", "-w", "--weight", "-f", "--flag", "-i", "--ip",
    "-u", "--user", "-d", "--deliver", "-F", "--from", "-r", "--rcpt", "--helo", "--hostname",
    "-t", "--timeout", "-b", "--bind", "-n", "--max-requests", "--key", "-e", "--exec",
    "--header", "--exclude", "--sort", "-S", "--fuzzy-symbol", "-D", "--dictionary", "-U",
    "--user-agent", "--connect-timeout", "--queue-id", "--log-tag", "--settings",
    "--settings-id", "--files-from", "--password-file", "--max-size", "--header-style",
};

static int is_word(const char *a)
{
    for (size_t r = 0; r < sizeof routes / sizeof *routes; r++)
        if (strcasecmp(a, routes[r].word) == 0)
            return 1;
    return strncasecmp(a, "learn_class:", 12) == 0;
}

static int takes_value(const char *a)
{
    for (size_t i = 0; i < sizeof valued / sizeof *valued; i++)
        if (strcmp(a, valued[i]) == 0)
            return 1;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rspamkit scan|learn|fuzzy|ctl|pw|configdump [OPTION...] [ARG...]\n"
            "       rspamkit [rspamc OPTION...] [COMMAND] [FILE...]\n"
            "COMMAND is an rspamc command word: symbols (check, report), learn_spam, learn_ham,\n"
            "fuzzy_add, fuzzy_del, fuzzy_delhash, stat, stat_reset, counters, uptime,\n"
            "add_symbol, add_action. See rspamkit(1).\n"
            "  -?, --help   print this text\n"
            "      --version  print the version\n");
}

static int run_tool(const char *tool, char **argv, int argc, int skip)
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
    char **nargv = calloc((size_t)argc + 1, sizeof *nargv);
    if (!nargv)
        return 70;
    int k = 0;
    nargv[k++] = path;
    for (int i = 1; i < argc; i++)
        if (i != skip)
            nargv[k++] = argv[i];
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
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], "spamc") == 0)
        return run_tool("spamc", argv, argc, 0);
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[1], "--version") == 0) {
            printf("rspamkit %s\n", PACKAGE_VERSION);
            return 0;
        }
        for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
            if (strcmp(argv[1], tools[i]) == 0)
                return run_tool(tools[i], argv, argc, 1);
    }
    /* rspamc grammar: the first positional argument may be a command word. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1]) {
            if (!strchr(a, '=') && takes_value(a))
                i++;
            /* -P takes an optional value: the next word is the password
             * unless it is an option or a command word. */
            else if ((strcmp(a, "-P") == 0 || strcmp(a, "--password") == 0) && i + 1 < argc &&
                     argv[i + 1][0] != '-' && !is_word(argv[i + 1]))
                i++;
            continue;
        }
        if (strncasecmp(a, "learn_class:", 12) == 0)
            return run_tool("learn", argv, argc, 0);
        for (size_t r = 0; r < sizeof routes / sizeof *routes; r++)
            if (strcasecmp(a, routes[r].word) == 0)
                return run_tool(routes[r].tool, argv, argc, routes[r].keep ? 0 : i);
        break; /* a file: scan */
    }
    return run_tool("scan", argv, argc, 0);
}

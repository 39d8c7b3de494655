/* The front door's routing: `rspamkit WORD ...` runs rspamkit-WORD, and an
 * rspamc command line works with the word `rspamc` replaced. */
#include "config.h"

#include <string.h>

#include "commands.h"
#include "frontdoor.h"

/* Subcommands: rspamkit scan|learn|fuzzy|pw|configdump|ctl ... */
static const char *const tools[] = {"scan", "learn", "fuzzy", "pw", "configdump", "ctl", "spamc"};

/* valued[] and optional[]: the options of the programs reached by a command
 * word that take a value (or may), generated from their own option tables
 * (tools/gen-options), so that a value is not mistaken for a command word. */
#include "tools/frontdoor-options.h"

static int listed(const char *const *list, const char *a, size_t len)
{
    for (size_t i = 0; list[i]; i++)
        if (strncmp(list[i], a, len) == 0 && !list[i][len])
            return 1;
    return 0;
}

static const tk_command *rspamc_word(const char *a)
{
    const tk_command *c = tk_command_find(a);
    return c && (c->flags & TK_CMD_RSPAMC) ? c : NULL;
}

/* How many of the words after argv[i], an option, are its value: 0 or 1.
 * "-xyz" is a cluster of short options, as popt reads it: the first that
 * takes a value takes the rest of the word, or else the next word.  An
 * optional value (-P) is the next word unless that is an option or a
 * command word. */
static int value_words(char **argv, int argc, int i)
{
    const char *a = argv[i];
    int opt = 0;
    if (a[1] == '-') {
        if (strchr(a, '='))
            return 0;
        opt = listed(valued, a, strlen(a)) ? 1 : listed(optional, a, strlen(a)) ? 2 : 0;
    } else {
        for (const char *p = a + 1; *p && !opt; p++) {
            char s[3] = {'-', *p, 0};
            opt = listed(valued, s, 2) ? 1 : listed(optional, s, 2) ? 2 : 0;
            if (opt && p[1])
                return 0; /* the value is glued on */
        }
    }
    if (opt == 2)
        return i + 1 < argc && argv[i + 1][0] != '-' && !rspamc_word(argv[i + 1]);
    return opt == 1 && i + 1 < argc;
}

static tk_door route(tk_route *r, const char *tool, int skip, int dashes, int rspamc)
{
    r->tool = tool;
    r->skip = skip;
    r->dashes = dashes;
    r->rspamc = rspamc;
    return TK_DOOR_RUN;
}

tk_door tk_frontdoor_route(int argc, char **argv, tk_route *r)
{
    const char *base = strrchr(argv[0], '/');
    if (strcmp(base ? base + 1 : argv[0], "spamc") == 0)
        return route(r, "spamc", 0, 0, 0);
    if (argc > 1) {
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-?") == 0)
            return TK_DOOR_HELP;
        if (strcmp(argv[1], "--version") == 0)
            return TK_DOOR_VERSION;
        for (size_t i = 0; i < sizeof tools / sizeof *tools; i++)
            if (strcmp(argv[1], tools[i]) == 0)
                return route(r, tools[i], 1, 0, 0);
    }
    /* rspamc grammar: the first positional argument may be a command word. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            /* The options end here. As GLib reads rspamc's command line, the
             * "--" itself is dropped unless a word after it starts with '-':
             * then it is an input too, and so is every word after it.  A
             * lone "-" (stdin, which rspamc cannot read that way) does not
             * count: "--mime --exec CMD -- -" must not add an input "--"
             * whose failure would follow a delivery. */
            for (int k = i + 1; k < argc; k++)
                if (argv[k][0] == '-' && argv[k][1])
                    return route(r, "scan", 0, i, 1);
            if (i + 1 < argc && rspamc_word(argv[i + 1])) {
                const tk_command *c = rspamc_word(argv[i + 1]);
                return route(r, c->tool, c->flags & TK_CMD_KEEP ? 0 : i + 1, 0, 1);
            }
            break;
        }
        if (a[0] == '-' && a[1]) {
            int v = value_words(argv, argc, i);
            if (v && strcmp(argv[i + 1], "--") == 0 &&
                (strcmp(a, "-e") == 0 || strcmp(a, "--exec") == 0))
                break; /* --exec -- CMD ARG...: the rest is the command */
            i += v;
            continue;
        }
        const tk_command *c = rspamc_word(a);
        if (c)
            return route(r, c->tool, c->flags & TK_CMD_KEEP ? 0 : i, 0, 1);
        break; /* a file: scan */
    }
    return route(r, "scan", 0, 0, 1);
}

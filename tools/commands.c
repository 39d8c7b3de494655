#include "config.h"
#include "commands.h"

#include <string.h>
#include <strings.h>

#define RSPAMC TK_CMD_RSPAMC
#define KEEP TK_CMD_KEEP

const tk_command tk_commands[] = {
    {"symbols", "[FILE|DIR...]", "scan", RSPAMC, "scan messages (the default)"},
    {"check", "[FILE|DIR...]", "scan", RSPAMC, "scan messages, as symbols"},
    {"report", "[FILE|DIR...]", "scan", RSPAMC, "scan messages, as symbols"},
    {"learn_spam", "[FILE|DIR...]", "learn", RSPAMC | KEEP, "learn messages as spam"},
    {"learn_ham", "[FILE|DIR...]", "learn", RSPAMC | KEEP, "learn messages as ham"},
    {"learn_class:", "NAME [FILE|DIR...]", "learn", RSPAMC | KEEP,
     "learn messages as class NAME (Rspamd 3.13 and later)"},
    {"neural_learn:", "CLASS [FILE|DIR...]", "scan", RSPAMC | KEEP,
     "train the neural networks with messages as CLASS (Rspamd 4.0 and later)"},
    {"fuzzy_add", "[FILE|DIR...]", "fuzzy", RSPAMC | KEEP, "add messages to fuzzy storage"},
    {"fuzzy_del", "[FILE|DIR...]", "fuzzy", RSPAMC | KEEP, "delete messages from fuzzy storage"},
    {"fuzzy_delhash", "HASH...", "fuzzy", RSPAMC | KEEP, "delete fuzzy hashes"},
    {"add", "[FILE|DIR...]", "fuzzy", 0, "fuzzy_add"},
    {"del", "[FILE|DIR...]", "fuzzy", 0, "fuzzy_del"},
    {"delhash", "HASH...", "fuzzy", 0, "fuzzy_delhash"},
    {"stat", "", "ctl", RSPAMC | KEEP, "learning and scanning statistics"},
    {"stat_reset", "", "ctl", RSPAMC | KEEP, "statistics, then reset them"},
    {"counters", "", "ctl", RSPAMC | KEEP, "symbol counters"},
    {"uptime", "", "ctl", RSPAMC | KEEP, "server uptime and version"},
    {"actions", "", "ctl", 0, "action thresholds"},
    {"add_symbol", "SYMBOL WEIGHT", "ctl", RSPAMC | KEEP, "set a symbol's weight"},
    {"add_action", "ACTION SCORE", "ctl", RSPAMC | KEEP, "set an action's score"},
    {NULL, NULL, NULL, 0, NULL},
};

const tk_command *tk_command_find(const char *a)
{
    for (const tk_command *c = tk_commands; c->word; c++) {
        size_t n = strlen(c->word);
        if (c->word[n - 1] == ':' ? strncasecmp(a, c->word, n) == 0 : strcasecmp(a, c->word) == 0)
            return c;
    }
    return NULL;
}

int tk_command_of(const char *a, const char *tool)
{
    const tk_command *c = tk_command_find(a);
    return c && strcmp(c->tool, tool) == 0;
}

void tk_commands_print(FILE *f)
{
    fputs("Commands (rspamc's words; `rspamkit WORD ...` runs the program named):\n", f);
    for (const tk_command *c = tk_commands; c->word; c++) {
        if (!(c->flags & TK_CMD_RSPAMC))
            continue;
        char use[64], prog[32];
        snprintf(use, sizeof use, "%s%s%s", c->word,
                 *c->args && c->word[strlen(c->word) - 1] != ':' ? " " : "", c->args);
        snprintf(prog, sizeof prog, "rspamkit-%s", c->tool);
        fprintf(f, "  %-32s %-15s %s\n", use, prog, c->what);
    }
}

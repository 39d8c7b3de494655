/* The front door's routing (tools/rspamkit.c): which program a command line
 * goes to, and how it is passed on.  A function of argv only, so that a
 * fuzzer can link it (tests/fuzz/fuzz_frontdoor.c). */
#ifndef TK_FRONTDOOR_H
#define TK_FRONTDOOR_H

typedef enum tk_door { TK_DOOR_RUN, TK_DOOR_HELP, TK_DOOR_VERSION } tk_door;

typedef struct tk_route {
    const char *tool; /* run rspamkit-TOOL (static) */
    int skip;         /* > 0: without argv[skip] (the command word) */
    int dashes;       /* > 0: with an extra "--" before argv[dashes] */
    int rspamc;       /* rspamc's grammar: the program prints failures as rspamc
                         does (--rspamc-output) */
} tk_route;

/* Route argv (argv[0] as the program was called: "spamc" runs the spamc
 * mode).  TK_DOOR_RUN fills *r. */
tk_door tk_frontdoor_route(int argc, char **argv, tk_route *r);
#endif

/* configdump -m, -g and -d worked out from the files.
 *
 * Rspamd builds its symbol groups and symbols from the `group` section
 * (rspamd_rcl_group_handler and rspamd_config_add_symbol in cfg_rcl.c and
 * cfg_utils.c), and decides which modules run in
 * rspamd_config_is_module_enabled. Both are reproduced here for what comes
 * from the files; what plugins register or decide in Lua is not known. */
#include "rspamd/rspamd.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* ------------------------------------------------------- symbols model */

typedef struct rs_group rs_group;

typedef struct rs_symbol {
    char *name;
    double score;
    unsigned prio;
    char *desc;
    unsigned flags;
    int nshots;
    rs_group *gr;
    rs_group **groups;
    size_t ngroups;
    const rk_ucl *def; /* the last definition, for -d's extra keys */
} rs_symbol;

enum { SF_DISABLED = 1, SF_UNSCORED = 2, SF_UNGROUPED = 4 };
enum { GF_ONE_SHOT = 1, GF_DISABLED = 2, GF_PUBLIC = 4, GF_UNGROUPED = 8 };

struct rs_group {
    char *name;
    unsigned flags;
    double max_score;
    char *desc;
    rs_symbol **syms; /* the group's symbol table */
    size_t nsyms;
};

typedef struct rs_cfg {
    rs_group **groups;
    size_t ngroups;
    rs_symbol **syms;
    size_t nsyms;
    int max_shots;
    int oom;
} rs_cfg;

static void *grow(rs_cfg *c, void *v, size_t n, size_t size)
{
    /* room for one more element in a power-of-two sized array */
    if (n && (n & (n - 1)))
        return v;
    void *nv = realloc(v, (n ? n * 2 : 1) * size);
    if (!nv)
        c->oom = 1;
    return nv;
}

static char *dupstr(rs_cfg *c, const char *s)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        c->oom = 1;
    return d;
}

static rs_group *find_group(rs_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->ngroups; i++)
        if (strcasecmp(c->groups[i]->name, name) == 0)
            return c->groups[i];
    return NULL;
}

static rs_group *new_group(rs_cfg *c, const char *name)
{
    rs_group *g = calloc(1, sizeof *g), **v;
    if (!g || !(g->name = strdup(name)) ||
        !(v = grow(c, c->groups, c->ngroups, sizeof *c->groups))) {
        if (g)
            free(g->name);
        free(g);
        c->oom = 1;
        return NULL;
    }
    if (strcmp(name, "ungrouped") == 0)
        g->flags |= GF_UNGROUPED;
    c->groups = v;
    c->groups[c->ngroups++] = g;
    return g;
}

static rs_group *get_group(rs_cfg *c, const char *name)
{
    rs_group *g = find_group(c, name);
    return g ? g : new_group(c, name);
}

static void group_add(rs_cfg *c, rs_group *g, rs_symbol *s)
{
    for (size_t i = 0; i < g->nsyms; i++)
        if (strcasecmp(g->syms[i]->name, s->name) == 0) {
            g->syms[i] = s;
            return;
        }
    rs_symbol **v = grow(c, g->syms, g->nsyms, sizeof *g->syms);
    if (!v)
        return;
    g->syms = v;
    g->syms[g->nsyms++] = s;
}

static void group_remove(rs_group *g, const rs_symbol *s)
{
    for (size_t i = 0; i < g->nsyms; i++)
        if (strcasecmp(g->syms[i]->name, s->name) == 0) {
            memmove(&g->syms[i], &g->syms[i + 1], (g->nsyms - i - 1) * sizeof *g->syms);
            g->nsyms--;
            return;
        }
}

static void add_to_groups(rs_cfg *c, rs_symbol *s, rs_group *g)
{
    rs_group **v = grow(c, s->groups, s->ngroups, sizeof *s->groups);
    if (!v)
        return;
    s->groups = v;
    s->groups[s->ngroups++] = g;
}

static rs_symbol *find_symbol(rs_cfg *c, const char *name)
{
    for (size_t i = 0; i < c->nsyms; i++)
        if (strcmp(c->syms[i]->name, name) == 0)
            return c->syms[i];
    return NULL;
}

/* rspamd_config_add_symbol */
static void add_symbol(rs_cfg *c, const char *name, double score, const char *desc,
                       const char *group, unsigned flags, unsigned prio, int nshots,
                       const rk_ucl *def)
{
    rs_symbol *s = find_symbol(c, name);
    if (!s) { /* rspamd_config_new_symbol */
        rs_symbol **v;
        if (!(s = calloc(1, sizeof *s)) || !(s->name = strdup(name)) ||
            !(v = grow(c, c->syms, c->nsyms, sizeof *c->syms))) {
            if (s)
                free(s->name);
            free(s);
            c->oom = 1;
            return;
        }
        c->syms = v;
        c->syms[c->nsyms++] = s;
        if (isnan(score)) {
            score = 0;
            s->prio = 0;
            flags |= SF_UNSCORED;
        } else {
            s->prio = prio;
        }
        s->score = score;
        s->flags = flags;
        s->nshots = nshots ? nshots : c->max_shots;
        s->desc = dupstr(c, desc);
        s->def = def;
        if (!group) {
            group = "ungrouped";
            s->flags |= SF_UNGROUPED;
        } else if (strcmp(group, "ungrouped") == 0) {
            s->flags |= SF_UNGROUPED;
        }
        rs_group *g = get_group(c, group);
        if (!g)
            return;
        s->gr = g;
        group_add(c, g, s);
        if (!(s->flags & SF_UNGROUPED))
            add_to_groups(c, s, g);
        return;
    }
    if (def)
        s->def = def;
    if (group) {
        int has = 0;
        for (size_t i = 0; i < s->ngroups; i++)
            has |= strcasecmp(s->groups[i]->name, group) == 0;
        if (!has) {
            rs_group *g = get_group(c, group);
            if (!g)
                return;
            if (!s->gr || (s->flags & SF_UNGROUPED)) {
                s->gr = g;
                s->flags &= ~(unsigned)SF_UNGROUPED;
            }
            group_add(c, g, s);
            s->flags &= ~(unsigned)SF_UNGROUPED;
            add_to_groups(c, s, g);
        }
    }
    if (s->prio > prio && (isnan(score) || !(s->flags & SF_UNSCORED))) {
        if (!s->desc && desc)
            s->desc = dupstr(c, desc);
        if (nshots != 0 && s->nshots == c->max_shots)
            s->nshots = nshots;
        return;
    }
    if (!isnan(score)) {
        s->score = score;
        s->prio = prio;
        s->flags &= ~(unsigned)SF_UNSCORED;
    }
    s->flags = flags;
    if (nshots != 0)
        s->nshots = nshots;
    else if (s->prio < prio)
        s->nshots = c->max_shots;
    if (desc) {
        free(s->desc);
        s->desc = dupstr(c, desc);
    }
    if (group && s->gr && strcmp(group, s->gr->name) != 0) {
        rs_group *g = get_group(c, group);
        if (g && !(g->flags & GF_UNGROUPED)) {
            group_remove(s->gr, s);
            s->gr = g;
            group_add(c, g, s);
        }
    }
}

static int is_true(const rk_ucl *u) { return rk_ucl_type_of(u) == RK_UCL_BOOLEAN && rk_ucl_bool(u); }
static int is_false(const rk_ucl *u) { return rk_ucl_type_of(u) == RK_UCL_BOOLEAN && !rk_ucl_bool(u); }
static int is_number(const rk_ucl *u)
{
    rk_ucl_type t = rk_ucl_type_of(u);
    return t == RK_UCL_INT || t == RK_UCL_FLOAT || t == RK_UCL_TIME;
}

static void symbol_handler(rs_cfg *c, const char *name, const rk_ucl *obj, const char *group)
{
    unsigned flags = 0, prio;
    int nshots = 0;
    double score = NAN;
    const rk_ucl *e;
    if (is_true(rk_ucl_lookup(obj, "one_shot")))
        nshots = 1;
    if (is_true(rk_ucl_lookup(obj, "any_shot")))
        nshots = -1;
    if (is_false(rk_ucl_lookup(obj, "enabled")))
        flags |= SF_DISABLED;
    if ((e = rk_ucl_lookup(obj, "nshots")) && is_number(e))
        nshots = (int)rk_ucl_int(e);
    if (!(e = rk_ucl_lookup(obj, "score")))
        e = rk_ucl_lookup(obj, "weight");
    if (e && rk_ucl_type_of(e) != RK_UCL_TIME && is_number(e))
        score = rk_ucl_double(e);
    if ((e = rk_ucl_lookup(obj, "priority")) && is_number(e))
        prio = (unsigned)rk_ucl_int(e);
    else
        prio = obj->prio + 1;
    e = rk_ucl_lookup(obj, "description");
    add_symbol(c, name, score, rk_ucl_string(e, NULL), group, flags, prio, nshots, obj);
    const rk_ucl *grs = rk_ucl_lookup(obj, "groups");
    if (grs) {
        size_t n = rk_ucl_type_of(grs) == RK_UCL_ARRAY ? rk_ucl_count(grs) : 1;
        for (size_t i = 0; i < n; i++) {
            const rk_ucl *g = rk_ucl_type_of(grs) == RK_UCL_ARRAY ? rk_ucl_at(grs, i) : grs;
            const char *gn = rk_ucl_string(g, NULL);
            if (gn) /* rspamd_config_add_symbol_group */
                add_symbol(c, name, NAN, NULL, gn, flags, 0, 0, NULL);
        }
    }
}

static void free_cfg(rs_cfg *c)
{
    for (size_t i = 0; i < c->nsyms; i++) {
        free(c->syms[i]->name);
        free(c->syms[i]->desc);
        free(c->syms[i]->groups);
        free(c->syms[i]);
    }
    for (size_t i = 0; i < c->ngroups; i++) {
        free(c->groups[i]->name);
        free(c->groups[i]->desc);
        free(c->groups[i]->syms);
        free(c->groups[i]);
    }
    free(c->syms);
    free(c->groups);
}

/* The groups and symbols of the `group` section. */
static void build(rs_cfg *c, const rk_ucl *cfg)
{
    memset(c, 0, sizeof *c);
    c->max_shots = 100;
    const rk_ucl *ms = rk_ucl_lookup_path(cfg, "options.max_shots");
    if (ms && rk_ucl_type_of(ms) == RK_UCL_INT)
        c->max_shots = (int)rk_ucl_int(ms);
    for (const rk_ucl *sec = rk_ucl_lookup(cfg, "group"); sec; sec = rk_ucl_next(sec)) {
        if (rk_ucl_type_of(sec) != RK_UCL_OBJECT)
            continue;
        for (size_t i = 0; i < rk_ucl_count(sec); i++) {
            for (const rk_ucl *obj = rk_ucl_at(sec, i); obj; obj = rk_ucl_next(obj)) {
                const char *gname = rk_ucl_key(obj, NULL);
                if (rk_ucl_type_of(obj) != RK_UCL_OBJECT)
                    continue;
                rs_group *g = get_group(c, gname);
                if (!g)
                    return;
                const rk_ucl *e;
                if ((e = rk_ucl_lookup(obj, "max_score")) && is_number(e))
                    g->max_score = rk_ucl_double(e);
                if (is_true(rk_ucl_lookup(obj, "one_shot")))
                    g->flags |= GF_ONE_SHOT;
                if (is_true(rk_ucl_lookup(obj, "disabled")) || is_false(rk_ucl_lookup(obj, "enabled")))
                    g->flags |= GF_DISABLED;
                if (is_true(rk_ucl_lookup(obj, "public")) || is_false(rk_ucl_lookup(obj, "private")))
                    g->flags |= GF_PUBLIC;
                if ((e = rk_ucl_lookup(obj, "description")) && rk_ucl_string(e, NULL)) {
                    free(g->desc);
                    g->desc = dupstr(c, rk_ucl_string(e, NULL));
                }
                const rk_ucl *syms = rk_ucl_lookup(obj, "symbols");
                if (rk_ucl_type_of(syms) != RK_UCL_OBJECT)
                    continue;
                for (size_t j = 0; j < rk_ucl_count(syms); j++)
                    for (const rk_ucl *s = rk_ucl_at(syms, j); s; s = rk_ucl_next(s))
                        if (rk_ucl_type_of(s) == RK_UCL_OBJECT)
                            symbol_handler(c, rk_ucl_key(s, NULL), s, g->name);
            }
        }
    }
    /* composites come after groups in Rspamd's section order
     * (composites_manager::add_composite_from_ucl) */
    double unknown = 0;
    const rk_ucl *uw = rk_ucl_lookup_path(cfg, "actions.unknown_weight");
    if (is_number(uw) && !isnan(rk_ucl_double(uw)))
        unknown = rk_ucl_double(uw);
    static const char *const sections[] = {"composite", "composites"};
    for (size_t k = 0; k < 2; k++)
        for (const rk_ucl *sec = rk_ucl_lookup(cfg, sections[k]); sec; sec = rk_ucl_next(sec))
            for (size_t i = 0; i < rk_ucl_count(sec); i++)
                for (const rk_ucl *obj = rk_ucl_at(sec, i); obj; obj = rk_ucl_next(obj)) {
                    const rk_ucl *e = rk_ucl_lookup(obj, "enabled");
                    const char *expr = rk_ucl_string(rk_ucl_lookup(obj, "expression"), NULL);
                    if (rk_ucl_type_of(obj) != RK_UCL_OBJECT || (e && !rk_ucl_bool(e)) || !expr)
                        continue;
                    double score = unknown;
                    if (is_number(e = rk_ucl_lookup(obj, "score")))
                        score = rk_ucl_double(e);
                    const char *group = "composite", *desc = expr;
                    if ((e = rk_ucl_lookup(obj, "group")))
                        group = rk_ucl_string(e, NULL);
                    if ((e = rk_ucl_lookup(obj, "description")))
                        desc = rk_ucl_string(e, NULL);
                    const char *name = rk_ucl_key(obj, NULL);
                    add_symbol(c, name, score, desc, group, 0, obj->prio, 1, NULL);
                    const rk_ucl *grs = rk_ucl_lookup(obj, "groups");
                    for (size_t j = 0; rk_ucl_type_of(grs) == RK_UCL_ARRAY && j < rk_ucl_count(grs); j++) {
                        const char *gn = rk_ucl_string(rk_ucl_at(grs, j), NULL);
                        if (gn)
                            add_symbol(c, name, NAN, NULL, gn, 0, 0, 0, NULL);
                    }
                }
}

/* ------------------------------------------------------------ -g and -d */

static int put(rk_ucl *obj, const char *key, rk_ucl *v)
{
    if (!v || rk_ucl_insert(obj, v, key, strlen(key))) {
        rk_ucl_free(v);
        return -1;
    }
    return 0;
}

static rk_ucl *str_or_null(const char *s) { return s ? rk_ucl_new_string(s, strlen(s)) : NULL; }

rk_ucl *rk_rspamd_groups(const rk_ucl *cfg)
{
    rs_cfg c;
    build(&c, cfg);
    rk_ucl *out = rk_ucl_node(RK_UCL_OBJECT, 0);
    int bad = !out || c.oom;
    for (size_t i = 0; !bad && i < c.ngroups; i++) {
        rs_group *g = c.groups[i];
        rk_ucl *go = rk_ucl_node(RK_UCL_OBJECT, 0), *so = rk_ucl_node(RK_UCL_OBJECT, 0);
        bad = !go || !so;
        bad = bad || put(go, "public", rk_ucl_new_bool(g->flags & GF_PUBLIC)) ||
              put(go, "disabled", rk_ucl_new_bool(g->flags & GF_DISABLED)) ||
              put(go, "one_shot", rk_ucl_new_bool(g->flags & GF_ONE_SHOT)) ||
              put(go, "max_score", rk_ucl_new_double(g->max_score));
        if (!bad && g->desc)
            bad = put(go, "description", str_or_null(g->desc));
        for (size_t j = 0; !bad && j < g->nsyms; j++) {
            rs_symbol *s = g->syms[j];
            rk_ucl *sy = rk_ucl_node(RK_UCL_OBJECT, 0), *extra = rk_ucl_node(RK_UCL_ARRAY, 0);
            bad = !sy || !extra;
            bad = bad || put(sy, "score", rk_ucl_new_double(s->score));
            if (!bad && s->desc)
                bad = put(sy, "description", str_or_null(s->desc));
            bad = bad || put(sy, "disabled", rk_ucl_new_bool(s->flags & SF_DISABLED)) ||
                  put(sy, "one_shot", rk_ucl_new_bool(s->nshots == 1));
            for (size_t k = 0; !bad && k < s->ngroups; k++)
                if (strcmp(s->groups[k]->name, g->name) != 0) {
                    rk_ucl *n = str_or_null(s->groups[k]->name);
                    if (!n || rk_ucl_arr_append(extra, n)) {
                        rk_ucl_free(n);
                        bad = 1;
                    }
                }
            if (!bad) {
                bad = put(sy, "extra_groups", extra);
                extra = NULL;
            }
            rk_ucl_free(extra);
            if (!bad)
                bad = rk_ucl_replace_key(so, sy, s->name, strlen(s->name));
            else
                rk_ucl_free(sy);
        }
        if (!bad) {
            bad = put(go, "symbols", so);
            so = NULL;
        }
        rk_ucl_free(so);
        if (!bad)
            bad = rk_ucl_replace_key(out, go, g->name, strlen(g->name));
        else
            rk_ucl_free(go);
    }
    free_cfg(&c);
    if (bad) {
        rk_ucl_free(out);
        return NULL;
    }
    return out;
}

/* Keys of a `symbols` entry that -d shows as extra details. */
static int detail_key(const char *k)
{
    static const char *const skip[] = {"score",    "description", "disabled", "condition",
                                       "one_shot", "any_shot",    "nshots",   "one_param",
                                       "priority"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (strcmp(k, skip[i]) == 0)
            return 0;
    return 1;
}

rk_ucl *rk_rspamd_symbols(const rk_ucl *cfg)
{
    rs_cfg c;
    build(&c, cfg);
    rk_ucl *out = rk_ucl_node(RK_UCL_OBJECT, 0), *all = rk_ucl_node(RK_UCL_OBJECT, 0);
    const rk_ucl *loaded = rk_ucl_lookup(cfg, "symbols");
    int bad = !out || !all || c.oom;
    for (size_t i = 0; !bad && i < c.nsyms; i++) {
        rs_symbol *s = c.syms[i];
        rk_ucl *sy = rk_ucl_node(RK_UCL_OBJECT, 0);
        bad = !sy || put(sy, "score", rk_ucl_new_double(s->score));
        if (!bad && s->desc)
            bad = put(sy, "description", str_or_null(s->desc));
        bad = bad || put(sy, "disabled", rk_ucl_new_bool(s->flags & SF_DISABLED)) ||
              put(sy, "one_shot", rk_ucl_new_bool(s->nshots == 1));
        if (!bad && s->gr && strcmp(s->gr->name, "ungrouped") != 0)
            bad = put(sy, "group", str_or_null(s->gr->name));
        if (!bad && s->gr) {
            rk_ucl *extra = rk_ucl_node(RK_UCL_ARRAY, 0);
            bad = !extra;
            for (size_t k = 0; !bad && k < s->ngroups; k++)
                if (strcmp(s->groups[k]->name, s->gr->name) != 0) {
                    rk_ucl *n = str_or_null(s->groups[k]->name);
                    if (!n || rk_ucl_arr_append(extra, n)) {
                        rk_ucl_free(n);
                        bad = 1;
                    }
                }
            if (!bad && rk_ucl_count(extra) > 0) {
                bad = put(sy, "groups", extra);
                extra = NULL;
            }
            rk_ucl_free(extra);
        }
        const rk_ucl *def = rk_ucl_lookup(loaded, s->name);
        for (size_t k = 0; !bad && def && k < rk_ucl_count(def); k++) {
            const rk_ucl *m = rk_ucl_at(def, k);
            const char *key = rk_ucl_key(m, NULL);
            if (detail_key(key)) {
                rk_ucl *copy = rk_ucl_copy(m);
                bad = !copy || rk_ucl_insert(sy, copy, key, strlen(key));
                if (bad)
                    rk_ucl_free(copy);
            }
        }
        if (!bad)
            bad = rk_ucl_replace_key(all, sy, s->name, strlen(s->name));
        else
            rk_ucl_free(sy);
    }
    free_cfg(&c);
    if (!bad) {
        bad = put(out, "symbols", all);
        all = NULL;
    }
    rk_ucl_free(all);
    if (bad) {
        rk_ucl_free(out);
        return NULL;
    }
    return out;
}

/* ------------------------------------------------------------------ -m */

typedef struct namelist {
    char **v;
    size_t n;
    int oom;
} namelist;

static void nl_add(namelist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], name) == 0)
            return;
    char **v = realloc(l->v, (l->n + 2) * sizeof *v);
    char *d = strdup(name);
    if (!v || !d) {
        if (v)
            l->v = v;
        free(d);
        l->oom = 1;
        return;
    }
    l->v = v;
    l->v[l->n++] = d;
    l->v[l->n] = NULL;
}

static void nl_remove(namelist *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], name) == 0) {
            free(l->v[i]);
            memmove(&l->v[i], &l->v[i + 1], (l->n - i) * sizeof *l->v);
            l->n--;
            return;
        }
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **nl_finish(namelist *l)
{
    if (!l->v) {
        l->v = calloc(1, sizeof *l->v);
        if (!l->v)
            l->oom = 1;
        return l->v;
    }
    qsort(l->v, l->n, sizeof *l->v, cmp_names);
    return l->v;
}

/* Items of a string list: an array of strings or one string split on
 * commas, semicolons and spaces (rspamd_rcl_parse_struct_string_list). */
static void string_list(const rk_ucl *u, namelist *out)
{
    for (; u; u = rk_ucl_next(u)) {
        if (rk_ucl_type_of(u) == RK_UCL_ARRAY) {
            for (size_t i = 0; i < rk_ucl_count(u); i++)
                string_list(rk_ucl_at(u, i), out);
            continue;
        }
        const char *s = rk_ucl_string(u, NULL);
        if (!s)
            continue;
        char *copy = strdup(s), *save = NULL;
        if (!copy) {
            out->oom = 1;
            return;
        }
        for (char *t = strtok_r(copy, ",; \t\n", &save); t; t = strtok_r(NULL, ",; \t\n", &save))
            nl_add(out, t);
        free(copy);
    }
}

/* *.lua below a directory, as rspamd_glob_path(path, "*.lua", recursive) */
static void lua_plugins(const char *dir, namelist *out, int depth)
{
    DIR *d = opendir(dir);
    if (!d || depth > 8) {
        if (d)
            closedir(d);
        return;
    }
    struct dirent *e;
    namelist names = {0};
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        nl_add(&names, e->d_name);
    }
    closedir(d);
    nl_finish(&names);
    for (size_t i = 0; i < names.n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names.v[i]);
        if (stat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            lua_plugins(path, out, depth + 1);
        } else {
            size_t n = strlen(names.v[i]);
            char *ext = strstr(names.v[i], ".lua");
            if (n > 4 && strcmp(names.v[i] + n - 4, ".lua") == 0 && ext) {
                *ext = 0; /* the name stops at the first ".lua", as in Rspamd */
                nl_add(out, names.v[i]);
            }
        }
    }
    for (size_t i = 0; i < names.n; i++)
        free(names.v[i]);
    free(names.v);
    out->oom |= names.oom;
}

/* rspamd_config_is_enabled_from_ucl */
/* "enabled"/"disabled" given as a string: a boolean word, "1" or "0"; 1, 0 or -1 */
static int str_bool(const char *s)
{
    return !strcmp(s, "1") ? 1 : !strcmp(s, "0") ? 0 : rk_ucl_bool_word(s, strlen(s));
}

static int enabled_in(const rk_ucl *sec)
{
    const rk_ucl *e = rk_ucl_lookup(sec, "enabled");
    if (e) {
        if (rk_ucl_type_of(e) == RK_UCL_BOOLEAN)
            return rk_ucl_bool(e);
        const char *s = rk_ucl_string(e, NULL);
        if (s && str_bool(s) != 1)
            return 0; /* false, or "wrong value for the `enabled` key" */
    }
    e = rk_ucl_lookup(sec, "disabled");
    if (e) {
        if (rk_ucl_type_of(e) == RK_UCL_BOOLEAN)
            return !rk_ucl_bool(e);
        const char *s = rk_ucl_string(e, NULL);
        if (s)
            return str_bool(s) == 0;
    }
    return 1;
}

static int has_redis(const rk_ucl *sec)
{
    static const char *const keys[] = {"servers", "server", "read_servers", "write_servers"};
    for (size_t i = 0; i < 4; i++)
        if (rk_ucl_lookup(sec, keys[i]))
            return 1;
    return 0;
}

/* a scanner rule: a member object that names its servers */
static int has_scanner_rule(const rk_ucl *sec)
{
    for (size_t i = 0; i < rk_ucl_count(sec); i++) {
        const rk_ucl *m = rk_ucl_at(sec, i);
        if (rk_ucl_type_of(m) == RK_UCL_OBJECT && rk_ucl_lookup(m, "servers"))
            return 1;
    }
    return 0;
}

/* What a stock plugin decides from its configuration when it loads
 * (lua_util.disable_module): "redis", "config" or NULL (stays enabled). */
static const char *plugin_decision(const rk_ucl *cfg, const char *name)
{
    static const char *const needs_redis[] = {"greylist", "history_redis", "neural", "ratelimit",
                                              "replies", "url_redirector", "dynamic_conf",
                                              "clustering"};
    const rk_ucl *sec = rk_ucl_lookup(cfg, name), *redis = rk_ucl_lookup(cfg, "redis");
    int redis_ok = has_redis(sec) || has_redis(redis) || has_redis(rk_ucl_lookup(redis, name));
    for (size_t i = 0; i < sizeof needs_redis / sizeof *needs_redis; i++)
        if (strcmp(name, needs_redis[i]) == 0)
            return redis_ok ? NULL : "redis";
    if (strcmp(name, "clickhouse") == 0)
        return rk_ucl_lookup(sec, "server") || rk_ucl_lookup(sec, "servers") ? NULL : "config";
    if (strcmp(name, "elastic") == 0) /* checks its servers only when Redis is there */
        return redis_ok && !rk_ucl_lookup(sec, "server") && !rk_ucl_lookup(sec, "servers")
                   ? "config" : NULL;
    if (strcmp(name, "reputation") == 0)
        return rk_ucl_count(rk_ucl_lookup(sec, "rules")) ? NULL : "config";
    if (strcmp(name, "spamassassin") == 0)
        return rk_ucl_lookup(sec, "ruleset") ? NULL : "config";
    if (strcmp(name, "metric_exporter") == 0)
        return rk_ucl_lookup(sec, "backend") ? NULL : "config";
    if (strcmp(name, "antivirus") == 0 || strcmp(name, "external_services") == 0)
        return has_scanner_rule(sec) ? NULL : "config";
    return NULL;
}

void rk_rspamd_modules_clear(rk_rspamd_modules *m)
{
    char **lists[] = {m->enabled, m->disabled_explicitly, m->disabled_unconfigured,
                      m->disabled_redis, m->disabled_experimental, m->disabled_failed};
    for (size_t i = 0; i < sizeof lists / sizeof *lists; i++) {
        for (size_t j = 0; lists[i] && lists[i][j]; j++)
            free(lists[i][j]);
        free(lists[i]);
    }
    memset(m, 0, sizeof *m);
}

int rk_rspamd_modules_state(const rk_ucl *cfg, rk_rspamd_modules *out, rk_error *err)
{
    static const char *const c_modules[] = {"chartable", "dkim", "regexp", "fuzzy_check"};
    namelist en = {0}, ex = {0}, un = {0}, redis = {0}, exp = {0}, failed = {0};
    namelist filters = {0}, explicit_ = {0}, lua = {0};
    rs_cfg c;
    memset(out, 0, sizeof *out);
    build(&c, cfg);
    string_list(rk_ucl_lookup_path(cfg, "options.filters"), &filters);
    string_list(rk_ucl_lookup_path(cfg, "options.explicit_modules"), &explicit_);

    const rk_ucl *mods = rk_ucl_lookup(cfg, "modules");
    if (rk_ucl_type_of(mods) == RK_UCL_STRING) {
        lua_plugins(rk_ucl_string(mods, NULL), &lua, 0);
    } else {
        static const char *const keys[] = {"path", "fallback_path", "try_path"};
        for (size_t k = 0; k < 3; k++)
            for (const rk_ucl *p = rk_ucl_lookup(mods, keys[k]); p; p = rk_ucl_next(p))
                if (rk_ucl_string(p, NULL))
                    lua_plugins(rk_ucl_string(p, NULL), &lua, 0);
    }

    /* C modules listed in `filters`, then the Lua plugins */
    namelist order = {0};
    for (size_t i = 0; i < filters.n; i++)
        for (size_t j = 0; j < 4; j++)
            if (strcasecmp(filters.v[i], c_modules[j]) == 0)
                nl_add(&order, c_modules[j]);
    size_t n_c = order.n;
    for (size_t i = 0; i < lua.n; i++)
        nl_add(&order, lua.v[i]);

    for (size_t i = 0; i < order.n; i++) {
        const char *name = order.v[i];
        int is_c = i < n_c, listed = 0;
        for (size_t j = 0; j < explicit_.n; j++)
            listed |= strcmp(explicit_.v[j], name) == 0;
        if (listed) {
            nl_add(&en, name);
            continue;
        }
        const rk_ucl *sec = rk_ucl_lookup(cfg, name);
        if (!sec) {
            nl_add(&un, name);
            if (!is_c)
                continue;
        } else if (!enabled_in(sec)) {
            nl_add(&ex, name);
            continue;
        }
        rs_group *g = find_group(&c, name);
        if (g && (g->flags & GF_DISABLED)) {
            nl_add(&ex, name);
            continue;
        }
        nl_add(&en, name);
        const char *how = is_c ? NULL : plugin_decision(cfg, name);
        if (how) {
            nl_remove(&en, name);
            nl_add(strcmp(how, "redis") == 0 ? &redis : &un, name);
        }
    }
    free_cfg(&c);
    namelist *tmp[] = {&filters, &explicit_, &lua, &order};
    int oom = c.oom;
    for (size_t i = 0; i < 4; i++) {
        oom |= tmp[i]->oom;
        for (size_t j = 0; j < tmp[i]->n; j++)
            free(tmp[i]->v[j]);
        free(tmp[i]->v);
    }
    out->enabled = nl_finish(&en);
    out->disabled_explicitly = nl_finish(&ex);
    out->disabled_unconfigured = nl_finish(&un);
    out->disabled_redis = nl_finish(&redis);
    out->disabled_experimental = nl_finish(&exp);
    out->disabled_failed = nl_finish(&failed);
    oom |= en.oom | ex.oom | un.oom | redis.oom | exp.oom | failed.oom;
    if (oom) {
        rk_rspamd_modules_clear(out);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    return 0;
}

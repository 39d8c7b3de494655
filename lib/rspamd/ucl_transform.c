/* What Rspamd 3.4 does to the configuration tree in Lua before it is
 * dumped (lualib/lua_cfg_transform.lua, run by rspamd_config_read):
 *
 *  - the tree is pushed to Lua (libucl's lua_ucl.c) and the transform runs;
 *  - when it returns true (a top-level `metric` exists, or `group` is given
 *    several times) the Lua table is imported back and replaces the tree;
 *    otherwise the tree stays exactly as parsed.
 *
 * To reproduce both the content changes and the side effects of the round
 * trip (integral numbers become integers, single quotes and heredoc marks
 * are lost, a table created empty by the transform becomes []), this file
 * models just enough of Lua: values, tables with the libucl metatable class
 * they were created with, Lua's indexing errors (which abort the transform,
 * leaving the tree untouched, as the pcall in Rspamd does), and the two
 * conversions. Key order is the one thing not reproduced: Rspamd's comes
 * from Lua's hash tables and changes from run to run; ours is the order of
 * the files, with new keys last. */
#include "rspamd/rspamd.h"

#include <math.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ Lua values */

typedef enum lt { L_NIL, L_BOOL, L_NUM, L_STR, L_NULL, L_TAB } lt;
typedef enum lclass { C_NONE, C_OBJ, C_ARR, C_IMPL } lclass; /* metatable "class" */

typedef struct lv lv;

typedef struct lkey {
    int is_num;
    double n;
    const char *s;
    size_t len;
} lkey;

typedef struct lent {
    lkey k;
    lv *v;
} lent;

struct lv {
    lt t;
    int b;
    double n;
    const char *s;
    size_t len;
    lclass cls;
    lent *e;
    size_t ne, cap;
};

typedef struct lctx {
    void **mem;       /* everything allocated, freed at the end */
    size_t nmem, capmem;
    jmp_buf fail;     /* Lua error or out of memory */
    int oom;
    int inplace;      /* Rspamd 3.10+ (lua_cfg_transform.lua rewritten) */
} lctx;

static void *lalloc(lctx *c, size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (p && c->nmem == c->capmem) {
        size_t cap = c->capmem ? c->capmem * 2 : 256;
        void **m = realloc(c->mem, cap * sizeof *m);
        if (!m) {
            free(p);
            p = NULL;
        } else {
            c->mem = m;
            c->capmem = cap;
        }
    }
    if (!p) {
        c->oom = 1;
        longjmp(c->fail, 1);
    }
    c->mem[c->nmem++] = p;
    return p;
}

static void lfree_all(lctx *c)
{
    for (size_t i = 0; i < c->nmem; i++)
        free(c->mem[i]);
    free(c->mem);
}

static void lerror(lctx *c) { longjmp(c->fail, 1); }

static lv *lnew(lctx *c, lt t)
{
    lv *v = lalloc(c, sizeof *v);
    v->t = t;
    return v;
}

static lv *lstr(lctx *c, const char *s, size_t len)
{
    lv *v = lnew(c, L_STR);
    char *d = lalloc(c, len + 1);
    memcpy(d, s, len);
    v->s = d;
    v->len = len;
    return v;
}

static lv *lnum(lctx *c, double n)
{
    lv *v = lnew(c, L_NUM);
    v->n = n;
    return v;
}

static lv *lbool(lctx *c, int b)
{
    lv *v = lnew(c, L_BOOL);
    v->b = !!b;
    return v;
}

static lv *ltable(lctx *c, lclass cls)
{
    lv *v = lnew(c, L_TAB);
    v->cls = cls;
    return v;
}

static int truthy(const lv *v) { return v && v->t != L_NIL && !(v->t == L_BOOL && !v->b); }
static int is_tab(const lv *v) { return v && v->t == L_TAB; }
static int is_implicit(const lv *v) { return is_tab(v) && v->cls == C_IMPL; }

static int key_eq(const lkey *a, const lkey *b)
{
    if (a->is_num != b->is_num)
        return 0;
    if (a->is_num)
        return a->n == b->n;
    return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

static lkey skey(const char *s) { return (lkey){0, 0, s, strlen(s)}; }
static lkey nkey(double n) { return (lkey){1, n, NULL, 0}; }

static lv *raw_get(const lv *t, lkey k)
{
    for (size_t i = 0; i < t->ne; i++)
        if (key_eq(&t->e[i].k, &k))
            return t->e[i].v;
    return NULL;
}

static void raw_set(lctx *c, lv *t, lkey k, lv *v)
{
    for (size_t i = 0; i < t->ne; i++)
        if (key_eq(&t->e[i].k, &k)) {
            if (v && v->t != L_NIL) {
                t->e[i].v = v;
            } else { /* t[k] = nil removes the key */
                memmove(&t->e[i], &t->e[i + 1], (t->ne - i - 1) * sizeof *t->e);
                t->ne--;
            }
            return;
        }
    if (!v || v->t == L_NIL)
        return;
    if (t->ne == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        lent *e = lalloc(c, cap * sizeof *e);
        if (t->ne)
            memcpy(e, t->e, t->ne * sizeof *e);
        t->e = e; /* the old block stays in the arena */
        t->cap = cap;
    }
    if (!k.is_num) { /* keys outlive the values they came from */
        char *s = lalloc(c, k.len + 1);
        memcpy(s, k.s, k.len);
        k.s = s;
    }
    t->e[t->ne].k = k;
    t->e[t->ne].v = v;
    t->ne++;
}

/* v[k] with Lua's rules: a string has only its methods (none of the names
 * used here), indexing nil, a number, a boolean or ucl.null is an error. */
static lv *lget(lctx *c, const lv *v, const char *k)
{
    if (is_tab(v))
        return raw_get(v, skey(k));
    if (v && v->t == L_STR)
        return NULL;
    lerror(c);
    return NULL;
}

static lv *lgeti(lctx *c, const lv *v, double i)
{
    if (is_tab(v))
        return raw_get(v, nkey(i));
    if (v && v->t == L_STR)
        return NULL;
    lerror(c);
    return NULL;
}

static void lset(lctx *c, lv *t, const char *k, lv *v)
{
    if (!is_tab(t))
        lerror(c);
    raw_set(c, t, skey(k), v);
}

static void lsetk(lctx *c, lv *t, lkey k, lv *v)
{
    if (!is_tab(t))
        lerror(c);
    raw_set(c, t, k, v);
}

/* #t: the border of the array part */
static size_t llen(const lv *t)
{
    size_t n = 0;
    while (raw_get(t, nkey((double)(n + 1))))
        n++;
    return n;
}

/* pairs(t) as LuaJIT walks a table built this way: the array part (1..n)
 * first, then the other keys in insertion order. */
typedef struct lpairs {
    lkey *k;
    lv **v;
    size_t n;
} lpairs;

static lpairs lpairs_of(lctx *c, const lv *t)
{
    if (!is_tab(t))
        lerror(c);
    lpairs p = {lalloc(c, (t->ne + 1) * sizeof(lkey)), lalloc(c, (t->ne + 1) * sizeof(lv *)), 0};
    size_t border = llen(t);
    for (size_t i = 1; i <= border; i++) {
        p.k[p.n] = nkey((double)i);
        p.v[p.n++] = raw_get(t, nkey((double)i));
    }
    for (size_t i = 0; i < t->ne; i++) {
        const lkey *k = &t->e[i].k;
        if (k->is_num && k->n >= 1 && k->n <= (double)border && k->n == floor(k->n))
            continue;
        p.k[p.n] = *k;
        p.v[p.n++] = t->e[i].v;
    }
    return p;
}

static int key_is(const lkey *k, const char *s)
{
    return !k->is_num && k->len == strlen(s) && memcmp(k->s, s, k->len) == 0;
}

static lkey key_of_value(lctx *c, const lv *v)
{
    if (v->t == L_STR)
        return (lkey){0, 0, v->s, v->len};
    if (v->t == L_NUM)
        return nkey(v->n);
    lerror(c); /* a table or boolean name: not worth modelling */
    return nkey(0);
}

/* ------------------------------------------------------ UCL <-> Lua */

static lv *push(lctx *c, const rk_ucl *u, int allow_array);

static lv *push_implicit(lctx *c, const rk_ucl *u)
{
    lv *t = ltable(c, C_IMPL);
    double i = 1;
    for (const rk_ucl *cur = u; cur; cur = cur->next)
        raw_set(c, t, nkey(i++), push(c, cur, 0));
    return t;
}

/* lua_ucl's ucl_object_push_lua */
static lv *push(lctx *c, const rk_ucl *u, int allow_array)
{
    if (allow_array && u->next)
        return push_implicit(c, u);
    switch (u->type) {
    case RK_UCL_OBJECT: {
        lv *t = ltable(c, C_OBJ);
        for (size_t i = 0; i < u->v.ov->n; i++) {
            const rk_ucl *m = u->v.ov->v[i];
            if (m) /* lua_pushstring stops at a NUL in the key */
                raw_set(c, t, (lkey){0, 0, m->key, strlen(m->key)}, push(c, m, 1));
        }
        return t;
    }
    case RK_UCL_ARRAY: {
        lv *t = ltable(c, C_ARR);
        for (size_t i = 0; i < u->v.av->n; i++)
            raw_set(c, t, nkey((double)(i + 1)), push(c, u->v.av->v[i], 0));
        return t;
    }
    case RK_UCL_INT:
        return lnum(c, (double)u->v.iv); /* LuaJIT numbers are doubles */
    case RK_UCL_FLOAT:
    case RK_UCL_TIME:
        return lnum(c, u->v.dv);
    case RK_UCL_STRING:
        return lstr(c, u->v.sv, u->len);
    case RK_UCL_BOOLEAN:
        return lbool(c, u->v.bv);
    case RK_UCL_NULL:
        return lnew(c, L_NULL);
    }
    return lnew(c, L_NIL);
}

typedef struct import_ctx {
    lctx *l;
    int oom;
} import_ctx;

static rk_ucl *import_elt(import_ctx *x, const lv *v);

static void number_key(char *buf, size_t sz, double n)
{
    /* lua_tolstring on a number key: LUA_NUMBER_FMT "%.14g" */
    snprintf(buf, sz, "%.14g", n);
}

/* lua_ucl's ucl_object_lua_fromtable */
static rk_ucl *import_table(import_ctx *x, const lv *t)
{
    int is_array = 1, implicit = 0;
    size_t max = 0;
    if (t->cls == C_OBJ) {
        is_array = 0;
    } else if (t->cls == C_ARR || t->cls == C_IMPL) {
        implicit = t->cls == C_IMPL;
        max = llen(t);
    } else {
        for (size_t i = 0; i < t->ne; i++) {
            const lkey *k = &t->e[i].k;
            if (k->is_num && k->n > -2147483648.0 && k->n < 2147483648.0 &&
                k->n == (double)(int)k->n) {
                if (k->n > (double)max)
                    max = (size_t)k->n;
            } else {
                is_array = 0;
            }
        }
    }
    if (is_array) {
        rk_ucl *top = NULL;
        if (!implicit && !(top = rk_ucl_node(RK_UCL_ARRAY, 0)))
            goto oom;
        /* lua_ucl reads t[1] .. t[max] and skips the holes: the same as the
         * positive integer keys in ascending order (without a huge loop) */
        size_t n = 0;
        const lv **vals = lalloc(x->l, (t->ne + 1) * sizeof *vals);
        double *keys = lalloc(x->l, (t->ne + 1) * sizeof *keys);
        for (size_t i = 0; i < t->ne; i++) {
            double k = t->e[i].k.n;
            if (t->e[i].k.is_num && k >= 1 && k <= (double)max && k == floor(k)) {
                size_t j = n++;
                while (j > 0 && keys[j - 1] > k) {
                    keys[j] = keys[j - 1];
                    vals[j] = vals[j - 1];
                    j--;
                }
                keys[j] = k;
                vals[j] = t->e[i].v;
            }
        }
        for (size_t i = 0; i < n; i++) {
            const lv *e = vals[i];
            rk_ucl *o = e ? import_elt(x, e) : NULL;
            if (!o)
                continue;
            if (implicit) {
                if (!top) {
                    top = o;
                } else {
                    rk_ucl *tail = top;
                    while (tail->next)
                        tail = tail->next;
                    tail->next = o;
                }
            } else if (rk_ucl_arr_append(top, o)) {
                rk_ucl_free(o);
                goto oom;
            }
        }
        return top;
    }
    rk_ucl *top = rk_ucl_node(RK_UCL_OBJECT, 0);
    if (!top)
        goto oom;
    lpairs p = lpairs_of(x->l, t);
    for (size_t i = 0; i < p.n; i++) {
        rk_ucl *o = import_elt(x, p.v[i]);
        if (!o)
            continue;
        char nb[64];
        const char *k = p.k[i].s;
        size_t klen = p.k[i].len;
        if (p.k[i].is_num) {
            number_key(nb, sizeof nb, p.k[i].n);
            k = nb;
            klen = strlen(nb);
        }
        if (rk_ucl_insert(top, o, k, klen)) {
            rk_ucl_free(o);
            rk_ucl_free(top);
            goto oom;
        }
        /* lua_ucl gives the values of an implicit array the key of the first */
        for (rk_ucl *f = o->next; f; f = f->next)
            if (!f->key && rk_ucl_set_key(f, o->key, o->keylen)) {
                rk_ucl_free(top);
                goto oom;
            }
    }
    return top;
oom:
    x->oom = 1;
    return NULL;
}

static rk_ucl *import_elt(import_ctx *x, const lv *v)
{
    rk_ucl *o = NULL;
    switch (v->t) {
    case L_STR:
        o = rk_ucl_new_string(v->s, v->len);
        break;
    case L_NUM:
        if (v->n >= -9223372036854775808.0 && v->n < 9223372036854775808.0 &&
            v->n == (double)(int64_t)v->n)
            o = rk_ucl_new_int((int64_t)v->n);
        else
            o = rk_ucl_new_double(v->n);
        break;
    case L_BOOL:
        o = rk_ucl_new_bool(v->b);
        break;
    case L_NULL:
        o = rk_ucl_node(RK_UCL_NULL, 0);
        break;
    case L_TAB:
        return import_table(x, v);
    case L_NIL:
        return NULL;
    }
    if (!o)
        x->oom = 1;
    return o;
}

/* ----------------------------------------------------- lua_util helpers */

/* lua_util.override_defaults */
static lv *override_defaults(lctx *c, lv *def, lv *ovr)
{
    if (!truthy(ovr) || !is_tab(ovr))
        return def;
    if (!truthy(def) || !is_tab(def))
        return ovr;
    lv *res = ltable(c, C_NONE);
    lpairs po = lpairs_of(c, ovr);
    for (size_t i = 0; i < po.n; i++) {
        lv *v = po.v[i];
        if (is_tab(v)) {
            lv *d = raw_get(def, po.k[i]);
            raw_set(c, res, po.k[i], truthy(d) && is_tab(d) ? override_defaults(c, d, v) : v);
        } else {
            raw_set(c, res, po.k[i], v);
        }
    }
    lpairs pd = lpairs_of(c, def);
    for (size_t i = 0; i < pd.n; i++)
        if (!raw_get(res, pd.k[i]))
            raw_set(c, res, pd.k[i], pd.v[i]);
    return res;
}

/* lua_util.deepcopy (metatables are copied, so the class is kept) */
static lv *deepcopy(lctx *c, lv *v)
{
    if (!is_tab(v))
        return v;
    lv *t = ltable(c, v->cls);
    for (size_t i = 0; i < v->ne; i++)
        raw_set(c, t, v->e[i].k, deepcopy(c, v->e[i].v));
    return t;
}

/* ------------------------------------------------ lua_cfg_transform.lua */

typedef struct kvlist {
    lkey *k;
    lv **v;
    size_t n, cap;
} kvlist;

static void kv_add(lctx *c, kvlist *l, lkey k, lv *v)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        lkey *nk = lalloc(c, cap * sizeof *nk);
        lv **nv = lalloc(c, cap * sizeof *nv);
        if (l->n) {
            memcpy(nk, l->k, l->n * sizeof *nk);
            memcpy(nv, l->v, l->n * sizeof *nv);
        }
        l->k = nk;
        l->v = nv;
        l->cap = cap;
    }
    l->k[l->n] = k;
    l->v[l->n++] = v;
}

static void add_expanded(lctx *c, kvlist *keys, lkey k, lv *v)
{
    if (is_implicit(v)) {
        size_t n = llen(v);
        for (size_t i = 1; i <= n; i++)
            kv_add(c, keys, k, raw_get(v, nkey((double)i)));
    } else {
        kv_add(c, keys, k, v);
    }
}

static kvlist metric_pairs(lctx *c, lv *t)
{
    kvlist keys = {0};
    if (is_implicit(t)) {
        size_t n = llen(t);
        for (size_t i = 1; i <= n; i++) {
            lv *v = raw_get(t, nkey((double)i));
            lv *name = lget(c, v, "name");
            if (truthy(name)) {
                kv_add(c, &keys, key_of_value(c, name), v);
                lset(c, v, "name", NULL);
            } else {
                lpairs p = lpairs_of(c, v);
                for (size_t j = 0; j < p.n; j++)
                    if (!p.k[j].is_num)
                        add_expanded(c, &keys, p.k[j], p.v[j]);
            }
        }
    } else {
        lv *name = lget(c, t, "name");
        if (truthy(name)) {
            kv_add(c, &keys, key_of_value(c, name), t);
            lset(c, t, "name", NULL);
        } else {
            lpairs p = lpairs_of(c, t);
            for (size_t j = 0; j < p.n; j++)
                if (!p.k[j].is_num)
                    add_expanded(c, &keys, p.k[j], p.v[j]);
        }
    }
    return keys;
}

static lv *new_group_table(lctx *c)
{
    lv *g = ltable(c, C_NONE);
    lset(c, g, "symbols", ltable(c, C_NONE));
    return g;
}

static void group_transform(lctx *c, lv *cfg, lkey k, lv *v)
{
    lv *name = lget(c, v, "name");
    if (truthy(name))
        k = key_of_value(c, name);
    lv *ng = new_group_table(c);
    static const char *const copied[] = {"enabled", "disabled", "max_score"};
    for (size_t i = 0; i < 3; i++) {
        lv *x = lget(c, v, copied[i]);
        if (truthy(x))
            lset(c, ng, copied[i], x);
    }
    lv *sym = lget(c, v, "symbol");
    if (truthy(sym)) {
        kvlist s = metric_pairs(c, sym);
        for (size_t i = 0; i < s.n; i++) {
            lkey sk = s.k[i];
            lv *sv = s.v[i];
            lv *sname = lget(c, sv, "name");
            if (truthy(sname)) {
                sk = key_of_value(c, sname);
                lset(c, sv, "name", NULL);
            }
            lsetk(c, lget(c, ng, "symbols"), sk, sv);
        }
    }
    if (!truthy(lget(c, cfg, "group")))
        lset(c, cfg, "group", ltable(c, C_NONE));
    lv *groups = lget(c, cfg, "group");
    lv *old = raw_get(groups, k);
    lsetk(c, groups, k, truthy(old) ? override_defaults(c, old, ng) : ng);
}

static void symbol_transform(lctx *c, lv *cfg, lkey k, lv *v)
{
    lv *groups = lget(c, cfg, "group");
    lpairs p = lpairs_of(c, groups);
    for (size_t i = 0; i < p.n; i++) {
        lv *syms = lget(c, p.v[i], "symbols");
        if (truthy(syms)) {
            lv *old = is_tab(syms) ? raw_get(syms, k) : NULL;
            if (!is_tab(syms) && syms->t != L_STR)
                lerror(c);
            if (truthy(old)) {
                lsetk(c, syms, k, override_defaults(c, old, v));
                return;
            }
        }
    }
    /* rspamd_config:get_symbol() knows no symbol yet at this stage */
    if (!truthy(lget(c, groups, "ungrouped")))
        lset(c, groups, "ungrouped", new_group_table(c));
    lsetk(c, lget(c, lget(c, groups, "ungrouped"), "symbols"), k, v);
}

static void convert_metric(lctx *c, lv *cfg, lv *metric)
{
    lv *x;
    if (truthy(x = lget(c, metric, "actions")))
        lset(c, cfg, "actions", override_defaults(c, lget(c, cfg, "actions"), x));
    if (truthy(x = lget(c, metric, "unknown_weight")))
        lset(c, lget(c, cfg, "actions"), "unknown_weight", x);
    if (truthy(x = lget(c, metric, "subject")))
        lset(c, lget(c, cfg, "actions"), "subject", x);
    if (truthy(x = lget(c, metric, "group"))) {
        kvlist g = metric_pairs(c, x);
        for (size_t i = 0; i < g.n; i++)
            group_transform(c, cfg, g.k[i], g.v[i]);
    } else if (!c->inplace && !truthy(lget(c, cfg, "group"))) {
        lv *groups = ltable(c, C_NONE);
        lset(c, groups, "ungrouped", new_group_table(c));
        lset(c, cfg, "group", groups);
    }
    if (truthy(x = lget(c, metric, "symbol"))) {
        kvlist s = metric_pairs(c, x);
        for (size_t i = 0; i < s.n; i++)
            symbol_transform(c, cfg, s.k[i], s.v[i]);
    }
}

static lv *merge_groups(lctx *c, lv *groups)
{
    lv *ret = ltable(c, C_NONE);
    lpairs p = lpairs_of(c, groups);
    for (size_t i = 0; i < p.n; i++) {
        if (p.k[i].is_num) {
            lpairs q = lpairs_of(c, p.v[i]);
            for (size_t j = 0; j < q.n; j++)
                raw_set(c, ret, q.k[j], q.v[j]);
        } else {
            raw_set(c, ret, p.k[i], p.v[i]);
        }
    }
    return ret;
}

static int lnum_of(const lv *v, double *out)
{
    if (v && v->t == L_NUM) {
        *out = v->n;
        return 1;
    }
    return 0;
}

static int check_actions(lctx *c, lv *cfg)
{
    int ok = 1;
    lv *actions = lget(c, cfg, "actions");
    if (!truthy(actions))
        return 1;
    static const char *const defs[] = {"no action", "no_action", "greylist", "add header",
                                       "add_header", "rewrite subject", "rewrite_subject",
                                       "quarantine", "reject", "discard"};
    if (!truthy(lget(c, actions, "no action")) && !truthy(lget(c, actions, "no_action")) &&
        !truthy(lget(c, actions, "accept"))) {
        for (size_t i = 0; i < sizeof defs / sizeof *defs; i++) {
            lv *a = lget(c, actions, defs[i]);
            if (!truthy(a))
                continue;
            double score = 0;
            int has = lnum_of(a, &score);
            if (!has && is_tab(a)) {
                lv *s = lget(c, a, "score");
                if (truthy(s)) {
                    has = 1;
                    if (!lnum_of(s, &score))
                        has = 2; /* a non-number score */
                }
            }
            if (!is_tab(a) && !has) {
                lset(c, actions, defs[i], NULL);
            } else if (has == 1 && score < 0) {
                if (a->t != L_NUM)
                    lerror(c); /* arithmetic on a table */
                lset(c, actions, "no_action", lnum(c, a->n - 0.001));
                break;
            }
        }
    }
    static const char *const order[] = {"no_action", "add_header", "rewrite_subject",
                                        "quarantine", "reject", "discard"};
    for (size_t i = 0; i + 1 < sizeof order / sizeof *order; i++) {
        double s, ns;
        if (!lnum_of(lget(c, actions, order[i]), &s))
            continue;
        for (size_t j = i + 1; j < sizeof order / sizeof *order; j++)
            if (lnum_of(lget(c, actions, order[j]), &ns) && ns <= s)
                ok = 0;
    }
    return ok;
}

/* table.concat(t, ':') */
static lv *concat(lctx *c, lv *t)
{
    rk_buf b = {0};
    size_t n = llen(t);
    for (size_t i = 1; i <= n; i++) {
        lv *e = raw_get(t, nkey((double)i));
        char num[64];
        if (i > 1 && rk_buf_append(&b, ":", 1))
            goto oom;
        if (e->t == L_STR) {
            if (rk_buf_append(&b, e->s, e->len))
                goto oom;
        } else if (e->t == L_NUM) {
            if (e->n == floor(e->n) && fabs(e->n) < 1e15)
                snprintf(num, sizeof num, "%.0f", e->n);
            else
                snprintf(num, sizeof num, "%.14g", e->n);
            if (rk_buf_puts(&b, num))
                goto oom;
        } else {
            rk_buf_free(&b);
            lerror(c);
        }
    }
    lv *r = lstr(c, b.p ? (const char *)b.p : "", b.len);
    rk_buf_free(&b);
    return r;
oom:
    rk_buf_free(&b);
    c->oom = 1;
    lerror(c);
    return NULL;
}

static void section_convert(lctx *c, lv *cfg, lv *section, int emails)
{
    lv *rbls = lget(c, lget(c, cfg, "rbl"), "rbls");
    lv *wl = lget(c, section, "whitelist");
    lv *rules = lget(c, section, "rules");
    if (!truthy(rules))
        rules = ltable(c, C_NONE);
    lpairs p = lpairs_of(c, rules);
    for (size_t i = 0; i < p.n; i++) {
        lv *value = p.v[i];
        lv *conv = ltable(c, C_NONE);
        lset(c, conv, emails ? "emails" : "urls", lbool(c, 1));
        lset(c, conv, "ignore_defaults", lbool(c, 1));
        if (truthy(wl))
            lset(c, conv, "whitelist", wl);
        lpairs q = lpairs_of(c, value);
        for (size_t j = 0; j < q.n; j++) {
            lkey k = q.k[j];
            lv *v = q.v[j];
            int skip = 0;
            if (k.is_num)
                lerror(c); /* k:match() on a number */
            if (!emails) {
                if (key_is(&k, "suffix"))
                    k = skey("rbl");
                if (key_is(&k, "ips"))
                    k = skey("returncodes");
                if (key_is(&k, "bits"))
                    k = skey("returnbits");
                if (key_is(&k, "noip"))
                    k = skey("no_ip");
                if (key_is(&k, "options") && v->t == L_STR &&
                    (strcmp(v->s, "noip") == 0 || strcmp(v->s, "no_ip") == 0)) {
                    lset(c, conv, "no_ip", lbool(c, 1));
                    skip = 1;
                }
                const char *m = memmem(k.s, k.len, "check_", 6);
                if (m) { /* k:match('check_(.*)') */
                    size_t off = (size_t)(m + 6 - k.s);
                    k.s += off;
                    k.len -= off;
                }
                if (key_is(&k, "dkim") && truthy(v)) {
                    lset(c, conv, "dkim_domainonly", lbool(c, 0));
                    lset(c, conv, "dkim_match_from", lbool(c, 1));
                }
                if (key_is(&k, "emails") && truthy(v))
                    lset(c, conv, "emails_domainonly", lbool(c, 1));
            } else {
                static const char *const ren[][2] = {
                    {"dnsbl", "rbl"},        {"check_replyto", "replyto"},
                    {"hashlen", "hash_len"}, {"encoding", "hash_format"},
                    {"domain_only", "emails_domainonly"}, {"delimiter", "emails_delimiter"}};
                for (size_t r = 0; r < sizeof ren / sizeof *ren; r++)
                    if (key_is(&k, ren[r][0]))
                        k = skey(ren[r][1]);
                if (key_is(&k, "skip_body")) {
                    skip = 1;
                    if (truthy(v)) {
                        lset(c, conv, "emails", lbool(c, 0));
                        lset(c, conv, "replyto", lbool(c, 1));
                    } else {
                        lset(c, conv, "emails", lbool(c, 1));
                    }
                }
                if (key_is(&k, "expect_ip")) {
                    /* the original tests return_codes but sets returncodes */
                    if (!truthy(lget(c, conv, "return_codes")))
                        lset(c, conv, "returncodes", ltable(c, C_NONE));
                    lv *symbol = lget(c, value, "symbol");
                    lkey sk = truthy(symbol) ? key_of_value(c, symbol) : p.k[i];
                    lv *one = ltable(c, C_NONE);
                    raw_set(c, one, nkey(1), v);
                    lsetk(c, lget(c, conv, "returncodes"), sk, one);
                    skip = 1;
                }
            }
            if (!skip)
                lsetk(c, conv, k, deepcopy(c, v));
        }
        lsetk(c, rbls, p.k[i], override_defaults(c, raw_get(rbls, p.k[i]), conv));
    }
}

static void ensure_rbls(lctx *c, lv *cfg)
{
    if (!truthy(lget(c, cfg, "rbl"))) {
        lv *rbl = ltable(c, C_NONE);
        lset(c, rbl, "rbls", ltable(c, C_NONE));
        lset(c, cfg, "rbl", rbl);
    }
    if (!truthy(lget(c, lget(c, cfg, "rbl"), "rbls")))
        lset(c, lget(c, cfg, "rbl"), "rbls", ltable(c, C_NONE));
}

static int any_ip_selector(lctx *c, lv *rules)
{
    lpairs p = lpairs_of(c, rules);
    for (size_t i = 0; i < p.n; i++) {
        lv *sel = lget(c, p.v[i], "selector");
        if (truthy(sel) && truthy(lget(c, sel, "ip")))
            return 1;
    }
    return 0;
}

static void ip_score(lctx *c, lv *cfg)
{
    lv *ips = lget(c, cfg, "ip_score");
    if (!truthy(ips))
        return;
    if (!truthy(lget(c, ips, "servers")) && !truthy(lget(c, lget(c, cfg, "redis"), "servers")))
        return;
    if (!truthy(lget(c, cfg, "reputation"))) {
        lv *rep = ltable(c, C_NONE);
        lset(c, rep, "rules", ltable(c, C_NONE));
        lset(c, cfg, "reputation", rep);
    }
    lv *rep = lget(c, cfg, "reputation");
    if (!truthy(lget(c, rep, "rules")))
        lset(c, rep, "rules", ltable(c, C_NONE));
    lv *rules = lget(c, rep, "rules");
    if (any_ip_selector(c, rules))
        return;
    lv *rule = ltable(c, C_NONE), *sel = ltable(c, C_NONE), *be = ltable(c, C_NONE),
       *redis = ltable(c, C_NONE);
    lset(c, sel, "ip", ltable(c, C_NONE));
    lset(c, rule, "selector", sel);
    lset(c, be, "redis", redis);
    lset(c, rule, "backend", be);
    lset(c, rules, "ip_score", rule);
    lv *servers = lget(c, ips, "servers");
    if (truthy(servers))
        lset(c, redis, "servers", servers);
    lv *symbols = lget(c, cfg, "symbols");
    if (truthy(symbols) && truthy(lget(c, symbols, "IP_SCORE"))) {
        lv *t = lget(c, symbols, "IP_SCORE");
        if (!truthy(lget(c, symbols, "SENDER_REP_SPAM"))) {
            lset(c, symbols, "SENDER_REP_SPAM", t);
            lset(c, symbols, "SENDER_REP_HAM", t);
            lv *w = lget(c, t, "weight");
            double wv = 0;
            if (truthy(w) && !lnum_of(w, &wv))
                lerror(c);
            lset(c, t, "weight", lnum(c, -wv));
        }
    }
}

/* The transform itself; returns its first result ("replace the tree"). */
static int run_transform(lctx *c, lv *cfg)
{
    int ret = 0;
    lv *x;
    if (truthy(x = lget(c, cfg, "metric"))) {
        if (!c->inplace) {
            kvlist m = metric_pairs(c, x);
            for (size_t i = 0; i < m.n; i++)
                convert_metric(c, cfg, m.v[i]);
        } else if (truthy(lget(c, x, "actions")) || truthy(lget(c, x, "name"))) {
            convert_metric(c, cfg, x); /* 3.10+: the name stays */
        } else {
            lpairs p = lpairs_of(c, x);
            for (size_t i = 0; i < p.n; i++)
                if (is_tab(p.v[i]))
                    convert_metric(c, cfg, p.v[i]);
        }
        ret = 1;
    }
    if (truthy(x = lget(c, cfg, "symbols"))) {
        kvlist s = metric_pairs(c, x);
        for (size_t i = 0; i < s.n; i++)
            symbol_transform(c, cfg, s.k[i], s.v[i]);
    }
    if (!check_actions(c, cfg))
        ret = 0;
    if (!c->inplace && truthy(x = lget(c, cfg, "group"))) {
        if (truthy(lgeti(c, x, 1))) {
            lset(c, cfg, "group", merge_groups(c, x));
            ret = 1;
        }
        lpairs p = lpairs_of(c, lget(c, cfg, "group")); /* test_groups */
        for (size_t i = 0; i < p.n; i++)
            (void)lget(c, p.v[i], "symbols");
    }

    lv *dkim = lget(c, cfg, "dkim");
    if (!truthy(dkim)) {
        lset(c, cfg, "dkim", ltable(c, C_NONE));
    } else if (truthy(x = lget(c, dkim, "sign_condition"))) {
        lv *ds = lget(c, cfg, "dkim_signing");
        if (!truthy(ds)) {
            ds = ltable(c, C_NONE);
            lset(c, ds, "sign_condition", x);
            lset(c, cfg, "dkim_signing", ds);
        } else if (!truthy(lget(c, ds, "sign_condition"))) {
            lset(c, ds, "sign_condition", x);
        }
    }
    dkim = lget(c, cfg, "dkim");
    if (!c->inplace && !truthy(lget(c, dkim, "sign_headers"))) {
        lv *sec = lget(c, cfg, "dkim_signing");
        if (truthy(sec) && truthy(lgeti(c, sec, 1)))
            sec = lgeti(c, sec, 1);
        if (truthy(sec) && truthy(x = lget(c, sec, "sign_headers")))
            lset(c, dkim, "sign_headers", x);
    }
    static const char *const mods[] = {"dkim_signing", "arc"};
    for (size_t i = 0; i < 2; i++) {
        lv *m = lget(c, cfg, mods[i]);
        if (truthy(m) && (x = lget(c, m, "auth_only")) && x->t != L_NIL)
            lset(c, m, "sign_authenticated", x);
    }
    if (!c->inplace && truthy(dkim) && truthy(x = lget(c, dkim, "sign_headers")) && is_tab(x))
        lset(c, dkim, "sign_headers", concat(c, x));

    if (truthy(lget(c, cfg, "neural"))) {
        if (c->inplace) {
            /* 3.10+ tests the UCL object: a check_all_filters = false is kept */
            lv *o = lget(c, cfg, "options");
            if (truthy(o) && !(x = lget(c, o, "check_all_filters")))
                lset(c, o, "check_all_filters", lbool(c, 1));
        } else {
            if (!truthy(lget(c, cfg, "options")))
                lset(c, cfg, "options", ltable(c, C_NONE));
            if (!truthy(lget(c, lget(c, cfg, "options"), "check_all_filters")))
                lset(c, lget(c, cfg, "options"), "check_all_filters", lbool(c, 1));
        }
    }
    if (!c->inplace)
        ip_score(c, cfg);
    /* converted sections become {} (3.4) or are removed (3.10+) */
    if (truthy(x = lget(c, cfg, "surbl"))) {
        ensure_rbls(c, cfg);
        section_convert(c, cfg, x, 0);
        lset(c, cfg, "surbl", c->inplace ? NULL : ltable(c, C_NONE));
    }
    if (truthy(x = lget(c, cfg, "emails"))) {
        ensure_rbls(c, cfg);
        section_convert(c, cfg, x, 1);
        lset(c, cfg, "emails", c->inplace ? NULL : ltable(c, C_NONE));
    }
    return ret;
}

/* Deep equality of two Lua values (tables by content and class). */
static int lv_equal(const lv *a, const lv *b)
{
    if (!a || a->t == L_NIL || !b || b->t == L_NIL)
        return (!a || a->t == L_NIL) && (!b || b->t == L_NIL);
    if (a->t != b->t)
        return 0;
    switch (a->t) {
    case L_BOOL:
        return a->b == b->b;
    case L_NUM:
        return a->n == b->n;
    case L_STR:
        return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
    case L_TAB: {
        if (a->cls != b->cls)
            return 0;
        size_t na = 0, nb = 0;
        for (size_t i = 0; i < a->ne; i++) {
            if (!a->e[i].v || a->e[i].v->t == L_NIL)
                continue;
            na++;
            if (!lv_equal(a->e[i].v, raw_get(b, a->e[i].k)))
                return 0;
        }
        for (size_t i = 0; i < b->ne; i++)
            nb += b->e[i].v && b->e[i].v->t != L_NIL;
        return na == nb;
    }
    default:
        return 1;
    }
}

/* 3.10+: the transform edits the tree itself. Each top-level section whose
 * value it changed is rebuilt from Lua in place (a new one goes last, a
 * removed one goes away); every other section keeps its parsed form. */
static int apply_changes(lctx *c, rk_ucl *top, const lv *before, const lv *after, rk_error *err)
{
    import_ctx x = {c, 0};
    lpairs p = lpairs_of(c, before);
    for (size_t i = 0; i < p.n; i++) {
        if (p.k[i].is_num || raw_get(after, p.k[i]))
            continue;
        rk_ucl *old = rk_ucl_find(top, p.k[i].s, p.k[i].len);
        if (old) {
            rk_ucl_obj_remove(top, old);
            rk_ucl_free(old);
        }
    }
    p = lpairs_of(c, after);
    for (size_t i = 0; i < p.n; i++) {
        if (p.k[i].is_num || lv_equal(raw_get(before, p.k[i]), p.v[i]))
            continue;
        rk_ucl *nv = import_elt(&x, p.v[i]);
        if (x.oom || !nv || rk_ucl_replace_key(top, nv, p.k[i].s, p.k[i].len)) {
            rk_ucl_free(nv);
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        }
    }
    return 0;
}

int rk_rs_transform(rk_ucl *top, int inplace, rk_error *err)
{
    lctx c;
    memset(&c, 0, sizeof c);
    c.inplace = inplace;
    if (top->type != RK_UCL_OBJECT)
        return 0;
    if (inplace) {
        lv *volatile before = NULL, *volatile cfg = NULL;
        int rc = 0;
        if (setjmp(c.fail) == 0) {
            before = push(&c, top, 1);
            cfg = push(&c, top, 1);
            (void)run_transform(&c, cfg);
        }
        /* a Lua error stops the transform; what it changed so far stays */
        if (c.oom || !cfg) {
            lfree_all(&c);
            return rk_fail(err, RK_ERR_NOMEM, "out of memory");
        }
        if (setjmp(c.fail) == 0)
            rc = apply_changes(&c, top, before, cfg, err);
        else
            rc = rk_fail(err, RK_ERR_NOMEM, "out of memory");
        lfree_all(&c);
        return rc;
    }
    /* Cheap test first: without these the transform never returns true. */
    const rk_ucl *metric = rk_ucl_find(top, "metric", 6), *group = rk_ucl_find(top, "group", 5);
    if (!metric && !(group && (group->next || group->type == RK_UCL_ARRAY)))
        return 0;

    volatile int replace = 0;
    lv *volatile cfg = NULL;
    if (setjmp(c.fail) == 0) {
        cfg = push(&c, top, 1);
        replace = run_transform(&c, cfg);
    } else {
        /* a Lua error: Rspamd logs it and keeps the parsed tree */
        replace = 0;
    }
    if (c.oom) {
        lfree_all(&c);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    if (!replace) {
        lfree_all(&c);
        return 0;
    }
    import_ctx x = {&c, 0};
    rk_ucl *volatile nt = NULL;
    if (setjmp(c.fail) == 0)
        nt = import_table(&x, cfg);
    if (x.oom || c.oom || !nt || nt->type != RK_UCL_OBJECT) {
        rk_ucl_free(nt);
        lfree_all(&c);
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    }
    lfree_all(&c);
    /* swap the new tree into the caller's top node */
    rk_ucl tmp = *top;
    *top = *nt;
    top->key = tmp.key;
    top->keylen = tmp.keylen;
    top->next = tmp.next;
    tmp.key = NULL;
    tmp.next = NULL;
    *nt = tmp;
    rk_ucl_free_one(nt);
    return 0;
}

/* ------------------------------------------ 3.14.3+: max_score -> hits_limit */

/* In object `x`: max_score, if any, becomes hits_limit. */
static int rename_max_score(rk_ucl *x)
{
    rk_ucl *mx = rk_ucl_find(x, "max_score", 9), *hl = rk_ucl_find(x, "hits_limit", 10);
    if (!mx)
        return 0;
    for (rk_ucl *cur = mx; cur; cur = cur->next)
        if (rk_ucl_set_key(cur, "hits_limit", 10))
            return -1;
    rk_ucl_obj_remove(x, mx);
    if (!hl)
        return rk_ucl_obj_append(x, mx);
    rk_ucl_obj_replace(x, hl, mx); /* same key now */
    rk_ucl_free(hl);
    return 0;
}

/* What Lua's pairs() gives for a value of lua_ucl (implicit arrays are
 * walked through, an object in them gives its members): fn() on each that
 * is an object (what the transform's type(v) == 'table' keeps; in an array
 * a lookup finds nothing, so only objects matter). */
static int each_object(rk_ucl *v, int (*fn)(rk_ucl *))
{
    for (rk_ucl *e = v; e; e = e->next) {
        size_t n = e->type == RK_UCL_OBJECT ? e->v.ov->n : e->type == RK_UCL_ARRAY ? e->v.av->n : 0;
        for (size_t i = 0; i < n; i++) {
            rk_ucl *m = e->type == RK_UCL_OBJECT ? e->v.ov->v[i] : e->v.av->v[i];
            for (; m; m = m->next)
                if (m->type == RK_UCL_OBJECT && fn(m))
                    return -1;
        }
    }
    return 0;
}

/* A rule (or the section): its own max_score, then its fuzzy_map's. */
static int rename_rule(rk_ucl *rule)
{
    if (rename_max_score(rule))
        return -1;
    rk_ucl *map = rk_ucl_find(rule, "fuzzy_map", 9);
    return map ? each_object(map, rename_max_score) : 0;
}

int rk_rs_hits_limit(rk_ucl *top, rk_error *err)
{
    rk_ucl *fc = rk_ucl_find(top, "fuzzy_check", 11);
    if (!fc || fc->type != RK_UCL_OBJECT)
        return 0;
    rk_ucl *rules = rk_ucl_find(fc, "rule", 4);
    if ((rules && each_object(rules, rename_rule)) || rename_rule(fc))
        return rk_fail(err, RK_ERR_NOMEM, "out of memory");
    return 0;
}

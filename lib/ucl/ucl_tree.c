/* UCL tree: allocation, ordered objects with a hash index, arrays, lookups,
 * copies and conversion to jansson. */
#include "ucl.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

rk_ucl *rk_ucl_node(rk_ucl_type type, unsigned prio)
{
    rk_ucl *u = calloc(1, sizeof *u);
    if (!u)
        return NULL;
    u->type = type;
    u->prio = prio & 15u;
    if (type == RK_UCL_OBJECT || type == RK_UCL_ARRAY) {
        u->type = RK_UCL_NULL;
        if (rk_ucl_make_container(u, type)) {
            free(u);
            return NULL;
        }
    }
    return u;
}

rk_ucl *rk_ucl_new_string(const char *s, size_t len)
{
    rk_ucl *u = rk_ucl_node(RK_UCL_STRING, 0);
    if (!u)
        return NULL;
    u->v.sv = malloc(len + 1);
    if (!u->v.sv) {
        free(u);
        return NULL;
    }
    if (len)
        memcpy(u->v.sv, s, len);
    u->v.sv[len] = 0;
    u->len = len;
    return u;
}

rk_ucl *rk_ucl_new_int(int64_t v)
{
    rk_ucl *u = rk_ucl_node(RK_UCL_INT, 0);
    if (u)
        u->v.iv = v;
    return u;
}

rk_ucl *rk_ucl_new_double(double v)
{
    rk_ucl *u = rk_ucl_node(RK_UCL_FLOAT, 0);
    if (u)
        u->v.dv = v;
    return u;
}

rk_ucl *rk_ucl_new_bool(int v)
{
    rk_ucl *u = rk_ucl_node(RK_UCL_BOOLEAN, 0);
    if (u)
        u->v.bv = !!v;
    return u;
}

int rk_ucl_set_key(rk_ucl *u, const char *key, size_t keylen)
{
    char *k = malloc(keylen + 1);
    if (!k)
        return -1;
    if (keylen)
        memcpy(k, key, keylen);
    k[keylen] = 0;
    free(u->key);
    u->key = k;
    u->keylen = keylen;
    return 0;
}

int rk_ucl_key_unsafe(unsigned char c)
{
    switch (c) {
    case 0: case '\b': case '\t': case '\n': case '\f': case '\r':
    case ' ': case '"': case '+': case ':': case '=': case '[': case '\\': case '{':
        return 1;
    default:
        return 0;
    }
}

static void free_members(rk_ucl_members *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++)
        rk_ucl_free(m->v[i]);
    free(m->v);
    free(m->hash);
    free(m);
}

static void free_elems(rk_ucl_elems *a)
{
    if (!a)
        return;
    for (size_t i = 0; i < a->n; i++)
        rk_ucl_free(a->v[i]);
    free(a->v);
    free(a);
}

void rk_ucl_clear_value(rk_ucl *u)
{
    switch (u->type) {
    case RK_UCL_STRING:
        free(u->v.sv);
        break;
    case RK_UCL_OBJECT:
        free_members(u->v.ov);
        break;
    case RK_UCL_ARRAY:
        free_elems(u->v.av);
        break;
    default:
        break;
    }
    memset(&u->v, 0, sizeof u->v);
}

int rk_ucl_make_container(rk_ucl *u, rk_ucl_type type)
{
    void *c = type == RK_UCL_OBJECT ? (void *)calloc(1, sizeof(rk_ucl_members))
                                    : (void *)calloc(1, sizeof(rk_ucl_elems));
    if (!c)
        return -1;
    rk_ucl_clear_value(u);
    u->type = type;
    if (type == RK_UCL_OBJECT)
        u->v.ov = c;
    else
        u->v.av = c;
    return 0;
}

void rk_ucl_comments_free(rk_ucl_comments *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        free(c->text[i]);
    free(c->text);
    free(c->len);
    free(c);
}

void rk_ucl_free_one(rk_ucl *u)
{
    if (!u)
        return;
    rk_ucl_comments_free(u->comments);
    rk_ucl_clear_value(u);
    free(u->key);
    free(u);
}

void rk_ucl_free(rk_ucl *u)
{
    while (u) {
        rk_ucl *next = u->next;
        rk_ucl_free_one(u);
        u = next;
    }
}

/* ------------------------------------------------------------ objects */

static uint32_t key_hash(const char *k, size_t len)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)k[i];
        h *= 16777619u;
    }
    return h;
}

#define SMALL_OBJECT 8

static int rehash(rk_ucl_members *m, size_t hcap)
{
    uint32_t *h = calloc(hcap, sizeof *h);
    if (!h)
        return -1;
    for (size_t i = 0; i < m->n; i++) {
        if (!m->v[i])
            continue;
        size_t j = key_hash(m->v[i]->key, m->v[i]->keylen) & (hcap - 1);
        while (h[j])
            j = (j + 1) & (hcap - 1);
        h[j] = (uint32_t)(i + 1);
    }
    free(m->hash);
    m->hash = h;
    m->hcap = hcap;
    return 0;
}

static int same_key(const rk_ucl *u, const char *key, size_t keylen)
{
    return u->keylen == keylen && (keylen == 0 || memcmp(u->key, key, keylen) == 0);
}

/* Slot index of `key` or -1. */
static long find_slot(const rk_ucl_members *m, const char *key, size_t keylen)
{
    if (!m)
        return -1;
    if (!m->hcap) {
        for (size_t i = 0; i < m->n; i++)
            if (m->v[i] && same_key(m->v[i], key, keylen))
                return (long)i;
        return -1;
    }
    size_t j = key_hash(key, keylen) & (m->hcap - 1);
    while (m->hash[j]) {
        size_t i = m->hash[j] - 1;
        if (m->v[i] && same_key(m->v[i], key, keylen))
            return (long)i;
        j = (j + 1) & (m->hcap - 1);
    }
    return -1;
}

rk_ucl *rk_ucl_find(const rk_ucl *obj, const char *key, size_t keylen)
{
    if (!obj || obj->type != RK_UCL_OBJECT)
        return NULL;
    long i = find_slot(obj->v.ov, key, keylen);
    return i < 0 ? NULL : obj->v.ov->v[i];
}

int rk_ucl_obj_append(rk_ucl *obj, rk_ucl *member)
{
    rk_ucl_members *m = obj->v.ov;
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        rk_ucl **v = realloc(m->v, cap * sizeof *v);
        if (!v)
            return -1;
        m->v = v;
        m->cap = cap;
    }
    m->v[m->n++] = member;
    if (m->n > SMALL_OBJECT) {
        if (m->n * 2 > m->hcap) {
            size_t hcap = m->hcap ? m->hcap * 2 : 32;
            while (m->n * 2 > hcap)
                hcap *= 2;
            if (rehash(m, hcap)) {
                m->n--;
                return -1;
            }
        } else {
            size_t j = key_hash(member->key, member->keylen) & (m->hcap - 1);
            while (m->hash[j])
                j = (j + 1) & (m->hcap - 1);
            m->hash[j] = (uint32_t)m->n;
        }
    }
    return 0;
}

void rk_ucl_obj_replace(rk_ucl *obj, rk_ucl *old, rk_ucl *nw)
{
    rk_ucl_members *m = obj->v.ov;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i] == old) {
            m->v[i] = nw;   /* same key, so the hash index stays valid */
            return;
        }
}

void rk_ucl_obj_remove(rk_ucl *obj, rk_ucl *old)
{
    rk_ucl_members *m = obj->v.ov;
    for (size_t i = 0; i < m->n; i++)
        if (m->v[i] == old) {
            memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
            m->n--;
            if (m->hcap)
                rehash(m, m->hcap); /* on ENOMEM the old index stays: lookups may miss */
            return;
        }
}

int rk_ucl_arr_append(rk_ucl *arr, rk_ucl *elt)
{
    rk_ucl_elems *a = arr->v.av;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 8;
        rk_ucl **v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return -1;
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = elt;
    arr->len++;
    return 0;
}

static void list_append(rk_ucl *head, rk_ucl *elt)
{
    while (head->next)
        head = head->next;
    head->next = elt;
}

static int insert_common(rk_ucl *obj, rk_ucl *elt, const char *key, size_t keylen, int replace)
{
    if (obj->type == RK_UCL_NULL && rk_ucl_make_container(obj, RK_UCL_OBJECT))
        return -1;
    if (obj->type != RK_UCL_OBJECT)
        return -1;
    if (key != elt->key && rk_ucl_set_key(elt, key, keylen))
        return -1;
    for (size_t i = 0; i < keylen; i++)
        if (rk_ucl_key_unsafe((unsigned char)key[i])) {
            elt->flags |= RK_UCLF_KEY_ESCAPE;
            break;
        }
    rk_ucl *found = rk_ucl_find(obj, elt->key, elt->keylen);
    if (!found) {
        if (rk_ucl_obj_append(obj, elt))
            return -1;
        obj->len++;
    } else if (replace) {
        rk_ucl_obj_replace(obj, found, elt);
        rk_ucl_free(found);
    } else {
        list_append(found, elt);
    }
    return 0;
}

int rk_ucl_insert(rk_ucl *obj, rk_ucl *elt, const char *key, size_t keylen)
{
    return insert_common(obj, elt, key, keylen, 0);
}

int rk_ucl_replace_key(rk_ucl *obj, rk_ucl *elt, const char *key, size_t keylen)
{
    return insert_common(obj, elt, key, keylen, 1);
}

/* -------------------------------------------------------------- copies */

rk_ucl *rk_ucl_copy_one(const rk_ucl *u)
{
    rk_ucl *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type = u->type;
    c->flags = u->flags;
    c->prio = u->prio;
    c->len = u->len;
    if (u->key && rk_ucl_set_key(c, u->key, u->keylen))
        goto fail;
    switch (u->type) {
    case RK_UCL_STRING:
        c->v.sv = malloc(u->len + 1);
        if (!c->v.sv)
            goto fail;
        memcpy(c->v.sv, u->v.sv, u->len + 1);
        break;
    case RK_UCL_OBJECT:
        c->type = RK_UCL_NULL;
        if (rk_ucl_make_container(c, RK_UCL_OBJECT))
            goto fail;
        for (size_t i = 0; i < u->v.ov->n; i++) {
            const rk_ucl *m = u->v.ov->v[i];
            if (!m)
                continue;
            rk_ucl *cm = rk_ucl_copy(m);
            if (!cm || rk_ucl_obj_append(c, cm)) {
                rk_ucl_free(cm);
                goto fail;
            }
        }
        break;
    case RK_UCL_ARRAY:
        c->type = RK_UCL_NULL;
        if (rk_ucl_make_container(c, RK_UCL_ARRAY))
            goto fail;
        for (size_t i = 0; i < u->v.av->n; i++) {
            rk_ucl *ce = rk_ucl_copy_one(u->v.av->v[i]);
            if (!ce || rk_ucl_arr_append(c, ce)) {
                rk_ucl_free(ce);
                goto fail;
            }
        }
        c->len = u->len;
        break;
    default:
        c->v = u->v;
        break;
    }
    return c;
fail:
    rk_ucl_free_one(c);
    return NULL;
}

rk_ucl *rk_ucl_copy(const rk_ucl *u)
{
    rk_ucl *head = NULL, *tail = NULL;
    for (; u; u = u->next) {
        rk_ucl *c = rk_ucl_copy_one(u);
        if (!c) {
            rk_ucl_free(head);
            return NULL;
        }
        if (tail)
            tail->next = c;
        else
            head = c;
        tail = c;
    }
    return head;
}

/* ------------------------------------------------------------ accessors */

rk_ucl_type rk_ucl_type_of(const rk_ucl *u) { return u ? u->type : RK_UCL_NULL; }

const char *rk_ucl_key(const rk_ucl *u, size_t *len)
{
    if (len)
        *len = u && u->key ? u->keylen : 0;
    return u ? u->key : NULL;
}

const rk_ucl *rk_ucl_next(const rk_ucl *u) { return u ? u->next : NULL; }

size_t rk_ucl_count(const rk_ucl *u)
{
    if (!u)
        return 0;
    if (u->type == RK_UCL_ARRAY)
        return u->v.av->n;
    if (u->type == RK_UCL_OBJECT) {
        size_t n = 0;
        for (size_t i = 0; i < u->v.ov->n; i++)
            n += u->v.ov->v[i] != NULL;
        return n;
    }
    return 0;
}

const rk_ucl *rk_ucl_at(const rk_ucl *u, size_t i)
{
    if (!u)
        return NULL;
    if (u->type == RK_UCL_ARRAY)
        return i < u->v.av->n ? u->v.av->v[i] : NULL;
    if (u->type == RK_UCL_OBJECT) {
        for (size_t j = 0; j < u->v.ov->n; j++)
            if (u->v.ov->v[j] && i-- == 0)
                return u->v.ov->v[j];
    }
    return NULL;
}

const rk_ucl *rk_ucl_lookup(const rk_ucl *obj, const char *key)
{
    return key ? rk_ucl_find(obj, key, strlen(key)) : NULL;
}

const rk_ucl *rk_ucl_lookup_path(const rk_ucl *top, const char *path)
{
    /* libucl's ucl_object_lookup_path: empty components are skipped, an
     * array is indexed by a decimal component. */
    const rk_ucl *o = NULL;
    if (!top || !path)
        return NULL;
    const char *p = path;
    while (*p == '.')
        p++;
    const char *c = p;
    while (*p) {
        p++;
        if (*p == '.' || *p == 0) {
            if (p > c) {
                if (top->type == RK_UCL_ARRAY) {
                    char *end;
                    unsigned long idx = strtoul(c, &end, 10);
                    if (*end != '.' && *end != 0)
                        return NULL;
                    o = idx < top->v.av->n ? top->v.av->v[idx] : NULL;
                } else {
                    o = rk_ucl_find(top, c, (size_t)(p - c));
                }
                if (!o)
                    return NULL;
                top = o;
            }
            if (*p)
                c = p + 1;
        }
    }
    return o;
}

int64_t rk_ucl_int(const rk_ucl *u)
{
    if (!u)
        return 0;
    switch (u->type) {
    case RK_UCL_INT: return u->v.iv;
    case RK_UCL_FLOAT:
    case RK_UCL_TIME:
        if (!(u->v.dv >= -9223372036854775808.0 && u->v.dv < 9223372036854775808.0))
            return u->v.dv > 0 ? INT64_MAX : INT64_MIN;
        return (int64_t)u->v.dv;
    case RK_UCL_BOOLEAN: return u->v.bv;
    default: return 0;
    }
}

double rk_ucl_double(const rk_ucl *u)
{
    if (!u)
        return 0;
    switch (u->type) {
    case RK_UCL_INT: return (double)u->v.iv;
    case RK_UCL_FLOAT:
    case RK_UCL_TIME: return u->v.dv;
    case RK_UCL_BOOLEAN: return u->v.bv;
    default: return 0;
    }
}

int rk_ucl_bool(const rk_ucl *u)
{
    if (!u)
        return 0;
    switch (u->type) {
    case RK_UCL_BOOLEAN: return u->v.bv;
    case RK_UCL_INT: return u->v.iv != 0;
    case RK_UCL_FLOAT:
    case RK_UCL_TIME: return u->v.dv != 0;
    default: return 0;
    }
}

const char *rk_ucl_string(const rk_ucl *u, size_t *len)
{
    if (!u || u->type != RK_UCL_STRING) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = u->len;
    return u->v.sv;
}

/* ---------------------------------------------------------------- json */

static json_t *one_to_json(const rk_ucl *u);

static json_t *value_to_json(const rk_ucl *u)
{
    if (!u->next)
        return one_to_json(u);
    json_t *a = json_array();
    for (; a && u; u = u->next)
        if (json_array_append_new(a, one_to_json(u))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *one_to_json(const rk_ucl *u)
{
    json_t *j = NULL;
    switch (u->type) {
    case RK_UCL_OBJECT:
        j = json_object();
        for (size_t i = 0; j && i < u->v.ov->n; i++) {
            const rk_ucl *m = u->v.ov->v[i];
            if (m && json_object_set_new_nocheck(j, m->key, value_to_json(m))) {
                json_decref(j);
                return NULL;
            }
        }
        return j;
    case RK_UCL_ARRAY:
        j = json_array();
        for (size_t i = 0; j && i < u->v.av->n; i++)
            if (json_array_append_new(j, one_to_json(u->v.av->v[i]))) {
                json_decref(j);
                return NULL;
            }
        return j;
    case RK_UCL_INT: return json_integer(u->v.iv);
    case RK_UCL_FLOAT:
    case RK_UCL_TIME: return isfinite(u->v.dv) ? json_real(u->v.dv) : json_null();
    case RK_UCL_STRING: return json_stringn_nocheck(u->v.sv, u->len);
    case RK_UCL_BOOLEAN: return json_boolean(u->v.bv);
    case RK_UCL_NULL: return json_null();
    }
    return NULL;
}

json_t *rk_ucl_to_json(const rk_ucl *u)
{
    return u ? one_to_json(u) : json_null();
}

/* ---------------------------------------------------------------- files */

int rk_ucl_slurp(const char *path, unsigned char **buf, size_t *len, rk_slurp_step *step)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        *step = RK_SLURP_OPEN;
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        *step = RK_SLURP_STAT;
        errno = e;
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        *step = RK_SLURP_NOTREG;
        errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        return -1;
    }
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *b = malloc(size + 1);
    if (!b) {
        close(fd);
        *step = RK_SLURP_NOMEM;
        errno = ENOMEM;
        return -1;
    }
    while (got < size) {
        ssize_t n = read(fd, b + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : EIO; /* the file shrank while reading */
            free(b);
            close(fd);
            *step = RK_SLURP_READ;
            errno = e;
            return -1;
        }
        got += (size_t)n;
    }
    close(fd);
    b[size] = 0;
    *buf = b;
    *len = size;
    return 0;
}

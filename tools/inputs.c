#include "config.h"
#include "inputs.h"
#include "common.h"
#include "rspamkit.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct dirframe {
    DIR *d;
    char *path;
    int maildir; /* has cur/ and new/: skip tmp/ */
} dirframe;

struct tk_walker {
    tk_walk_opts o;
    size_t next_arg;
    int started, list_opened;
    FILE *list;               /* --files-from */
    dirframe *stack;
    size_t depth, cap;
    /* pending mbox parts */
    unsigned char *mbox;
    char *mbox_label;
    size_t *offs, *lens, n_parts, part;
};

int tk_read_fd(int fd, unsigned char **data, size_t *len)
{
    struct stat st;
    size_t cap = 65536, n = 0;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
        cap = (size_t)st.st_size + 1;
    unsigned char *p = malloc(cap);
    if (!p)
        return -1;
    for (;;) {
        if (n == cap) {
            unsigned char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                errno = ENOMEM;
                return -1;
            }
            p = q;
            cap *= 2;
        }
        ssize_t r = read(fd, p + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(p);
            errno = e;
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *data = p;
    *len = n;
    return 0;
}

tk_walker *tk_walker_new(const tk_walk_opts *o)
{
    tk_walker *w = calloc(1, sizeof *w);
    if (w)
        w->o = *o;
    return w;
}

static void drop_mbox(tk_walker *w)
{
    free(w->mbox);
    free(w->mbox_label);
    free(w->offs);
    free(w->lens);
    w->mbox = NULL;
    w->mbox_label = NULL;
    w->offs = w->lens = NULL;
    w->n_parts = w->part = 0;
}

void tk_walker_free(tk_walker *w)
{
    if (!w)
        return;
    while (w->depth) {
        w->depth--;
        closedir(w->stack[w->depth].d);
        free(w->stack[w->depth].path);
    }
    free(w->stack);
    if (w->list && w->list != stdin)
        fclose(w->list);
    drop_mbox(w);
    free(w);
}

void tk_input_clear(tk_input *in)
{
    free(in->label);
    free(in->data);
    free(in->error);
    memset(in, 0, sizeof *in);
}

static int fail_input(tk_input *in, int code, const char *fmt, const char *a, const char *b)
{
    char buf[1024];
    snprintf(buf, sizeof buf, fmt, a, b);
    in->error = strdup(buf);
    in->exit_code = code;
    return 1;
}

/* libmagic, opened only when an input has to be sniffed. */
static const char *sniff_mime(const unsigned char *data, size_t len)
{
    static void *h;
    static void *cookie;
    static const char *(*buffer_fn)(void *, const void *, size_t);
    if (!h) {
        h = dlopen("libmagic.so.1", RTLD_NOW | RTLD_LOCAL);
        if (!h)
            return NULL;
        void *(*open_fn)(int) = (void *(*)(int))dlsym(h, "magic_open");
        int (*load_fn)(void *, const char *) = (int (*)(void *, const char *))dlsym(h, "magic_load");
        buffer_fn = (const char *(*)(void *, const void *, size_t))dlsym(h, "magic_buffer");
        if (!open_fn || !load_fn || !buffer_fn)
            return NULL;
        cookie = open_fn(0x000010 /* MAGIC_MIME_TYPE */);
        if (!cookie || load_fn(cookie, NULL) != 0)
            cookie = NULL;
    }
    return cookie ? buffer_fn(cookie, data, len) : NULL;
}

/* Does the start of `d` look like an RFC 5322 header field or mbox line? */
static int looks_like_mail(const unsigned char *d, size_t len)
{
    if (len >= 5 && memcmp(d, "From ", 5) == 0)
        return 1;
    size_t i = 0;
    while (i < len && i < 200 && d[i] > 32 && d[i] < 127 && d[i] != ':')
        i++;
    return i > 0 && i < len && d[i] == ':';
}

/* Check the bytes of a file input; fills in->error for non-mail. */
static void check_content(const tk_walker *w, tk_input *in)
{
    if (w->o.raw || in->error)
        return;
    if (in->len == 0) {
        fail_input(in, TK_EX_DATAERR, "%s: empty input, nothing to scan%s", in->label, "");
        return;
    }
    if (looks_like_mail(in->data, in->len))
        return;
    const char *mime = sniff_mime(in->data, in->len);
    if (!mime || strncmp(mime, "text/", 5) == 0 || strncmp(mime, "message/", 8) == 0)
        return;
    fail_input(in, TK_EX_DATAERR, "%s: not a mail message (%s); use --raw to send it anyway",
               in->label, mime);
}

/* Files a mail store keeps next to the messages (Dovecot, Courier): never
 * messages, skipped inside directories. */
static int store_file(const char *name)
{
    static const char *const store_files[] = {
        "dovecot.index*", "dovecot-uidlist", "dovecot-keywords", "dovecot-uidvalidity*",
        "dovecot.list.index*", "dovecot.mailbox.log", "subscriptions", "maildirfolder",
        "courierimap*", NULL};
    for (size_t i = 0; store_files[i]; i++)
        if (fnmatch(store_files[i], name, 0) == 0)
            return 1;
    return 0;
}

static int excluded(const tk_walker *w, const char *path)
{
    for (size_t i = 0; i < w->o.n_exclude; i++)
        if (fnmatch(w->o.exclude[i], path, 0) == 0)
            return 1;
    return 0;
}

static int push_dir(tk_walker *w, const char *path, tk_input *in)
{
    DIR *d = opendir(path);
    if (!d)
        return fail_input(in, TK_EX_NOINPUT, "cannot open directory %s: %s", path, strerror(errno));
    if (w->depth == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 8;
        dirframe *s = realloc(w->stack, cap * sizeof *s);
        if (!s) {
            closedir(d);
            return fail_input(in, TK_EX_SOFTWARE, "%s: %s", path, "out of memory");
        }
        w->stack = s;
        w->cap = cap;
    }
    char *p = strdup(path);
    char sub[4096];
    struct stat st;
    int cur, nw;
    snprintf(sub, sizeof sub, "%s/cur", path);
    cur = stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
    snprintf(sub, sizeof sub, "%s/new", path);
    nw = stat(sub, &st) == 0 && S_ISDIR(st.st_mode);
    w->stack[w->depth++] = (dirframe){d, p, cur && nw};
    return 0;
}

/* Read one file into `in` (label given), splitting mboxes. */
static int load_file(tk_walker *w, const char *path, const char *label, tk_input *in)
{
    in->label = strdup(label);
    if (w->o.names_only)
        return 1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_input(in, TK_EX_NOINPUT, "cannot open file %s: %s", label, strerror(errno));
    int rc = tk_read_fd(fd, &in->data, &in->len);
    int e = errno;
    close(fd);
    if (rc)
        return fail_input(in, e == EISDIR ? TK_EX_NOINPUT : TK_EX_IOERR, "cannot read file %s: %s",
                          label, strerror(e));
    if (w->o.split_mbox && rk_mbox_is_multi(in->data, in->len) &&
        rk_mbox_split(in->data, in->len, &w->offs, &w->lens, &w->n_parts) == 0) {
        w->mbox = in->data;
        w->mbox_label = in->label;
        in->data = NULL;
        in->label = NULL;
        in->len = 0;
        w->part = 0;
        return 0; /* caller takes parts */
    }
    check_content(w, in);
    return 1;
}

static int next_mbox_part(tk_walker *w, tk_input *in)
{
    if (!w->mbox)
        return 0;
    if (w->part >= w->n_parts) {
        drop_mbox(w);
        return 0;
    }
    size_t i = w->part++;
    char buf[4200];
    snprintf(buf, sizeof buf, "%s#%zu", w->mbox_label, i + 1);
    in->label = strdup(buf);
    in->data = malloc(w->lens[i] ? w->lens[i] : 1);
    if (in->data)
        memcpy(in->data, w->mbox + w->offs[i], w->lens[i]);
    in->len = w->lens[i];
    check_content(w, in);
    return 1;
}

/* Handle one top-level path (from args or --files-from). */
static int top_level(tk_walker *w, const char *path, tk_input *in)
{
    struct stat st;
    if (strcmp(path, "-") == 0) {
        in->label = strdup("stdin");
        if (w->o.names_only)
            return 1;
        if (tk_read_fd(0, &in->data, &in->len))
            return fail_input(in, TK_EX_IOERR, "cannot read stdin: %s", strerror(errno), "");
        return 1;
    }
    if (stat(path, &st) < 0) {
        in->label = strdup(path);
        return fail_input(in, TK_EX_NOINPUT, "cannot stat file %s: %s", path, strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) {
        if (push_dir(w, path, in)) {
            in->label = strdup(path);
            return 1;
        }
        return 0;
    }
    int r = load_file(w, path, path, in);
    if (r == 0)
        return next_mbox_part(w, in);
    return r;
}

static int next_from_dirs(tk_walker *w, tk_input *in)
{
    while (w->depth) {
        dirframe *f = &w->stack[w->depth - 1];
        struct dirent *de = readdir(f->d);
        if (!de) {
            closedir(f->d);
            free(f->path);
            w->depth--;
            continue;
        }
        /* hidden entries are skipped, but for the Maildir++ folders (.Junk)
         * of a Maildir with maildir_folders */
        int folder = de->d_name[0] == '.' && f->maildir && w->o.maildir_folders &&
                     strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
        if (de->d_name[0] == '.' && !folder)
            continue;
        if (f->maildir && strcmp(de->d_name, "tmp") == 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", f->path, de->d_name);
        int type = de->d_type;
        if (type == DT_UNKNOWN) {
            struct stat st;
            if (lstat(path, &st) < 0)
                continue;
            type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
        }
        if ((type != DT_DIR && type != DT_REG) || (folder && type != DT_DIR) ||
            (type == DT_REG && store_file(de->d_name)) || excluded(w, path))
            continue;
        if (type == DT_DIR) {
            if (push_dir(w, path, in)) {
                in->label = strdup(path);
                return 1;
            }
            continue;
        }
        int r = load_file(w, path, path, in);
        if (r == 0) {
            if (next_mbox_part(w, in))
                return 1;
            continue;
        }
        return r;
    }
    return 0;
}

int tk_walker_next(tk_walker *w, tk_input *in)
{
    memset(in, 0, sizeof *in);
    for (;;) {
        if (next_mbox_part(w, in))
            return 1;
        if (next_from_dirs(w, in))
            return 1;
        if (next_mbox_part(w, in))
            return 1;
        const char *path = NULL;
        char line[4096];
        if (w->next_arg < w->o.n_args) {
            path = w->o.args[w->next_arg++];
        } else if (w->o.files_from && !w->list_opened) {
            w->list = strcmp(w->o.files_from, "-") == 0 ? stdin : fopen(w->o.files_from, "r");
            w->started = w->list_opened = 1;
            if (!w->list) {
                in->label = strdup(w->o.files_from);
                return fail_input(in, TK_EX_NOINPUT, "cannot open file list %s: %s",
                                  w->o.files_from, strerror(errno));
            }
            continue;
        } else if (w->list) {
            if (!fgets(line, sizeof line, w->list)) {
                if (w->list != stdin)
                    fclose(w->list);
                w->list = NULL;
                continue;
            }
            line[strcspn(line, "\r\n")] = 0;
            if (!line[0])
                continue;
            path = line;
        } else if (!w->started && w->o.n_args == 0 && !w->o.files_from) {
            w->started = 1;
            if (w->o.empty) {
                in->label = strdup("empty");
                return 1;
            }
            return top_level(w, "-", in);
        } else {
            return 0;
        }
        w->started = 1;
        if (top_level(w, path, in))
            return 1;
    }
}

size_t tk_count_inputs(const tk_walk_opts *o)
{
    if (o->files_from && strcmp(o->files_from, "-") == 0)
        return 0;
    tk_walk_opts names = *o;
    names.names_only = 1;
    tk_walker *w = tk_walker_new(&names);
    tk_input in;
    size_t n = 0;
    while (w && tk_walker_next(w, &in)) {
        n++;
        tk_input_clear(&in);
    }
    tk_walker_free(w);
    return n;
}

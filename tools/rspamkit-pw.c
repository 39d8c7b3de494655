/*
 * rspamkit-pw: make and check Rspamd controller password hashes, like
 * `rspamadm pw`, with honest exit codes and no secret on the command line
 * unless asked for (-p); `rspamkit-pw keypair` makes an HTTPCrypt keypair,
 * like `rspamadm keypair`.
 */
#include "config.h"
#include "common.h"
#include "secret.h"

#include <errno.h>
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct {
    int encrypt, check, list, quiet, version;
    char *type, *password, *file, *env;
} o;

static struct poptOption options[] = {
    {"encrypt", 'e', POPT_ARG_NONE, &o.encrypt, 0, "Make a hash of a password (the default)", NULL},
    {"check", 'c', POPT_ARG_NONE, &o.check, 0,
     "Check a password against HASH (the argument, -p, or a line of stdin)", NULL},
    {"type", 't', POPT_ARG_STRING, &o.type, 0,
     "Hash type to make: catena (the default) or pbkdf2", "TYPE"},
    {"list", 'l', POPT_ARG_NONE, &o.list, 0, "List the hash types and exit", NULL},
    {"password", 'p', POPT_ARG_STRING, &o.password, 0,
     "The password; with --check the HASH, as in rspamadm (visible to ps)", "STRING"},
    {"password-file", 0, POPT_ARG_STRING, &o.file, 0,
     "Read the password from FILE (no access for group or others)", "FILE"},
    {"password-env", 0, POPT_ARG_STRING, &o.env, 0,
     "Read the password from environment variable NAME", "NAME"},
    {"quiet", 'q', POPT_ARG_NONE, &o.quiet, 0,
     "No \"password correct/incorrect\" line, no warnings: only the exit status", NULL},
    {"version", 0, POPT_ARG_NONE, &o.version, 0, "Print the version and exit", NULL},
    POPT_AUTOHELP POPT_TABLEEND};

/*
 * The password: `literal` (-p), else --password-file, else --password-env,
 * else the terminal when stdin is one (asking twice if `confirm`), else one
 * line of stdin.  Returns 0 or an exit code (the error is printed).
 */
static int read_password(secret *pw, const char *literal, int confirm)
{
    secret_status st;
    if (literal)
        st = secret_from_string(pw, literal);
    else if (o.file)
        st = secret_from_file(pw, o.file);
    else if (o.env)
        st = secret_from_env(pw, o.env);
    else if (isatty(STDIN_FILENO))
        st = secret_from_tty(pw, "Enter passphrase: ", confirm ? "Repeat passphrase: " : NULL);
    else
        st = secret_from_stdin(pw);
    if (st != SECRET_OK) {
        tk_err("%s", pw->err);
        return tk_secret_code(st);
    }
    if (pw->len == 0) {
        tk_err("empty password");
        return TK_EX_DATAERR;
    }
    return 0;
}

static int encrypt(rk_pw_type type, secret *pw)
{
    char hash[RK_PW_HASH_LEN + 1];
    rk_error err;
    int code = read_password(pw, o.password, 1);

    if (code)
        return code;
    if (type == RK_PW_CATENA && pw->len > 255 && !o.quiet)
        tk_err("warning: catena hashes only the first %zu bytes of this %zu-byte password "
               "(Rspamd takes the length modulo 256)", pw->len % 256, pw->len);
    rk_error_clear(&err);
    if (rk_pw_hash(type, pw->buf, pw->len, NULL, hash, &err)) {
        tk_err("%s", err.msg);
        return TK_EX_SOFTWARE;
    }
    puts(hash);
    return TK_EX_OK;
}

/* A worker's `keypair` section, as `rspamadm keypair` prints it. */
static int keypair(void)
{
    rk_keypair kp;
    rk_error err;
    rk_error_clear(&err);
    if (rk_keypair_generate(&kp, &err)) {
        tk_err("%s", err.msg);
        return tk_exit_for(&err);
    }
    printf("keypair {\n"
           "    pubkey = \"%s\";\n"
           "    privkey = \"%s\";\n"
           "    id = \"%s\";\n"
           "    type = \"kex\";\n"
           "    algorithm = \"curve25519\";\n"
           "    encoding = \"base32\";\n"
           "}\n",
           kp.pubkey, kp.privkey, kp.id);
    rk_secret_wipe(&kp, sizeof kp);
    return TK_EX_OK;
}

static int check(const char *hash_arg, secret *pw)
{
    secret hash;
    rk_pw_type type;
    rk_error err;
    int code = 0;

    rk_error_clear(&err);
    if (!hash_arg) {   /* the hash is the first line of stdin */
        if (isatty(STDIN_FILENO))
            fputs("Enter hash: ", stderr);
        secret_status st = secret_from_stdin(&hash);
        if (st != SECRET_OK) {
            tk_err("%s", hash.err);
            return tk_secret_code(st);
        }
        hash_arg = hash.buf;
    }
    /* Refuse a malformed hash before asking for the password. */
    if (rk_pw_hash_type(hash_arg, &type, &err)) {
        tk_err("%s", err.msg);
        return TK_EX_DATAERR;
    }
    if ((code = read_password(pw, NULL, 0)))
        return code;
    switch (rk_pw_verify(hash_arg, pw->buf, pw->len, &err)) {
    case 1:
        if (!o.quiet)
            puts("password correct");
        return TK_EX_OK;
    case 0:
        if (!o.quiet)
            puts("password incorrect");
        return 1;
    default:
        tk_err("%s", err.msg);
        return TK_EX_SOFTWARE;
    }
}

int main(int argc, char **argv)
{
    poptContext pc;
    rk_pw_type type = RK_PW_DEFAULT_TYPE;
    static secret pw;
    int rc, code = TK_EX_OK;

    tk_prog = "rspamkit-pw";
    pc = poptGetContext(tk_prog, argc, (const char **)argv, options, 0);
    poptSetOtherOptionHelp(pc, "[-e] [-t TYPE] [OPTION...]\n   or: rspamkit-pw -c [OPTION...] [HASH]"
                               "\n   or: rspamkit-pw keypair");
    while ((rc = poptGetNextOpt(pc)) > 0)
        ;
    const char **args = poptGetArgs(pc);
    size_t nargs = 0;
    while (args && args[nargs])
        nargs++;

    if (rc < -1) {
        code = tk_popt_error(pc, rc);
    } else if (o.version) {
        tk_print_version();
    } else if (o.list) {
        for (rk_pw_type t = RK_PW_PBKDF2; t <= RK_PW_CATENA; t++)
            printf("%s: %s\n", rk_pw_type_name(t), rk_pw_type_description(t));
    } else if (!o.check && nargs > 0 && strcmp(args[0], "keypair") == 0) {
        if (nargs > 1 || o.encrypt || o.type || o.password || o.file || o.env) {
            tk_err("keypair takes no arguments and no password options");
            code = TK_EX_USAGE;
        } else {
            code = keypair();
        }
    } else if (o.type && rk_pw_type_parse(o.type, &type)) {
        tk_err("unknown hash type '%s' (use catena or pbkdf2)", o.type);
        code = TK_EX_USAGE;
    } else if (o.encrypt && o.check) {
        tk_err("--encrypt and --check exclude each other");
        code = TK_EX_USAGE;
    } else if ((o.file != NULL) + (o.env != NULL) + (o.password != NULL && !o.check) > 1) {
        tk_err("give the password one way only (-p, --password-file or --password-env)");
        code = TK_EX_USAGE;
    } else if (o.check && nargs + (o.password != NULL) > 1) {
        tk_err("give one hash, as the argument or with -p");
        code = TK_EX_USAGE;
    } else if (!o.check && nargs > 0) {
        tk_err("unexpected argument '%s' (the password is read, not given; see -p)", args[0]);
        code = TK_EX_USAGE;
    } else {
        code = o.check ? check(o.password ? o.password : nargs ? args[0] : NULL, &pw)
                       : encrypt(type, &pw);
    }

    if (fflush(stdout) != 0 || ferror(stdout)) {
        tk_err("cannot write to standard output: %s", strerror(errno));
        code = TK_EX_IOERR;
    }
    secret_clear(&pw);
    if (o.password) {
        rk_secret_wipe(o.password, strlen(o.password));
        free(o.password);
    }
    free(o.type);
    free(o.file);
    free(o.env);
    poptFreeContext(pc);
    return code;
}

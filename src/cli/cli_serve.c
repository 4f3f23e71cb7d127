/* `tunnus serve` (the LDAP directory) and `tunnus account passwd`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "ldap_server.h"
#include "prov.h"
#include "svc_dir.h"
#include "tn_str.h"

#define PASSWORD_MAX 1024

int cli_cmd_serve(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"listen", true}, {"port", true}, {"ldaps-port", true},
                                         {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos != 0)
        return cli_usage(a, "usage: tunnus serve [--listen ADDR] [--port N] [--ldaps-port N]");
    ld_serve_opts o = {.listen = cli_opt(a, "listen"), .port = -1, .ldaps_port = -2, .log = stderr};
    const char *sport = cli_opt(a, "ldaps-port");
    if (sport) {
        int64_t p;
        if (!tn_parse_i64(sport, &p) || p < 0 || p > 65535)
            return cli_usage(a, "--ldaps-port must be a number from 0 to 65535 (0: any free port)");
        o.ldaps_port = (int)p;
    }
    const char *port = cli_opt(a, "port");
    if (port) {
        int64_t p;
        if (!tn_parse_i64(port, &p) || p < 0 || p > 65535)
            return cli_usage(a, "--port must be a number from 0 to 65535 (0: any free port)");
        o.port = (int)p;
    }
    conf c;
    if ((rc = cli_conf(a, &c)))
        return rc;
    tn_err e;
    tn_err_clear(&e);
    /* Provisioning workers, one per [target] (docs/provisioning.md). */
    prov_workers *pw = NULL;
    if (prov_workers_start(&c, stderr, 100, &pw, &e) != TN_OK)
        return cli_fail(a, &e);
    tn_code sc = ld_serve(&c, &o, &e);
    prov_workers_stop(pw);
    if (sc != TN_OK)
        return cli_fail(a, &e);
    return CLI_EXIT_OK;
}

/* The password is one line on standard input, so that it never appears
 * in a process list or shell history. */
int cli_account_passwd(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"hash", false}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus account passwd [--hash] SELECTOR < password");
    /* --hash: the line is a hash kept from another directory. */
    bool is_hash = cli_flag(a, "hash");
    char pw[PASSWORD_MAX + 2];
    if (!fgets(pw, sizeof pw, stdin))
        return cli_usage(a, "no password on standard input");
    size_t n = strlen(pw);
    if (n && pw[n - 1] == '\n')
        pw[--n] = '\0';
    if (n && pw[n - 1] == '\r')
        pw[--n] = '\0';
    tn_err e;
    tn_err_clear(&e);
    if (n == 0 || n > PASSWORD_MAX) {
        tn_err_set(&e, TN_EINVAL, "password", "must be 1 to %d bytes on one line", PASSWORD_MAX);
        return cli_fail(a, &e);
    }
    svc *s;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)))
        return rc;
    tn_code c = is_hash ? svc_account_set_password_hash(s, &act, a->pos[0], pw, &e)
                        : svc_account_set_password(s, &act, a->pos[0], pw, &e);
    memset(pw, 0, sizeof pw);
    if (c == TN_OK)
        c = svc_flush(s, &e);
    rc = c == TN_OK ? CLI_EXIT_OK : cli_fail(a, &e);
    if (c == TN_OK && !a->json)
        printf("password set for %s\n", a->pos[0]);
    else if (c == TN_OK)
        printf("{\"password_set\":true}\n");
    svc_close(s);
    return rc;
}

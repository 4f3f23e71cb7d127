/* `tunnus serve` (the LDAP directory and the HTTP front end) and `tunnus
 * account passwd`. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "http_server.h"
#include "ldap_server.h"
#include "prov.h"
#include "svc_dir.h"
#include "tn_str.h"

#define PASSWORD_MAX 1024

static void announce_http(void *ctx)
{
    hs_announce(ctx, stderr);
}

static bool port_opt(const cli_args *a, const char *name, int *out)
{
    const char *v = cli_opt(a, name);
    int64_t p;
    if (!v)
        return true;
    if (!tn_parse_i64(v, &p) || p < 0 || p > 65535)
        return false;
    *out = (int)p;
    return true;
}

int cli_cmd_serve(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"listen", true},    {"port", true},
                                       {"ldaps-port", true}, {"http-port", true},
                                       {"https-port", true}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos != 0)
        return cli_usage(a, "usage: tunnus serve [--listen ADDR] [--port N] [--ldaps-port N] "
                            "[--http-port N] [--https-port N]");
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
    /* HTTP: --http-port, else [http] port, else any free port when the
     * LDAP port is (tests), else 8080. */
    hs_opts ho = {.listen = NULL,
                  .port = c.http_port >= 0 ? c.http_port : o.port == 0 ? 0 : 8080,
                  .https_port = c.http_https_port};
    if (!port_opt(a, "http-port", &ho.port) || !port_opt(a, "https-port", &ho.https_port))
        return cli_usage(a, "--http-port and --https-port must be numbers from 0 to 65535");
    tn_err e;
    tn_err_clear(&e);
    /* Blocked before any worker thread starts (HTTP, provisioning), so
     * that they inherit the mask and only the LDAP loop's signalfd
     * receives a stop. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    hs_server *http = NULL;
    bool http_off = c.http_port == CONF_HTTP_OFF && !cli_opt(a, "http-port");
    if (!http_off && hs_start(&c, &ho, &http, &e) != TN_OK)
        return cli_fail(a, &e);
    if (http) {
        o.on_ready = announce_http;
        o.ready_ctx = http;
    }
    /* Provisioning workers, one per [target] (docs/provisioning.md). */
    prov_workers *pw = NULL;
    if (prov_workers_start(&c, stderr, 100, &pw, &e) != TN_OK) {
        hs_stop(http);
        return cli_fail(a, &e);
    }
    /* Read events reach the read log's tables through this thread. */
    svc_ingester *ing = NULL;
    if (svc_ingester_start(&c, 0, stderr, &ing, &e) != TN_OK) {
        prov_workers_stop(pw);
        hs_stop(http);
        return cli_fail(a, &e);
    }
    tn_code sc = ld_serve(&c, &o, &e);
    svc_ingester_stop(ing);
    prov_workers_stop(pw);
    hs_stop(http);
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

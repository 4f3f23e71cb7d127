/* tunnus client: API clients of the HTTP front end (docs/api.md). The
 * bearer token is printed once, when made or rotated; the registry keeps
 * only its keyed hash. */
#include <jansson.h>
#include <string.h>

#include "cli.h"
#include "svc_client.h"
#include "tn_str.h"

static const char USAGE[] =
    "usage: tunnus client add NAME --role ROLE [--unit CODE] [--expires DATE] "
    "[--allow CIDR[,CIDR…]] [--cert-sha256 FP] | client list | client rotate NAME | "
    "client revoke NAME | client bind NAME --cert-sha256 FP|--none";

static int print_client(const svc_client_info *c, void *ctx)
{
    cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:s}", "name", c->name, "role",
                              c->role, "unit", c->scope_unit, "allow", c->allow, "expires",
                              c->expires, "revoked", c->revoked, "created_at_us",
                              (json_int_t)c->created_at, "rotated_at_us",
                              (json_int_t)c->rotated_at, "cert_sha256", c->cert_sha256);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%-24s %-15s unit %-12s expires %-10s allow %-20s cert %.16s%s%s\n", c->name,
               c->role, c->scope_unit[0] ? c->scope_unit : "-",
               c->expires[0] ? c->expires : "never", c->allow[0] ? c->allow : "any",
               c->cert_sha256[0] ? c->cert_sha256 : "-", c->cert_sha256[0] ? "…" : "",
               c->revoked ? "  REVOKED" : "");
    }
    return 0;
}

static void print_token(const cli_args *a, const char *name, const char *token)
{
    if (a->json) {
        json_t *o = json_pack("{s:s,s:s}", "name", name, "token", token);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("client %s\ntoken %s\n(shown once: store it now; only its hash is kept)\n", name,
               token);
    }
}

int cli_cmd_client(cli_args *a, int argc, char **argv)
{
    static const cli_optspec add_opts[] = {{"role", true},        {"unit", true},
                                           {"expires", true},     {"allow", true},
                                           {"cert-sha256", true}, {NULL, false}};
    static const cli_optspec bind_opts[] = {{"cert-sha256", true}, {"none", false}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "%s", USAGE);
    const char *cmd = argv[0];
    bool add = strcmp(cmd, "add") == 0, list = strcmp(cmd, "list") == 0,
         rotate = strcmp(cmd, "rotate") == 0, revoke = strcmp(cmd, "revoke") == 0,
         bind = strcmp(cmd, "bind") == 0;
    if (!add && !list && !rotate && !revoke && !bind)
        return cli_usage(a, "unknown client command %s (add, list, rotate, revoke, bind)", cmd);
    int rc = cli_parse(a, argc - 1, argv + 1, add ? add_opts : bind ? bind_opts : add_opts + 5);
    if (rc)
        return rc;
    if (a->npos != (list ? 0 : 1) || (add && !cli_opt(a, "role")) ||
        (bind && !cli_opt(a, "cert-sha256") == !cli_flag(a, "none")))
        return cli_usage(a, "%s", USAGE);
    char allow_buf[1024];
    const char *allow[SVC_CLIENT_ALLOW_MAX + 1];
    size_t nallow = 0;
    const char *al = add ? cli_opt(a, "allow") : NULL;
    if (al) {
        if (!tn_strlcpy(allow_buf, al, sizeof allow_buf))
            return cli_usage(a, "--allow is too long");
        for (char *save = NULL, *t = strtok_r(allow_buf, ",", &save); t;
             t = strtok_r(NULL, ",", &save)) {
            if (nallow == SVC_CLIENT_ALLOW_MAX + 1)
                break;
            allow[nallow++] = tn_trim(t);
        }
    }
    svc *s = NULL;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)) != 0)
        return rc;
    tn_err e;
    tn_err_clear(&e);
    char token[SVC_TOKEN_BUFSZ] = "";
    tn_code c;
    if (add) {
        svc_client_input in = {.name = a->pos[0], .role = cli_opt(a, "role"),
                               .unit = cli_opt(a, "unit"), .expires = cli_opt(a, "expires"),
                               .allow = allow, .nallow = nallow,
                               .cert_sha256 = cli_opt(a, "cert-sha256")};
        c = svc_client_add(s, &act, &in, token, NULL, &e);
    } else if (list) {
        c = svc_client_list(s, &act, print_client, a, &e);
    } else if (rotate) {
        c = svc_client_rotate(s, &act, a->pos[0], token, &e);
    } else if (bind) {
        c = svc_client_bind_cert(s, &act, a->pos[0], cli_opt(a, "cert-sha256"), &e);
    } else {
        c = svc_client_revoke(s, &act, a->pos[0], &e);
    }
    if (c == TN_OK && (add || rotate))
        print_token(a, a->pos[0], token);
    else if (c == TN_OK && revoke)
        printf(a->json ? "{\"revoked\":true}\n" : "client %s revoked\n", a->pos[0]);
    else if (c == TN_OK && bind && a->json)
        printf("{\"bound\":%s}\n", cli_opt(a, "cert-sha256") ? "true" : "false");
    else if (c == TN_OK && bind)
        printf("client %s %s\n", a->pos[0],
               cli_opt(a, "cert-sha256") ? "bound to the certificate" : "unbound");
    memset(token, 0, sizeof token);
    rc = c == TN_OK ? CLI_EXIT_OK : cli_fail(a, &e);
    svc_close(s);
    return rc;
}

/* tunnus source: the sources registry (which attributes a source system is
 * authoritative for, its precedence, its units rule). */
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "tn_str.h"

static const cli_optspec add_opts[] = {
    {"kind", true}, {"owns", true}, {"precedence", true}, {"require-known-units", false},
    {NULL, false},
};

static int print_source(const svc_source *r, void *ctx)
{
    cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:I,s:b}", "name", r->name, "kind", r->kind, "owns",
                              r->owns, "precedence", (json_int_t)r->precedence,
                              "require_known_units", r->require_known_units);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%-12s %-18s precedence %-4lld %s%s\n", r->name, r->kind,
               (long long)r->precedence, r->owns[0] ? r->owns : "(all shared attributes)",
               r->require_known_units ? "  known units only" : "");
    }
    return 0;
}

int cli_cmd_source(cli_args *a, int argc, char **argv)
{
    const char *usage = "usage: tunnus source add NAME --kind KIND [--owns attr,attr] "
                        "[--precedence N] [--require-known-units] | tunnus source list";
    if (argc < 1)
        return cli_usage(a, "%s", usage);
    bool add = strcmp(argv[0], "add") == 0;
    if (!add && strcmp(argv[0], "list") != 0)
        return cli_usage(a, "unknown source command %s (add, list)", argv[0]);
    int rc = cli_parse(a, argc - 1, argv + 1, add ? add_opts : add_opts + 4);
    if (rc)
        return rc;
    svc_source in;
    memset(&in, 0, sizeof in);
    if (add) {
        if (a->npos != 1 || !cli_opt(a, "kind"))
            return cli_usage(a, "%s", usage);
        if (!tn_strlcpy(in.name, a->pos[0], sizeof in.name) ||
            !tn_strlcpy(in.kind, cli_opt(a, "kind"), sizeof in.kind))
            return cli_usage(a, "the source name and kind are at most %d bytes",
                             (int)sizeof in.name - 1);
        const char *owns = cli_opt(a, "owns");
        if (owns && !tn_strlcpy(in.owns, owns, sizeof in.owns))
            return cli_usage(a, "--owns is too long");
        in.precedence = -1;
        const char *p = cli_opt(a, "precedence");
        if (p && (!tn_parse_i64(p, &in.precedence) || in.precedence < 0 ||
                  in.precedence > 1000))
            return cli_usage(a, "--precedence must be 0..1000");
        in.require_known_units = cli_flag(a, "require-known-units");
    } else if (a->npos != 0) {
        return cli_usage(a, "source list takes no arguments");
    }
    svc *s = NULL;
    if ((rc = cli_open(a, &s)) != 0)
        return rc;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    tn_code c = add ? svc_source_add(s, &act, &in, &e) : svc_source_list(s, &act, print_source,
                                                                          a, &e);
    if (c == TN_OK && add && !a->json)
        printf("source %s registered\n", in.name);
    if (c != TN_OK)
        rc = cli_fail(a, &e);
    svc_close(s);
    return rc;
}

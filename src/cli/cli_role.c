/* tunnus role grant|revoke|list, and a person's error reports (PR-4):
 * tunnus person report-error|errors|error-close. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "svc_role.h"
#include "tn_str.h"

static json_t *json_date_or_null(tn_date d)
{
    char buf[DATE_ISO_LEN];
    return d == TN_DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

static int print_grant(const svc_role_grant *g, void *ctx)
{
    const cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:s,s:o,s:o,s:o,s:s,s:s,s:s}", "id",
                              (json_int_t)g->id, "person_id", g->person_id, "person_number",
                              (json_int_t)g->person_number, "role", svc_role_name(g->role),
                              "unit", g->unit, "valid_from", json_date_or_null(g->valid_from),
                              "valid_to", json_date_or_null(g->valid_to), "revoked_on",
                              json_date_or_null(g->revoked_on), "granted_by", g->granted_by,
                              "reason", g->reason, "status", g->status);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return 0;
    }
    char f[DATE_ISO_LEN], t[DATE_ISO_LEN];
    printf("grant %-5lld person %-8lld %-15s %-20s %s..%s  %s\n", (long long)g->id,
           (long long)g->person_number, svc_role_name(g->role), g->unit[0] ? g->unit : "-",
           date_format(g->valid_from, f), g->valid_to == TN_DATE_NONE ? "" : date_format(g->valid_to, t),
           g->status);
    return 0;
}

static int role_grant(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 2)
        return cli_usage(a, "usage: tunnus role grant SELECTOR ROLE [--unit CODE] [--from DATE] "
                            "[--to DATE] [--reason TEXT]");
    svc_role_grant_input in = {
        .person = a->pos[0],
        .role = a->pos[1],
        .unit = cli_opt(a, "unit"),
        .valid_from = cli_opt(a, "from"),
        .valid_to = cli_opt(a, "to"),
        .reason = cli_opt(a, "reason"),
    };
    svc_role_grant g;
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_grant_add(s, act, &in, &g, &e) != TN_OK)
        return cli_fail(a, &e);
    return print_grant(&g, a);
}

static int role_revoke(cli_args *a, svc *s, const svc_actor *act)
{
    int64_t id;
    if (a->npos != 1 || !tn_parse_i64(a->pos[0], &id) || id <= 0)
        return cli_usage(a, "usage: tunnus role revoke GRANT-ID");
    svc_role_grant g;
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_revoke(s, act, id, &g, &e) != TN_OK)
        return cli_fail(a, &e);
    return print_grant(&g, a);
}

static int role_list(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos > 1)
        return cli_usage(a, "usage: tunnus role list [SELECTOR]");
    tn_err e;
    tn_err_clear(&e);
    if (svc_role_list(s, act, a->npos ? a->pos[0] : NULL, print_grant, a, &e) != TN_OK ||
        svc_flush(s, &e) != TN_OK)
        return cli_fail(a, &e);
    return 0;
}

int cli_cmd_role(cli_args *a, int argc, char **argv)
{
    static const cli_optspec grant_opts[] = {
        {"unit", true}, {"from", true}, {"to", true}, {"reason", true}, {NULL, false},
    };
    if (argc < 1)
        return cli_usage(a, "usage: tunnus role grant|revoke|list ...");
    int (*fn)(cli_args *, svc *, const svc_actor *) = NULL;
    const cli_optspec *spec = NULL;
    if (strcmp(argv[0], "grant") == 0) {
        fn = role_grant;
        spec = grant_opts;
    } else if (strcmp(argv[0], "revoke") == 0) {
        fn = role_revoke;
    } else if (strcmp(argv[0], "list") == 0) {
        fn = role_list;
    } else {
        return cli_usage(a, "unknown role command %s (grant, revoke, list)", argv[0]);
    }
    int rc = cli_parse(a, argc - 1, argv + 1, spec);
    if (rc)
        return rc;
    svc *s = NULL;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)) != 0)
        return rc;
    rc = fn(a, s, &act);
    svc_close(s);
    return rc;
}

/* ---- error reports -------------------------------------------------------- */

static int print_report(const svc_error_report *r, void *ctx)
{
    const cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:I,s:s,s:I,s:s,s:s,s:s,s:s,s:I,s:s,s:I,s:s,s:s}", "id",
                              (json_int_t)r->id, "person_id", r->person_id, "person_number",
                              (json_int_t)r->person_number, "attribute", r->attribute,
                              "description", r->description, "filed_by", r->filed_by,
                              "channel", r->channel, "filed_at_us", (json_int_t)r->filed_at,
                              "state", r->state, "resolved_at_us", (json_int_t)r->resolved_at,
                              "resolved_by", r->resolved_by, "resolution", r->resolution);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
        return 0;
    }
    printf("report %-5lld person %-8lld %-9s %-15s %s\n", (long long)r->id,
           (long long)r->person_number, r->state, r->attribute, r->description);
    if (r->resolution[0])
        printf("    %s by %s: %s\n", r->state, r->resolved_by, r->resolution);
    return 0;
}

int cli_person_errors(cli_args *a, int argc, char **argv)
{
    static const cli_optspec file_opts[] = {
        {"attribute", true}, {"description", true}, {NULL, false}};
    static const cli_optspec list_opts[] = {{"state", true}, {NULL, false}};
    static const cli_optspec close_opts[] = {
        {"resolved", false}, {"rejected", false}, {"resolution", true}, {NULL, false}};
    const char *sub = argv[0];
    bool file = strcmp(sub, "report-error") == 0, list = strcmp(sub, "errors") == 0;
    int rc = cli_parse(a, argc - 1, argv + 1, file ? file_opts : list ? list_opts : close_opts);
    if (rc)
        return rc;
    int64_t id = 0;
    if (file && (a->npos != 1 || !cli_opt(a, "attribute") || !cli_opt(a, "description")))
        return cli_usage(a, "usage: tunnus person report-error SELECTOR --attribute NAME "
                            "--description TEXT");
    if (list && a->npos > 1)
        return cli_usage(a, "usage: tunnus person errors [SELECTOR] [--state STATE]");
    if (!file && !list &&
        (a->npos != 1 || !tn_parse_i64(a->pos[0], &id) || id <= 0 ||
         cli_flag(a, "resolved") == cli_flag(a, "rejected") || !cli_opt(a, "resolution")))
        return cli_usage(a, "usage: tunnus person error-close REPORT-ID --resolved|--rejected "
                            "--resolution TEXT");
    svc *s = NULL;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)) != 0)
        return rc;
    tn_err e;
    tn_err_clear(&e);
    svc_error_report r;
    tn_code c;
    if (file)
        c = svc_error_report_file(s, &act, a->pos[0], cli_opt(a, "attribute"),
                                  cli_opt(a, "description"), &r, &e);
    else if (list)
        c = svc_error_report_list(s, &act, a->npos ? a->pos[0] : NULL, cli_opt(a, "state"),
                                  print_report, a, &e);
    else
        c = svc_error_report_close(s, &act, id, cli_flag(a, "resolved"),
                                   cli_opt(a, "resolution"), &r, &e);
    if (c == TN_OK && list)
        c = svc_flush(s, &e);
    if (c != TN_OK)
        rc = cli_fail(a, &e);
    else if (!list)
        print_report(&r, a);
    svc_close(s);
    return rc;
}

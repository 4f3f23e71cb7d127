/* tunnus person | affiliation | account */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "svc_lifecycle.h"
#include "tn_str.h"

static const cli_optspec person_opts[] = {
    {"national-id", true}, {"given", true},       {"family", true},   {"preferred", true},
    {"email", true},       {"phone", true},       {"birth-date", true}, {"nationality", true},
    {"language", true},    {NULL, false},
};

/* person add also takes a first relationship and the account, created with
 * the person in one atomic step (svc_person_enrol). */
static const cli_optspec person_add_opts[] = {
    {"national-id", true}, {"given", true},       {"family", true},   {"preferred", true},
    {"email", true},       {"phone", true},       {"birth-date", true}, {"nationality", true},
    {"language", true},    {"kind", true},        {"source", true},   {"key", true},
    {"org-unit", true},    {"title", true},       {"school", true},   {"class", true},
    {"groups", true},      {"programme", true},   {"manager", true},  {"sponsor", true},
    {"from", true},        {"to", true},          {"account", false}, {"username", true},
    {NULL, false},
};

/* "-" reads the national ID from standard input, so it stays out of the
 * process list and shell history. */
static int read_nid_arg(cli_args *a, const char *v, char buf[64], const char **out)
{
    *out = v;
    if (!v || strcmp(v, "-") != 0)
        return 0;
    if (!fgets(buf, 64, stdin))
        return cli_usage(a, "--national-id -: nothing on standard input");
    tn_trim(buf);
    *out = buf;
    return 0;
}

static int person_input_from(cli_args *a, person_input *in, char nidbuf[64])
{
    memset(in, 0, sizeof *in);
    int rc = read_nid_arg(a, cli_opt(a, "national-id"), nidbuf, &in->national_id);
    in->given_names = cli_opt(a, "given");
    in->family_name = cli_opt(a, "family");
    in->preferred_name = cli_opt(a, "preferred");
    in->email = cli_opt(a, "email");
    in->phone = cli_opt(a, "phone");
    in->birth_date = cli_opt(a, "birth-date");
    in->nationality = cli_opt(a, "nationality");
    in->language = cli_opt(a, "language");
    return rc;
}

/* The relationship options shared by `person add` and `affiliation add`. */
static svc_aff_input aff_input_from(const cli_args *a)
{
    svc_aff_input in = {
        .kind = cli_opt(a, "kind"),
        .source = cli_opt(a, "source"),
        .source_key = cli_opt(a, "key"),
        .org_unit = cli_opt(a, "org-unit"),
        .title = cli_opt(a, "title"),
        .school = cli_opt(a, "school"),
        .class_ = cli_opt(a, "class"),
        .teaching_groups = cli_opt(a, "groups"),
        .programme = cli_opt(a, "programme"),
        .manager = cli_opt(a, "manager"),
        .sponsor = cli_opt(a, "sponsor"),
        .valid_from = cli_opt(a, "from"),
        .valid_to = cli_opt(a, "to"),
        .end_reason = cli_opt(a, "end-reason"),
    };
    return in;
}

/* Show the person after a change, as `person show` would. */
static int finish_show(cli_args *a, svc *s, const svc_actor *act, const char *id)
{
    char sel[64];
    snprintf(sel, sizeof sel, "id:%s", id);
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_show(s, act, sel, &v, &e) != TN_OK || svc_flush(s, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json)
        cli_print_json(cli_json_person_view(&v));
    else
        cli_text_person_view(stdout, &v);
    svc_person_view_free(&v);
    return 0;
}

static int person_add(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 0)
        return cli_usage(a, "person add takes no positional arguments");
    person_input in;
    char nid[64];
    int rc = person_input_from(a, &in, nid);
    if (rc)
        return rc;
    svc_aff_input af = aff_input_from(a);
    bool has_aff = af.kind || af.source || af.source_key || af.org_unit || af.title ||
                   af.school || af.class_ || af.teaching_groups || af.programme || af.manager ||
                   af.sponsor || af.valid_from || af.valid_to;
    if (has_aff && !af.kind) {
        explicit_bzero(nid, sizeof nid);
        return cli_usage(a, "a first affiliation needs --kind (and --from)");
    }
    svc_enrol_input ei = {
        .person = in,
        .affiliation = has_aff ? &af : NULL,
        .account = cli_flag(a, "account") || cli_opt(a, "username"),
        .username = cli_opt(a, "username"),
    };
    svc_enrolled r;
    tn_err e;
    tn_err_clear(&e);
    tn_code c = svc_person_enrol(s, act, &ei, &r, &e);
    explicit_bzero(nid, sizeof nid);
    if (c != TN_OK)
        return cli_fail(a, &e);
    return finish_show(a, s, act, r.person.id);
}

static int person_update(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus person update SELECTOR [--given ...] ...");
    person_input in;
    char nid[64];
    int rc = person_input_from(a, &in, nid);
    if (rc)
        return rc;
    person p;
    tn_err e;
    tn_err_clear(&e);
    tn_code c = svc_person_update(s, act, a->pos[0], &in, &p, &e);
    explicit_bzero(nid, sizeof nid);
    if (c != TN_OK)
        return cli_fail(a, &e);
    return finish_show(a, s, act, p.id);
}

static int person_show(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus person show SELECTOR");
    svc_person_view v;
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_show(s, act, a->pos[0], &v, &e) != TN_OK)
        return cli_fail(a, &e);
    /* The handover windows (LC-8) the person is part of, as leaver or
     * manager. */
    char sel[64];
    snprintf(sel, sizeof sel, "id:%s", v.p.id);
    svc_lc_handover *hs = NULL;
    size_t nh = 0;
    if (svc_lifecycle_handovers(s, act, sel, &hs, &nh, &e) != TN_OK || svc_flush(s, &e) != TN_OK) {
        svc_person_view_free(&v);
        return cli_fail(a, &e);
    }
    if (a->json) {
        json_t *o = cli_json_person_view(&v);
        json_object_set_new(o, "handovers", cli_json_handovers(hs, nh));
        cli_print_json(o);
    } else {
        cli_text_person_view(stdout, &v);
        cli_text_handovers(stdout, v.p.number, hs, nh);
    }
    free(hs);
    svc_person_view_free(&v);
    return 0;
}

struct list_out {
    json_t *arr;
    long count;
};

static int list_cb(const person *p, void *ctx)
{
    struct list_out *lo = ctx;
    lo->count++;
    if (lo->arr)
        json_array_append_new(lo->arr, cli_json_person(p));
    else
        cli_text_person_line(stdout, p);
    return 0;
}

static int person_list(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 0)
        return cli_usage(a, "person list takes no positional arguments");
    svc_person_query q = {
        .state = cli_opt(a, "state"),
        .kind = cli_opt(a, "kind"),
        .org_unit = cli_opt(a, "org-unit"),
        .name = cli_opt(a, "name"),
    };
    const char *lim = cli_opt(a, "limit"), *after = cli_opt(a, "after");
    if (lim && (!tn_parse_i64(lim, &q.limit) || q.limit < 0))
        return cli_usage(a, "--limit needs a whole number");
    if (after && !tn_parse_i64(after, &q.after_number))
        return cli_usage(a, "--after needs an identity number");
    struct list_out lo = {a->json ? json_array() : NULL, 0};
    tn_err e;
    tn_err_clear(&e);
    /* Reads are audited per person; the events must be durable before the
     * list is shown, so JSON is collected and printed after the flush. For
     * text output the queue bound keeps memory flat and flush follows. */
    tn_code c = svc_person_list(s, act, &q, list_cb, &lo, &e);
    if (c == TN_OK)
        c = svc_flush(s, &e);
    if (c != TN_OK) {
        json_decref(lo.arr);
        return cli_fail(a, &e);
    }
    if (lo.arr)
        cli_print_json(lo.arr);
    return 0;
}

static int person_nid(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus person national-id SELECTOR");
    char nid[HETU_BUFSZ];
    tn_err e;
    tn_err_clear(&e);
    if (svc_person_reveal_nid(s, act, a->pos[0], nid, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json) {
        json_t *o = json_pack("{s:s}", "national_id", nid);
        cli_print_json(o);
    } else {
        puts(nid);
    }
    explicit_bzero(nid, sizeof nid);
    return 0;
}

int cli_cmd_person(cli_args *a, int argc, char **argv)
{
    static const cli_optspec list_opts[] = {{"state", true}, {"kind", true}, {"org-unit", true},
                                            {"name", true},  {"limit", true}, {"after", true},
                                            {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus person add|show|list|update|national-id ...");
    const char *sub = argv[0];
    if (strcmp(sub, "hold") == 0)
        return cli_person_hold(a, argc - 1, argv + 1);
    if (strcmp(sub, "report-error") == 0 || strcmp(sub, "errors") == 0 ||
        strcmp(sub, "error-close") == 0)
        return cli_person_errors(a, argc, argv);
    const cli_optspec *spec = NULL;
    int (*fn)(cli_args *, svc *, const svc_actor *) = NULL;
    if (strcmp(sub, "add") == 0) {
        spec = person_add_opts;
        fn = person_add;
    } else if (strcmp(sub, "update") == 0) {
        spec = person_opts;
        fn = person_update;
    } else if (strcmp(sub, "show") == 0) {
        fn = person_show;
    } else if (strcmp(sub, "list") == 0) {
        spec = list_opts;
        fn = person_list;
    } else if (strcmp(sub, "national-id") == 0) {
        fn = person_nid;
    } else {
        return cli_usage(a, "unknown person command %s", sub);
    }
    int rc = cli_parse(a, argc - 1, argv + 1, spec);
    if (rc)
        return rc;
    svc *s;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)))
        return rc;
    rc = fn(a, s, &act);
    svc_close(s);
    return rc;
}

/* ---- affiliation ---------------------------------------------------------- */

int cli_cmd_affiliation(cli_args *a, int argc, char **argv)
{
    static const cli_optspec add_opts[] = {
        {"kind", true},   {"source", true},    {"key", true},       {"org-unit", true},
        {"title", true},  {"school", true},    {"class", true},     {"groups", true},
        {"programme", true}, {"manager", true}, {"sponsor", true},  {"from", true},
        {"to", true},     {"end-reason", true}, {NULL, false}};
    static const cli_optspec end_opts[] = {{"date", true}, {"reason", true}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus affiliation add|end ...");
    bool add = strcmp(argv[0], "add") == 0;
    if (!add && strcmp(argv[0], "end") != 0)
        return cli_usage(a, "unknown affiliation command %s", argv[0]);
    int rc = cli_parse(a, argc - 1, argv + 1, add ? add_opts : end_opts);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, add ? "usage: tunnus affiliation add SELECTOR --kind KIND --from DATE ..."
                                : "usage: tunnus affiliation end ID|key:SOURCE:KEY [--date DATE] [--reason R]");
    svc *s;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)))
        return rc;
    affiliation af;
    tn_err e;
    tn_err_clear(&e);
    tn_code c;
    if (add) {
        svc_aff_input in = aff_input_from(a);
        c = svc_aff_add(s, &act, a->pos[0], &in, &af, &e);
    } else {
        c = svc_aff_end(s, &act, a->pos[0], cli_opt(a, "date"), cli_opt(a, "reason"), &af, &e);
    }
    if (c != TN_OK) {
        rc = cli_fail(a, &e);
    } else if (a->json) {
        cli_print_json(cli_json_affiliation(&af));
    } else {
        cli_text_affiliation(stdout, &af);
    }
    svc_close(s);
    return rc;
}

/* ---- account --------------------------------------------------------------- */

int cli_cmd_account(cli_args *a, int argc, char **argv)
{
    static const cli_optspec create_opts[] = {{"username", true}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus account create|show|passwd ...");
    if (strcmp(argv[0], "passwd") == 0)
        return cli_account_passwd(a, argc - 1, argv + 1);
    bool create = strcmp(argv[0], "create") == 0;
    if (!create && strcmp(argv[0], "show") != 0)
        return cli_usage(a, "unknown account command %s", argv[0]);
    int rc = cli_parse(a, argc - 1, argv + 1, create ? create_opts : NULL);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, create ? "usage: tunnus account create SELECTOR [--username NAME]"
                                   : "usage: tunnus account show USERNAME");
    svc *s;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)))
        return rc;
    account acct;
    tn_err e;
    tn_err_clear(&e);
    tn_code c = create ? svc_account_create(s, &act, a->pos[0], cli_opt(a, "username"), &acct, &e)
                       : svc_account_show(s, &act, a->pos[0], &acct, &e);
    if (c == TN_OK)
        c = svc_flush(s, &e);
    if (c != TN_OK) {
        rc = cli_fail(a, &e);
    } else if (a->json) {
        cli_print_json(cli_json_account(&acct));
    } else {
        cli_text_account(stdout, &acct);
    }
    svc_close(s);
    return rc;
}

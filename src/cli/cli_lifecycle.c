/* tunnus policy | lifecycle | person hold */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "svc_lifecycle.h"
#include "tn_str.h"

static json_t *jdate(tn_date d)
{
    char buf[DATE_ISO_LEN];
    return d == TN_DATE_NONE ? json_null() : json_string(date_format(d, buf));
}

static const char *tdate(tn_date d, char buf[DATE_ISO_LEN])
{
    return d == TN_DATE_NONE ? "never" : date_format(d, buf);
}

/* The date a command acts on: --as-of, or none (the service then takes
 * today in the policy's time zone). */
static tn_date as_of(const cli_args *a, svc *s)
{
    return a->as_of ? svc_today(s) : TN_DATE_NONE;
}

/* A policy file, read whole (bounded: a policy is small). */
static int read_file(cli_args *a, const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tn_err e;
        tn_err_set(&e, TN_EIO, "policy", "cannot open %.200s: %s", path, strerror(errno));
        return cli_fail(a, &e);
    }
    char *buf = malloc(POLICY_TEXT_MAX + 2);
    size_t n = buf ? fread(buf, 1, POLICY_TEXT_MAX + 1, f) : 0;
    bool err = !buf || ferror(f);
    fclose(f);
    if (err || n > POLICY_TEXT_MAX) {
        free(buf);
        tn_err e;
        tn_err_set(&e, err ? TN_EIO : TN_EINVAL, "policy",
                   err ? "cannot read %.200s" : "%.200s is larger than the policy limit", path);
        return cli_fail(a, &e);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

/* ---- policy ----------------------------------------------------------------- */

static json_t *policy_json(const policy *p, int64_t version)
{
    char *text = policy_to_json(p);
    json_t *o = json_loads(text, 0, NULL);
    free(text);
    json_t *r = json_object();
    json_object_set_new(r, "version", json_integer(version));
    json_object_set_new(r, "policy", o);
    return r;
}

static void policy_text(const policy *p, int64_t version)
{
    printf("policy version %lld%s%s\n", (long long)version, p->name[0] ? ": " : "", p->name);
    printf("  timezone          %s\n", p->timezone);
    printf("  legal_hold_days   %d\n", p->legal_hold_days);
    if (p->username_pattern[0])
        printf("  username_pattern  %s\n", p->username_pattern);
    printf("  archive_keep     ");
    for (int k = 0; k < PATTR_MAX; k++)
        if (p->archive_keep & PATTR_BIT(k))
            printf(" %s", policy_attr_name((policy_attr)k));
    printf("\n  %-18s %8s %6s %8s %6s %6s %9s\n", "kind", "activate", "close", "archive", "purge",
           "erase", "handover");
    for (size_t i = 0; i < p->nkinds; i++) {
        const policy_kind *k = &p->kinds[i];
        char er[16] = "-", ho[16] = "-";
        if (k->erase_after_days != POLICY_NO_DAYS)
            snprintf(er, sizeof er, "%d", k->erase_after_days);
        if (k->handover_days != POLICY_NO_DAYS)
            snprintf(ho, sizeof ho, "%d", k->handover_days);
        printf("  %-18s %8d %6d %8d %6d %6s %9s\n", k->kind, k->activate_before_days,
               k->close_after_days, k->archive_after_days, k->purge_after_days, er, ho);
    }
}

int cli_cmd_policy(cli_args *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage(a, "usage: tunnus policy apply FILE | policy show");
    bool apply = strcmp(argv[0], "apply") == 0;
    if (!apply && strcmp(argv[0], "show") != 0)
        return cli_usage(a, "unknown policy command %s", argv[0]);
    int rc = cli_parse(a, argc - 1, argv + 1, NULL);
    if (rc)
        return rc;
    if (a->npos != (apply ? 1 : 0))
        return cli_usage(a, apply ? "usage: tunnus policy apply FILE" : "usage: tunnus policy show");
    char *text = NULL;
    size_t len = 0;
    if (apply && (rc = read_file(a, a->pos[0], &text, &len)))
        return rc;
    svc *s;
    if ((rc = cli_open(a, &s))) {
        free(text);
        return rc;
    }
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    int64_t version = 0;
    policy pol;
    tn_code c = apply ? svc_policy_apply(s, &act, text, len, &version, &e) : TN_OK;
    if (c == TN_OK)
        c = svc_policy_show(s, &act, &pol, &version, &e);
    if (c == TN_OK)
        c = svc_flush(s, &e);
    if (c != TN_OK)
        rc = cli_fail(a, &e);
    else if (a->json)
        cli_print_json(policy_json(&pol, version));
    else
        policy_text(&pol, version);
    svc_close(s);
    free(text);
    return rc;
}

/* ---- lifecycle plan | run ------------------------------------------------------- */

static json_t *transitions_json(uint32_t t)
{
    json_t *arr = json_array();
    for (int k = 0; k < LC_T_MAX; k++)
        if (t & (1u << k))
            json_array_append_new(arr, json_string(lc_transition_name((lc_transition)k)));
    return arr;
}

static void report_out(const cli_args *a, const char *what, const svc_lc_report *r)
{
    char d[DATE_ISO_LEN];
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "as_of", jdate(r->as_of));
        json_object_set_new(o, "policy_version", json_integer(r->policy_version));
        json_object_set_new(o, "persons", json_integer((json_int_t)r->persons));
        json_object_set_new(o, "evaluated", json_integer((json_int_t)r->evaluated));
        json_object_set_new(o, "changed", json_integer((json_int_t)r->nchanged));
        json_object_set_new(o, "audit_pruned", json_integer((json_int_t)r->audit_pruned));
        json_t *counts = json_object();
        for (int k = 0; k < LC_T_MAX; k++)
            json_object_set_new(counts, lc_transition_name((lc_transition)k),
                                json_integer((json_int_t)r->counts[k]));
        json_object_set_new(o, "counts", counts);
        json_t *items = json_array();
        for (size_t i = 0; i < r->nitems; i++) {
            const svc_lc_item *it = &r->items[i];
            json_array_append_new(
                items, json_pack("{s:I,s:s,s:s,s:s,s:o}", "identity_number", (json_int_t)it->number,
                                 "id", it->person_id, "from", person_state_name(it->from), "to",
                                 person_state_name(it->to), "transitions",
                                 transitions_json(it->transitions)));
        }
        json_object_set_new(o, "changes", items);
        json_t *errs = json_array();
        for (size_t i = 0; i < r->nerrors; i++)
            json_array_append_new(
                errs, json_pack("{s:I,s:s,s:s,s:s}", "identity_number",
                                (json_int_t)r->errors[i].number, "code",
                                tn_code_name(r->errors[i].err.code), "field",
                                r->errors[i].err.field, "message", r->errors[i].err.msg));
        json_object_set_new(o, "errors", errs);
        cli_print_json(o);
        return;
    }
    printf("lifecycle %s as of %s (policy version %lld): %zu persons (%zu evaluated), %zu "
           "changed\n",
           what, date_format(r->as_of, d), (long long)r->policy_version, r->persons,
           r->evaluated, r->nchanged);
    for (int k = 0; k < LC_T_MAX; k++)
        if (r->counts[k])
            printf("  %-12s %zu\n", lc_transition_name((lc_transition)k), r->counts[k]);
    for (size_t i = 0; i < r->nitems; i++) {
        const svc_lc_item *it = &r->items[i];
        printf("  person %-8lld %s -> %s (", (long long)it->number, person_state_name(it->from),
               person_state_name(it->to));
        bool first = true;
        for (int k = 0; k < LC_T_MAX; k++)
            if (it->transitions & (1u << k)) {
                printf("%s%s", first ? "" : ", ", lc_transition_name((lc_transition)k));
                first = false;
            }
        printf(")\n");
    }
    for (size_t i = 0; i < r->nerrors; i++) {
        char buf[512];
        fprintf(stderr, "tunnus: person %lld not evaluated: %s\n", (long long)r->errors[i].number,
                tn_err_text(&r->errors[i].err, buf, sizeof buf));
    }
}

/* ---- handover (LC-8), also shown by person show ------------------------------------- */

json_t *cli_json_handovers(const svc_lc_handover *h, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            arr, json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:s,s:o}", "leaver_id", h[i].leaver_id,
                           "leaver_number", (json_int_t)h[i].leaver_number, "grantee_id",
                           h[i].grantee_id[0] ? json_string(h[i].grantee_id) : json_null(),
                           "grantee_number",
                           h[i].grantee_number ? json_integer(h[i].grantee_number) : json_null(),
                           "from", jdate(h[i].from), "until", jdate(h[i].until), "state",
                           h[i].state, "ended_on", jdate(h[i].ended_on)));
    return arr;
}

void cli_text_handovers(FILE *f, int64_t number, const svc_lc_handover *h, size_t n)
{
    char d1[DATE_ISO_LEN], d2[DATE_ISO_LEN], d3[DATE_ISO_LEN];
    for (size_t i = 0; i < n; i++) {
        if (h[i].leaver_number == number) {
            if (h[i].grantee_number)
                fprintf(f, "  handover: manager %lld has access %s .. %s (%s",
                        (long long)h[i].grantee_number, date_format(h[i].from, d1),
                        date_format(h[i].until, d2), h[i].state);
            else
                fprintf(f, "  handover window %s .. %s, no manager named (%s",
                        date_format(h[i].from, d1), date_format(h[i].until, d2), h[i].state);
        } else {
            fprintf(f, "  handover: access to person %lld's resources %s .. %s (%s",
                    (long long)h[i].leaver_number, date_format(h[i].from, d1),
                    date_format(h[i].until, d2), h[i].state);
        }
        if (h[i].ended_on != TN_DATE_NONE)
            fprintf(f, " %s", date_format(h[i].ended_on, d3));
        fprintf(f, ")\n");
    }
}

/* ---- lifecycle forecast ----------------------------------------------------------- */

static void forecast_out(const cli_args *a, const svc_lc_forecast *f)
{
    const lc_eval *ev = &f->ev;
    struct {
        const char *step, *text;
        tn_date on;
    } steps[] = {
        {"active_from", "account active from", ev->active_on},
        {"grace_from", "grace period from", ev->grace_on},
        {"close", "account closes", ev->close_on},
        {"handover_until", "manager's handover access until", ev->handover_until},
        {"reopen_until", "account can be reopened until", ev->reopen_until},
        {"archive", "identity archived", ev->archive_on},
        {"purge", "data purged", ev->purge_on},
        {"erase", "identity erased", ev->erase_on},
    };
    size_t n = sizeof steps / sizeof steps[0];
    char d[DATE_ISO_LEN];
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "identity_number", json_integer(f->p.number));
        json_object_set_new(o, "id", json_string(f->p.id));
        json_object_set_new(o, "as_of", jdate(f->as_of));
        json_object_set_new(o, "policy_version", json_integer(f->policy_version));
        json_object_set_new(o, "recorded_state", json_string(person_state_name(f->p.state)));
        json_object_set_new(o, "state", json_string(person_state_name(ev->state)));
        json_object_set_new(o, "legal_hold_until", jdate(f->p.legal_hold_until));
        json_object_set_new(o, "hold_in_force", json_boolean(ev->hold_in_force));
        json_object_set_new(o, "death_date", jdate(ev->death_date));
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++)
            if (steps[i].on != TN_DATE_NONE)
                json_array_append_new(arr, json_pack("{s:s,s:o,s:b}", "step", steps[i].step,
                                                     "date", jdate(steps[i].on), "past",
                                                     steps[i].on <= f->as_of));
        json_object_set_new(o, "steps", arr);
        json_object_set_new(o, "handovers", cli_json_handovers(f->handovers, f->nhandovers));
        if (f->archived)
            json_object_set_new(
                o, "archive",
                json_pack("{s:s,s:o,s:o,s:o,s:o}", "kinds", f->kinds, "first_start",
                          jdate(f->first_start), "last_end", jdate(f->last_end), "archived_on",
                          jdate(f->archived_on), "purged_on", jdate(f->purged_on)));
        cli_print_json(o);
        return;
    }
    printf("person %lld: %s on %s (recorded: %s), policy version %lld\n", (long long)f->p.number,
           person_state_name(ev->state), date_format(f->as_of, d),
           person_state_name(f->p.state), (long long)f->policy_version);
    for (size_t i = 0; i < n; i++)
        if (steps[i].on != TN_DATE_NONE)
            printf("  %s %s%s\n", steps[i].text, date_format(steps[i].on, d),
                   steps[i].on <= f->as_of ? " (past)" : "");
    if (f->p.legal_hold_until != TN_DATE_NONE)
        printf("  legal hold until %s%s\n", date_format(f->p.legal_hold_until, d),
               ev->hold_in_force ? " (in force)" : "");
    cli_text_handovers(stdout, f->p.number, f->handovers, f->nhandovers);
    if (f->archived) {
        char d2[DATE_ISO_LEN];
        printf("  archived %s: kinds %s, %s .. %s\n", date_format(f->archived_on, d), f->kinds,
               tdate(f->first_start, d2), tdate(f->last_end, (char[DATE_ISO_LEN]){0}));
    }
}

/* ---- lifecycle whatif ----------------------------------------------------------------- */

static void whatif_out(const cli_args *a, const svc_lc_whatif *w)
{
    char d[DATE_ISO_LEN];
    if (a->json) {
        json_t *o = json_object();
        json_object_set_new(o, "as_of", jdate(w->as_of));
        json_object_set_new(o, "policy_version", json_integer(w->policy_version));
        json_object_set_new(o, "persons", json_integer((json_int_t)w->persons));
        json_object_set_new(o, "errors", json_integer((json_int_t)w->errors));
        json_t *steps = json_object();
        for (int k = 0; k < LC_STEP_MAX; k++)
            json_object_set_new(steps, lc_step_name(k),
                                json_pack("{s:I,s:I,s:I}", "earlier", (json_int_t)w->earlier[k],
                                          "later", (json_int_t)w->later[k], "same",
                                          (json_int_t)w->same[k]));
        json_object_set_new(o, "steps", steps);
        cli_print_json(o);
        return;
    }
    printf("proposed policy vs version %lld, as of %s, %zu persons:\n",
           (long long)w->policy_version, date_format(w->as_of, d), w->persons);
    printf("  %-8s %8s %8s %8s\n", "step", "earlier", "later", "same");
    for (int k = 0; k < LC_STEP_MAX; k++)
        printf("  %-8s %8zu %8zu %8zu\n", lc_step_name(k), w->earlier[k], w->later[k], w->same[k]);
}

int cli_cmd_lifecycle(cli_args *a, int argc, char **argv)
{
    static const cli_optspec whatif_opts[] = {{"policy", true}, {NULL, false}};
    static const cli_optspec plan_opts[] = {{"summary", false}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus lifecycle plan|run|forecast SELECTOR|whatif --policy FILE");
    const char *sub = argv[0];
    enum { PLAN, RUN, FORECAST, WHATIF } which;
    if (strcmp(sub, "plan") == 0)
        which = PLAN;
    else if (strcmp(sub, "run") == 0)
        which = RUN;
    else if (strcmp(sub, "forecast") == 0)
        which = FORECAST;
    else if (strcmp(sub, "whatif") == 0)
        which = WHATIF;
    else
        return cli_usage(a, "unknown lifecycle command %s", sub);
    int rc = cli_parse(a, argc - 1, argv + 1,
                       which == WHATIF ? whatif_opts : which == PLAN ? plan_opts : NULL);
    if (rc)
        return rc;
    if (a->npos != (which == FORECAST ? 1 : 0))
        return cli_usage(a, which == FORECAST ? "usage: tunnus lifecycle forecast SELECTOR"
                                              : "lifecycle %s takes no positional arguments", sub);
    char *text = NULL;
    size_t len = 0;
    if (which == WHATIF) {
        const char *path = cli_opt(a, "policy");
        if (!path || !*path)
            return cli_usage(a, "usage: tunnus lifecycle whatif --policy FILE");
        if ((rc = read_file(a, path, &text, &len)))
            return rc;
    }
    svc *s;
    if ((rc = cli_open(a, &s))) {
        free(text);
        return rc;
    }
    svc_actor act;
    svc_actor_local(&act, which == RUN ? SVC_CH_LIFECYCLE : SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    tn_code c;
    if (which == PLAN || which == RUN) {
        svc_lc_report r;
        c = which == RUN ? svc_lifecycle_run(s, &act, as_of(a, s), &r, &e)
                         : svc_lifecycle_plan(s, &act, as_of(a, s), !cli_flag(a, "summary"), &r,
                                              &e);
        if (c == TN_OK)
            c = svc_flush(s, &e);
        if (c == TN_OK) {
            report_out(a, which == RUN ? "run" : "plan", &r);
            if (r.nerrors)
                rc = CLI_EXIT_FAILURE;
        }
        svc_lc_report_free(&r);
    } else if (which == FORECAST) {
        svc_lc_forecast f;
        c = svc_lifecycle_forecast(s, &act, a->pos[0], as_of(a, s), &f, &e);
        if (c == TN_OK)
            c = svc_flush(s, &e);
        if (c == TN_OK)
            forecast_out(a, &f);
    } else {
        svc_lc_whatif w;
        c = svc_lifecycle_whatif(s, &act, text, len, as_of(a, s), &w, &e);
        if (c == TN_OK)
            c = svc_flush(s, &e);
        if (c == TN_OK)
            whatif_out(a, &w);
    }
    if (c != TN_OK)
        rc = cli_fail(a, &e);
    svc_close(s);
    free(text);
    return rc;
}

/* ---- person hold ------------------------------------------------------------------------ */

int cli_person_hold(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"days", true}, {"reason", true}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus person hold SELECTOR [--days N] --reason TEXT");
    int64_t days = 0;
    const char *dv = cli_opt(a, "days");
    if (dv && (!tn_parse_i64(dv, &days) || days < 1 || days > POLICY_MAX_DAYS))
        return cli_usage(a, "--days needs a whole number from 1 to %d", POLICY_MAX_DAYS);
    svc *s;
    if ((rc = cli_open(a, &s)))
        return rc;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    person p;
    tn_code c = svc_person_hold(s, &act, a->pos[0], (int)days, cli_opt(a, "reason"), as_of(a, s),
                                &p, &e);
    if (c != TN_OK) {
        rc = cli_fail(a, &e);
    } else if (a->json) {
        cli_print_json(cli_json_person(&p));
    } else {
        char d[DATE_ISO_LEN];
        printf("person %lld: legal hold until %s\n", (long long)p.number,
               date_format(p.legal_hold_until, d));
    }
    svc_close(s);
    return rc;
}

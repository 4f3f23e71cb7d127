/* tunnus provision: run the delivery to the configured targets, show
 * their queues, release parked items, reconcile a target
 * (docs/provisioning.md). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "prov.h"
#include "tn_str.h"

static const char *const usage_text =
    "usage: tunnus provision run [--target T] [--once]\n"
    "       tunnus provision status [--target T] [--json]\n"
    "       tunnus provision retry ID | --all-parked [--target T]\n"
    "       tunnus provision reconcile TARGET [--fix] [--json]";

static int open_with_conf(cli_args *a, conf *c, svc **s)
{
    int rc = cli_conf(a, c);
    if (rc)
        return rc;
    tn_err e;
    tn_err_clear(&e);
    if (svc_open(c, s, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->as_of) {
        tn_date d;
        if (date_parse_iso(a->as_of, &d, "as-of", &e) != TN_OK) {
            svc_close(*s);
            return cli_fail(a, &e);
        }
        svc_set_today(*s, d);
    }
    return 0;
}

static int no_target(cli_args *a, const char *name)
{
    tn_err e;
    tn_err_clear(&e);
    tn_err_set(&e, TN_ENOTFOUND, "target", "no [target %s] in the configuration", name);
    return cli_fail(a, &e);
}

static int cmd_run(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"target", true}, {"once", false}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos)
        return cli_usage(a, "%s", usage_text);
    conf *c = malloc(sizeof *c);
    if (!c)
        abort();
    svc *s = NULL;
    if ((rc = open_with_conf(a, c, &s)) != 0) {
        free(c);
        return rc;
    }
    const char *only = cli_opt(a, "target");
    if (only && !conf_target_find(c, only)) {
        rc = no_target(a, only);
        goto out;
    }
    if (c->ntargets == 0) {
        rc = cli_usage(a, "no [target NAME] sections in the configuration");
        goto out;
    }
    tn_err e;
    tn_err_clear(&e);
    for (unsigned i = 0; i < c->ntargets; i++)
        if (prov_target_check(&c->targets[i], &e) != TN_OK) {
            rc = cli_fail(a, &e);
            goto out;
        }
    if (!cli_flag(a, "once")) {
        /* Until SIGINT or SIGTERM: one worker per target. */
        svc_close(s);
        s = NULL;
        if (only) {
            conf_target t = *conf_target_find(c, only);
            c->targets[0] = t;
            c->ntargets = 1;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        prov_workers *w = NULL;
        if (prov_workers_start(c, stderr, 100, &w, &e) != TN_OK) {
            rc = cli_fail(a, &e);
            goto out;
        }
        fprintf(stderr, "tunnus provision: running %u target(s)\n", c->ntargets);
        int sig;
        sigwait(&set, &sig);
        prov_workers_stop(w);
        fprintf(stderr, "tunnus provision: stopped\n");
        goto out;
    }
    json_t *all = a->json ? json_object() : NULL;
    for (unsigned i = 0; i < c->ntargets; i++) {
        const conf_target *t = &c->targets[i];
        if (only && strcmp(only, t->name) != 0)
            continue;
        prov_run_stats st;
        tn_code code = prov_run(s, t, true, NULL, a->json ? NULL : stderr, &st, &e);
        if (a->json) {
            json_object_set_new(all, t->name,
                                json_pack("{s:I,s:I,s:I,s:b,s:s}", "delivered",
                                          (json_int_t)st.delivered, "failed",
                                          (json_int_t)st.failed, "parked", (json_int_t)st.parked,
                                          "target_down", st.target_down, "error",
                                          code == TN_OK ? "" : e.msg));
        } else {
            printf("%s: delivered %lld, failed %lld, parked %lld%s%s\n", t->name,
                   (long long)st.delivered, (long long)st.failed, (long long)st.parked,
                   code == TN_OK ? "" : "; ", code == TN_OK ? "" : e.msg);
        }
        if (code != TN_OK && !rc)
            rc = cli_exit_code(code);
        tn_err_clear(&e);
    }
    if (all)
        cli_print_json(all);
out:
    if (s)
        svc_close(s);
    free(c);
    return rc;
}

static int cmd_status(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"target", true}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos)
        return cli_usage(a, "%s", usage_text);
    conf *c = malloc(sizeof *c);
    if (!c)
        abort();
    svc *s = NULL;
    if ((rc = open_with_conf(a, c, &s)) != 0) {
        free(c);
        return rc;
    }
    const char *only = cli_opt(a, "target");
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    json_t *all = json_object();
    if (only && !conf_target_find(c, only)) {
        rc = no_target(a, only);
        goto out;
    }
    for (unsigned i = 0; i < c->ntargets; i++) {
        const conf_target *t = &c->targets[i];
        if (only && strcmp(only, t->name) != 0)
            continue;
        svc_prov_counts k;
        svc_prov_item *parked = NULL;
        size_t np = 0;
        if (svc_prov_counts_get(s, &act, t->name, &k, &e) != TN_OK ||
            svc_prov_parked(s, &act, t->name, &parked, &np, &e) != TN_OK) {
            rc = cli_fail(a, &e);
            goto out;
        }
        /* Changes not yet folded into the pending set count as queued. */
        int64_t unread = k.started ? k.outbox_max - k.cursor : 0;
        json_t *items = json_array();
        for (size_t p = 0; p < np; p++)
            json_array_append_new(items, json_pack("{s:I,s:s,s:I,s:s}", "id",
                                                   (json_int_t)parked[p].id, "person_id",
                                                   parked[p].person_id, "attempts",
                                                   (json_int_t)parked[p].attempts, "error",
                                                   parked[p].last_error));
        free(parked);
        json_t *o = json_pack("{s:s,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:o}", "type", t->type,
                              "started", k.started, "pending", (json_int_t)k.pending,
                              "unread_changes", (json_int_t)unread, "parked",
                              (json_int_t)k.parked, "delivered", (json_int_t)k.delivered,
                              "resources", (json_int_t)k.resources, "last_success_us",
                              (json_int_t)k.last_success_at, "parked_items", items);
        json_object_set_new(all, t->name, o);
    }
    if (a->json) {
        cli_print_json(all);
        all = NULL;
    } else {
        const char *name;
        json_t *o;
        json_object_foreach(all, name, o) {
            printf("%s (%s): pending %lld, unread changes %lld, parked %lld, delivered %lld, "
                   "resources %lld, last success %lld\n",
                   name, json_string_value(json_object_get(o, "type")),
                   (long long)json_integer_value(json_object_get(o, "pending")),
                   (long long)json_integer_value(json_object_get(o, "unread_changes")),
                   (long long)json_integer_value(json_object_get(o, "parked")),
                   (long long)json_integer_value(json_object_get(o, "delivered")),
                   (long long)json_integer_value(json_object_get(o, "resources")),
                   (long long)json_integer_value(json_object_get(o, "last_success_us")));
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(o, "parked_items"), i, it)
                printf("  parked %lld person %s after %lld attempts: %s\n",
                       (long long)json_integer_value(json_object_get(it, "id")),
                       json_string_value(json_object_get(it, "person_id")),
                       (long long)json_integer_value(json_object_get(it, "attempts")),
                       json_string_value(json_object_get(it, "error")));
        }
    }
out:
    json_decref(all);
    svc_close(s);
    free(c);
    return rc;
}

static int cmd_retry(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"target", true}, {"all-parked", false}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    bool all = cli_flag(a, "all-parked");
    int64_t id = 0;
    if (all == (a->npos == 1) || a->npos > 1)
        return cli_usage(a, "%s", usage_text);
    if (!all && (!tn_parse_i64(a->pos[0], &id) || id <= 0))
        return cli_usage(a, "ID is a parked item's number (tunnus provision status)");
    svc *s = NULL;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)) != 0)
        return rc;
    tn_err e;
    tn_err_clear(&e);
    int64_t n = 0;
    const char *t = cli_opt(a, "target");
    if (svc_prov_retry(s, &act, t ? t : "", id, &n, &e) != TN_OK)
        rc = cli_fail(a, &e);
    else if (a->json)
        cli_print_json(json_pack("{s:I}", "released", (json_int_t)n));
    else
        printf("released %lld parked item(s)\n", (long long)n);
    svc_close(s);
    return rc;
}

static void on_finding(const prov_finding *f, void *ctx)
{
    cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:s,s:s,s:s,s:s}", "kind", f->kind, "person_id", f->person_id,
                              "resource", f->resource_id, "detail", f->detail);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%-8s %s%s%s%s%s\n", f->kind, f->resource_id, f->person_id[0] ? " person " : "",
               f->person_id, f->detail[0] ? ": " : "", f->detail);
    }
}

static int cmd_reconcile(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"fix", false}, {NULL, false}};
    int rc = cli_parse(a, argc, argv, opts);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, "%s", usage_text);
    conf *c = malloc(sizeof *c);
    if (!c)
        abort();
    svc *s = NULL;
    if ((rc = open_with_conf(a, c, &s)) != 0) {
        free(c);
        return rc;
    }
    const conf_target *t = conf_target_find(c, a->pos[0]);
    tn_err e;
    tn_err_clear(&e);
    if (!t) {
        rc = no_target(a, a->pos[0]);
    } else if (prov_target_check(t, &e) != TN_OK) {
        rc = cli_fail(a, &e);
    } else {
        svc_actor act;
        svc_actor_local(&act, SVC_CH_CLI);
        int64_t fixed = 0;
        if (prov_reconcile(s, &act, t, cli_flag(a, "fix"), on_finding, a, &fixed, &e) != TN_OK ||
            svc_flush(s, &e) != TN_OK)
            rc = cli_fail(a, &e);
        else if (cli_flag(a, "fix") && !a->json)
            printf("enqueued %lld correction(s)\n", (long long)fixed);
    }
    svc_close(s);
    free(c);
    return rc;
}

int cli_cmd_provision(cli_args *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage(a, "%s", usage_text);
    if (strcmp(argv[0], "run") == 0)
        return cmd_run(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "status") == 0)
        return cmd_status(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "retry") == 0)
        return cmd_retry(a, argc - 1, argv + 1);
    if (strcmp(argv[0], "reconcile") == 0)
        return cmd_reconcile(a, argc - 1, argv + 1);
    return cli_usage(a, "unknown provision command %s (run, status, retry, reconcile)", argv[0]);
}

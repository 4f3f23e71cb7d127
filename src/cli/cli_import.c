/* tunnus import: source feeds, their run records and the review queue. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"
#include "tn_str.h"

static const cli_optspec import_opts[] = {
    {"source", true},    {"kind", true},   {"full", false},       {"dry-run", false},
    {"max-ended", true}, {"strict", false}, {"known-units", false}, {"report", true},
    {"chunk", true},     {"mapping", true}, {"format", true},
    {NULL, false},
};

typedef struct report {
    FILE *f;       /* the --report file, or NULL */
    bool first;
    bool json;     /* --json: issues on stderr as JSON lines */
} report;

static void on_issue(void *ctx, const char *what, long line, const char *column,
                     const char *reason)
{
    report *r = ctx;
    json_t *o = json_pack("{s:s,s:I,s:s,s:s}", "what", what, "line", (json_int_t)line, "column",
                          column ? column : "", "reason", reason);
    if (r->json) {
        json_dumpf(o, stderr, JSON_COMPACT);
        fputc('\n', stderr);
    } else if (column && *column) {
        fprintf(stderr, "tunnus: import: line %ld, column %s: %s (%s)\n", line, column, reason,
                what);
    } else {
        fprintf(stderr, "tunnus: import: line %ld: %s (%s)\n", line, reason, what);
    }
    if (r->f) {
        fputs(r->first ? "\n  " : ",\n  ", r->f);
        json_dumpf(o, r->f, JSON_COMPACT);
        r->first = false;
    }
    json_decref(o);
}

static json_t *summary_json(const svc_import_summary *s, const svc_import_opts *o)
{
    return json_pack("{s:s,s:s,s:b,s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "source",
                     o->source, "kind", s->kind, "full", o->full, "dry_run", o->dry_run, "run",
                     (json_int_t)s->run_id, "rows", (json_int_t)s->rows, "created",
                     (json_int_t)s->created, "updated", (json_int_t)s->updated, "unchanged",
                     (json_int_t)s->unchanged, "ended", (json_int_t)s->ended, "rejected",
                     (json_int_t)s->rejected, "queued", (json_int_t)s->queued, "warnings",
                     (json_int_t)s->warnings, "refused", s->refused);
}

static int do_import(cli_args *a, int argc, char **argv)
{
    int rc = cli_parse(a, argc, argv, import_opts);
    if (rc)
        return rc;
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus import --source NAME --kind KIND [--full] [--dry-run] "
                            "[--max-ended PCT] [--strict] [--known-units] [--mapping FILE] "
                            "[--format csv|json|ldif] [--report FILE] FILE");
    svc_import_opts o = {
        .source = cli_opt(a, "source"),
        .kind = cli_opt(a, "kind"),
        .file_name = a->pos[0],
        .full = cli_flag(a, "full"),
        .dry_run = cli_flag(a, "dry-run"),
        .strict = cli_flag(a, "strict"),
        .known_units = cli_flag(a, "known-units"),
        .max_ended_pct = 5.0,
        .mapping = cli_opt(a, "mapping"),
        .format = cli_opt(a, "format"),
    };
    if (!o.source)
        return cli_usage(a, "import needs --source NAME (and --kind KIND unless the source is "
                            "registered)");
    const char *v = cli_opt(a, "max-ended");
    if (v) {
        char *end;
        errno = 0;
        o.max_ended_pct = strtod(v, &end);
        if (errno || end == v || *end || o.max_ended_pct < 0 || o.max_ended_pct > 100)
            return cli_usage(a, "--max-ended must be a percentage between 0 and 100");
    }
    if ((v = cli_opt(a, "chunk"))) {
        int64_t n;
        if (!tn_parse_i64(v, &n) || n < 1 || n > 1000000)
            return cli_usage(a, "--chunk must be 1..1000000 rows");
        o.chunk_rows = (size_t)n;
    }
    FILE *in = strcmp(a->pos[0], "-") == 0 ? stdin : fopen(a->pos[0], "rb");
    if (!in) {
        tn_err e;
        tn_err_set(&e, TN_EIO, "file", "cannot open %s: %s", a->pos[0], strerror(errno));
        return cli_fail(a, &e);
    }
    o.in = in;
    report rep = {.first = true, .json = a->json};
    const char *rpath = cli_opt(a, "report");
    if (rpath) {
        rep.f = fopen(rpath, "w");
        if (!rep.f) {
            if (in != stdin)
                fclose(in);
            tn_err e;
            tn_err_set(&e, TN_EIO, "report", "cannot create %s: %s", rpath, strerror(errno));
            return cli_fail(a, &e);
        }
        fputs("{\"issues\": [", rep.f);
    }
    svc *s = NULL;
    if ((rc = cli_open(a, &s)) != 0)
        goto out;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_IMPORT);
    svc_import_summary sum;
    tn_err e;
    tn_err_clear(&e);
    tn_code c = svc_import(s, &act, &o, on_issue, &rep, &sum, &e);
    json_t *js = summary_json(&sum, &o);
    if (rep.f) {
        fputs(rep.first ? "],\n\"summary\": " : "\n],\n\"summary\": ", rep.f);
        if (c != TN_OK)
            json_object_set_new(js, "error", json_string(e.msg));
        json_dumpf(js, rep.f, JSON_INDENT(2));
        fputs("}\n", rep.f);
        json_object_del(js, "error");
    }
    if (c != TN_OK) {
        json_decref(js);
        rc = cli_fail(a, &e);
        goto out;
    }
    if (a->json) {
        cli_print_json(js);
    } else {
        printf("%s%s: %lld rows: %lld created, %lld updated, %lld unchanged, %lld ended, "
               "%lld rejected, %lld queued\n",
               o.dry_run ? "dry run, nothing applied: " : "", o.source, (long long)sum.rows,
               (long long)sum.created, (long long)sum.updated, (long long)sum.unchanged,
               (long long)sum.ended, (long long)sum.rejected, (long long)sum.queued);
        json_decref(js);
    }
out:
    svc_close(s);
    if (rep.f)
        fclose(rep.f);
    if (in != stdin)
        fclose(in);
    return rc;
}

static int print_run(const svc_import_record *r, void *ctx)
{
    cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:I,s:I,s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}",
                              "id", (json_int_t)r->id, "source", r->source, "kind", r->kind,
                              "file", r->file, "mode", r->mode, "started_us",
                              (json_int_t)r->started_at, "finished_us", (json_int_t)r->finished_at,
                              "status", r->status, "rows", (json_int_t)r->rows, "created",
                              (json_int_t)r->created, "updated", (json_int_t)r->updated,
                              "unchanged", (json_int_t)r->unchanged, "ended",
                              (json_int_t)r->ended, "rejected", (json_int_t)r->rejected, "queued",
                              (json_int_t)r->queued, "detail", r->detail);
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%lld  %-8s %-10s %-8s %-12s %s  rows %lld: +%lld ~%lld =%lld ended %lld "
               "rejected %lld queued %lld%s%s\n",
               (long long)r->id, r->status, r->source, r->kind, r->mode, r->file,
               (long long)r->rows, (long long)r->created, (long long)r->updated,
               (long long)r->unchanged, (long long)r->ended, (long long)r->rejected,
               (long long)r->queued, r->detail[0] ? "  " : "", r->detail);
    }
    return 0;
}

static const cli_optspec runs_opts[] = {{"limit", true}, {NULL, false}};

static int do_runs(cli_args *a, int argc, char **argv)
{
    int rc = cli_parse(a, argc, argv, runs_opts);
    if (rc)
        return rc;
    int64_t limit = 0;
    const char *v = cli_opt(a, "limit");
    if (v && (!tn_parse_i64(v, &limit) || limit < 0))
        return cli_usage(a, "--limit must be a non-negative number");
    svc *s = NULL;
    if ((rc = cli_open(a, &s)) != 0)
        return rc;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    if (svc_import_runs(s, &act, limit, print_run, a, &e) != TN_OK)
        rc = cli_fail(a, &e);
    svc_close(s);
    return rc;
}

static int print_review(const svc_review_entry *r, void *ctx)
{
    cli_args *a = ctx;
    if (a->json) {
        json_t *o = json_pack("{s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "id",
                              (json_int_t)r->id, "state", r->state, "source", r->source,
                              "source_key", r->source_key, "kind", r->kind, "given_names",
                              r->given_names, "family_name", r->family_name, "birth_date",
                              r->birth_date, "candidate_number",
                              (json_int_t)r->candidate_number, "candidates",
                              (json_int_t)r->candidates, "line", (json_int_t)r->line);
        json_object_set_new(o, "candidate_id", json_string(r->candidate_id));
        json_dumpf(o, stdout, JSON_COMPACT);
        fputc('\n', stdout);
        json_decref(o);
    } else {
        printf("%lld  %-8s %s:%s  %s %s %s  looks like number:%lld%s\n", (long long)r->id,
               r->state, r->source, r->source_key, r->given_names, r->family_name, r->birth_date,
               (long long)r->candidate_number, r->candidates > 1 ? " (and others)" : "");
    }
    return 0;
}

static const cli_optspec review_opts[] = {{"state", true}, {NULL, false}};

static int do_review(cli_args *a, int argc, char **argv)
{
    if (argc < 1)
        return cli_usage(a, "usage: tunnus import review list|accept ID|reject ID");
    const char *verb = argv[0];
    int rc = cli_parse(a, argc - 1, argv + 1, review_opts);
    if (rc)
        return rc;
    bool list = strcmp(verb, "list") == 0;
    bool accept = strcmp(verb, "accept") == 0;
    if (!list && !accept && strcmp(verb, "reject") != 0)
        return cli_usage(a, "unknown review command %s (list, accept, reject)", verb);
    int64_t id = 0;
    if (!list && (a->npos != 1 || !tn_parse_i64(a->pos[0], &id) || id <= 0))
        return cli_usage(a, "review %s needs the entry's id", verb);
    if (list && a->npos != 0)
        return cli_usage(a, "review list takes no arguments");
    svc *s = NULL;
    if ((rc = cli_open(a, &s)) != 0)
        return rc;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    tn_code c;
    if (list) {
        c = svc_review_list(s, &act, cli_opt(a, "state"), print_review, a, &e);
        if (c == TN_OK)
            c = svc_flush(s, &e);
    } else {
        person p;
        c = svc_review_decide(s, &act, id, accept, &p, &e);
        if (c == TN_OK) {
            if (a->json)
                cli_print_json(cli_json_person(&p));
            else
                printf("review %lld %s: person number:%lld\n", (long long)id,
                       accept ? "accepted" : "rejected", (long long)p.number);
        }
    }
    if (c != TN_OK)
        rc = cli_fail(a, &e);
    svc_close(s);
    return rc;
}

int cli_cmd_import(cli_args *a, int argc, char **argv)
{
    if (argc >= 1 && strcmp(argv[0], "runs") == 0)
        return do_runs(a, argc - 1, argv + 1);
    if (argc >= 1 && strcmp(argv[0], "review") == 0)
        return do_review(a, argc - 1, argv + 1);
    return do_import(a, argc, argv);
}

/* tunnus audit verify | subject | export | verify-export | prune | index |
 * checkpoint */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cli_out.h"
#include "svc_audit.h"

#define US_PER_DAY INT64_C(86400000000)

static void fmt_time(int64_t us, char out[40])
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    char day[24];
    gmtime_r(&t, &tm);
    strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 40, "%.24s.%06dZ", day, (int)(us % 1000000));
}

/* --from DATE is the start of that day (UTC), --to DATE the end of it. */
static int parse_range(cli_args *a, int64_t *from_us, int64_t *to_us)
{
    tn_err e;
    tn_err_clear(&e);
    tn_date d;
    *from_us = *to_us = 0;
    const char *f = cli_opt(a, "from"), *t = cli_opt(a, "to");
    if (f) {
        if (date_parse_iso(f, &d, "from", &e) != TN_OK)
            return cli_fail(a, &e);
        *from_us = (int64_t)d * US_PER_DAY;
    }
    if (t) {
        if (date_parse_iso(t, &d, "to", &e) != TN_OK)
            return cli_fail(a, &e);
        *to_us = ((int64_t)d + 1) * US_PER_DAY;
    }
    if (*from_us && *to_us && *to_us <= *from_us)
        return cli_usage(a, "--to must not be before --from");
    return 0;
}

static json_t *check_json(const svc_audit_check *c)
{
    json_t *o = json_pack("{s:b,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:s}", "ok", c->ok, "events",
                          (json_int_t)c->events, "links", (json_int_t)c->links, "checkpoints",
                          (json_int_t)c->checkpoints, "first_seq", (json_int_t)c->first_seq,
                          "last_seq", (json_int_t)c->last_seq, "signed_seq",
                          (json_int_t)c->signed_seq, "cut_seq", (json_int_t)c->cut_seq,
                          "key_id", c->key_id);
    json_object_set_new(o, "kept", json_integer(c->kept));
    if (c->read_events || c->read_checkpoints || c->read_last_seq)
        json_object_set_new(
            o, "reads",
            json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "events", (json_int_t)c->read_events,
                      "checkpoints", (json_int_t)c->read_checkpoints, "last_seq",
                      (json_int_t)c->read_last_seq, "signed_seq", (json_int_t)c->read_signed_seq,
                      "cut_seq", (json_int_t)c->read_cut_seq, "kept", (json_int_t)c->read_kept));
    if (!c->ok) {
        if (c->bad_log[0])
            json_object_set_new(o, "bad_log", json_string(c->bad_log));
        json_object_set_new(o, "bad_seq", json_integer(c->bad_seq));
        if (c->bad_line)
            json_object_set_new(o, "bad_line", json_integer(c->bad_line));
        json_object_set_new(o, "reason", json_string(c->reason));
    }
    return o;
}

static int print_check(cli_args *a, const svc_audit_check *c, const char *what)
{
    if (a->json) {
        cli_print_json(check_json(c));
    } else if (c->ok) {
        printf("%s verified: %lld events, %lld checkpoints, signed up to seq %lld", what,
               (long long)c->events, (long long)c->checkpoints, (long long)c->signed_seq);
        if (c->last_seq > c->signed_seq)
            printf(" (seq %lld..%lld not yet signed)", (long long)c->signed_seq + 1,
                   (long long)c->last_seq);
        if (c->cut_seq)
            printf("; retention cut at seq %lld, %lld held events kept", (long long)c->cut_seq,
                   (long long)c->kept);
        if (c->read_events || c->read_last_seq) {
            printf("\nread log verified: %lld events, %lld checkpoints, signed up to seq %lld",
                   (long long)c->read_events, (long long)c->read_checkpoints,
                   (long long)c->read_signed_seq);
            if (c->read_last_seq > c->read_signed_seq)
                printf(" (seq %lld..%lld not yet signed)", (long long)c->read_signed_seq + 1,
                       (long long)c->read_last_seq);
            if (c->read_cut_seq)
                printf("; retention cut at seq %lld, %lld held events kept",
                       (long long)c->read_cut_seq, (long long)c->read_kept);
        }
        printf("\nkey %s\n", c->key_id);
    } else {
        printf("%s BROKEN at seq %lld", strcmp(c->bad_log, "reads") == 0 ? "read log" : what,
               (long long)c->bad_seq);
        if (c->bad_line)
            printf(" (line %lld)", (long long)c->bad_line);
        printf(": %s\n", c->reason);
    }
    return c->ok ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int audit_verify_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 0)
        return cli_usage(a, "usage: tunnus audit verify [--json]");
    svc_audit_check c;
    tn_err e;
    tn_err_clear(&e);
    if (svc_audit_verify(s, act, &c, &e) != TN_OK)
        return cli_fail(a, &e);
    return print_check(a, &c, "audit trail");
}

struct subj_out {
    json_t *arr;
};

static json_t *event_json(const svc_audit_event *ev)
{
    char t[40];
    fmt_time(ev->time_us, t);
    json_t *o = json_pack("{s:s,s:I,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "log",
                          ev->log ? ev->log : "registry", "seq", (json_int_t)ev->seq,
                          "time", t, "actor_kind", ev->actor_kind ? ev->actor_kind : "",
                          "actor_id", ev->actor_id ? ev->actor_id : "", "channel",
                          ev->channel ? ev->channel : "", "action", ev->action ? ev->action : "",
                          "attrs", ev->attrs ? ev->attrs : "", "result",
                          ev->result ? ev->result : "");
    json_object_set_new(o, "source", json_string(ev->source ? ev->source : ""));
    json_object_set_new(o, "request_id", json_string(ev->request_id ? ev->request_id : ""));
    if (ev->changes && *ev->changes) {
        json_t *ch = json_loads(ev->changes, 0, NULL);
        json_object_set_new(o, "changes", ch ? ch : json_string(ev->changes));
    }
    if (ev->detail && *ev->detail)
        json_object_set_new(o, "detail", json_string(ev->detail));
    return o;
}

static int subj_cb(const svc_audit_event *ev, void *ctx)
{
    struct subj_out *so = ctx;
    json_array_append_new(so->arr, event_json(ev));
    return 0;
}

static int audit_subject_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus audit subject SELECTOR [--from DATE] [--to DATE]");
    int64_t from = 0, to = 0;
    int rc = parse_range(a, &from, &to);
    if (rc)
        return rc;
    struct subj_out so = {json_array()};
    tn_err e;
    tn_err_clear(&e);
    /* Collected, then shown after the report's own read event is durable. */
    if (svc_audit_subject(s, act, a->pos[0], from, to, subj_cb, &so, &e) != TN_OK ||
        svc_flush(s, &e) != TN_OK) {
        json_decref(so.arr);
        return cli_fail(a, &e);
    }
    if (a->json) {
        cli_print_json(so.arr);
        return 0;
    }
    size_t i;
    json_t *o;
    json_array_foreach(so.arr, i, o)
    {
        printf("%s  %-7s %-24s %-9s %-16s %-7s %s\n", json_string_value(json_object_get(o, "time")),
               json_string_value(json_object_get(o, "actor_kind")),
               json_string_value(json_object_get(o, "actor_id")),
               json_string_value(json_object_get(o, "channel")),
               json_string_value(json_object_get(o, "action")),
               json_string_value(json_object_get(o, "result")),
               json_string_value(json_object_get(o, "attrs")));
    }
    json_decref(so.arr);
    return 0;
}

static int audit_export_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    const char *path = cli_opt(a, "out");
    if (a->npos != 0 || !path || !*path)
        return cli_usage(a, "usage: tunnus audit export [--from DATE] [--to DATE] "
                            "[--person SELECTOR] [--actor ID] --out FILE");
    svc_audit_export_query q = {.person = cli_opt(a, "person"), .actor = cli_opt(a, "actor")};
    int rc = parse_range(a, &q.from_us, &q.to_us);
    if (rc)
        return rc;
    /* The export holds personal data: owner-only, and never over an
     * existing file. */
    FILE *f = NULL;
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0)
        f = fdopen(fd, "w");
    if (!f) {
        tn_err e;
        tn_err_set(&e, errno == EEXIST ? TN_ECONFLICT : TN_EIO, "out", "cannot create %s: %s",
                   path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return cli_fail(a, &e);
    }
    int64_t n = 0;
    tn_err e;
    tn_err_clear(&e);
    tn_code c = svc_audit_export(s, act, &q, f, &n, &e);
    if (fclose(f) != 0 && c == TN_OK)
        c = tn_err_set(&e, TN_EIO, "out", "writing %s failed", path);
    if (c != TN_OK) {
        unlink(path);
        return cli_fail(a, &e);
    }
    if (a->json)
        cli_print_json(json_pack("{s:s,s:I}", "out", path, "events", (json_int_t)n));
    else
        printf("exported %lld events to %s\n", (long long)n, path);
    return 0;
}

static int audit_prune_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    const char *before = cli_opt(a, "before");
    if (a->npos != 0 || !before)
        return cli_usage(a, "usage: tunnus audit prune --before DATE");
    tn_err e;
    tn_err_clear(&e);
    tn_date d;
    if (date_parse_iso(before, &d, "before", &e) != TN_OK)
        return cli_fail(a, &e);
    svc_audit_prune_result r;
    if (svc_audit_prune(s, act, d, &r, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json)
        cli_print_json(json_pack("{s:I,s:I,s:I,s:I}", "deleted", (json_int_t)r.deleted, "cut_seq",
                                 (json_int_t)r.cut_seq, "read_deleted", (json_int_t)r.read_deleted,
                                 "read_cut_seq", (json_int_t)r.read_cut_seq));
    else if (r.cut_seq || r.read_cut_seq)
        printf("pruned %lld events and %lld read events; signed retention cuts at seq %lld "
               "and read seq %lld\n",
               (long long)r.deleted, (long long)r.read_deleted, (long long)r.cut_seq,
               (long long)r.read_cut_seq);
    else
        printf("nothing to prune before %s\n", before);
    return 0;
}

static int audit_index_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 0)
        return cli_usage(a, "usage: tunnus audit index");
    tn_err e;
    tn_err_clear(&e);
    int64_t n = 0;
    if (svc_audit_index(s, act, &n, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json)
        cli_print_json(json_pack("{s:I}", "indexed", (json_int_t)n));
    else
        printf("indexed %lld events\n", (long long)n);
    return 0;
}

static int audit_checkpoint_cmd(cli_args *a, svc *s, const svc_actor *act)
{
    if (a->npos != 0)
        return cli_usage(a, "usage: tunnus audit checkpoint");
    tn_err e;
    tn_err_clear(&e);
    int64_t seq = 0;
    if (svc_audit_checkpoint(s, act, &seq, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json)
        cli_print_json(json_pack("{s:I}", "seq", (json_int_t)seq));
    else
        printf("signed up to seq %lld\n", (long long)seq);
    return 0;
}

#define EXPORT_MAX (1024L * 1024 * 1024)

/* Needs no registry: the recipient of an export has only the file. */
static int audit_verify_export_cmd(cli_args *a)
{
    if (a->npos != 1)
        return cli_usage(a, "usage: tunnus audit verify-export FILE [--key HEX]");
    tn_err e;
    tn_err_clear(&e);
    FILE *f = fopen(a->pos[0], "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || st.st_size > EXPORT_MAX) {
        tn_err_set(&e, TN_EIO, "file", "cannot read %s", a->pos[0]);
        if (f)
            fclose(f);
        return cli_fail(a, &e);
    }
    size_t len = (size_t)st.st_size;
    char *buf = malloc(len + 1);
    size_t got = buf ? fread(buf, 1, len, f) : 0;
    fclose(f);
    if (!buf || got != len) {
        free(buf);
        tn_err_set(&e, TN_EIO, "file", "cannot read %s", a->pos[0]);
        return cli_fail(a, &e);
    }
    svc_audit_check c;
    tn_code rc = svc_audit_verify_export(buf, len, cli_opt(a, "key"), &c, &e);
    free(buf);
    if (rc != TN_OK)
        return cli_fail(a, &e);
    return print_check(a, &c, "export");
}

int cli_cmd_audit(cli_args *a, int argc, char **argv)
{
    static const cli_optspec range_opts[] = {{"from", true}, {"to", true}, {NULL, false}};
    static const cli_optspec export_opts[] = {{"from", true},  {"to", true},  {"person", true},
                                              {"actor", true}, {"out", true}, {NULL, false}};
    static const cli_optspec prune_opts[] = {{"before", true}, {NULL, false}};
    static const cli_optspec vexp_opts[] = {{"key", true}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus audit "
                            "verify|subject|export|verify-export|prune|index|checkpoint ...");
    const char *sub = argv[0];
    const cli_optspec *spec = NULL;
    int (*fn)(cli_args *, svc *, const svc_actor *) = NULL;
    if (strcmp(sub, "verify-export") == 0) {
        int rc = cli_parse(a, argc - 1, argv + 1, vexp_opts);
        return rc ? rc : audit_verify_export_cmd(a);
    }
    if (strcmp(sub, "verify") == 0) {
        fn = audit_verify_cmd;
    } else if (strcmp(sub, "subject") == 0) {
        spec = range_opts;
        fn = audit_subject_cmd;
    } else if (strcmp(sub, "export") == 0) {
        spec = export_opts;
        fn = audit_export_cmd;
    } else if (strcmp(sub, "prune") == 0) {
        spec = prune_opts;
        fn = audit_prune_cmd;
    } else if (strcmp(sub, "index") == 0) {
        fn = audit_index_cmd;
    } else if (strcmp(sub, "checkpoint") == 0) {
        fn = audit_checkpoint_cmd;
    } else {
        return cli_usage(a, "unknown audit command %s", sub);
    }
    int rc = cli_parse(a, argc - 1, argv + 1, spec);
    if (rc)
        return rc;
    svc *s;
    if ((rc = cli_open(a, &s)))
        return rc;
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    rc = fn(a, s, &act);
    svc_close(s);
    return rc;
}

/* tunnus report accounts|rights|changes [--org-unit CODE] [--from DATE]
 * [--to DATE] [--format csv|json]   (--as-of DATE is the global option)
 *
 * The report is written to an unlinked temporary file first and copied to
 * standard output only after svc_flush has made its read events durable:
 * nothing is shown before it is on record (AU-1), and a large report does
 * not have to fit in memory. */
#include <csv.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "svc_report.h"
#include "tn_mem.h"
#include "tn_str.h"

#define US_PER_DAY INT64_C(86400000000)

struct out {
    FILE *f;
    bool json;
    size_t rows;
    const char *const *names;
    size_t ncols;
    bool failed;
};

static void csv_line(FILE *f, const char *const *cols, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', f);
        /* libcsv quotes every field and doubles embedded quotes, so commas,
         * quotes and line breaks in values survive. A report is opened in
         * spreadsheets, and values come from feeds (a title, a name): one
         * a spreadsheet would run as a formula gets a leading apostrophe,
         * which shows it as text (OWASP's advice for CSV injection). */
        if (tn_csv_formula_risk(cols[i])) {
            size_t len = strlen(cols[i]);
            char *g = tn_malloc(len + 2);
            g[0] = '\'';
            memcpy(g + 1, cols[i], len + 1);
            csv_fwrite(f, g, len + 1);
            free(g);
        } else {
            csv_fwrite(f, cols[i], strlen(cols[i]));
        }
    }
    fputs("\r\n", f);
}

static int row_cb(const char *const *cols, size_t n, void *ctx)
{
    struct out *o = ctx;
    if (!o->json) {
        csv_line(o->f, cols, n);
    } else {
        json_t *obj = json_object();
        for (size_t i = 0; i < n && i < o->ncols; i++) {
            json_t *v = NULL;
            if (strcmp(o->names[i], "changes") == 0)
                v = json_loads(cols[i], 0, NULL);
            if (!v)
                v = json_string(cols[i]);
            json_object_set_new(obj, o->names[i], v ? v : json_null());
        }
        fputs(o->rows ? ",\n" : "\n", o->f);
        if (json_dumpf(obj, o->f, JSON_COMPACT | JSON_ENSURE_ASCII) != 0)
            o->failed = true;
        json_decref(obj);
    }
    o->rows++;
    return 0;
}

static int parse_day(cli_args *a, const char *name, int64_t add, int64_t *us)
{
    const char *v = cli_opt(a, name);
    *us = 0;
    if (!v)
        return 0;
    tn_err e;
    tn_err_clear(&e);
    tn_date d;
    if (date_parse_iso(v, &d, name, &e) != TN_OK)
        return cli_fail(a, &e);
    *us = ((int64_t)d + add) * US_PER_DAY;
    return 0;
}

int cli_cmd_report(cli_args *a, int argc, char **argv)
{
    static const cli_optspec opts[] = {{"org-unit", true}, {"from", true}, {"to", true},
                                       {"format", true},   {NULL, false}};
    svc_report_query q = {.as_of = TN_DATE_NONE};
    if (argc < 1 || !svc_report_parse(argv[0], &q.kind))
        return cli_usage(a, "usage: tunnus report accounts|rights|changes [--as-of DATE] "
                            "[--org-unit CODE] [--from DATE] [--to DATE] [--format csv|json]");
    int rc = cli_parse(a, argc - 1, argv + 1, opts);
    if (rc)
        return rc;
    if (a->npos != 0)
        return cli_usage(a, "report takes no positional arguments");
    const char *fmt = cli_opt(a, "format");
    if (!fmt)
        fmt = a->json ? "json" : "csv";
    if (strcmp(fmt, "csv") != 0 && strcmp(fmt, "json") != 0)
        return cli_usage(a, "--format must be csv or json");
    if (q.kind != SVC_REPORT_CHANGES && (cli_opt(a, "from") || cli_opt(a, "to")))
        return cli_usage(a, "--from and --to apply to the changes report (use --as-of)");
    /* --from DATE is the start of that day (UTC), --to DATE the end of it. */
    if ((rc = parse_day(a, "from", 0, &q.from_us)) || (rc = parse_day(a, "to", 1, &q.to_us)))
        return rc;
    if (q.from_us && q.to_us && q.to_us <= q.from_us)
        return cli_usage(a, "--to must not be before --from");
    q.org_unit = cli_opt(a, "org-unit");

    struct out o = {.json = strcmp(fmt, "json") == 0};
    o.names = svc_report_columns(q.kind, &o.ncols);
    o.f = tmpfile();
    if (!o.f)
        return cli_usage(a, "cannot create a temporary file for the report");
    if (o.json)
        fputc('[', o.f);
    else
        csv_line(o.f, o.names, o.ncols);

    svc *s;
    if ((rc = cli_open(a, &s))) {
        fclose(o.f);
        return rc;
    }
    svc_actor act;
    svc_actor_local(&act, SVC_CH_CLI);
    tn_err e;
    tn_err_clear(&e);
    if (svc_report(s, &act, &q, row_cb, &o, &e) != TN_OK || svc_flush(s, &e) != TN_OK) {
        rc = cli_fail(a, &e);
        goto out;
    }
    if (o.json)
        fputs(o.rows ? "\n]\n" : "]\n", o.f);
    if (o.failed || fflush(o.f) != 0 || ferror(o.f)) {
        rc = cli_usage(a, "writing the report failed");
        goto out;
    }
    rewind(o.f);
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, o.f)) > 0)
        if (fwrite(buf, 1, n, stdout) != n)
            break;
    if (fflush(stdout) != 0)
        rc = CLI_EXIT_FAILURE;
out:
    svc_close(s);
    fclose(o.f);
    return rc;
}

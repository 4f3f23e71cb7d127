/* tunnus orgunit | init | status */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_out.h"

int cli_cmd_orgunit(cli_args *a, int argc, char **argv)
{
    static const cli_optspec add_opts[] = {{"name", true}, {"parent", true}, {NULL, false}};
    if (argc < 1)
        return cli_usage(a, "usage: tunnus orgunit add|list ...");
    bool add = strcmp(argv[0], "add") == 0;
    if (!add && strcmp(argv[0], "list") != 0)
        return cli_usage(a, "unknown orgunit command %s", argv[0]);
    int rc = cli_parse(a, argc - 1, argv + 1, add ? add_opts : NULL);
    if (rc)
        return rc;
    if (add ? a->npos != 1 : a->npos != 0)
        return cli_usage(a, add ? "usage: tunnus orgunit add CODE [--name NAME] [--parent CODE]"
                                : "usage: tunnus orgunit list");
    svc *s;
    svc_actor act;
    if ((rc = cli_session(a, &s, &act)))
        return rc;
    tn_err e;
    tn_err_clear(&e);
    if (add) {
        org_unit u;
        if (svc_unit_add(s, &act, a->pos[0], cli_opt(a, "name"), cli_opt(a, "parent"), &u, &e) !=
            TN_OK)
            rc = cli_fail(a, &e);
        else if (a->json)
            cli_print_json(cli_json_unit(&u));
        else
            printf("%s\t%s\n", u.code, u.name);
    } else {
        org_unit *units = NULL;
        size_t n = 0;
        if (svc_unit_list(s, &act, &units, &n, &e) != TN_OK) {
            rc = cli_fail(a, &e);
        } else if (a->json) {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, cli_json_unit(&units[i]));
            cli_print_json(arr);
        } else {
            for (size_t i = 0; i < n; i++) {
                int depth = 0;
                for (const char *p = units[i].code; *p; p++)
                    depth += *p == '/';
                printf("%*s%s  (%s)\n", depth * 2, "", units[i].name, units[i].code);
            }
        }
        free(units);
    }
    svc_close(s);
    return rc;
}

int cli_cmd_init(cli_args *a, int argc, char **argv)
{
    int rc = cli_parse(a, argc, argv, NULL);
    if (rc)
        return rc;
    if (a->npos)
        return cli_usage(a, "usage: tunnus init [--db PATH]");
    conf c;
    if ((rc = cli_conf(a, &c)))
        return rc;
    tn_err e;
    tn_err_clear(&e);
    if (svc_init_registry(&c, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->json) {
        cli_print_json(json_pack("{s:s,s:s}", "db", c.db, "key_file", c.key_file));
    } else {
        printf("created registry %s\n", c.db);
        printf("created key file %s (mode 0600): back it up; without it national IDs cannot "
               "be read\n",
               c.key_file);
    }
    return 0;
}

int cli_cmd_status(cli_args *a, int argc, char **argv)
{
    int rc = cli_parse(a, argc, argv, NULL);
    if (rc)
        return rc;
    svc *s;
    if ((rc = cli_open(a, &s)))
        return rc;
    int version = 0, latest = 0;
    tn_err e;
    tn_err_clear(&e);
    if (svc_schema_version(s, &version, &latest, &e) != TN_OK) {
        rc = cli_fail(a, &e);
    } else if (a->json) {
        cli_print_json(json_pack("{s:i,s:i}", "schema_version", version, "schema_latest", latest));
    } else {
        printf("schema version %d (this build knows %d)\n", version, latest);
    }
    svc_close(s);
    return rc;
}

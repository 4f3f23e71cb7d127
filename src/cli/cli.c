#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "tn_str.h"

static const char usage_text[] =
    "usage: tunnus [--db PATH] [--config FILE] [--as-of DATE] [--json] COMMAND ...\n"
    "\n"
    "commands:\n"
    "  init                              create a registry and its key file\n"
    "  status                            registry path, schema version\n"
    "  person add|show|list|update|national-id\n"
    "  affiliation add|end\n"
    "  account create|show|passwd\n"
    "  orgunit add|list\n"
    "  audit verify|subject|export|verify-export|prune|index|checkpoint\n"
    "  person hold SELECTOR --days N --reason TEXT\n"
    "  person report-error SELECTOR --attribute A --description TEXT | errors | error-close\n"
    "  role grant SELECTOR ROLE [--unit CODE] [--from] [--to] [--reason] | revoke ID | list\n"
    "  policy apply FILE | policy show\n"
    "  lifecycle plan|run|forecast SELECTOR|whatif --policy FILE\n"
    "  import --source NAME --kind KIND [--full] [--dry-run] FILE | runs | review\n"
    "  report accounts|rights|changes [--org-unit CODE] [--from] [--to] [--format csv|json]\n"
    "  serve [--listen ADDR] [--port N]  the LDAP directory (docs/ldap.md)\n"
    "  provision run|status|retry|reconcile  deliver to the configured targets (docs/provisioning.md)\n"
    "  serve [--listen ADDR] [--port N] [--http-port N]  LDAP and HTTP/SCIM (docs/ldap.md, docs/scim.md)\n"
    "  client add NAME --role ROLE | list | rotate NAME | revoke NAME | bind NAME  API clients (docs/api.md)\n"
    "\n"
    "Persons are selected by id:UUID, number:N, username:NAME or key:SOURCE:KEY.\n"
    "See docs/cli.md for every option and the exit codes.\n";

int cli_exit_code(tn_code rc)
{
    switch (rc) {
    case TN_OK:
        return CLI_EXIT_OK;
    case TN_EUSAGE:
        return CLI_EXIT_USAGE;
    case TN_EINVAL:
        return CLI_EXIT_INVALID;
    case TN_ENOTFOUND:
        return CLI_EXIT_NOTFOUND;
    case TN_ECONFLICT:
        return CLI_EXIT_CONFLICT;
    case TN_EDENIED:
        return CLI_EXIT_DENIED;
    case TN_ESTATE:
        return CLI_EXIT_STATE;
    default:
        return CLI_EXIT_FAILURE;
    }
}

int cli_fail(const cli_args *a, const tn_err *e)
{
    if (a && a->json) {
        json_t *o = json_pack("{s:{s:s,s:s,s:s}}", "error", "code", tn_code_name(e->code),
                              "field", e->field, "message", e->msg);
        json_dumpf(o, stderr, JSON_COMPACT);
        fputc('\n', stderr);
        json_decref(o);
    } else {
        char buf[512];
        fprintf(stderr, "tunnus: %s\n", tn_err_text(e, buf, sizeof buf));
    }
    return cli_exit_code(e->code);
}

int cli_usage(const cli_args *a, const char *fmt, ...)
{
    tn_err e;
    va_list ap;
    va_start(ap, fmt);
    tn_err_setv(&e, TN_EUSAGE, NULL, fmt, ap);
    va_end(ap);
    return cli_fail(a, &e);
}

const char *cli_opt(const cli_args *a, const char *name)
{
    for (int i = 0; i < a->nopt; i++)
        if (strcmp(a->opt[i].name, name) == 0)
            return a->opt[i].value;
    return NULL;
}

bool cli_flag(const cli_args *a, const char *name)
{
    return cli_opt(a, name) != NULL;
}

/* Global options may appear anywhere; they are consumed here. Returns 1 if
 * argv[*i] was a global option. */
static int take_global(cli_args *a, int argc, char **argv, int *i, int *err)
{
    const char *arg = argv[*i];
    static const char *const with_value[] = {"--db", "--config", "--as-of"};
    for (size_t k = 0; k < sizeof with_value / sizeof with_value[0]; k++) {
        size_t n = strlen(with_value[k]);
        const char *v = NULL;
        if (strcmp(arg, with_value[k]) == 0) {
            if (*i + 1 >= argc) {
                *err = cli_usage(a, "%s needs a value", with_value[k]);
                return 1;
            }
            v = argv[++*i];
        } else if (strncmp(arg, with_value[k], n) == 0 && arg[n] == '=') {
            v = arg + n + 1;
        } else {
            continue;
        }
        if (k == 0)
            a->db = v;
        else if (k == 1)
            a->config = v;
        else
            a->as_of = v;
        return 1;
    }
    if (strcmp(arg, "--json") == 0) {
        a->json = true;
        return 1;
    }
    return 0;
}

int cli_parse(cli_args *a, int argc, char **argv, const cli_optspec *spec)
{
    for (int i = 0; i < argc; i++) {
        int err = 0;
        if (take_global(a, argc, argv, &i, &err)) {
            if (err)
                return err;
            continue;
        }
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            for (i++; i < argc; i++) {
                if (a->npos == CLI_MAX_POS)
                    return cli_usage(a, "too many arguments");
                a->pos[a->npos++] = argv[i];
            }
            break;
        }
        if (arg[0] == '-' && arg[1] == '-' && arg[2]) {
            const char *name = arg + 2;
            const char *eq = strchr(name, '=');
            size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
            const cli_optspec *o = NULL;
            for (const cli_optspec *p = spec; p && p->name; p++)
                if (strlen(p->name) == nlen && strncmp(p->name, name, nlen) == 0)
                    o = p;
            if (!o)
                return cli_usage(a, "unknown option --%.*s", (int)nlen, name);
            if (a->nopt == CLI_MAX_OPTS)
                return cli_usage(a, "too many options");
            if (cli_opt(a, o->name))
                return cli_usage(a, "option --%s given twice", o->name);
            const char *value = "";
            if (o->takes_value) {
                if (eq)
                    value = eq + 1;
                else if (i + 1 < argc)
                    value = argv[++i];
                else
                    return cli_usage(a, "option --%s needs a value", o->name);
            } else if (eq) {
                return cli_usage(a, "option --%s takes no value", o->name);
            }
            a->opt[a->nopt].name = o->name;
            a->opt[a->nopt].value = value;
            a->nopt++;
            continue;
        }
        if (arg[0] == '-' && arg[1] && arg[1] != '-' && strcmp(arg, "-") != 0)
            return cli_usage(a, "unknown option %s", arg);
        if (a->npos == CLI_MAX_POS)
            return cli_usage(a, "too many arguments");
        a->pos[a->npos++] = arg;
    }
    return 0;
}

int cli_conf(const cli_args *a, conf *c)
{
    tn_err e;
    tn_err_clear(&e);
    conf_defaults(c);
    const char *path = a->config;
    if (!path)
        path = getenv("TUNNUS_CONF");
    if (!path && access("tunnus.conf", R_OK) == 0)
        path = "tunnus.conf";
    if (path && conf_load_file(c, path, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->db && !tn_strlcpy(c->db, a->db, sizeof c->db))
        return cli_usage(a, "--db path is too long");
    /* A key file named in the configuration belongs to the configured
     * registry; another registry given with --db has its own beside it. */
    if (a->db)
        c->key_file[0] = '\0';
    if (!c->db[0])
        return cli_usage(a, "no registry given: use --db PATH or set [registry] db in tunnus.conf");
    if (conf_finish(c, &e) != TN_OK)
        return cli_fail(a, &e);
    return 0;
}

int cli_open(const cli_args *a, svc **out)
{
    conf c;
    int rc = cli_conf(a, &c);
    if (rc)
        return rc;
    tn_err e;
    tn_err_clear(&e);
    if (svc_open(&c, out, &e) != TN_OK)
        return cli_fail(a, &e);
    if (a->as_of) {
        tn_date d;
        if (date_parse_iso(a->as_of, &d, "as-of", &e) != TN_OK) {
            svc_close(*out);
            *out = NULL;
            return cli_fail(a, &e);
        }
        svc_set_today(*out, d);
    }
    return 0;
}

int cli_session(const cli_args *a, svc **out, svc_actor *act)
{
    int rc = cli_open(a, out);
    if (rc == 0)
        svc_actor_local(act, SVC_CH_CLI);
    return rc;
}

int cli_main(int argc, char **argv)
{
    cli_args a;
    memset(&a, 0, sizeof a);
    int i = 1;
    /* Globals before the command word. */
    for (; i < argc; i++) {
        int err = 0;
        if (!take_global(&a, argc, argv, &i, &err))
            break;
        if (err)
            return err;
    }
    if (i >= argc) {
        fputs(usage_text, stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[i++];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        puts("tunnus 0.1.0");
        return CLI_EXIT_OK;
    }
    static const struct {
        const char *name;
        int (*fn)(cli_args *, int, char **);
    } cmds[] = {
        {"init", cli_cmd_init},           {"status", cli_cmd_status},
        {"person", cli_cmd_person},       {"affiliation", cli_cmd_affiliation},
        {"account", cli_cmd_account},     {"orgunit", cli_cmd_orgunit},
        {"audit", cli_cmd_audit},
        {"policy", cli_cmd_policy},       {"lifecycle", cli_cmd_lifecycle},
        {"import", cli_cmd_import},
        {"report", cli_cmd_report},
        {"source", cli_cmd_source},
        {"serve", cli_cmd_serve},
        {"role", cli_cmd_role},
        {"provision", cli_cmd_provision},
        {"client", cli_cmd_client},
    };
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (strcmp(cmd, cmds[k].name) == 0)
            return cmds[k].fn(&a, argc - i, argv + i);
    return cli_usage(&a, "unknown command %s (try tunnus --help)", cmd);
}

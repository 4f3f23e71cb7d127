/* cli — the `tunnus` command line: parse, call one service function, print.
 *
 * Exit codes (docs/cli.md): 0 success, 1 internal or I/O failure, 2 usage,
 * 3 validation, 4 not found, 5 conflict, 6 denied, 7 not allowed in the
 * current state. */
#ifndef CLI_H
#define CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "service.h"
#include "tn_err.h"

enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILURE = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_INVALID = 3,
    CLI_EXIT_NOTFOUND = 4,
    CLI_EXIT_CONFLICT = 5,
    CLI_EXIT_DENIED = 6,
    CLI_EXIT_STATE = 7,
};

#define CLI_MAX_OPTS 32
#define CLI_MAX_POS 8

/* Parsed arguments of one command. */
typedef struct cli_args {
    const char *pos[CLI_MAX_POS];
    int npos;
    struct {
        const char *name;
        const char *value; /* "" for flags */
    } opt[CLI_MAX_OPTS];
    int nopt;
    /* global options */
    const char *db;
    const char *config;
    const char *as_of;
    bool json;
} cli_args;

/* An option a command accepts: name without dashes; takes_value. */
typedef struct cli_optspec {
    const char *name;
    bool takes_value;
} cli_optspec;

int cli_main(int argc, char **argv);

/* Helpers for command modules. */
const char *cli_opt(const cli_args *a, const char *name);
bool cli_flag(const cli_args *a, const char *name);
int cli_exit_code(tn_code rc);
/* Print an error (JSON on stderr with --json) and return its exit code. */
int cli_fail(const cli_args *a, const tn_err *e);
int cli_usage(const cli_args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Load the configuration and open the registry. */
int cli_open(const cli_args *a, svc **out);
/* Open the registry and act as the local administrator on the CLI
 * channel: what every registry command does first. */
int cli_session(const cli_args *a, svc **out, svc_actor *act);
/* Load configuration only (for init). */
int cli_conf(const cli_args *a, conf *c);

/* Command groups (cli_person.c, cli_unit.c). */
int cli_cmd_person(cli_args *a, int argc, char **argv);
int cli_cmd_affiliation(cli_args *a, int argc, char **argv);
int cli_cmd_account(cli_args *a, int argc, char **argv);
int cli_cmd_orgunit(cli_args *a, int argc, char **argv);
int cli_cmd_init(cli_args *a, int argc, char **argv);
int cli_cmd_status(cli_args *a, int argc, char **argv);
int cli_cmd_audit(cli_args *a, int argc, char **argv); /* cli_audit.c */
/* cli_lifecycle.c */
int cli_cmd_policy(cli_args *a, int argc, char **argv);
int cli_cmd_lifecycle(cli_args *a, int argc, char **argv);
int cli_person_hold(cli_args *a, int argc, char **argv);
/* The handover windows (LC-8) of a person, for person show and forecast
 * (cli_lifecycle.c); the list type is svc_lc_handover (svc_lifecycle.h). */
struct svc_lc_handover;
struct json_t;
struct json_t *cli_json_handovers(const struct svc_lc_handover *h, size_t n);
void cli_text_handovers(FILE *f, int64_t number, const struct svc_lc_handover *h, size_t n);
/* cli_import.c */
int cli_cmd_import(cli_args *a, int argc, char **argv);
/* cli_report.c */
int cli_cmd_report(cli_args *a, int argc, char **argv);
int cli_cmd_source(cli_args *a, int argc, char **argv); /* cli_source.c */
/* cli_serve.c: the LDAP server and account passwords */
int cli_cmd_serve(cli_args *a, int argc, char **argv);
int cli_cmd_client(cli_args *a, int argc, char **argv); /* cli_client.c */
int cli_account_passwd(cli_args *a, int argc, char **argv);
/* cli_role.c: role grants; a person's error reports (argv[0] is the
 * person subcommand: report-error, errors, error-close) */
int cli_cmd_role(cli_args *a, int argc, char **argv);
int cli_person_errors(cli_args *a, int argc, char **argv);
/* cli_prov.c: provisioning to the configured targets */
int cli_cmd_provision(cli_args *a, int argc, char **argv);

/* Parse the rest of argv against spec into a (positionals and options). */
int cli_parse(cli_args *a, int argc, char **argv, const cli_optspec *spec);

#endif

/* ldap_server — the LDAPv3 directory front end (`tunnus serve`).
 *
 * Speaks RFC 4511 over TCP on the configured address and answers from the
 * registry through the service layer (svc_dir.h): the protocol is parsed
 * and encoded here, every access decision and audit event is the
 * service's. docs/ldap.md describes the tree and what is supported. */
#ifndef LDAP_FRONT_H
#define LDAP_FRONT_H

#include <stdbool.h>
#include <stdio.h>

#include "conf.h"
#include "tn_err.h"

typedef struct ld_serve_opts {
    const char *listen; /* NULL: [ldap] listen */
    int port;           /* -1: [ldap] port; 0: any free port */
    int ldaps_port;     /* -2: [ldap] ldaps_port; -1: no LDAPS; 0: any free port */
    FILE *log;          /* where "listening on ADDR:PORT" and problems go */
    /* Called once the listeners are announced (other front ends announce
     * theirs after, so that the first line is always the LDAP one). */
    void (*on_ready)(void *ctx);
    void *ready_ctx;
} ld_serve_opts;

/* Serve until SIGINT or SIGTERM. c must have been through conf_finish. */
tn_code ld_serve(const conf *c, const ld_serve_opts *o, tn_err *e);

#endif

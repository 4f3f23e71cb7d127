/* http_server — the HTTP front end of `tunnus serve` (libmicrohttpd):
 * SCIM 2.0 under /scim/v2 (docs/scim.md), /healthz and Prometheus
 * /metrics, over HTTP and optionally HTTPS with the same PEM certificate
 * and key as LDAPS ([http] tls_cert/tls_key default to [ldap]'s).
 *
 * Worker threads each keep their own registry handle; read events are
 * made durable (svc_flush) before an answer is queued. Callers of the
 * LDAP server start this first, with SIGINT, SIGTERM and SIGPIPE already
 * blocked, so that the workers inherit the mask and the LDAP loop's
 * signalfd sees every stop signal. */
#ifndef HTTP_SERVER_H
#define HTTP_SERVER_H

#include <stdio.h>

#include "conf.h"
#include "tn_err.h"

typedef struct hs_server hs_server;

typedef struct hs_opts {
    const char *listen; /* NULL: [http] listen */
    int port;           /* listening port; 0: any free port */
    int https_port;     /* -1: no HTTPS; 0: any free port */
} hs_opts;

tn_code hs_start(const conf *c, const hs_opts *o, hs_server **out, tn_err *e);
/* Print "tunnus serve: http listening on ADDR:PORT" (and https). */
void hs_announce(const hs_server *h, FILE *log);
void hs_stop(hs_server *h);

#endif

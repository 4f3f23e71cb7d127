/* TLS for the directory (RFC 4513 3, and LDAPS): the server credentials
 * built once from [ldap] tls_cert and tls_key, the handshake on a
 * connection (at accept for LDAPS, after a successful StartTLS response
 * otherwise), and the byte I/O that the session uses whether or not TLS
 * is on. GnuTLS, the TLS library of the HTTP front end (libmicrohttpd)
 * and of Debian's libldap too: one TLS stack and one certificate format
 * for every front end and connector. */
#include <errno.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ldap_int.h"
#include "tn_mem.h"

struct ld_tls_ctx {
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
};

/* TLS 1.2 and 1.3 only, the library's default suites within them. */
static const char PRIORITY[] = "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";

struct ld_tls_ctx *ld_tls_ctx_new(const conf *c, tn_err *e)
{
    struct ld_tls_ctx *t = tn_calloc(1, sizeof *t);
    int rc = gnutls_certificate_allocate_credentials(&t->cred);
    if (rc < 0) {
        tn_err_set(e, TN_EIO, "tls_cert", "cannot create TLS credentials: %s", gnutls_strerror(rc));
        goto fail;
    }
    rc = gnutls_certificate_set_x509_key_file2(t->cred, c->ldap_tls_cert, c->ldap_tls_key,
                                               GNUTLS_X509_FMT_PEM, NULL, 0);
    if (rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH) {
        tn_err_set(e, TN_EINVAL, "tls_key", "the private key does not match the certificate");
        goto fail;
    }
    if (rc < 0) {
        tn_err_set(e, TN_EINVAL, "tls_cert", "cannot load the certificate %s and key %s: %s",
                   c->ldap_tls_cert, c->ldap_tls_key, gnutls_strerror(rc));
        goto fail;
    }
    if ((rc = gnutls_priority_init(&t->prio, PRIORITY, NULL)) < 0) {
        tn_err_set(e, TN_EINTERNAL, "tls_cert", "TLS priorities: %s", gnutls_strerror(rc));
        goto fail;
    }
    return t;
fail:
    ld_tls_ctx_free(t);
    return NULL;
}

void ld_tls_ctx_free(struct ld_tls_ctx *t)
{
    if (!t)
        return;
    if (t->prio)
        gnutls_priority_deinit(t->prio);
    if (t->cred)
        gnutls_certificate_free_credentials(t->cred);
    free(t);
}

bool ld_tls_start(ld_sess *ss)
{
    /* A client that stalls mid-handshake or mid-record must not hold the
     * thread past the idle timeout: blocking reads and writes time out,
     * and GnuTLS then reports GNUTLS_E_AGAIN, taken as the end here. */
    struct timeval tv = {(time_t)ss->cfg->ldap_idle_timeout, 0};
    setsockopt(ss->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(ss->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    gnutls_session_t s;
    /* Sessions are not resumed: one handshake per connection is cheap next
     * to a bind, and no tickets means no ticket key shared across threads. */
    if (gnutls_init(&s, GNUTLS_SERVER | GNUTLS_NO_TICKETS) < 0)
        return false;
    int rc;
    if ((rc = gnutls_priority_set(s, ss->tls_ctx->prio)) < 0 ||
        (rc = gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, ss->tls_ctx->cred)) < 0) {
        gnutls_deinit(s);
        return false;
    }
    gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
    gnutls_transport_set_int(s, ss->fd);
    gnutls_handshake_set_timeout(s, ss->cfg->ldap_idle_timeout * 1000u);
    do
        rc = gnutls_handshake(s);
    while (rc == GNUTLS_E_INTERRUPTED);
    if (rc < 0) {
        gnutls_deinit(s);
        return false;
    }
    ss->ssl = s;
    return true;
}

void ld_tls_end(ld_sess *ss)
{
    if (!ss->ssl)
        return;
    /* Send close_notify; do not wait for the peer's. */
    (void)gnutls_bye(ss->ssl, GNUTLS_SHUT_WR);
    gnutls_deinit(ss->ssl);
    ss->ssl = NULL;
}

bool ld_io_pending(ld_sess *ss)
{
    return ss->ssl && gnutls_record_check_pending(ss->ssl) > 0;
}

bool ld_io_send(ld_sess *ss, const char *p, size_t n)
{
    while (n) {
        if (ss->ssl) {
            ssize_t w = gnutls_record_send(ss->ssl, p, n);
            if (w == GNUTLS_E_INTERRUPTED)
                continue;
            if (w <= 0)
                return false; /* a TLS error, or the send timeout (GNUTLS_E_AGAIN) */
            p += w;
            n -= (size_t)w;
            continue;
        }
        /* Never blocking: a worker waits for a slow reader in
         * ld_sess_wait_writable, which keeps the other sessions served. */
        ssize_t w = send(ss->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if ((errno == EAGAIN || errno == EWOULDBLOCK) && ld_sess_wait_writable(ss))
                continue;
            return false;
        }
        p += w;
        n -= (size_t)w;
    }
    return true;
}

long ld_io_recv(ld_sess *ss, unsigned char *buf, size_t n)
{
    ssize_t r;
    if (!ss->ssl) {
        do
            r = recv(ss->fd, buf, n, 0);
        while (r < 0 && errno == EINTR);
        return (long)r;
    }
    do
        r = gnutls_record_recv(ss->ssl, buf, n);
    while (r == GNUTLS_E_INTERRUPTED);
    if (r >= 0)
        return (long)r; /* 0: close_notify */
    return -1; /* a TLS error, a renegotiation attempt or a timeout: the session ends */
}

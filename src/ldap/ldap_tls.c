/* TLS for the directory (RFC 4513 3, and LDAPS): the server context built
 * once from [ldap] tls_cert and tls_key, the handshake on a connection
 * (at accept for LDAPS, after a successful StartTLS response otherwise),
 * and the byte I/O that the session uses whether or not TLS is on. */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "ldap_int.h"

struct ssl_ctx_st *ld_tls_ctx_new(const conf *c, tn_err *e)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    unsigned long err;
    if (!ctx) {
        tn_err_set(e, TN_EIO, "tls_cert", "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    /* Sessions are not resumed: one handshake per connection is cheap next
     * to a bind, and no session cache means nothing shared across threads. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, c->ldap_tls_cert) != 1) {
        err = ERR_get_error();
        tn_err_set(e, TN_EINVAL, "tls_cert", "cannot load the certificate %s: %s",
                   c->ldap_tls_cert, ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "?");
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, c->ldap_tls_key, SSL_FILETYPE_PEM) != 1) {
        err = ERR_get_error();
        tn_err_set(e, TN_EINVAL, "tls_key", "cannot load the private key %s: %s", c->ldap_tls_key,
                   ERR_reason_error_string(err) ? ERR_reason_error_string(err) : "?");
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tn_err_set(e, TN_EINVAL, "tls_key", "the private key does not match the certificate");
        goto fail;
    }
    ERR_clear_error();
    return ctx;
fail:
    ERR_clear_error();
    SSL_CTX_free(ctx);
    return NULL;
}

void ld_tls_ctx_free(struct ssl_ctx_st *ctx)
{
    SSL_CTX_free(ctx);
}

bool ld_tls_start(ld_sess *ss)
{
    /* A client that stalls mid-handshake or mid-record must not hold the
     * thread past the idle timeout: blocking reads and writes time out. */
    struct timeval tv = {(time_t)ss->cfg->ldap_idle_timeout, 0};
    setsockopt(ss->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(ss->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    SSL *ssl = SSL_new(ss->tls_ctx);
    if (!ssl)
        return false;
    if (SSL_set_fd(ssl, ss->fd) != 1 || SSL_accept(ssl) != 1) {
        ERR_clear_error();
        SSL_free(ssl);
        return false;
    }
    ss->ssl = ssl;
    return true;
}

void ld_tls_end(ld_sess *ss)
{
    if (!ss->ssl)
        return;
    (void)SSL_shutdown(ss->ssl); /* send close_notify; do not wait for the peer's */
    ERR_clear_error();
    SSL_free(ss->ssl);
    ss->ssl = NULL;
}

bool ld_io_pending(ld_sess *ss)
{
    return ss->ssl && SSL_has_pending(ss->ssl);
}

bool ld_io_send(ld_sess *ss, const char *p, size_t n)
{
    while (n) {
        if (ss->ssl) {
            size_t w = 0;
            if (SSL_write_ex(ss->ssl, p, n, &w) != 1) {
                ERR_clear_error();
                return false;
            }
            p += w;
            n -= w;
            continue;
        }
        ssize_t w = send(ss->fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
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
    if (!ss->ssl) {
        ssize_t r;
        do
            r = recv(ss->fd, buf, n, 0);
        while (r < 0 && errno == EINTR);
        return (long)r;
    }
    size_t got = 0;
    if (SSL_read_ex(ss->ssl, buf, n, &got) == 1)
        return (long)got;
    ERR_clear_error();
    return -1; /* close_notify, a TLS error or a timeout: the session ends */
}

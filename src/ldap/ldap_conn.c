/* The listener and the sessions: one thread per connection up to
 * [ldap] max_connections, each with a registry handle (its own SQLite
 * connection) taken from a pool, a read buffer bounded by max_pdu, an
 * idle timeout, and the per-operation arena. Requests on one connection
 * are answered in order; an abandon therefore always arrives after the
 * operation it names has finished, and is a no-op. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "ldap_server.h"
#include "ldap_int.h"
#include "tn_mem.h"
#include "tn_net.h"
#include "tn_str.h"

#define READ_INITIAL 16384
/* How long a stop waits for session threads. Their sockets are shut down
 * first, so a thread blocked on the network returns at once; one that is
 * busy (an argon2id hash takes seconds under a sanitizer on a loaded
 * machine) finishes its operation and exits. Leaving before they are done
 * made the process exit under running threads: the ASan build then reports
 * their memory as leaked. So the wait is long, and only a thread that is
 * truly stuck is left behind. */
#define STOP_WAIT_MS 60000
#define STOP_NOTE_MS 3000

struct ld_server {
    const conf *cfg;
    ld_tree tree;
    FILE *log;
    pthread_mutex_t mu;
    pthread_cond_t idle;
    svc **pool;
    size_t npool;
    int *fds;          /* open connections, for shutdown on stop */
    unsigned nconns;
    bool stopping;
    struct ld_tls_ctx *tls; /* NULL: no TLS configured */
};

static tn_date today_local(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static svc *pool_get(ld_server *srv, tn_err *e)
{
    svc *s = NULL;
    pthread_mutex_lock(&srv->mu);
    if (srv->npool)
        s = srv->pool[--srv->npool];
    pthread_mutex_unlock(&srv->mu);
    if (!s) {
        if (svc_open(srv->cfg, &s, e) != TN_OK)
            return NULL;
        svc_set_read_audit(s, srv->cfg->ldap_read_audit);
        if (svc_dir_tune(s, srv->cfg->ldap_cache_kib, (int64_t)srv->cfg->ldap_mmap_mib << 20, e) !=
            TN_OK) {
            svc_close(s);
            return NULL;
        }
    }
    svc_set_today(s, today_local());
    return s;
}

static void pool_put(ld_server *srv, svc *s)
{
    pthread_mutex_lock(&srv->mu);
    if (srv->npool < srv->cfg->ldap_max_connections && !srv->stopping) {
        srv->pool[srv->npool++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&srv->mu);
    if (s)
        svc_close(s);
}

int ld_code_for(tn_code rc)
{
    switch (rc) {
    case TN_OK:
        return LD_SUCCESS;
    case TN_EDENIED:
        return LD_INSUFFICIENT_ACCESS;
    case TN_ENOTFOUND:
        return LD_NO_SUCH_OBJECT;
    case TN_EIO:
        return LD_BUSY;
    default:
        return LD_OTHER;
    }
}

bool ld_sess_flush(ld_sess *ss)
{
    struct berval bv;
    if (!ld_out_take(&ss->out, &bv))
        return false;
    if (bv.bv_len == 0)
        return true;
    /* Nothing read leaves before its audit event is durable. */
    tn_err e;
    tn_err_clear(&e);
    if (ss->s && svc_flush(ss->s, &e) != TN_OK) {
        fprintf(ss->srv->log, "tunnus serve: audit flush failed, closing %s: %s\n", ss->peer,
                e.msg);
        return false;
    }
    return ld_io_send(ss, bv.bv_val, bv.bv_len);
}

bool ld_sess_result(ld_sess *ss, ber_int_t msgid, ber_tag_t tag, int code, const char *matched,
                    const char *msg)
{
    return ld_put_result(&ss->out, msgid, tag, code, matched, msg) && ld_sess_flush(ss);
}

/* The unsolicited Notice of Disconnection (RFC 4511 4.4.1), then close. */
static void notice(ld_sess *ss, int code, const char *msg)
{
    BerElement *ber = ld_out_ber(&ss->out);
    if (ber_printf(ber, "{it{essts}}", (ber_int_t)0, (ber_tag_t)LD_RES_EXTENDED, (ber_int_t)code,
                   "", msg, (ber_tag_t)LD_TAG_EXRES_NAME, LD_OID_NOTICE_DISCONNECT) != -1)
        (void)ld_sess_flush(ss);
    ss->closing = true;
    ss->noticed = true;
}

/* After a notice, close gently: stop sending, then read and drop what the
 * client still sends for a moment, so that closing with unread data (a
 * TCP reset) does not destroy the notice before the client reads it. */
static void linger_close(int fd)
{
    char junk[4096];
    shutdown(fd, SHUT_WR);
    for (int i = 0; i < 64; i++) {
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 200) <= 0)
            break;
        ssize_t n = recv(fd, junk, sizeof junk, 0);
        if (n <= 0)
            break;
    }
}

typedef bool (*op_fn)(ld_sess *, const ld_msg *, BerElement *);

static const struct {
    ber_tag_t op, res;
    op_fn fn;
} ops[] = {
    {LD_REQ_BIND, LD_RES_BIND, ld_op_bind},
    {LD_REQ_SEARCH, LD_RES_SEARCH_DONE, ld_op_search},
    {LD_REQ_COMPARE, LD_RES_COMPARE, ld_op_compare},
    {LD_REQ_EXTENDED, LD_RES_EXTENDED, ld_op_extended},
    {LD_REQ_MODIFY, LD_RES_MODIFY, ld_op_update},
    {LD_REQ_ADD, LD_RES_ADD, ld_op_update},
    {LD_REQ_DELETE, LD_RES_DELETE, ld_op_update},
    {LD_REQ_MODDN, LD_RES_MODDN, ld_op_update},
    {LD_REQ_ABANDON, 0, ld_op_abandon},
    {LD_REQ_UNBIND, 0, ld_op_unbind},
};

static bool handle_pdu(ld_sess *ss, const unsigned char *pdu, size_t len)
{
    ld_msg m;
    if (!ld_msg_decode(ss->in, pdu, len, &m)) {
        notice(ss, LD_PROTOCOL_ERROR, "malformed LDAPMessage");
        return false;
    }
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (ops[i].op != m.op)
            continue;
        ld_arena_reset(&ss->arena);
        const ld_control *c = ops[i].res ? ld_unsupported_critical(&m) : NULL;
        if (c) {
            char msg[160];
            snprintf(msg, sizeof msg, "critical control %.*s is not supported",
                     (int)(c->oid.bv_len > 100 ? 100 : c->oid.bv_len), c->oid.bv_val);
            return ld_sess_result(ss, m.msgid, ops[i].res, LD_UNAVAILABLE_CRITICAL_EXTENSION, "",
                                  msg);
        }
        ld_op_begin(ss->in, &m);
        /* "In force today" follows the clock on long-lived connections. */
        svc_set_today(ss->s, today_local());
        /* The operation's reads share one registry snapshot. */
        svc_request_begin(ss->s);
        bool ok = ops[i].fn(ss, &m, ss->in);
        svc_request_end(ss->s);
        ld_arena_reset(&ss->arena);
        return ok && !ss->closing;
    }
    notice(ss, LD_PROTOCOL_ERROR, "unknown operation");
    return false;
}

static void serve_conn(ld_sess *ss)
{
    const conf *c = ss->cfg;
    size_t cap = READ_INITIAL, len = 0;
    size_t max = (size_t)c->ldap_max_pdu + 9;
    unsigned char *buf = tn_malloc(cap);
    for (;;) {
        size_t plen;
        ld_frame fr;
        while ((fr = ld_frame_check(buf, len, c->ldap_max_pdu, &plen)) == LD_FRAME_OK) {
            /* liblber's in-place decoding ('m') terminates each string by
             * writing a NUL over the byte after it, which for the last one
             * is the byte after the PDU: the next PDU's first byte, or the
             * spare byte kept at the end of the buffer. Save and restore. */
            unsigned char after = buf[plen];
            bool ok = handle_pdu(ss, buf, plen);
            buf[plen] = after;
            memmove(buf, buf + plen, len - plen);
            len -= plen;
            if (!ok)
                goto out;
            if (ss->start_tls) {
                /* RFC 4511 4.14.1: nothing may follow the request before
                 * the response; anything that did cannot be trusted. */
                ss->start_tls = false;
                if (len != 0 || !ld_tls_start(ss))
                    goto out;
            }
        }
        if (fr == LD_FRAME_MALFORMED) {
            notice(ss, LD_PROTOCOL_ERROR, "malformed BER");
            goto out;
        }
        if (fr == LD_FRAME_TOO_BIG) {
            notice(ss, LD_PROTOCOL_ERROR, "request larger than the maximum PDU size");
            goto out;
        }
        if (len + 1 >= cap) {
            cap = cap * 2 > max ? max : cap * 2;
            buf = tn_realloc(buf, cap);
        }
        struct pollfd pfd = {ss->fd, POLLIN, 0};
        int pr = ld_io_pending(ss) ? 1 : poll(&pfd, 1, (int)c->ldap_idle_timeout * 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            notice(ss, LD_UNAVAILABLE, "idle timeout");
            goto out;
        }
        if (pr < 0)
            goto out;
        long n = ld_io_recv(ss, buf + len, cap - len - 1); /* one spare byte */
        if (n <= 0)
            goto out;
        len += (size_t)n;
    }
out:
    free(buf);
}

static void *conn_thread(void *arg)
{
    ld_sess *ss = arg;
    ld_server *srv = ss->srv;
    tn_err e;
    tn_err_clear(&e);
    ss->s = pool_get(srv, &e);
    ss->in = ber_alloc_t(0);
    ld_out_init(&ss->out);
    ld_arena_init(&ss->arena, (size_t)ss->cfg->ldap_max_pdu * 4 + 65536);
    svc_dir_actor_anonymous(&ss->actor, ss->peer);
    if (!ss->s) {
        fprintf(srv->log, "tunnus serve: cannot open the registry: %s\n", e.msg);
        notice(ss, LD_UNAVAILABLE, "the registry is not available");
    } else if (ss->in && (!ss->ldaps || ld_tls_start(ss))) {
        serve_conn(ss);
    }
    ld_tls_end(ss);
    if (ss->s)
        pool_put(srv, ss->s);
    if (ss->in)
        ber_free(ss->in, 0);
    ld_out_free(&ss->out);
    ld_arena_free(&ss->arena);
    if (ss->noticed)
        linger_close(ss->fd);
    pthread_mutex_lock(&srv->mu);
    for (unsigned i = 0; i < srv->cfg->ldap_max_connections; i++)
        if (srv->fds[i] == ss->fd) {
            srv->fds[i] = -1;
            break;
        }
    close(ss->fd);
    srv->nconns--;
    pthread_cond_signal(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    free(ss);
    return NULL;
}

static void peer_name(const struct sockaddr_storage *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, host, sizeof host);
    else if (sa->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, host, sizeof host);
    tn_strlcpy(out, host, cap);
}

static bool is_loopback(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->ss_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

static void accept_one(ld_server *srv, int lfd, const ld_tree *tree, bool ldaps)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    pthread_mutex_lock(&srv->mu);
    bool full = srv->nconns >= srv->cfg->ldap_max_connections;
    if (!full) {
        srv->nconns++;
        for (unsigned i = 0; i < srv->cfg->ldap_max_connections; i++)
            if (srv->fds[i] < 0) {
                srv->fds[i] = fd;
                break;
            }
    }
    pthread_mutex_unlock(&srv->mu);
    ld_sess *ss = tn_calloc(1, sizeof *ss);
    ss->srv = srv;
    ss->cfg = srv->cfg;
    ss->tree = tree;
    ss->fd = fd;
    ss->tls_ctx = srv->tls;
    ss->ldaps = ldaps;
    ss->peer_loopback = is_loopback(&sa);
    peer_name(&sa, ss->peer, sizeof ss->peer);
    if (full && ldaps) {
        /* No notice before a handshake: a TLS client could not read it. */
        close(fd);
        free(ss);
        return;
    }
    if (full) {
        /* Tell the client why before closing (RFC 4511 4.4.1). */
        ld_out_init(&ss->out);
        notice(ss, LD_BUSY, "too many connections");
        ld_out_free(&ss->out);
        shutdown(fd, SHUT_WR);
        close(fd);
        free(ss);
        return;
    }
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 1u << 20);
    pthread_t th;
    if (pthread_create(&th, &at, conn_thread, ss) != 0) {
        pthread_mutex_lock(&srv->mu);
        for (unsigned i = 0; i < srv->cfg->ldap_max_connections; i++)
            if (srv->fds[i] == fd)
                srv->fds[i] = -1;
        srv->nconns--;
        pthread_mutex_unlock(&srv->mu);
        close(fd);
        free(ss);
    }
    pthread_attr_destroy(&at);
}

tn_code ld_serve(const conf *c, const ld_serve_opts *o, tn_err *e)
{
    /* On the heap: a session thread that outlives the stop wait still
     * points at it until the process exits. */
    ld_server *srv = tn_calloc(1, sizeof *srv);
    srv->cfg = c;
    srv->log = o->log ? o->log : stderr;
    if (!ld_tree_init(&srv->tree, c)) {
        free(srv);
        return tn_err_set(e, TN_EINVAL, "base", "[ldap] base or service_dn is not a valid DN");
    }
    int ldaps_port = o->ldaps_port >= -1 ? o->ldaps_port : c->ldap_ldaps_port;
    if (c->ldap_tls_cert[0] && !(srv->tls = ld_tls_ctx_new(c, e))) {
        free(srv);
        return e->code;
    }
    if (ldaps_port >= 0 && !srv->tls) {
        free(srv);
        return tn_err_set(e, TN_EUSAGE, "ldaps_port", "LDAPS needs [ldap] tls_cert and tls_key");
    }
    /* Open one handle first, so that a wrong path or key fails at start. */
    svc *first;
    tn_code rc = svc_open(c, &first, e);
    if (rc != TN_OK) {
        ld_tls_ctx_free(srv->tls);
        free(srv);
        return rc;
    }

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGPIPE);
    /* Blocked here and so in every connection thread; the main loop reads
     * them from a signalfd. */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    int sfd = signalfd(-1, &mask, SFD_CLOEXEC);
    char bound[128], sbound[128] = "";
    const char *addr = o->listen ? o->listen : c->ldap_listen;
    int lfd = tn_net_listen(addr, o->port >= 0 ? o->port : (int)c->ldap_port, "LDAP", bound,
                            sizeof bound, e);
    int slfd = -1;
    if (lfd >= 0 && ldaps_port >= 0) {
        slfd = tn_net_listen(addr, ldaps_port, "LDAPS", sbound, sizeof sbound, e);
        if (slfd < 0) {
            close(lfd);
            lfd = -1;
        }
    }
    if (lfd < 0 || sfd < 0) {
        svc_close(first);
        if (sfd >= 0)
            close(sfd);
        if (lfd >= 0)
            close(lfd);
        ld_tls_ctx_free(srv->tls);
        free(srv);
        return lfd < 0 ? e->code : tn_err_set(e, TN_EIO, NULL, "signalfd failed");
    }
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->idle, NULL);
    srv->pool = tn_calloc(c->ldap_max_connections, sizeof *srv->pool);
    srv->fds = tn_malloc(c->ldap_max_connections * sizeof *srv->fds);
    for (unsigned i = 0; i < c->ldap_max_connections; i++)
        srv->fds[i] = -1;
    svc_set_read_audit(first, c->ldap_read_audit);
    if (svc_dir_tune(first, c->ldap_cache_kib, (int64_t)c->ldap_mmap_mib << 20, e) != TN_OK) {
        svc_close(first);
        close(lfd);
        if (slfd >= 0)
            close(slfd);
        close(sfd);
        ld_tls_ctx_free(srv->tls);
        free(srv->pool);
        free(srv->fds);
        free(srv);
        return e->code;
    }
    srv->pool[srv->npool++] = first;
    fprintf(srv->log, "tunnus serve: ldap listening on %s base %s%s\n", bound, c->ldap_base,
            srv->tls ? " (StartTLS available)" : "");
    if (slfd >= 0)
        fprintf(srv->log, "tunnus serve: ldaps listening on %s\n", sbound);
    fflush(srv->log);
    if (o->on_ready)
        o->on_ready(o->ready_ctx);

    for (;;) {
        struct pollfd pf[3] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}, {slfd, POLLIN, 0}};
        int pr = poll(pf, slfd >= 0 ? 3 : 2, -1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0 || (pf[1].revents & POLLIN))
            break;
        if (pf[0].revents & POLLIN)
            accept_one(srv, lfd, &srv->tree, false);
        if (slfd >= 0 && (pf[2].revents & POLLIN))
            accept_one(srv, slfd, &srv->tree, true);
    }
    close(lfd);
    if (slfd >= 0)
        close(slfd);
    close(sfd);

    /* Stop: end every session and wait a moment for their threads. */
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    for (unsigned i = 0; i < c->ldap_max_connections; i++)
        if (srv->fds[i] >= 0)
            shutdown(srv->fds[i], SHUT_RDWR);
    struct timespec until, note;
    clock_gettime(CLOCK_REALTIME, &until);
    note = until;
    until.tv_sec += STOP_WAIT_MS / 1000;
    note.tv_sec += STOP_NOTE_MS / 1000;
    bool noted = false;
    while (srv->nconns > 0) {
        int w = pthread_cond_timedwait(&srv->idle, &srv->mu, noted ? &until : &note);
        if (w == 0)
            continue;
        if (noted)
            break;
        noted = true;
        fprintf(srv->log, "tunnus serve: waiting for %u sessions to finish\n", srv->nconns);
    }
    bool drained = srv->nconns == 0;
    for (size_t i = 0; i < srv->npool; i++)
        svc_close(srv->pool[i]);
    srv->npool = 0;
    pthread_mutex_unlock(&srv->mu);
    fprintf(srv->log, "tunnus serve: stopped\n");
    if (!drained)
        return TN_OK; /* threads still running own srv: leave it to exit() */
    free(srv->pool);
    free(srv->fds);
    ld_tls_ctx_free(srv->tls);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->idle);
    free(srv);
    return TN_OK;
}

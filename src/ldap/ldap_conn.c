/* The listener and the sessions. Plain sessions wait in one epoll set
 * (one-shot) and are served by a small pool of workers ([ldap] workers),
 * each with its own registry handle (SQLite connection); TLS sessions
 * get a thread of their own. Every session has a read buffer bounded by
 * max_pdu, an idle timeout and the per-operation arena. Requests on one
 * connection are answered in order (a session is with one worker at a
 * time); an abandon therefore always arrives after the operation it
 * names has finished, and is a no-op. */
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
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "date.h"
#include "ldap_server.h"
#include "ldap_int.h"
#include "svc_client.h"
#include "tn_mem.h"
#include "tn_net.h"
#include "tn_str.h"

#define READ_INITIAL 16384
/* Requests a session may have answered per turn before others get theirs. */
#define TURN_OPS 16
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
    ld_sess *sessions; /* every open session, under mu */
    unsigned nconns;
    bool stopping;
    struct ld_tls_ctx *tls; /* NULL: no TLS configured */
    tn_throttle *throttle;  /* failed binds per source address */
    int epfd;          /* plain sessions waiting for a request (one-shot) */
    int wakefd;        /* eventfd in epfd: the workers' stop */
    unsigned base_workers;     /* [ldap] workers */
    _Atomic unsigned running;  /* workers as counted for growing and retiring */
    _Atomic unsigned stalled;  /* of them, in a slow section (ld_sess_slow_begin) */
    unsigned alive;            /* worker threads not yet ended, under mu */
    ld_sess *runq_head, *runq_tail; /* under mu (serve_event) */
    _Atomic unsigned runq_len;
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

typedef enum drain_rc { DR_WAIT, DR_CLOSE, DR_TLS, DR_MORE } drain_rc;

/* Answer the complete requests in the session's read buffer, in order, at
 * most max_ops of them (0: all). DR_WAIT: the rest needs more bytes;
 * DR_MORE: max_ops answered and bytes are left; DR_TLS: StartTLS was
 * answered and nothing followed it, the handshake comes next. */
static drain_rc drain(ld_sess *ss, unsigned max_ops)
{
    const conf *c = ss->cfg;
    size_t plen, off = 0;
    ld_frame fr;
    drain_rc rc = DR_WAIT;
    unsigned done = 0;
    while ((fr = ld_frame_check(ss->rbuf + off, ss->rlen - off, c->ldap_max_pdu, &plen)) ==
           LD_FRAME_OK) {
        if (max_ops && done++ == max_ops) {
            rc = DR_MORE;
            break;
        }
        /* liblber's in-place decoding ('m') terminates each string by
         * writing a NUL over the byte after it, which for the last one
         * is the byte after the PDU: the next PDU's first byte, or the
         * spare byte kept at the end of the buffer. Save and restore. */
        unsigned char *pdu = ss->rbuf + off;
        unsigned char after = pdu[plen];
        bool ok = handle_pdu(ss, pdu, plen);
        pdu[plen] = after;
        off += plen;
        if (!ok)
            return DR_CLOSE;
        if (ss->start_tls) {
            /* RFC 4511 4.14.1: nothing may follow the request before
             * the response; anything that did cannot be trusted. */
            ss->start_tls = false;
            if (off != ss->rlen)
                return DR_CLOSE;
            rc = DR_TLS;
            break;
        }
    }
    memmove(ss->rbuf, ss->rbuf + off, ss->rlen - off);
    ss->rlen -= off;
    if (rc == DR_TLS || rc == DR_MORE)
        return rc;
    if (fr == LD_FRAME_MALFORMED) {
        notice(ss, LD_PROTOCOL_ERROR, "malformed BER");
        return DR_CLOSE;
    }
    if (fr == LD_FRAME_TOO_BIG) {
        notice(ss, LD_PROTOCOL_ERROR, "request larger than the maximum PDU size");
        return DR_CLOSE;
    }
    if (ss->rlen + 1 >= ss->rcap) {
        size_t max = (size_t)c->ldap_max_pdu + 9;
        ss->rcap = ss->rcap * 2 > max ? max : ss->rcap * 2;
        ss->rbuf = tn_realloc(ss->rbuf, ss->rcap);
    }
    return DR_WAIT;
}

/* A session on its own thread (TLS): blocking reads with the idle
 * timeout, as the TLS layer needs. */
static void serve_blocking(ld_sess *ss)
{
    const conf *c = ss->cfg;
    for (;;) {
        drain_rc r = drain(ss, 0);
        if (r == DR_CLOSE || (r == DR_TLS && !ld_tls_start(ss)))
            return;
        if (r == DR_TLS)
            continue;
        struct pollfd pfd = {ss->fd, POLLIN, 0};
        int pr = ld_io_pending(ss) ? 1 : poll(&pfd, 1, (int)c->ldap_idle_timeout * 1000);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            notice(ss, LD_UNAVAILABLE, "idle timeout");
            return;
        }
        if (pr < 0)
            return;
        long n = ld_io_recv(ss, ss->rbuf + ss->rlen, ss->rcap - ss->rlen - 1);
        if (n <= 0)
            return;
        ss->rlen += (size_t)n;
    }
}

/* A worker's turn on a plain session: one read if the epoll set reported
 * it readable, then at most TURN_OPS requests. A client that pipelines
 * without pause therefore gets a turn like everyone else, not a worker
 * (DR_MORE: it goes to the back of the run queue). */
static drain_rc serve_turn(ld_sess *ss, bool readable)
{
    size_t room = ss->rcap - ss->rlen - 1;
    if (readable && room > 0) {
        ssize_t n;
        do
            n = recv(ss->fd, ss->rbuf + ss->rlen, room, MSG_DONTWAIT);
        while (n < 0 && errno == EINTR);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return DR_CLOSE;
        if (n > 0)
            ss->rlen += (size_t)n;
    }
    return drain(ss, TURN_OPS);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static ld_sess *sess_new(ld_server *srv, int fd, bool ldaps)
{
    ld_sess *ss = tn_calloc(1, sizeof *ss);
    ss->srv = srv;
    ss->cfg = srv->cfg;
    ss->tree = &srv->tree;
    ss->fd = fd;
    ss->tls_ctx = srv->tls;
    ss->throttle = srv->throttle;
    ss->ldaps = ldaps;
    ss->threaded = ldaps;
    atomic_store(&ss->busy, ldaps);
    ld_out_init(&ss->out);
    ss->rcap = READ_INITIAL;
    ss->rbuf = tn_malloc(ss->rcap);
    return ss;
}

/* Unlink, close and free a session; it must be out of the epoll set. */
static void sess_free(ld_sess *ss)
{
    ld_server *srv = ss->srv;
    ld_tls_end(ss);
    if (ss->in)
        ber_free(ss->in, 0);
    ld_out_free(&ss->out);
    ld_arena_free(&ss->arena);
    free(ss->rbuf);
    pthread_mutex_lock(&srv->mu);
    if (ss->prev)
        ss->prev->next = ss->next;
    else if (srv->sessions == ss)
        srv->sessions = ss->next;
    if (ss->next)
        ss->next->prev = ss->prev;
    close(ss->fd);
    srv->nconns--;
    pthread_cond_signal(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    free(ss);
}

static void *linger_thread(void *arg)
{
    ld_sess *ss = arg;
    linger_close(ss->fd);
    sess_free(ss);
    return NULL;
}

static bool spawn(void *(*fn)(void *), void *arg)
{
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&at, 1u << 20);
    pthread_t th;
    bool ok = pthread_create(&th, &at, fn, arg) == 0;
    pthread_attr_destroy(&at);
    return ok;
}

/* End a session from a worker: after a notice the close lingers, and
 * a worker must not wait on a client, so a short-lived thread does it. */
static void sess_end_async(ld_sess *ss)
{
    if (ss->noticed && spawn(linger_thread, ss))
        return;
    if (ss->noticed) {
        ld_sess_slow_begin(ss);
        linger_close(ss->fd);
        ld_sess_slow_end(ss);
    }
    sess_free(ss);
}

/* A session with a thread of its own, from its TLS handshake on: LDAPS
 * from the start, or a plain one once its StartTLS was answered. GnuTLS
 * reads and writes whole records, which a non-blocking worker would have
 * to resume half-way; a thread per TLS session keeps that simple. */
static void *tls_thread(void *arg)
{
    ld_sess *ss = arg;
    ld_server *srv = ss->srv;
    tn_err e;
    tn_err_clear(&e);
    ss->s = pool_get(srv, &e);
    if (!ss->s) {
        fprintf(srv->log, "tunnus serve: cannot open the registry: %s\n", e.msg);
        if (!ss->ldaps)
            notice(ss, LD_UNAVAILABLE, "the registry is not available");
    } else if (ld_tls_start(ss)) {
        serve_blocking(ss);
    }
    if (ss->s)
        pool_put(srv, ss->s);
    ss->s = NULL;
    if (ss->noticed)
        linger_close(ss->fd);
    sess_free(ss);
    return NULL;
}

static void rearm(ld_server *srv, ld_sess *ss)
{
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = ss};
    atomic_store(&ss->idle_since, now_ms());
    atomic_store(&ss->busy, false);
    if (epoll_ctl(srv->epfd, EPOLL_CTL_MOD, ss->fd, &ev) != 0) {
        fprintf(srv->log, "tunnus serve: epoll: %s\n", strerror(errno));
        sess_end_async(ss);
    }
}

static void *worker_thread(void *arg);

/* Start one worker thread, counted in running (by the caller) and alive. */
static bool start_worker(ld_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    srv->alive++;
    pthread_mutex_unlock(&srv->mu);
    if (spawn(worker_thread, srv))
        return true;
    pthread_mutex_lock(&srv->mu);
    srv->alive--;
    pthread_mutex_unlock(&srv->mu);
    return false;
}

/* Start workers until one is free (or none can be started). */
static void grow_workers(ld_server *srv)
{
    unsigned cap = srv->base_workers + srv->cfg->ldap_max_connections;
    for (;;) {
        unsigned r = atomic_load(&srv->running);
        if (atomic_load(&srv->stalled) < r || r >= cap)
            return;
        if (!atomic_compare_exchange_weak(&srv->running, &r, r + 1))
            continue;
        if (!start_worker(srv)) {
            atomic_fetch_sub(&srv->running, 1);
            return;
        }
    }
}

void ld_sess_slow_begin(ld_sess *ss)
{
    if (ss->threaded)
        return; /* a TLS session's thread is its own */
    ld_server *srv = ss->srv;
    unsigned st = atomic_fetch_add(&srv->stalled, 1) + 1;
    if (st >= atomic_load(&srv->running))
        grow_workers(srv);
}

void ld_sess_slow_end(ld_sess *ss)
{
    if (!ss->threaded)
        atomic_fetch_sub(&ss->srv->stalled, 1);
}

bool ld_sess_wait_writable(ld_sess *ss)
{
    ld_sess_slow_begin(ss);
    struct pollfd pfd = {ss->fd, POLLOUT, 0};
    int pr;
    do
        pr = poll(&pfd, 1, (int)ss->cfg->ldap_idle_timeout * 1000);
    while (pr < 0 && errno == EINTR);
    ld_sess_slow_end(ss);
    return pr > 0 && !(pfd.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* A worker started for stalled ones leaves once none is stalled (not
 * "once fewer are": that would stop and start threads on every bind under
 * a steady stream of them) and nothing waits in the run queue. */
static bool retire(ld_server *srv)
{
    unsigned r = atomic_load(&srv->running);
    while (r > srv->base_workers && atomic_load(&srv->stalled) == 0 &&
           atomic_load(&srv->runq_len) == 0) {
        if (!atomic_compare_exchange_weak(&srv->running, &r, r - 1))
            continue;
        /* A slow section that began meanwhile read the old count and
         * started no one: if the rest are all stalled now, stay. (Both
         * sides change their own counter before reading the other's, so
         * at least one of them sees the other.) */
        if (atomic_load(&srv->stalled) >= r - 1) {
            atomic_fetch_add(&srv->running, 1);
            return false;
        }
        return true;
    }
    return false;
}

/* The run queue: sessions with requests left in their buffer after a
 * turn (the socket may have nothing new, so the epoll set would not bring
 * them back). They stay busy while queued. */
static void runq_push(ld_server *srv, ld_sess *ss)
{
    pthread_mutex_lock(&srv->mu);
    ss->qnext = NULL;
    if (srv->runq_tail)
        srv->runq_tail->qnext = ss;
    else
        srv->runq_head = ss;
    srv->runq_tail = ss;
    atomic_fetch_add(&srv->runq_len, 1);
    pthread_mutex_unlock(&srv->mu);
}

static ld_sess *runq_pop(ld_server *srv)
{
    if (atomic_load(&srv->runq_len) == 0)
        return NULL;
    pthread_mutex_lock(&srv->mu);
    ld_sess *ss = srv->runq_head;
    if (ss) {
        srv->runq_head = ss->qnext;
        if (!srv->runq_head)
            srv->runq_tail = NULL;
        atomic_fetch_sub(&srv->runq_len, 1);
    }
    pthread_mutex_unlock(&srv->mu);
    return ss;
}

/* Give a session a turn (readable: the epoll set reported it); *s is the
 * worker's registry handle, opened on first use. */
static void serve_event(ld_server *srv, ld_sess *ss, svc **s, bool readable)
{
    atomic_store(&ss->busy, true);
    drain_rc r = DR_CLOSE;
    if (atomic_load(&ss->expired)) {
        notice(ss, LD_UNAVAILABLE, "idle timeout");
    } else {
        tn_err e;
        tn_err_clear(&e);
        if (!*s && !(*s = pool_get(srv, &e))) {
            fprintf(srv->log, "tunnus serve: cannot open the registry: %s\n", e.msg);
            notice(ss, LD_UNAVAILABLE, "the registry is not available");
        } else {
            ss->s = *s;
            r = serve_turn(ss, readable);
            ss->s = NULL;
        }
    }
    if (r == DR_MORE) {
        runq_push(srv, ss);
        return;
    }
    if (r == DR_WAIT) {
        rearm(srv, ss);
        return;
    }
    epoll_ctl(srv->epfd, EPOLL_CTL_DEL, ss->fd, NULL);
    ss->threaded = r == DR_TLS;
    if (r != DR_TLS || !spawn(tls_thread, ss))
        sess_end_async(ss);
}

/* A worker: take the next plain session with bytes to read, serve what
 * it sent, put it back. One registry handle per worker, not per session:
 * a few warm page caches instead of many cold ones, and no thread switch
 * per request. */
static void *worker_thread(void *arg)
{
    ld_server *srv = arg;
    svc *s = NULL;
    bool retired = false, stop = false;
    while (!stop && !retired) {
        /* A queued session first, but never without a look at the epoll
         * set: the two take turns. */
        ld_sess *queued = runq_pop(srv);
        /* One session per wake-up: taking several would leave them
         * waiting behind a slow one while another worker sleeps (and
         * measured no faster). While there are extra workers, wake up
         * now and then to retire. */
        struct epoll_event ev;
        int wait = queued ? 0 : atomic_load(&srv->running) > srv->base_workers ? 1000 : -1;
        int n = epoll_wait(srv->epfd, &ev, 1, wait);
        bool failed = n < 0 && errno != EINTR; /* before anything else sets errno */
        if (failed)
            fprintf(srv->log, "tunnus serve: epoll_wait: %s\n", strerror(errno));
        if (n == 1 && ev.data.ptr)
            serve_event(srv, ev.data.ptr, &s, true);
        else if (n == 1)
            stop = true;
        if (queued)
            serve_event(srv, queued, &s, false);
        if (failed && !queued)
            break;
        retired = retire(srv);
    }
    if (s)
        pool_put(srv, s);
    /* Last, under mu: the stop frees srv once alive is 0. */
    pthread_mutex_lock(&srv->mu);
    if (!retired)
        atomic_fetch_sub(&srv->running, 1);
    srv->alive--;
    pthread_cond_broadcast(&srv->idle);
    pthread_mutex_unlock(&srv->mu);
    return NULL;
}

/* End plain sessions silent for longer than the idle timeout. The sweep
 * only marks them and shuts their reading side: that makes the socket
 * readable, and the worker that takes it sends the notice and closes. */
static void idle_sweep(ld_server *srv)
{
    int64_t limit = now_ms() - (int64_t)srv->cfg->ldap_idle_timeout * 1000;
    pthread_mutex_lock(&srv->mu);
    for (ld_sess *ss = srv->sessions; ss; ss = ss->next) {
        /* A threaded session is busy from the start (set before it is listed). */
        if (atomic_load(&ss->busy) || atomic_load(&ss->expired) ||
            atomic_load(&ss->idle_since) > limit)
            continue;
        atomic_store(&ss->expired, true);
        shutdown(ss->fd, SHUT_RD);
    }
    pthread_mutex_unlock(&srv->mu);
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

static void accept_one(ld_server *srv, int lfd, bool ldaps)
{
    struct sockaddr_storage sa;
    socklen_t sl = sizeof sa;
    int fd = accept4(lfd, (struct sockaddr *)&sa, &sl, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ld_sess *ss = sess_new(srv, fd, ldaps);
    ss->peer_loopback = is_loopback(&sa);
    peer_name(&sa, ss->peer, sizeof ss->peer);
    pthread_mutex_lock(&srv->mu);
    bool full = srv->nconns >= srv->cfg->ldap_max_connections;
    if (!full) {
        srv->nconns++;
        ss->next = srv->sessions;
        if (ss->next)
            ss->next->prev = ss;
        srv->sessions = ss;
    }
    pthread_mutex_unlock(&srv->mu);
    if (full) {
        /* Tell the client why before closing (RFC 4511 4.4.1); no notice
         * before a handshake, which a TLS client could not read. */
        if (!ldaps)
            notice(ss, LD_BUSY, "too many connections");
        ld_out_free(&ss->out);
        free(ss->rbuf);
        shutdown(fd, SHUT_WR);
        close(fd);
        free(ss);
        return;
    }
    ss->in = ber_alloc_t(0);
    ld_arena_init(&ss->arena, (size_t)ss->cfg->ldap_max_pdu * 4 + 65536);
    svc_dir_actor_anonymous(&ss->actor, ss->peer);
    if (!ss->in) {
        sess_free(ss);
        return;
    }
    if (ldaps) {
        if (!spawn(tls_thread, ss))
            sess_free(ss);
        return;
    }
    atomic_store(&ss->idle_since, now_ms());
    struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT, .data.ptr = ss};
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        sess_free(ss);
}

/* Wake every worker to leave (they have no sessions left) and wait for
 * them, until *until if given. */
static bool stop_workers(ld_server *srv, const struct timespec *until)
{
    uint64_t one = 1;
    if (write(srv->wakefd, &one, sizeof one) != (ssize_t)sizeof one)
        return false;
    pthread_mutex_lock(&srv->mu);
    while (srv->alive > 0)
        if (until ? pthread_cond_timedwait(&srv->idle, &srv->mu, until) != 0
                  : pthread_cond_wait(&srv->idle, &srv->mu) != 0)
            break;
    bool done = srv->alive == 0;
    pthread_mutex_unlock(&srv->mu);
    return done;
}

static unsigned worker_count(const conf *c)
{
    if (c->ldap_workers)
        return c->ldap_workers;
    /* One per CPU: more only add thread switches (measured: 8 workers on
     * 2 CPUs served 25 % fewer searches than 2), and slow sections start
     * more when they are needed. */
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 2 ? (unsigned)n : 2;
}

tn_code ld_serve(const conf *c, const ld_serve_opts *o, tn_err *e)
{
    /* On the heap: a session thread that outlives the stop wait still
     * points at it until the process exits. */
    ld_server *srv = tn_calloc(1, sizeof *srv);
    srv->cfg = c;
    srv->log = o->log ? o->log : stderr;
    srv->epfd = srv->wakefd = -1;
    srv->throttle =
        tn_throttle_new(c->ldap_source_max_failures, c->ldap_bind_lockout, TN_THROTTLE_LEAK_S);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->idle, NULL);
    int lfd = -1, slfd = -1, sfd = -1;
    svc *first = NULL;
    tn_code rc = TN_OK;
    if (!ld_tree_init(&srv->tree, c)) {
        rc = tn_err_set(e, TN_EINVAL, "base", "[ldap] base or service_dn is not a valid DN");
        goto fail;
    }
    char bad[64];
    if (!svc_cidr_list_valid(c->ldap_service_allow, bad, sizeof bad)) {
        rc = tn_err_set(e, TN_EINVAL, "service_allow",
                        "[ldap] service_allow: \"%s\" is not an address or CIDR", bad);
        goto fail;
    }
    int ldaps_port = o->ldaps_port >= -1 ? o->ldaps_port : c->ldap_ldaps_port;
    if (c->ldap_tls_cert[0] && !(srv->tls = ld_tls_ctx_new(c, e))) {
        rc = e->code;
        goto fail;
    }
    if (ldaps_port >= 0 && !srv->tls) {
        rc = tn_err_set(e, TN_EUSAGE, "ldaps_port", "LDAPS needs [ldap] tls_cert and tls_key");
        goto fail;
    }
    /* Open one handle first, so that a wrong path or key fails at start. */
    if ((rc = svc_open(c, &first, e)) != TN_OK)
        goto fail;
    svc_set_read_audit(first, c->ldap_read_audit);
    if ((rc = svc_dir_tune(first, c->ldap_cache_kib, (int64_t)c->ldap_mmap_mib << 20, e)) !=
        TN_OK)
        goto fail;

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGPIPE);
    /* Blocked here and so in every worker and session thread; the main
     * loop reads them from a signalfd. */
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) < 0 ||
        (srv->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        (srv->wakefd = eventfd(0, EFD_CLOEXEC)) < 0) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot set up the event loop: %s", strerror(errno));
        goto fail;
    }
    char bound[128], sbound[128] = "";
    const char *addr = o->listen ? o->listen : c->ldap_listen;
    lfd = tn_net_listen(addr, o->port >= 0 ? o->port : (int)c->ldap_port, "LDAP", bound,
                        sizeof bound, e);
    if (lfd < 0) {
        rc = e->code;
        goto fail;
    }
    if (ldaps_port >= 0 &&
        (slfd = tn_net_listen(addr, ldaps_port, "LDAPS", sbound, sizeof sbound, e)) < 0) {
        rc = e->code;
        goto fail;
    }
    srv->pool = tn_calloc(c->ldap_max_connections, sizeof *srv->pool);
    srv->pool[srv->npool++] = first;
    first = NULL;
    /* The stop: level-triggered, so that every worker sees it. */
    struct epoll_event wev = {.events = EPOLLIN, .data.ptr = NULL};
    if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->wakefd, &wev) != 0) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot set up the event loop: %s", strerror(errno));
        goto fail;
    }
    srv->base_workers = worker_count(c);
    for (unsigned i = 0; i < srv->base_workers; i++) {
        atomic_fetch_add(&srv->running, 1);
        if (!start_worker(srv)) {
            atomic_fetch_sub(&srv->running, 1);
            break;
        }
    }
    if (srv->alive == 0) {
        rc = tn_err_set(e, TN_EIO, NULL, "cannot start the LDAP worker threads");
        goto fail;
    }
    fprintf(srv->log, "tunnus serve: ldap listening on %s base %s%s\n", bound, c->ldap_base,
            srv->tls ? " (StartTLS available)" : "");
    if (slfd >= 0)
        fprintf(srv->log, "tunnus serve: ldaps listening on %s\n", sbound);
    fflush(srv->log);
    if (o->on_ready)
        o->on_ready(o->ready_ctx);

    /* The sweep runs a few times per idle timeout, at most once a second. */
    int sweep_ms = c->ldap_idle_timeout * 1000 / 4;
    if (sweep_ms > 1000)
        sweep_ms = 1000;
    int64_t next_sweep = now_ms() + sweep_ms;
    for (;;) {
        struct pollfd pf[3] = {{lfd, POLLIN, 0}, {sfd, POLLIN, 0}, {slfd, POLLIN, 0}};
        int wait = (int)(next_sweep - now_ms());
        int pr = poll(pf, slfd >= 0 ? 3 : 2, wait < 0 ? 0 : wait);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0 || (pf[1].revents & POLLIN))
            break;
        if (pf[0].revents & POLLIN)
            accept_one(srv, lfd, false);
        if (slfd >= 0 && (pf[2].revents & POLLIN))
            accept_one(srv, slfd, true);
        if (now_ms() >= next_sweep) {
            idle_sweep(srv);
            next_sweep = now_ms() + sweep_ms;
        }
    }
    close(lfd);
    if (slfd >= 0)
        close(slfd);
    close(sfd);
    lfd = slfd = sfd = -1;

    /* Stop: end every session and wait a moment for them. A shut-down
     * socket reads as closed: threads return from their reads, and the
     * epoll set hands the plain sessions to the workers, which close them. */
    pthread_mutex_lock(&srv->mu);
    srv->stopping = true;
    for (ld_sess *ss = srv->sessions; ss; ss = ss->next)
        shutdown(ss->fd, SHUT_RDWR);
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
    pthread_mutex_unlock(&srv->mu);
    if (drained)
        drained = stop_workers(srv, &until);
    pthread_mutex_lock(&srv->mu);
    for (size_t i = 0; i < srv->npool; i++)
        svc_close(srv->pool[i]);
    srv->npool = 0;
    pthread_mutex_unlock(&srv->mu);
    fprintf(srv->log, "tunnus serve: stopped\n");
    if (!drained)
        return TN_OK; /* threads still running own srv: leave it to exit() */
    rc = TN_OK;
fail:
    if (srv->alive && !stop_workers(srv, NULL))
        return rc; /* a worker that will not stop still owns srv */
    if (first)
        svc_close(first);
    for (size_t i = 0; i < srv->npool; i++)
        svc_close(srv->pool[i]);
    if (lfd >= 0)
        close(lfd);
    if (slfd >= 0)
        close(slfd);
    if (sfd >= 0)
        close(sfd);
    if (srv->epfd >= 0)
        close(srv->epfd);
    if (srv->wakefd >= 0)
        close(srv->wakefd);
    free(srv->pool);
    ld_tls_ctx_free(srv->tls);
    tn_throttle_free(srv->throttle);
    pthread_mutex_destroy(&srv->mu);
    pthread_cond_destroy(&srv->idle);
    free(srv);
    return rc;
}

/* The HTTP listener (http_server.h): libmicrohttpd with a pool of worker
 * threads, each with its own registry handle; request bodies bounded by
 * [http] max_body; authentication (bearer tokens of API clients, HTTP
 * Basic for persons) with per-source throttling of failures; /healthz and
 * /metrics; everything under /scim/v2 handed to scim.c, everything under
 * /api/v1 to api.c, and /openapi.json generated from api.c's table. */
#include "http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "http_int.h"
#include "service.h"
#include "svc_client.h"
#include "svc_dir.h"
#include "svc_prov.h"
#include "tn_buf.h"
#include "tn_mem.h"
#include "tn_net.h"
#include "tn_str.h"
#include "tn_throttle.h"

#define JSON_DEPTH_MAX 32
#define SCIM_PREFIX "/scim/v2"

/* Fixed route labels; the admin API's labels (api.h) follow them in the
 * metric slots. Every API label starts with "api_", which is also how an
 * answer knows to be an API one (JSON errors of api.c, not SCIM's). */
static const char *const ROUTES[] = {"healthz",   "metrics", "users",  "users_id",
                                     "groups",    "groups_id", "me",   "bulk",
                                     "discovery", "openapi", "api_other", "other"};
#define NFIXED (sizeof ROUTES / sizeof ROUTES[0])
#define NROUTES (NFIXED + API_ROUTES_MAX)
static const int STATUSES[] = {200, 201, 204, 304, 400, 401, 403, 404, 405,
                               409, 412, 413, 415, 429, 500, 501, 503};
#define NSTATUS (sizeof STATUSES / sizeof STATUSES[0] + 1) /* + other */
static const double BUCKETS[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof BUCKETS / sizeof BUCKETS[0])

struct hs_server {
    const conf *cfg;
    struct MHD_Daemon *d, *ds;
    char bound[128], sbound[128];
    char *cert, *key;
    char *trust; /* [http] client_ca: HTTPS asks for client certificates */
    pthread_mutex_t mu;
    svc **handles;
    size_t nhandles, caphandles;
    tn_throttle *thr; /* failed authentication per source address */
    _Atomic uint64_t requests[NROUTES][NSTATUS];
    _Atomic uint64_t lat[NBUCKETS + 1];
    _Atomic uint64_t lat_sum_us, lat_count;
    _Atomic uint64_t auth_failures, throttled, new_sources, body_rejects;
};

/* The worker thread's registry handle (one per MHD thread). */
static _Thread_local svc *t_svc;

typedef struct rstate {
    tn_buf body;
    bool too_big;
    int64_t t0;
} rstate;

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static tn_date today_local(void)
{
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    return date_from_ymd(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static svc *worker_svc(hs_server *h, tn_err *e)
{
    if (!t_svc) {
        svc *s;
        if (svc_open(h->cfg, &s, e) != TN_OK)
            return NULL;
        svc_set_read_audit(s, h->cfg->http_read_audit);
        if (svc_dir_tune(s, h->cfg->http_cache_kib, (int64_t)h->cfg->http_mmap_mib << 20, e) !=
            TN_OK) {
            svc_close(s);
            return NULL;
        }
        pthread_mutex_lock(&h->mu);
        if (h->nhandles == h->caphandles) {
            h->caphandles = h->caphandles ? 2 * h->caphandles : 16;
            h->handles = tn_realloc(h->handles, h->caphandles * sizeof *h->handles);
        }
        h->handles[h->nhandles++] = s;
        pthread_mutex_unlock(&h->mu);
        t_svc = s;
    }
    svc_set_today(t_svc, today_local());
    return t_svc;
}

/* ---- metrics -------------------------------------------------------------- */

/* The label of metric slot r, NULL for an unused one. */
static const char *route_name(size_t r)
{
    if (r < NFIXED)
        return ROUTES[r];
    const api_route *a = api_route_at(r - NFIXED);
    return a ? a->label : NULL;
}

static bool is_api(const char *route)
{
    return strncmp(route, "api_", 4) == 0;
}

static void count(hs_server *h, const char *route, int status, int64_t t0)
{
    size_t r = NFIXED - 1, s = NSTATUS - 1;
    for (size_t i = 0; i < NROUTES; i++) {
        const char *name = route_name(i);
        if (name && strcmp(name, route) == 0) {
            r = i;
            break;
        }
    }
    for (size_t i = 0; i < NSTATUS - 1; i++)
        if (STATUSES[i] == status)
            s = i;
    atomic_fetch_add(&h->requests[r][s], 1);
    int64_t d = mono_us() - t0;
    size_t b = NBUCKETS;
    for (size_t i = 0; i < NBUCKETS; i++)
        if ((double)d <= BUCKETS[i] * 1e6) {
            b = i;
            break;
        }
    atomic_fetch_add(&h->lat[b], 1);
    atomic_fetch_add(&h->lat_sum_us, (uint64_t)d);
    atomic_fetch_add(&h->lat_count, 1);
}

typedef struct import_sums {
    int64_t done, refused, failed, running, rows, created, updated, unchanged, ended, rejected, queued;
} import_sums;

static int sum_run(const svc_import_record *r, void *ctx)
{
    import_sums *m = ctx;
    if (strcmp(r->status, "done") == 0)
        m->done++;
    else if (strcmp(r->status, "refused") == 0)
        m->refused++;
    else if (strcmp(r->status, "running") == 0)
        m->running++; /* or killed before it finished */
    else
        m->failed++;
    m->rows += r->rows;
    m->created += r->created;
    m->updated += r->updated;
    m->unchanged += r->unchanged;
    m->ended += r->ended;
    m->rejected += r->rejected;
    m->queued += r->queued;
    return 0;
}

/* The actor /metrics reads its counts as: the server itself (counts only,
 * no personal data, so no person's access applies). */
static void metrics_actor(svc_actor *sys)
{
    memset(sys, 0, sizeof *sys);
    sys->kind = SVC_ACTOR_SYSTEM;
    sys->channel = SVC_CH_API;
    tn_strlcpy(sys->id, "http:metrics", sizeof sys->id);
    tn_strlcpy(sys->source, "local", sizeof sys->source);
}

/* Import counters from the run records (counts only, no personal data). */
static void import_metrics(tn_buf *b, svc *s)
{
    svc_actor sys;
    metrics_actor(&sys);
    import_sums m = {0};
    tn_err e;
    if (svc_import_runs(s, &sys, 0, sum_run, &m, &e) != TN_OK)
        return;
    tn_buf_printf(b,
                  "# HELP tunnus_import_runs_total Feed import runs by outcome.\n"
                  "# TYPE tunnus_import_runs_total counter\n"
                  "tunnus_import_runs_total{status=\"done\"} %lld\n"
                  "tunnus_import_runs_total{status=\"refused\"} %lld\n"
                  "tunnus_import_runs_total{status=\"failed\"} %lld\n"
                  "tunnus_import_runs_total{status=\"running\"} %lld\n"
                  "# HELP tunnus_import_rows_total Feed rows by what import did with them.\n"
                  "# TYPE tunnus_import_rows_total counter\n",
                  (long long)m.done, (long long)m.refused, (long long)m.failed,
                  (long long)m.running);
    const struct {
        const char *k;
        int64_t v;
    } rows[] = {{"read", m.rows},   {"created", m.created},   {"updated", m.updated},
                {"unchanged", m.unchanged}, {"ended", m.ended}, {"rejected", m.rejected},
                {"queued", m.queued}};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        tn_buf_printf(b, "tunnus_import_rows_total{outcome=\"%s\"} %lld\n", rows[i].k,
                      (long long)rows[i].v);
}

/* Provisioning counters per configured target (docs/provisioning.md):
 * the numbers of `tunnus provision status`, counts only. A target whose
 * state cannot be read is left out rather than failing the scrape. */
static void prov_metrics(tn_buf *b, svc *s, const conf *cfg)
{
    if (!cfg->ntargets)
        return;
    static const struct {
        const char *name, *type, *help;
    } M[] = {
        {"tunnus_provision_pending", "gauge", "Persons waiting for delivery to the target."},
        {"tunnus_provision_due", "gauge", "Pending persons whose next attempt is due now."},
        {"tunnus_provision_parked", "gauge",
         "Persons parked after max_attempts failures (provision retry releases them)."},
        {"tunnus_provision_unread_changes", "gauge",
         "Outbox rows written but not yet taken in by the target's worker."},
        {"tunnus_provision_delivered_total", "counter", "Deliveries the target accepted."},
        {"tunnus_provision_resources", "gauge", "Resources recorded as held by the target."},
        {"tunnus_provision_last_success_timestamp_seconds", "gauge",
         "When the target last accepted a delivery (0: never)."},
    };
    enum { NM = sizeof M / sizeof M[0] };
    svc_prov_counts c[CONF_TARGETS_MAX];
    bool ok[CONF_TARGETS_MAX];
    svc_actor sys;
    metrics_actor(&sys);
    for (unsigned i = 0; i < cfg->ntargets; i++) {
        tn_err e;
        tn_err_clear(&e);
        ok[i] = svc_prov_counts_get(s, &sys, cfg->targets[i].name, &c[i], &e) == TN_OK;
    }
    for (size_t m = 0; m < NM; m++) {
        tn_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", M[m].name, M[m].help, M[m].name,
                      M[m].type);
        for (unsigned i = 0; i < cfg->ntargets; i++) {
            if (!ok[i])
                continue;
            const svc_prov_counts *x = &c[i];
            int64_t lag = x->started && x->outbox_max > x->cursor ? x->outbox_max - x->cursor : 0;
            int64_t v[NM] = {x->pending,   x->due,       x->parked,
                             lag,          x->delivered, x->resources,
                             x->last_success_at / 1000000};
            tn_buf_printf(b, "%s{target=\"%s\"} %lld\n", M[m].name, cfg->targets[i].name,
                          (long long)v[m]);
        }
    }
}

static char *metrics_text(hs_server *h, svc *s, size_t *len)
{
    tn_buf b;
    tn_buf_init(&b, 1 << 20);
    tn_buf_puts(&b, "# HELP tunnus_http_requests_total HTTP requests by route and status.\n"
                    "# TYPE tunnus_http_requests_total counter\n");
    for (size_t r = 0; r < NROUTES; r++)
        for (size_t i = 0; i < NSTATUS && route_name(r); i++) {
            uint64_t v = atomic_load(&h->requests[r][i]);
            if (!v)
                continue;
            char st[8];
            if (i < NSTATUS - 1)
                snprintf(st, sizeof st, "%d", STATUSES[i]);
            else
                tn_strlcpy(st, "other", sizeof st);
            tn_buf_printf(&b, "tunnus_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          route_name(r), st, (unsigned long long)v);
        }
    tn_buf_puts(&b, "# HELP tunnus_http_request_duration_seconds Time to answer a request.\n"
                    "# TYPE tunnus_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i <= NBUCKETS; i++) {
        cum += atomic_load(&h->lat[i]);
        if (i < NBUCKETS)
            tn_buf_printf(&b, "tunnus_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                          BUCKETS[i], (unsigned long long)cum);
        else
            tn_buf_printf(&b, "tunnus_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                          (unsigned long long)cum);
    }
    tn_buf_printf(&b, "tunnus_http_request_duration_seconds_sum %.6f\n",
                  (double)atomic_load(&h->lat_sum_us) / 1e6);
    tn_buf_printf(&b, "tunnus_http_request_duration_seconds_count %llu\n",
                  (unsigned long long)atomic_load(&h->lat_count));
    svc_dir_stats ds;
    svc_dir_stats_get(&ds);
    struct {
        const char *name, *help;
        uint64_t v;
    } c[] = {
        {"tunnus_http_auth_failures_total", "Failed authentications.",
         atomic_load(&h->auth_failures)},
        {"tunnus_http_throttled_total", "Requests refused while their source was throttled.",
         atomic_load(&h->throttled)},
        {"tunnus_http_new_source_alerts_total", "First requests of a client from a new address.",
         atomic_load(&h->new_sources)},
        {"tunnus_http_body_rejected_total", "Request bodies refused (size, type, syntax).",
         atomic_load(&h->body_rejects)},
        {"tunnus_ldap_binds_total", "Successful LDAP binds with a password.", ds.binds},
        {"tunnus_ldap_bind_failures_total", "Failed LDAP binds, whatever the reason.",
         ds.bind_failures},
        {"tunnus_ldap_binds_refused_total",
         "LDAP binds refused unchecked while their source address waited.", ds.binds_refused},
        {"tunnus_ldap_sources_throttled_total",
         "Waits begun for a source address after repeated failed binds.", ds.sources_throttled},
    };
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        tn_buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", c[i].name, c[i].help,
                      c[i].name, c[i].name, (unsigned long long)c[i].v);
    if (s) {
        svc_audit_stats as;
        svc_read_audit_stats(s, &as);
        tn_buf_printf(&b,
                      "# HELP tunnus_audit_read_flushes_total Flushes of read events.\n"
                      "# TYPE tunnus_audit_read_flushes_total counter\n"
                      "tunnus_audit_read_flushes_total %llu\n"
                      "# HELP tunnus_audit_read_commits_total Durable writes of read events "
                      "(appends to the read log's tail file).\n"
                      "# TYPE tunnus_audit_read_commits_total counter\n"
                      "tunnus_audit_read_commits_total %llu\n"
                      "# HELP tunnus_audit_read_events_total Read events written.\n"
                      "# TYPE tunnus_audit_read_events_total counter\n"
                      "tunnus_audit_read_events_total %llu\n"
                      "# HELP tunnus_audit_read_ingested_total Read events moved from the tail "
                      "file into the read log's tables.\n"
                      "# TYPE tunnus_audit_read_ingested_total counter\n"
                      "tunnus_audit_read_ingested_total %llu\n"
                      "# HELP tunnus_audit_read_ingest_stops_total Ingests stopped by a broken "
                      "link in the tail file (run tunnus audit verify).\n"
                      "# TYPE tunnus_audit_read_ingest_stops_total counter\n"
                      "tunnus_audit_read_ingest_stops_total %llu\n"
                      "# HELP tunnus_audit_read_tail_bytes Size of the read log's tail file: "
                      "reads not yet in its tables (or kept after a break).\n"
                      "# TYPE tunnus_audit_read_tail_bytes gauge\n"
                      "tunnus_audit_read_tail_bytes %llu\n",
                      (unsigned long long)as.flushes, (unsigned long long)as.commits,
                      (unsigned long long)as.events, (unsigned long long)as.ingested,
                      (unsigned long long)as.ingest_stops, (unsigned long long)as.tail_bytes);
        import_metrics(&b, s);
        prov_metrics(&b, s, h->cfg);
    }
    *len = b.len;
    return tn_buf_steal(&b);
}

/* ---- requests ------------------------------------------------------------- */

static void peer(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    tn_strlcpy(out, "unknown", cap);
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out, (socklen_t)cap);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)cap);
        else
            inet_ntop(AF_INET6, a6, out, (socklen_t)cap);
    }
}

static bool is_loopback(const char *src)
{
    return tn_str_startswith(src, "127.") || strcmp(src, "::1") == 0;
}

static enum MHD_Result send_body(struct MHD_Connection *c, int status, const char *ctype,
                                 char *body, size_t len, const hresp *r, const char *extra_name,
                                 const char *extra_value)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body ? body : (char *)"",
                                        body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    if (ctype && len)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (r && r->etag[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
    if (r && r->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r->location);
    if (r && r->allow[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->allow);
    if (extra_name)
        MHD_add_response_header(resp, extra_name, extra_value);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

void hresp_drop_body(hresp *r)
{
    if (r->body)
        json_decref(r->body);
    r->body = NULL;
    free(r->text);
    r->text = NULL;
    r->text_len = 0;
}

void hresp_set_text(hresp *r, tn_buf *b)
{
    hresp_drop_body(r);
    r->text_len = b->len;
    r->text = tn_buf_steal(b);
}

static enum MHD_Result send_json(hs_server *h, struct MHD_Connection *c, const char *route,
                                 int64_t t0, hresp *r, const char *extra_name,
                                 const char *extra_value)
{
    char *text = NULL;
    size_t len = 0;
    if (r->text && r->status != 304 && r->status != 204) {
        text = r->text;
        len = r->text_len;
        r->text = NULL;
    } else if (r->body && r->status != 304 && r->status != 204) {
        text = json_dumps(r->body, JSON_COMPACT);
        len = text ? strlen(text) : 0;
    }
    hresp_drop_body(r);
    count(h, route, r->status, t0);
    return send_body(c, r->status, is_api(route) ? "application/json" : "application/scim+json",
                     text, len, r, extra_name, extra_value);
}

/* The API's error name for a status the server itself answers. */
static const char *api_error_name(int status)
{
    switch (status) {
    case 400: return "invalid";
    case 401: return "unauthorized";
    case 404: return "not_found";
    case 413: return "too_large";
    case 415: return "unsupported_media_type";
    case 429: return "throttled";
    case 503: return "unavailable";
    default: return "internal";
    }
}

static enum MHD_Result send_error(hs_server *h, struct MHD_Connection *c, const char *route,
                                  int64_t t0, int status, const char *type, const char *detail,
                                  const char *extra_name, const char *extra_value)
{
    hresp r = {0};
    if (is_api(route))
        api_error(&r, status, api_error_name(status), detail, NULL);
    else
        scim_error(&r, status, type, detail);
    return send_json(h, c, route, t0, &r, extra_name, extra_value);
}

/* Nesting depth of a JSON text, counted outside strings. */
static bool depth_ok(const char *s, size_t n)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            if (++depth > JSON_DEPTH_MAX)
                return false;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    return true;
}

static const char *query_arg(void *qctx, const char *name)
{
    return MHD_lookup_connection_value(qctx, MHD_GET_ARGUMENT_KIND, name);
}

static const char *header(struct MHD_Connection *c, const char *name)
{
    return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
}

/* The SHA-256 fingerprint (lowercase hex) of the client certificate of a
 * TLS connection, if the peer presented one that verifies against
 * [http] client_ca (chain and validity dates). The handshake proved the
 * peer holds its key, so a token bound to this fingerprint is usable only
 * by the holder (RFC 8705's idea, §3). */
static bool peer_cert_sha256(struct MHD_Connection *c, char out[65])
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_GNUTLS_SESSION);
    if (!ci || !ci->tls_session)
        return false;
    gnutls_session_t tls = ci->tls_session;
    unsigned status = 0, n = 0;
    if (gnutls_certificate_verify_peers2(tls, &status) != GNUTLS_E_SUCCESS || status != 0)
        return false;
    const gnutls_datum_t *certs = gnutls_certificate_get_peers(tls, &n);
    if (!certs || n == 0)
        return false;
    unsigned char d[32];
    size_t dl = sizeof d;
    if (gnutls_fingerprint(GNUTLS_DIG_SHA256, &certs[0], d, &dl) != GNUTLS_E_SUCCESS ||
        dl != sizeof d)
        return false;
    sodium_bin2hex(out, 65, d, sizeof d);
    return true;
}

/* Authenticate the request; on failure the answer is queued. */
static bool authenticate(hs_server *h, struct MHD_Connection *c, svc *s, const char *src,
                         bool tls, const char *route, int64_t t0, svc_channel ch,
                         svc_actor *actor, enum MHD_Result *ret)
{
    static const char CHALLENGE[] = "Bearer realm=\"tunnus\", Basic realm=\"tunnus\"";
    int64_t wait = tn_throttle_wait(h->thr, src);
    if (wait > 0) {
        atomic_fetch_add(&h->throttled, 1);
        char secs[24];
        snprintf(secs, sizeof secs, "%lld", (long long)wait);
        *ret = send_error(h, c, route, t0, 429, NULL,
                          "too many failed authentications from this address; try again later",
                          MHD_HTTP_HEADER_RETRY_AFTER, secs);
        return false;
    }
    const char *auth = header(c, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth) {
        *ret = send_error(h, c, route, t0, 401, NULL, "authentication required",
                          MHD_HTTP_HEADER_WWW_AUTHENTICATE, CHALLENGE);
        return false;
    }
    tn_err e;
    tn_err_clear(&e);
    tn_code rc = TN_EDENIED;
    if (strncasecmp(auth, "Bearer ", 7) == 0) {
        bool fresh = false;
        char fp[65];
        bool has_fp = tls && h->trust && peer_cert_sha256(c, fp);
        rc = svc_client_auth(s, auth + 7, src, has_fp ? fp : NULL, ch, actor, &fresh, &e);
        if (rc == TN_OK && fresh)
            atomic_fetch_add(&h->new_sources, 1);
    } else if (strncasecmp(auth, "Basic ", 6) == 0) {
        char dec[1100];
        size_t n = 0;
        if (!tls && !is_loopback(src)) {
            svc_client_auth_failed(s, src, ch, "password over plain HTTP");
        } else if (sodium_base642bin((unsigned char *)dec, sizeof dec - 1, auth + 6, strlen(auth + 6),
                                     NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0) {
            dec[n] = '\0';
            char *colon = strchr(dec, ':');
            if (colon && strlen(dec) == n) {
                *colon = '\0';
                rc = svc_dir_bind(s, src, dec, colon + 1, actor, &e);
                if (rc == TN_OK)
                    actor->channel = ch;
            } else {
                svc_client_auth_failed(s, src, ch, "malformed Basic credentials");
            }
            sodium_memzero(dec, sizeof dec);
        } else {
            svc_client_auth_failed(s, src, ch, "malformed Basic credentials");
        }
    } else {
        svc_client_auth_failed(s, src, ch, "unknown authentication scheme");
    }
    if (rc == TN_OK) {
        return true;
    }
    if (rc != TN_EDENIED) {
        fprintf(stderr, "tunnus serve: http: authentication failed: %s\n", e.msg);
        *ret = send_error(h, c, route, t0, 500, NULL, "internal error", NULL, NULL);
        return false;
    }
    atomic_fetch_add(&h->auth_failures, 1);
    if (tn_throttle_fail(h->thr, src))
        svc_client_auth_failed(s, src, ch, "source throttled after repeated failures");
    *ret = send_error(h, c, route, t0, 401, NULL, "invalid credentials",
                      MHD_HTTP_HEADER_WWW_AUTHENTICATE, CHALLENGE);
    return false;
}

/* Under prefix ("/scim/v2"): the rest of url, or NULL when url is not. */
static const char *below(const char *url, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(url, prefix, n) != 0 || (url[n] != '/' && url[n] != '\0'))
        return NULL;
    return url + n;
}

/* The request body as JSON: NULL without one. Refusals are queued (*ret)
 * and return false. The admin API takes an empty body on a write as none
 * (a POST that needs nothing, e.g. a revoke); SCIM always wants one. */
static bool parse_body(hs_server *h, struct MHD_Connection *c, rstate *rs, const char *method,
                       const char *route, int64_t t0, json_t **out, enum MHD_Result *ret)
{
    *out = NULL;
    bool has_body = strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
                    strcmp(method, "PATCH") == 0;
    if (!has_body || (is_api(route) && rs->body.len == 0))
        return true;
    const char *ct = header(c, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (!ct || (strncasecmp(ct, "application/scim+json", 21) != 0 &&
                strncasecmp(ct, "application/json", 16) != 0)) {
        atomic_fetch_add(&h->body_rejects, 1);
        *ret = send_error(h, c, route, t0, 415, NULL,
                          "the body must be application/scim+json or application/json", NULL,
                          NULL);
        return false;
    }
    if (!depth_ok(rs->body.data ? rs->body.data : "", rs->body.len)) {
        atomic_fetch_add(&h->body_rejects, 1);
        *ret = send_error(h, c, route, t0, 400, "invalidSyntax",
                          "the JSON body is nested too deeply", NULL, NULL);
        return false;
    }
    json_error_t je;
    *out = json_loadb(rs->body.data ? rs->body.data : "", rs->body.len, 0, &je);
    if (!*out) {
        atomic_fetch_add(&h->body_rejects, 1);
        char d[300];
        snprintf(d, sizeof d, "malformed JSON at line %d column %d: %s", je.line, je.column,
                 je.text);
        *ret = send_error(h, c, route, t0, 400, "invalidSyntax", d, NULL, NULL);
        return false;
    }
    return true;
}

/* /openapi.json: generated from the API's route table. Served without
 * authentication, like /healthz: it describes the interface and holds no
 * data. */
static enum MHD_Result serve_openapi(hs_server *h, struct MHD_Connection *c, int64_t t0)
{
    json_t *doc = api_openapi();
    char *text = json_dumps(doc, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!text)
        return send_error(h, c, "openapi", t0, 500, NULL, "internal error", NULL, NULL);
    count(h, "openapi", 200, t0);
    return send_body(c, 200, "application/json", text, strlen(text), NULL, NULL, NULL);
}

static enum MHD_Result serve(hs_server *h, struct MHD_Connection *c, const char *url,
                             const char *method, rstate *rs, bool tls)
{
    int64_t t0 = rs->t0;
    if (strcmp(url, "/healthz") == 0) {
        char *ok = tn_strdup("{\"status\":\"ok\"}");
        count(h, "healthz", 200, t0);
        return send_body(c, 200, "application/json", ok, strlen(ok), NULL, NULL, NULL);
    }
    if (strcmp(url, "/openapi.json") == 0)
        return serve_openapi(h, c, t0);
    tn_err e;
    tn_err_clear(&e);
    svc *s = worker_svc(h, &e);
    if (strcmp(url, "/metrics") == 0) {
        size_t len;
        char *text = metrics_text(h, s, &len);
        count(h, "metrics", 200, t0);
        return send_body(c, 200, "text/plain; version=0.0.4", text, len, NULL, NULL, NULL);
    }
    /* One of the two front ends: SCIM or the admin API. Both share
     * authentication, body limits and checks, the audit flush and the
     * request id; they differ in channel and error format. */
    const char *path = below(url, SCIM_PREFIX);
    bool api = false;
    if (!path && (path = below(url, API_PREFIX)) != NULL)
        api = true;
    if (!path)
        return send_error(h, c, "other", t0, 404, NULL, "no such resource", NULL, NULL);
    const char *route = api ? api_route_label(method, path) : scim_route(method, path);
    if (!s)
        return send_error(h, c, route, t0, 503, NULL, "registry unavailable", NULL, NULL);
    if (rs->too_big) {
        atomic_fetch_add(&h->body_rejects, 1);
        return send_error(h, c, route, t0, 413, NULL, "the request body exceeds [http] max_body",
                          NULL, NULL);
    }
    char src[64];
    peer(c, src, sizeof src);
    svc_actor actor;
    enum MHD_Result ret = MHD_NO;
    /* The request's reads, the token check included, share one snapshot
     * (ended before the answer is encoded and sent). */
    svc_request_begin(s);
    if (!authenticate(h, c, s, src, tls, route, t0, api ? SVC_CH_API : SVC_CH_SCIM, &actor,
                      &ret)) {
        svc_request_end(s);
        return ret;
    }
    json_t *body = NULL;
    if (!parse_body(h, c, rs, method, route, t0, &body, &ret)) {
        svc_request_end(s);
        return ret;
    }
    const char *host = header(c, MHD_HTTP_HEADER_HOST);
    char base[512];
    bool host_ok = host && strlen(host) < 256 && !strpbrk(host, " /\"<>\\");
    snprintf(base, sizeof base, "%s://%s%s", tls ? "https" : "http",
             host_ok ? host : (tls ? h->sbound : h->bound), api ? API_PREFIX : SCIM_PREFIX);
    hreq rq = {.method = method,
               .path = path,
               .query = query_arg,
               .qctx = c,
               .body = body,
               .text_ok = true,
               .if_match = header(c, MHD_HTTP_HEADER_IF_MATCH),
               .if_none_match = header(c, MHD_HTTP_HEADER_IF_NONE_MATCH),
               .base_url = base,
               .s = s,
               .actor = &actor,
               .cfg = h->cfg,
               .max_body = h->cfg->http_max_body};
    hresp r = {0};
    if (api)
        api_handle(&rq, &r);
    else
        scim_handle(&rq, &r);
    svc_request_end(s);
    if (body)
        json_decref(body);
    /* What was shown is on record before it leaves. */
    if (svc_flush(s, &e) != TN_OK) {
        if (api)
            api_error(&r, 500, "internal", "the audit trail could not be written", NULL);
        else
            scim_error(&r, 500, NULL, "the audit trail could not be written");
    }
    /* The request id is in every audit event of this request. */
    return send_json(h, c, route, t0, &r, "X-Request-Id", actor.request_id);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls, bool tls)
{
    (void)version;
    hs_server *h = cls;
    rstate *rs = *con_cls;
    if (!rs) {
        rs = tn_calloc(1, sizeof *rs);
        tn_buf_init(&rs->body, h->cfg->http_max_body);
        rs->t0 = mono_us();
        *con_cls = rs;
        const char *cl = header(c, MHD_HTTP_HEADER_CONTENT_LENGTH);
        int64_t n;
        if (cl && tn_parse_i64(cl, &n) && n > (int64_t)h->cfg->http_max_body) {
            /* Refuse before reading it: the connection is closed after. */
            atomic_fetch_add(&h->body_rejects, 1);
            return send_error(h, c, below(url, API_PREFIX) ? "api_other" : "other", rs->t0, 413,
                              NULL,
                              "the request body exceeds [http] max_body", NULL, NULL);
        }
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (!rs->too_big && !tn_buf_append(&rs->body, upload_data, *upload_data_size))
            rs->too_big = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    return serve(h, c, url, method, rs, tls);
}

static enum MHD_Result on_plain(void *cls, struct MHD_Connection *c, const char *url,
                                const char *method, const char *version, const char *upload_data,
                                size_t *upload_data_size, void **con_cls)
{
    return on_request(cls, c, url, method, version, upload_data, upload_data_size, con_cls, false);
}

static enum MHD_Result on_tls(void *cls, struct MHD_Connection *c, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    return on_request(cls, c, url, method, version, upload_data, upload_data_size, con_cls, true);
}

static void on_done(void *cls, struct MHD_Connection *c, void **con_cls,
                    enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)c;
    (void)toe;
    rstate *rs = *con_cls;
    if (rs) {
        tn_buf_free(&rs->body);
        free(rs);
        *con_cls = NULL;
    }
}

/* ---- start and stop -------------------------------------------------------- */

static char *read_file(const char *path, const char *field, tn_err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        tn_err_set(e, TN_EIO, field, "cannot read %s", path);
        return NULL;
    }
    tn_buf b;
    tn_buf_init(&b, 1 << 20);
    char chunk[4096];
    size_t n;
    bool ok = true;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        ok = ok && tn_buf_append(&b, chunk, n);
    fclose(f);
    if (!ok) {
        tn_buf_free(&b);
        tn_err_set(e, TN_EINVAL, field, "%s is larger than 1 MiB", path);
        return NULL;
    }
    tn_buf_putc(&b, '\0');
    return tn_buf_steal(&b);
}

/* [http] threads, or two per CPU and at least four. A connection stays
 * with one thread, so a few spare ones keep a slow request (a long scan, a
 * Bulk) from stalling the rest; many more only add thread switches and
 * registry handles (measured on 2 CPUs: 4 threads served 5-12 % more
 * requests than 16 with 8 connections, the same with 32). */
static unsigned thread_count(const conf *c)
{
    if (c->http_threads)
        return c->http_threads;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 2 ? 2 * (unsigned)n : 4;
}

static struct MHD_Daemon *start_daemon(hs_server *h, int fd, bool tls)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO;
    if (tls)
        flags |= MHD_USE_TLS;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_LISTEN_SOCKET, fd, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)thread_count(h->cfg), NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)h->cfg->http_timeout, NULL},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)h->cfg->http_max_connections, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_done, h},
        {tls ? MHD_OPTION_HTTPS_MEM_KEY : MHD_OPTION_END, 0, h->key},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, h->cert},
        /* Last: with no client_ca it ends the list. */
        {tls && h->trust ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END, 0, h->trust},
        {MHD_OPTION_END, 0, NULL},
    };
    return MHD_start_daemon(flags, 0, NULL, NULL, tls ? on_tls : on_plain, h,
                            MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

tn_code hs_start(const conf *c, const hs_opts *o, hs_server **out, tn_err *e)
{
    /* jansson seeds its hash tables on first use; do it before the
     * worker threads exist. */
    json_object_seed(0);
    hs_server *h = tn_calloc(1, sizeof *h);
    h->cfg = c;
    pthread_mutex_init(&h->mu, NULL);
    h->thr = tn_throttle_new(c->http_auth_max_failures, c->http_auth_lockout, TN_THROTTLE_LEAK_S);
    const char *addr = o->listen ? o->listen : c->http_listen;
    int lfd = -1, slfd = -1;
    if (o->https_port >= 0) {
        if (!c->http_tls_cert[0]) {
            tn_err_set(e, TN_EUSAGE, "https_port", "HTTPS needs tls_cert and tls_key");
            goto fail;
        }
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            tn_err_set(e, TN_EUSAGE, "https_port", "this libmicrohttpd has no TLS support");
            goto fail;
        }
        if (!(h->cert = read_file(c->http_tls_cert, "tls_cert", e)) || !(h->key = read_file(c->http_tls_key, "tls_key", e)))
            goto fail;
        if (c->http_client_ca[0] && !(h->trust = read_file(c->http_client_ca, "client_ca", e)))
            goto fail;
    }
    if ((lfd = tn_net_listen(addr, o->port, "HTTP", h->bound, sizeof h->bound, e)) < 0)
        goto fail;
    if (o->https_port >= 0 &&
        (slfd = tn_net_listen(addr, o->https_port, "HTTPS", h->sbound, sizeof h->sbound, e)) < 0)
        goto fail;
    if (!(h->d = start_daemon(h, lfd, false))) {
        tn_err_set(e, TN_EIO, "listen", "the HTTP server did not start");
        goto fail;
    }
    lfd = -1; /* the daemon owns it now */
    if (slfd >= 0) {
        if (!(h->ds = start_daemon(h, slfd, true))) {
            tn_err_set(e, TN_EIO, "https_port",
                       "the HTTPS server did not start (is the key or certificate valid PEM?)");
            goto fail;
        }
        slfd = -1;
    }
    *out = h;
    return TN_OK;
fail:
    if (lfd >= 0)
        close(lfd);
    if (slfd >= 0)
        close(slfd);
    hs_stop(h);
    return e->code;
}

void hs_announce(const hs_server *h, FILE *log)
{
    fprintf(log, "tunnus serve: http listening on %s (SCIM at /scim/v2, API at /api/v1)\n",
            h->bound);
    if (h->ds)
        fprintf(log, "tunnus serve: https listening on %s\n", h->sbound);
    fflush(log);
}

void hs_stop(hs_server *h)
{
    if (!h)
        return;
    if (h->d)
        MHD_stop_daemon(h->d);
    if (h->ds)
        MHD_stop_daemon(h->ds);
    /* The worker threads have ended: their handles can close. */
    for (size_t i = 0; i < h->nhandles; i++)
        svc_close(h->handles[i]);
    free(h->handles);
    if (h->key)
        sodium_memzero(h->key, strlen(h->key));
    free(h->key);
    free(h->cert);
    free(h->trust);
    tn_throttle_free(h->thr);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

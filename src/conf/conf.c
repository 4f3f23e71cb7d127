#include "conf.h"

#include <ini.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "contact.h"
#include "tn_mem.h"
#include "tn_str.h"
#include "username.h"

void conf_defaults(conf *c)
{
    memset(c, 0, sizeof *c);
    tn_strlcpy(c->username_pattern, USERNAME_DEFAULT_PATTERN, sizeof c->username_pattern);
    c->username_max = USERNAME_DEFAULT_MAX;
    tn_strlcpy(c->email_pattern, "{preferred}.{family}", sizeof c->email_pattern);
    tn_strlcpy(c->ldap_listen, "127.0.0.1", sizeof c->ldap_listen);
    c->ldap_port = 3389;
    tn_strlcpy(c->ldap_base, "dc=example,dc=fi", sizeof c->ldap_base);
    c->ldap_max_pdu = 262144;
    c->ldap_max_connections = 256;
    c->ldap_idle_timeout = 300;
    c->ldap_filter_depth = 32;
    c->ldap_size_limit = 1000;
    c->ldap_time_limit = 60;
    c->ldap_scan_limit = 1000000;
    c->ldap_read_audit = true;
    c->ldap_cache_kib = 1024;
    c->ldap_mmap_mib = 0;
    c->ldap_bind_max_failures = 5;
    c->ldap_bind_lockout = 900;
    c->ldap_source_max_failures = 20;
    c->ldap_rehash_legacy = true;
    c->ldap_ldaps_port = -1;
    c->ldap_bind_require_tls = true;
    tn_strlcpy(c->http_listen, "127.0.0.1", sizeof c->http_listen);
    c->http_port = -1;
    c->http_https_port = -1;
    c->http_max_body = 1u << 20;
    c->http_timeout = 30;
    c->http_threads = 0; /* two per CPU, at least four (http_server.c) */
    c->http_cache_kib = 4096;
    c->http_mmap_mib = 2048;
    c->http_max_connections = 512;
    c->http_read_audit = true;
    c->http_auth_max_failures = 5;
    c->http_auth_lockout = 900;
}

struct parse_state {
    conf *c;
    const char *name;
    tn_err *e;
    bool failed;
    uint64_t seen;      /* bit per key, to reject duplicates */
    const char *cursor; /* where the next key's line is searched from */
    int line;           /* line number of cursor */
};

#define CONF_FILE_MAX (1 << 20)

/* Debian's inih calls the handler without a line number. Keys arrive in
 * file order, so the key's line is the next line, from the previous key's,
 * that starts with the key name followed by '=' or ':'. */
static int find_line(struct parse_state *st, const char *key)
{
    size_t klen = strlen(key);
    const char *p = st->cursor;
    int line = st->line;
    while (p && *p) {
        const char *q = p;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncmp(q, key, klen) == 0) {
            const char *r = q + klen;
            while (*r == ' ' || *r == '\t')
                r++;
            if (*r == '=' || *r == ':') {
                const char *nl = strchr(p, '\n');
                st->cursor = nl ? nl + 1 : p + strlen(p);
                st->line = line + 1;
                return line;
            }
        }
        const char *nl = strchr(p, '\n');
        if (!nl)
            break;
        p = nl + 1;
        line++;
    }
    return st->line;
}

enum {
    K_DB, K_KEY_FILE, K_UPATTERN, K_UMAX, K_EPATTERN, K_EDOMAIN,
    K_L_LISTEN, K_L_PORT, K_L_BASE, K_L_MAX_PDU, K_L_MAX_CONN, K_L_IDLE, K_L_DEPTH, K_L_SIZE,
    K_L_TIME, K_L_SCAN, K_L_ANON, K_L_RAUDIT, K_L_BIND_MAX, K_L_LOCKOUT, K_L_SVC_DN, K_L_SVC_PW, K_L_CACHE, K_L_MMAP,
    K_L_WORKERS, K_L_SRC_MAX, K_L_SVC_ALLOW,
    K_L_REHASH,
    K_L_TLS_CERT, K_L_TLS_KEY, K_L_LDAPS_PORT, K_L_REQ_TLS,
    K_H_LISTEN, K_H_PORT, K_H_HTTPS_PORT, K_H_MAX_BODY, K_H_TIMEOUT, K_H_THREADS, K_H_MAX_CONN,
    K_H_RAUDIT, K_H_AUTH_MAX, K_H_AUTH_LOCKOUT, K_H_TLS_CERT, K_H_TLS_KEY, K_H_CACHE, K_H_MMAP, K_H_CLIENT_CA,
    K_COUNT
};
/* parse_state.seen has a bit per key. */
_Static_assert(K_COUNT <= 64, "too many configuration keys for parse_state.seen");

/* The numeric [ldap] keys: where each goes and its range. */
static const struct {
    int id;
    size_t off;
    unsigned lo, hi;
} ldap_nums[] = {
    {K_L_PORT, offsetof(conf, ldap_port), 0, 65535},
    {K_L_MAX_PDU, offsetof(conf, ldap_max_pdu), 1024, 64u << 20},
    {K_L_MAX_CONN, offsetof(conf, ldap_max_connections), 1, 65536},
    {K_L_IDLE, offsetof(conf, ldap_idle_timeout), 1, 86400},
    {K_L_DEPTH, offsetof(conf, ldap_filter_depth), 1, 256},
    {K_L_SIZE, offsetof(conf, ldap_size_limit), 1, 10000000},
    {K_L_TIME, offsetof(conf, ldap_time_limit), 1, 86400},
    {K_L_SCAN, offsetof(conf, ldap_scan_limit), 1, 100000000},
    {K_L_BIND_MAX, offsetof(conf, ldap_bind_max_failures), 0, 1000},
    {K_L_LOCKOUT, offsetof(conf, ldap_bind_lockout), 1, 31u * 86400},
    {K_L_CACHE, offsetof(conf, ldap_cache_kib), 64, 1u << 22},
    {K_L_MMAP, offsetof(conf, ldap_mmap_mib), 0, 1u << 20},
    {K_L_WORKERS, offsetof(conf, ldap_workers), 0, 1024},
    {K_L_SRC_MAX, offsetof(conf, ldap_source_max_failures), 0, 100000},
    {K_H_MAX_BODY, offsetof(conf, http_max_body), 1024, 256u << 20},
    {K_H_TIMEOUT, offsetof(conf, http_timeout), 1, 86400},
    {K_H_THREADS, offsetof(conf, http_threads), 0, 256},
    {K_H_CACHE, offsetof(conf, http_cache_kib), 64, 1u << 22},
    {K_H_MMAP, offsetof(conf, http_mmap_mib), 0, 1u << 20},
    {K_H_MAX_CONN, offsetof(conf, http_max_connections), 1, 65536},
    {K_H_AUTH_MAX, offsetof(conf, http_auth_max_failures), 0, 1000},
    {K_H_AUTH_LOCKOUT, offsetof(conf, http_auth_lockout), 1, 31u * 86400},
};

static bool parse_bool(const char *v, bool *out)
{
    if (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0) {
        *out = true;
        return true;
    }
    if (strcmp(v, "false") == 0 || strcmp(v, "no") == 0 || strcmp(v, "off") == 0) {
        *out = false;
        return true;
    }
    return false;
}

static int fail(struct parse_state *st, int line, const char *key, const char *msg)
{
    if (!st->failed)
        tn_err_set(st->e, TN_EINVAL, key, "%s line %d: %s", st->name, line, msg);
    st->failed = true;
    return 0;
}

static int set_str(struct parse_state *st, int line, const char *key, char *dst, size_t cap,
                   const char *value)
{
    if (!tn_strlcpy(dst, value, cap))
        return fail(st, line, key, "value is too long");
    return 1;
}

/* The keys of a [target NAME] section: where each string goes. */
static const struct {
    const char *key;
    size_t off, cap;
} target_strs[] = {
#define TS(k, f) {k, offsetof(conf_target, f), sizeof(((conf_target *)0)->f)}
    TS("type", type), TS("url", url), TS("bind_dn", bind_dn), TS("bind_password", bind_password),
    TS("bind_password_file", bind_password_file), TS("token_file", bind_password_file),
    TS("base", base), TS("rdn_attr", rdn_attr), TS("object_classes", object_classes),
    TS("kinds", kinds), TS("units", units), TS("on_close", on_close),
    TS("disable_attr", disable_attr), TS("disable_value", disable_value),
    TS("closed_base", closed_base), TS("on_purge", on_purge), TS("group_base", group_base),
    TS("dir", dir), TS("format", format), TS("groups", groups),
    TS("group_prefix", group_prefix),
#undef TS
};

static const struct {
    const char *key;
    size_t off;
    unsigned lo, hi;
} target_nums[] = {
    {"max_attempts", offsetof(conf_target, max_attempts), 1, 1000},
    {"backoff", offsetof(conf_target, backoff), 1, 86400},
    {"batch", offsetof(conf_target, batch), 1, 100000},
};

static bool target_name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len >= CONF_TNAME_MAX)
        return false;
    for (const char *p = n; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return false;
    return true;
}

static int on_target_key(struct parse_state *st, int line, const char *name, const char *key,
                         const char *value)
{
    conf *c = st->c;
    if (!target_name_ok(name))
        return fail(st, line, key, "a target name is 1..32 of a-z, 0-9, _ and -");
    conf_target *t = NULL;
    for (unsigned i = 0; i < c->ntargets; i++)
        if (strcmp(c->targets[i].name, name) == 0)
            t = &c->targets[i];
    if (!t) {
        if (c->ntargets == CONF_TARGETS_MAX)
            return fail(st, line, key, "too many [target] sections (at most 8)");
        t = &c->targets[c->ntargets++];
        tn_strlcpy(t->name, name, sizeof t->name);
    }
    if (tn_str_startswith(key, "map.")) {
        const char *attr = key + 4;
        if (!*attr || strlen(attr) >= sizeof t->map[0].attr)
            return fail(st, line, key, "the attribute name is 1..63 bytes");
        for (unsigned i = 0; i < t->nmap; i++)
            if (strcasecmp(t->map[i].attr, attr) == 0)
                return fail(st, line, key, "key given twice");
        if (t->nmap == CONF_MAP_MAX)
            return fail(st, line, key, "too many map. keys (at most 24)");
        tn_strlcpy(t->map[t->nmap].attr, attr, sizeof t->map[0].attr);
        if (!tn_strlcpy(t->map[t->nmap].tmpl, value, sizeof t->map[0].tmpl))
            return fail(st, line, key, "value is too long");
        t->nmap++;
        return 1;
    }
    for (size_t i = 0; i < sizeof target_strs / sizeof target_strs[0]; i++) {
        if (strcmp(key, target_strs[i].key) != 0)
            continue;
        if (t->seen & (UINT64_C(1) << i))
            return fail(st, line, key, "key given twice");
        t->seen |= UINT64_C(1) << i;
        return set_str(st, line, key, (char *)t + target_strs[i].off, target_strs[i].cap, value);
    }
    for (size_t i = 0; i < sizeof target_nums / sizeof target_nums[0]; i++) {
        if (strcmp(key, target_nums[i].key) != 0)
            continue;
        size_t bit = 40 + i;
        if (t->seen & (UINT64_C(1) << bit))
            return fail(st, line, key, "key given twice");
        t->seen |= UINT64_C(1) << bit;
        int64_t v;
        if (!tn_parse_i64(value, &v) || v < target_nums[i].lo || v > target_nums[i].hi) {
            char msg[96];
            snprintf(msg, sizeof msg, "must be a whole number from %u to %u", target_nums[i].lo,
                     target_nums[i].hi);
            return fail(st, line, key, msg);
        }
        *(unsigned *)((char *)t + target_nums[i].off) = (unsigned)v;
        return 1;
    }
    if (strcmp(key, "starttls") == 0) {
        if (t->seen & (UINT64_C(1) << 50))
            return fail(st, line, key, "key given twice");
        t->seen |= UINT64_C(1) << 50;
        if (!parse_bool(value, &t->starttls))
            return fail(st, line, key, "must be true or false");
        return 1;
    }
    return fail(st, line, key, "unknown key");
}

/* inih hands us one key at a time; returning 0 makes ini_parse report the
 * line, but we keep our own message so it names the key and the reason. */
static int on_key(void *user, const char *section, const char *key, const char *value)
{
    struct parse_state *st = user;
    if (st->failed)
        return 0;
    int line = find_line(st, key);
    if (tn_str_startswith(section, "target "))
        return on_target_key(st, line, section + 7, key, value);
    static const struct {
        const char *section, *key;
        int id;
    } table[] = {
        {"registry", "db", K_DB},
        {"registry", "key_file", K_KEY_FILE},
        {"naming", "username_pattern", K_UPATTERN},
        {"naming", "username_max", K_UMAX},
        {"naming", "email_pattern", K_EPATTERN},
        {"naming", "email_domain", K_EDOMAIN},
        {"ldap", "listen", K_L_LISTEN},
        {"ldap", "port", K_L_PORT},
        {"ldap", "base", K_L_BASE},
        {"ldap", "max_pdu", K_L_MAX_PDU},
        {"ldap", "max_connections", K_L_MAX_CONN},
        {"ldap", "idle_timeout", K_L_IDLE},
        {"ldap", "filter_depth", K_L_DEPTH},
        {"ldap", "size_limit", K_L_SIZE},
        {"ldap", "time_limit", K_L_TIME},
        {"ldap", "scan_limit", K_L_SCAN},
        {"ldap", "anonymous_search", K_L_ANON},
        {"ldap", "read_audit", K_L_RAUDIT},
        {"ldap", "bind_max_failures", K_L_BIND_MAX},
        {"ldap", "bind_lockout", K_L_LOCKOUT},
        {"ldap", "service_dn", K_L_SVC_DN},
        {"ldap", "service_password_hash", K_L_SVC_PW},
        {"ldap", "cache_kib", K_L_CACHE},
        {"ldap", "mmap_mib", K_L_MMAP},
        {"ldap", "workers", K_L_WORKERS},
        {"ldap", "source_max_failures", K_L_SRC_MAX},
        {"ldap", "service_allow", K_L_SVC_ALLOW},
        {"ldap", "rehash_legacy", K_L_REHASH},
        {"ldap", "tls_cert", K_L_TLS_CERT},
        {"ldap", "tls_key", K_L_TLS_KEY},
        {"ldap", "ldaps_port", K_L_LDAPS_PORT},
        {"ldap", "bind_require_tls", K_L_REQ_TLS},
        {"http", "listen", K_H_LISTEN},
        {"http", "port", K_H_PORT},
        {"http", "https_port", K_H_HTTPS_PORT},
        {"http", "max_body", K_H_MAX_BODY},
        {"http", "timeout", K_H_TIMEOUT},
        {"http", "threads", K_H_THREADS},
        {"http", "cache_kib", K_H_CACHE},
        {"http", "mmap_mib", K_H_MMAP},
        {"http", "max_connections", K_H_MAX_CONN},
        {"http", "read_audit", K_H_RAUDIT},
        {"http", "auth_max_failures", K_H_AUTH_MAX},
        {"http", "auth_lockout", K_H_AUTH_LOCKOUT},
        {"http", "tls_cert", K_H_TLS_CERT},
        {"http", "tls_key", K_H_TLS_KEY},
        {"http", "client_ca", K_H_CLIENT_CA},
    };
    int id = -1;
    bool section_known = false;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(section, table[i].section) == 0) {
            section_known = true;
            if (strcmp(key, table[i].key) == 0)
                id = table[i].id;
        }
    }
    if (!section_known) {
        char msg[160];
        snprintf(msg, sizeof msg, "unknown section [%.64s]", section);
        return fail(st, line, key, msg);
    }
    if (id < 0)
        return fail(st, line, key, "unknown key");
    if (st->seen & (UINT64_C(1) << id))
        return fail(st, line, key, "key given twice");
    st->seen |= UINT64_C(1) << id;

    conf *c = st->c;
    switch (id) {
    case K_DB:
        if (!*value)
            return fail(st, line, key, "must not be empty");
        return set_str(st, line, key, c->db, sizeof c->db, value);
    case K_KEY_FILE:
        return set_str(st, line, key, c->key_file, sizeof c->key_file, value);
    case K_UPATTERN:
        return set_str(st, line, key, c->username_pattern, sizeof c->username_pattern, value);
    case K_EPATTERN:
        return set_str(st, line, key, c->email_pattern, sizeof c->email_pattern, value);
    case K_EDOMAIN:
        return set_str(st, line, key, c->email_domain, sizeof c->email_domain, value);
    case K_UMAX: {
        int64_t v;
        if (!tn_parse_i64(value, &v) || v < 3 || v > USERNAME_BUFSZ - 1)
            return fail(st, line, key, "must be a whole number from 3 to 64");
        c->username_max = (unsigned)v;
        return 1;
    }
    case K_L_LISTEN:
        if (!*value)
            return fail(st, line, key, "must not be empty");
        return set_str(st, line, key, c->ldap_listen, sizeof c->ldap_listen, value);
    case K_L_BASE:
        if (!*value)
            return fail(st, line, key, "must not be empty");
        return set_str(st, line, key, c->ldap_base, sizeof c->ldap_base, value);
    case K_L_SVC_DN:
        return set_str(st, line, key, c->ldap_service_dn, sizeof c->ldap_service_dn, value);
    case K_L_SVC_PW:
        return set_str(st, line, key, c->ldap_service_password_hash,
                       sizeof c->ldap_service_password_hash, value);
    case K_L_SVC_ALLOW:
        return set_str(st, line, key, c->ldap_service_allow, sizeof c->ldap_service_allow, value);
    case K_L_REHASH:
        if (!parse_bool(value, &c->ldap_rehash_legacy))
            return fail(st, line, key, "must be true or false");
        return 1;
    case K_L_TLS_CERT:
        return set_str(st, line, key, c->ldap_tls_cert, sizeof c->ldap_tls_cert, value);
    case K_L_TLS_KEY:
        return set_str(st, line, key, c->ldap_tls_key, sizeof c->ldap_tls_key, value);
    case K_L_LDAPS_PORT: {
        int64_t v;
        if (strcmp(value, "off") == 0 || !*value) {
            c->ldap_ldaps_port = -1;
            return 1;
        }
        if (!tn_parse_i64(value, &v) || v < 0 || v > 65535)
            return fail(st, line, key, "must be off or a whole number from 0 to 65535");
        c->ldap_ldaps_port = (int)v;
        return 1;
    }
    case K_H_LISTEN:
        if (!*value)
            return fail(st, line, key, "must not be empty");
        return set_str(st, line, key, c->http_listen, sizeof c->http_listen, value);
    case K_H_TLS_CERT:
        return set_str(st, line, key, c->http_tls_cert, sizeof c->http_tls_cert, value);
    case K_H_TLS_KEY:
        return set_str(st, line, key, c->http_tls_key, sizeof c->http_tls_key, value);
    case K_H_CLIENT_CA:
        return set_str(st, line, key, c->http_client_ca, sizeof c->http_client_ca, value);
    case K_H_RAUDIT:
        if (!parse_bool(value, &c->http_read_audit))
            return fail(st, line, key, "must be true or false");
        return 1;
    case K_H_PORT:
    case K_H_HTTPS_PORT: {
        int64_t v;
        if (id == K_H_HTTPS_PORT && (strcmp(value, "off") == 0 || !*value)) {
            c->http_https_port = -1;
            return 1;
        }
        if (id == K_H_PORT && strcmp(value, "off") == 0) {
            c->http_port = CONF_HTTP_OFF;
            return 1;
        }
        if (!tn_parse_i64(value, &v) || v < 0 || v > 65535)
            return fail(st, line, key, id == K_H_PORT ? "must be off or a whole number from 0 to 65535"
                                                       : "must be off or a whole number from 0 to 65535");
        *(id == K_H_PORT ? &c->http_port : &c->http_https_port) = (int)v;
        return 1;
    }
    case K_L_REQ_TLS:
        if (!parse_bool(value, &c->ldap_bind_require_tls))
            return fail(st, line, key, "must be true or false");
        return 1;
    case K_L_ANON:
    case K_L_RAUDIT:
        if (!parse_bool(value, id == K_L_ANON ? &c->ldap_anonymous_search : &c->ldap_read_audit))
            return fail(st, line, key, "must be true or false");
        return 1;
    default:
        for (size_t i = 0; i < sizeof ldap_nums / sizeof ldap_nums[0]; i++) {
            if (ldap_nums[i].id != id)
                continue;
            int64_t v;
            if (!tn_parse_i64(value, &v) || v < ldap_nums[i].lo || v > ldap_nums[i].hi) {
                char msg[96];
                snprintf(msg, sizeof msg, "must be a whole number from %u to %u", ldap_nums[i].lo,
                         ldap_nums[i].hi);
                return fail(st, line, key, msg);
            }
            *(unsigned *)((char *)c + ldap_nums[i].off) = (unsigned)v;
            return 1;
        }
        break;
    }
    switch (id) {
    default:
        return fail(st, line, key, "unknown key");
    }
}

static tn_code finish_parse(struct parse_state *st, int rc)
{
    if (st->failed)
        return st->e ? st->e->code : TN_EINVAL;
    if (rc > 0)
        return tn_err_set(st->e, TN_EINVAL, NULL, "%s line %d: malformed line", st->name, rc);
    if (rc < 0)
        return tn_err_set(st->e, TN_EIO, NULL, "%s: cannot read file", st->name);
    return TN_OK;
}

tn_code conf_load_file(conf *c, const char *path, tn_err *e)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return tn_err_set(e, TN_EIO, NULL, "%s: cannot open configuration file", path);
    char *text = tn_malloc(CONF_FILE_MAX + 1);
    size_t n = fread(text, 1, CONF_FILE_MAX + 1, f);
    bool err = ferror(f);
    fclose(f);
    tn_code rc;
    if (err)
        rc = tn_err_set(e, TN_EIO, NULL, "%s: cannot read configuration file", path);
    else if (n > CONF_FILE_MAX)
        rc = tn_err_set(e, TN_EINVAL, NULL, "%s: configuration file larger than 1 MiB", path);
    else if (memchr(text, '\0', n))
        rc = tn_err_set(e, TN_EINVAL, NULL, "%s: configuration file contains a NUL byte", path);
    else {
        text[n] = '\0';
        rc = conf_load_string(c, text, path, e);
    }
    free(text);
    return rc;
}

tn_code conf_load_string(conf *c, const char *text, const char *name, tn_err *e)
{
    struct parse_state st = {c, name, e, false, 0, text, 1};
    int rc = ini_parse_string(text, on_key, &st);
    return finish_parse(&st, rc);
}

/* The target's group families (groups = kinds, units | none): checked,
 * put in canonical order (the connectors and the tests compare the
 * string) and reflected in the two flags. An unknown family or one given
 * twice is an error rather than ignored: a typo would otherwise silently
 * drop every member from the groups it was meant to keep. */
static tn_code target_groups(conf_target *t, bool ldap, bool scim, tn_err *e)
{
    bool given = t->groups[0] != '\0', none = false;
    t->group_kinds = t->group_units = t->group_schools = t->group_classes = false;
    const struct {
        const char *name;
        bool *flag;
    } fam[] = {{"kinds", &t->group_kinds},     {"units", &t->group_units},
               {"schools", &t->group_schools}, {"classes", &t->group_classes},
               {"none", &none}};
    const char *cur = t->groups, *p;
    size_t n;
    while (tn_list_next(&cur, &p, &n)) {
        bool *flag = NULL;
        for (size_t i = 0; i < sizeof fam / sizeof fam[0]; i++)
            if (strlen(fam[i].name) == n && !strncmp(p, fam[i].name, n))
                flag = fam[i].flag;
        if (!flag)
            return tn_err_set(e, TN_EINVAL, "groups",
                              "[target %s] groups: unknown family \"%.*s\" (kinds, units, "
                              "schools, classes or none)",
                              t->name, (int)(n < 32 ? n : 32), p);
        if (*flag)
            return tn_err_set(e, TN_EINVAL, "groups", "[target %s] groups: \"%.*s\" given twice",
                              t->name, (int)n, p);
        *flag = true;
    }
    bool any = t->group_kinds || t->group_units || t->group_schools || t->group_classes;
    if (given && !none && !any)
        return tn_err_set(e, TN_EINVAL, "groups", "[target %s] groups is empty", t->name);
    if (none && any)
        return tn_err_set(e, TN_EINVAL, "groups", "[target %s] groups: none goes alone",
                          t->name);
    /* Today's behaviour when the key is left out: an LDAP target with a
     * group_base keeps a group per kind. */
    if (!given && ldap && t->group_base[0])
        t->group_kinds = any = true;
    if (any && !ldap && !scim)
        return tn_err_set(e, TN_EINVAL, "groups", "[target %s] groups is for ldap and scim targets",
                          t->name);
    if (any && ldap && !t->group_base[0])
        return tn_err_set(e, TN_EINVAL, "groups", "[target %s] groups needs group_base", t->name);
    size_t o = 0;
    t->groups[0] = '\0';
    for (size_t i = 0; i + 1 < sizeof fam / sizeof fam[0]; i++)
        if (*fam[i].flag)
            o += (size_t)snprintf(t->groups + o, sizeof t->groups - o, "%s%s", o ? "," : "",
                                  fam[i].name);
    if (t->group_prefix[0] && !scim)
        return tn_err_set(e, TN_EINVAL, "group_prefix",
                          "[target %s] group_prefix is for scim targets", t->name);
    if (t->group_prefix[0] && !t->groups[0])
        return tn_err_set(e, TN_EINVAL, "group_prefix",
                          "[target %s] group_prefix needs groups", t->name);
    return TN_OK;
}

tn_code conf_finish(conf *c, tn_err *e)
{
    tn_code rc = uname_pattern_check(c->username_pattern, e);
    if (rc != TN_OK) {
        if (e)
            tn_strlcpy(e->field, "username_pattern", sizeof e->field);
        return rc;
    }
    rc = uname_pattern_check(c->email_pattern, e);
    if (rc != TN_OK) {
        if (e)
            tn_strlcpy(e->field, "email_pattern", sizeof e->field);
        return rc;
    }
    if (c->email_domain[0]) {
        /* A domain is valid if an address in it is. */
        char probe[CONF_DOMAIN_MAX + 3], out[EMAIL_BUFSZ];
        snprintf(probe, sizeof probe, "x@%s", c->email_domain);
        if (email_normalize(probe, out, "email_domain", e) != TN_OK)
            return tn_err_set(e, TN_EINVAL, "email_domain", "not a valid mail domain");
        tn_strlcpy(c->email_domain, strchr(out, '@') + 1, sizeof c->email_domain);
    }
    if (!c->ldap_tls_cert[0] != !c->ldap_tls_key[0])
        return tn_err_set(e, TN_EINVAL, c->ldap_tls_cert[0] ? "tls_key" : "tls_cert",
                          "[ldap] tls_cert and tls_key go together");
    if (c->ldap_ldaps_port >= 0 && !c->ldap_tls_cert[0])
        return tn_err_set(e, TN_EINVAL, "ldaps_port", "LDAPS needs [ldap] tls_cert and tls_key");
    for (unsigned i = 0; i < c->ntargets; i++) {
        conf_target *t = &c->targets[i];
        bool ldap = strcmp(t->type, "ldap") == 0, file = strcmp(t->type, "file") == 0,
             scim = strcmp(t->type, "scim") == 0;
        if (!ldap && !file && !scim)
            return tn_err_set(e, TN_EINVAL, "type", "[target %s] type must be ldap, file or scim",
                              t->name);
        if (!t->rdn_attr[0])
            tn_strlcpy(t->rdn_attr, "uid", sizeof t->rdn_attr);
        if (!t->on_close[0])
            tn_strlcpy(t->on_close, "disable", sizeof t->on_close);
        if (!t->on_purge[0])
            tn_strlcpy(t->on_purge, "delete", sizeof t->on_purge);
        if (!t->disable_attr[0])
            tn_strlcpy(t->disable_attr, "pwdAccountLockedTime", sizeof t->disable_attr);
        if (!t->disable_value[0])
            tn_strlcpy(t->disable_value, "000001010000Z", sizeof t->disable_value);
        if (!t->format[0])
            tn_strlcpy(t->format, "csv", sizeof t->format);
        if (!t->object_classes[0])
            tn_strlcpy(t->object_classes, "inetOrgPerson", sizeof t->object_classes);
        if (!t->max_attempts)
            t->max_attempts = 5;
        if (!t->backoff)
            t->backoff = 2;
        if (!t->batch)
            t->batch = 500;
        if (strcmp(t->on_close, "disable") && strcmp(t->on_close, "move") &&
            strcmp(t->on_close, "delete") && strcmp(t->on_close, "keep"))
            return tn_err_set(e, TN_EINVAL, "on_close",
                              "[target %s] on_close must be disable, move, delete or keep", t->name);
        if (strcmp(t->on_purge, "delete") && strcmp(t->on_purge, "keep"))
            return tn_err_set(e, TN_EINVAL, "on_purge",
                              "[target %s] on_purge must be delete or keep", t->name);
        if (strcmp(t->format, "csv") && strcmp(t->format, "json"))
            return tn_err_set(e, TN_EINVAL, "format", "[target %s] format must be csv or json",
                              t->name);
        if ((ldap || scim) && !t->url[0])
            return tn_err_set(e, TN_EINVAL, "url", "[target %s] needs url", t->name);
        if (ldap && !t->base[0])
            return tn_err_set(e, TN_EINVAL, "base", "[target %s] needs base", t->name);
        if (ldap && !strcmp(t->on_close, "move") && !t->closed_base[0])
            return tn_err_set(e, TN_EINVAL, "closed_base",
                              "[target %s] on_close = move needs closed_base", t->name);
        if ((scim || file) && !strcmp(t->on_close, "move"))
            return tn_err_set(e, TN_EINVAL, "on_close",
                              "[target %s] on_close = move is for ldap targets", t->name);
        if ((rc = target_groups(t, ldap, scim, e)) != TN_OK)
            return rc;
        if (file && !t->dir[0])
            return tn_err_set(e, TN_EINVAL, "dir", "[target %s] needs dir", t->name);
        if (t->nmap == 0)
            return tn_err_set(e, TN_EINVAL, "map", "[target %s] needs at least one map.ATTR",
                              t->name);
    }
    if (!c->http_tls_cert[0] != !c->http_tls_key[0])
        return tn_err_set(e, TN_EINVAL, c->http_tls_cert[0] ? "tls_key" : "tls_cert",
                          "[http] tls_cert and tls_key go together");
    if (!c->http_tls_cert[0] && c->ldap_tls_cert[0]) {
        /* One certificate serves both front ends unless [http] names its own. */
        tn_strlcpy(c->http_tls_cert, c->ldap_tls_cert, sizeof c->http_tls_cert);
        tn_strlcpy(c->http_tls_key, c->ldap_tls_key, sizeof c->http_tls_key);
    }
    if (c->http_https_port >= 0 && !c->http_tls_cert[0])
        return tn_err_set(e, TN_EINVAL, "https_port", "HTTPS needs tls_cert and tls_key");
    if (c->db[0] && !c->key_file[0]) {
        const char *path = tn_str_startswith(c->db, "sqlite:") ? c->db + 7 : c->db;
        if ((size_t)snprintf(c->key_file, sizeof c->key_file, "%s.key", path) >=
            sizeof c->key_file)
            return tn_err_set(e, TN_EINVAL, "key_file", "path too long");
    }
    return TN_OK;
}

const conf_target *conf_target_find(const conf *c, const char *name)
{
    for (unsigned i = 0; i < c->ntargets; i++)
        if (strcmp(c->targets[i].name, name) == 0)
            return &c->targets[i];
    return NULL;
}

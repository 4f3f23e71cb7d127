/* ldap_int — what the files of the LDAP front end share (private to
 * src/ldap): the BER codec, the filter AST, the per-operation arena, the
 * tree and attribute mapping, the session and the operation handlers. */
#ifndef LDAP_INT_H
#define LDAP_INT_H

#include <lber.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "dir_entry.h"
#include "service.h"
#include "svc_dir.h"
#include "tn_throttle.h"

/* LDAPResult codes (RFC 4511 4.1.9) used here. */
enum {
    LD_SUCCESS = 0,
    LD_OPERATIONS_ERROR = 1,
    LD_PROTOCOL_ERROR = 2,
    LD_TIMELIMIT_EXCEEDED = 3,
    LD_SIZELIMIT_EXCEEDED = 4,
    LD_COMPARE_FALSE = 5,
    LD_COMPARE_TRUE = 6,
    LD_AUTH_METHOD_NOT_SUPPORTED = 7,
    LD_ADMINLIMIT_EXCEEDED = 11,
    LD_UNAVAILABLE_CRITICAL_EXTENSION = 12,
    LD_CONFIDENTIALITY_REQUIRED = 13,
    LD_NO_SUCH_ATTRIBUTE = 16,
    LD_UNDEFINED_TYPE = 17,
    LD_CONSTRAINT_VIOLATION = 19,
    LD_NO_SUCH_OBJECT = 32,
    LD_INVALID_DN_SYNTAX = 34,
    LD_INAPPROPRIATE_AUTH = 48,
    LD_INVALID_CREDENTIALS = 49,
    LD_INSUFFICIENT_ACCESS = 50,
    LD_BUSY = 51,
    LD_UNAVAILABLE = 52,
    LD_UNWILLING_TO_PERFORM = 53,
    LD_OTHER = 80,
};

/* Protocol tags (RFC 4511 appendix) */
#define LD_REQ_BIND 0x60u
#define LD_REQ_UNBIND 0x42u
#define LD_REQ_SEARCH 0x63u
#define LD_REQ_MODIFY 0x66u
#define LD_REQ_ADD 0x68u
#define LD_REQ_DELETE 0x4au
#define LD_REQ_MODDN 0x6cu
#define LD_REQ_COMPARE 0x6eu
#define LD_REQ_ABANDON 0x50u
#define LD_REQ_EXTENDED 0x77u
#define LD_RES_BIND 0x61u
#define LD_RES_SEARCH_ENTRY 0x64u
#define LD_RES_SEARCH_DONE 0x65u
#define LD_RES_MODIFY 0x67u
#define LD_RES_ADD 0x69u
#define LD_RES_DELETE 0x6bu
#define LD_RES_MODDN 0x6du
#define LD_RES_COMPARE 0x6fu
#define LD_RES_EXTENDED 0x78u
#define LD_TAG_CONTROLS 0xa0u
#define LD_TAG_SASL 0xa3u
#define LD_TAG_SIMPLE 0x80u
#define LD_TAG_EXOP_NAME 0x80u
#define LD_TAG_EXOP_VALUE 0x81u
#define LD_TAG_EXRES_NAME 0x8au
#define LD_TAG_EXRES_VALUE 0x8bu

#define LD_OID_WHOAMI "1.3.6.1.4.1.4203.1.11.3"
#define LD_OID_NOTICE_DISCONNECT "1.3.6.1.4.1.1466.20036"
#define LD_OID_MANAGE_DSA_IT "2.16.840.1.113730.3.4.2"
#define LD_OID_STARTTLS "1.3.6.1.4.1.1466.20037"
#define LD_OID_PASSWD_MODIFY "1.3.6.1.4.1.4203.1.11.1"
#define LD_OID_PAGED_RESULTS "1.2.840.113556.1.4.319"

/* ---- arena (ldap_arena.c): per-operation memory, reset after each ---- */

typedef struct ld_chunk ld_chunk;
typedef struct ld_arena {
    ld_chunk *head;  /* the first chunk is kept across resets */
    size_t used;     /* in the current (last) chunk */
    ld_chunk *cur;
    size_t total;    /* bytes handed out since the last reset */
    size_t limit;    /* a request needing more is refused */
} ld_arena;

void ld_arena_init(ld_arena *a, size_t limit);
/* NULL when the limit would be passed. */
void *ld_arena_alloc(ld_arena *a, size_t n);
void ld_arena_reset(ld_arena *a);
void ld_arena_free(ld_arena *a);

/* ---- BER framing and the message envelope (ldap_ber.c) --------------- */

typedef enum ld_frame {
    LD_FRAME_NEED_MORE = 0,
    LD_FRAME_OK,
    LD_FRAME_MALFORMED,
    LD_FRAME_TOO_BIG
} ld_frame;

/* Is buf[0..n) the start of a complete LDAPMessage? *pdu_len gets its full
 * length (header included) when LD_FRAME_OK. */
ld_frame ld_frame_check(const unsigned char *buf, size_t n, size_t max_pdu, size_t *pdu_len);

typedef struct ld_control {
    struct berval oid;
    bool critical;
    struct berval value;
    bool has_value;
} ld_control;

#define LD_MAX_CONTROLS 16

/* A decoded LDAPMessage; every berval points into the PDU buffer. */
typedef struct ld_msg {
    ber_int_t msgid;
    ber_tag_t op;
    struct berval op_elem; /* the protocolOp element, tag and length included */
    ld_control controls[LD_MAX_CONTROLS];
    int ncontrols;
} ld_msg;

/* Decode the envelope of one PDU (as framed by ld_frame_check) with ber,
 * a BerElement owned by the caller and reused. false: malformed. */
bool ld_msg_decode(BerElement *ber, const unsigned char *pdu, size_t len, ld_msg *out);
/* Position ber at the start of the protocolOp for the operation's decoder. */
void ld_op_begin(BerElement *ber, const ld_msg *m);
/* The first critical control this server does not support, or NULL. */
const ld_control *ld_unsupported_critical(const ld_msg *m);

/* ---- the output buffer: BER encoded responses, one write per batch ---- */

typedef struct ld_out {
    BerElement *ber;
    char *buf;   /* malloc'd; liblber may realloc it while encoding */
    size_t cap;
    bool open;
} ld_out;

void ld_out_init(ld_out *o);
void ld_out_free(ld_out *o);
/* Start encoding into the reused buffer (no-op if already started). */
BerElement *ld_out_ber(ld_out *o);
/* The bytes encoded so far; the buffer is then ready for reuse. */
bool ld_out_take(ld_out *o, struct berval *bv);
/* Encode an LDAPResult-shaped response. */
bool ld_put_result(ld_out *o, ber_int_t msgid, ber_tag_t tag, int code, const char *matched,
                   const char *msg);

/* ---- filters (ldap_filter.c) ----------------------------------------- */

typedef enum ld_fkind {
    LD_F_AND, LD_F_OR, LD_F_NOT, LD_F_EQ, LD_F_SUB, LD_F_GE, LD_F_LE, LD_F_PRESENT,
    LD_F_APPROX, LD_F_EXT
} ld_fkind;

typedef struct ld_filter ld_filter;
struct ld_filter {
    ld_fkind kind;
    int attr;                 /* ld_attr id, -1 = unknown attribute */
    struct berval type;       /* the attribute description as sent */
    struct berval value;      /* EQ, GE, LE, APPROX, EXT */
    struct berval initial, final_; /* SUB (bv_val NULL: absent) */
    struct berval *any;       /* SUB */
    int nany;
    ld_filter *kid;           /* AND, OR: the first child; NOT: the child */
    ld_filter *next;          /* the next sibling in an AND or OR */
};

typedef enum ld_tri { LD_FALSE = 0, LD_TRUE = 1, LD_UNDEF = 2 } ld_tri;

/* Parse the Filter at ber's position. Returns NULL on a malformed filter or
 * one nested deeper than max_depth (*too_deep says which). */
ld_filter *ld_filter_parse(BerElement *ber, ld_arena *a, unsigned max_depth, bool *too_deep);
/* A uid the filter requires by equality (itself, or a term of a top-level
 * AND), copied lower-cased into out; false if none. */
bool ld_filter_uid(const ld_filter *f, char *out, size_t cap);

/* ---- attributes and entries (ldap_schema.c) -------------------------- */

typedef enum ld_attr {
    LD_A_OBJECTCLASS = 0, LD_A_UID, LD_A_CN, LD_A_SN, LD_A_GIVENNAME, LD_A_DISPLAYNAME,
    LD_A_MAIL, LD_A_TELEPHONE, LD_A_TITLE, LD_A_OU, LD_A_EMPLOYEENUMBER, LD_A_PREFLANG,
    LD_A_EPAFFILIATION, LD_A_EPPRIMARY, LD_A_EPPN, LD_A_SCHACHOME, LD_A_UIDNUMBER,
    LD_A_GIDNUMBER, LD_A_HOMEDIR, LD_A_LOGINSHELL, LD_A_GECOS, LD_A_DC, LD_A_O,
    /* root DSE and subschema */
    LD_A_NAMINGCONTEXTS, LD_A_SUPPORTEDLDAPVERSION, LD_A_SUPPORTEDCONTROL,
    LD_A_SUPPORTEDEXTENSION, LD_A_SUPPORTEDSASL, LD_A_VENDORNAME, LD_A_ATTRIBUTETYPES,
    LD_A_OBJECTCLASSES,
    /* operational */
    LD_A_ENTRYUUID, LD_A_ENTRYDN, LD_A_SUBSCHEMA, LD_A_HASSUBORDINATES, LD_A_STRUCTURALOC,
    /* groups (ldap_groups.c) */
    LD_A_DESCRIPTION, LD_A_MEMBER, LD_A_MEMBERUID, LD_A_MEMBEROF,
    LD_A_MAX
} ld_attr;

typedef enum ld_syntax { LD_SYN_STRING = 0, LD_SYN_PHONE, LD_SYN_INTEGER, LD_SYN_DN } ld_syntax;

typedef struct ld_attr_info {
    const char *name;     /* canonical name, as returned */
    const char *alias;    /* another accepted name, or NULL */
    ld_syntax syntax;
    bool operational;     /* returned only when asked for by name or "+" */
} ld_attr_info;

const ld_attr_info *ld_attr_get(int id);
/* The attribute named (case-insensitive, options after ';' ignored), or -1. */
int ld_attr_lookup(const char *name, size_t len);

/* The kinds of entry in the tree. */
typedef enum ld_ekind {
    LD_E_ROOTDSE, LD_E_SUBSCHEMA, LD_E_BASE, LD_E_PEOPLE, LD_E_PERSON, LD_E_GROUPS, LD_E_GROUP
} ld_ekind;

/* What the tree is built from: the configured base, normalised. */
typedef struct ld_tree {
    char base[CONF_DN_MAX];       /* as configured */
    char base_norm[CONF_DN_MAX];
    char people_norm[CONF_DN_MAX + 16];
    char people_dn[CONF_DN_MAX + 16];
    char domain[CONF_DN_MAX];     /* dc values joined by '.', for eduPersonPrincipalName */
    char first_dc[64];            /* the base's own dc (or o) value */
    bool base_is_dc;
    char service_norm[CONF_DN_MAX]; /* the application account's DN, normalised ("" = none) */
    bool tls;                     /* StartTLS offered */
    char groups_norm[CONF_DN_MAX + 16];
    char groups_dn[CONF_DN_MAX + 16];
    char services_norm[CONF_DN_MAX + 16]; /* ou=services: API clients bind below it */
    char services_dn[CONF_DN_MAX + 16];
} ld_tree;

bool ld_tree_init(ld_tree *t, const conf *c);

/* Normalise a DN (lower case, no spaces around separators, escapes
 * decoded where harmless). false: not a DN. */
bool ld_dn_norm(const char *in, size_t len, char *out, size_t cap);

typedef struct ld_target {
    ld_ekind kind;
    bool found;
    char uid[USERNAME_BUFSZ]; /* LD_E_PERSON */
    char cn[DIR_GROUP_VAL_MAX]; /* LD_E_GROUP */
    const char *matched;      /* matchedDN when not found */
} ld_target;

/* Is norm "cn=NAME,ou=services,<base>" (an API client's bind DN)? NAME
 * into name. */
bool ld_tree_client(const ld_tree *t, const char *norm, char *name, size_t cap);
/* Resolve a normalised DN to an entry of the tree. */
void ld_tree_resolve(const ld_tree *t, const char *norm, ld_target *out);

/* An entry being examined: one of the fixed entries or a person. */
typedef struct ld_view {
    ld_ekind kind;
    const dir_entry *d;
    const ld_tree *t;
    const dir_group *g;  /* LD_E_GROUP */
} ld_view;

#define LD_MAX_VALS 64
typedef struct ld_vals {
    const char *v[LD_MAX_VALS];
    size_t len[LD_MAX_VALS];
    int n;
    char scratch[4096];
    size_t used;
} ld_vals;

/* The values of attribute id of the entry (none when it has none). */
void ld_values(const ld_view *e, int id, ld_vals *out);
/* The entry's DN as shown. */
void ld_view_dn(const ld_view *e, char *out, size_t cap);

/* Evaluate a filter against an entry (RFC 4511 4.5.1.7: three-valued). */
ld_tri ld_filter_eval(const ld_filter *f, const ld_view *e);
/* Does value match the assertion (for compare: equality). */
bool ld_value_equal(int attr, const char *a, size_t alen, const char *b, size_t blen);

/* ---- sessions (ldap_conn.c) ------------------------------------------ */

typedef struct ld_server ld_server;

/* The paged search in progress on a session (RFC 2696). The cookie is
 * random and names this state; it means nothing on another connection. */
#define LD_COOKIE_LEN 16
typedef struct ld_page {
    bool active;
    unsigned char cookie[LD_COOKIE_LEN];
    uint64_t req_hash;  /* of the search request: a cookie continues only the same search */
    int fixed_done;     /* fixed entries (base, ou=people) already sent */
    int64_t last_id;    /* account id of the last person sent */
    int64_t last_gid;   /* gidNumber of the last group sent (0: groups not begun) */
} ld_page;

/* A paged-results control on a request. */
typedef struct ld_paged {
    bool present;
    bool critical;
    int64_t size;
    unsigned char cookie[LD_COOKIE_LEN];
    size_t cookie_len;  /* 0: a new search */
} ld_paged;

/* Find and decode the paged-results control of m. false: present but malformed. */
bool ld_paged_get(const ld_msg *m, ld_paged *out);
/* A fresh random cookie into pg. */
void ld_paged_new_cookie(ld_page *pg);
/* A hash of the request's protocolOp, to tie a cookie to its search. */
uint64_t ld_paged_req_hash(const ld_msg *m);
/* Encode SearchResultDone with the paged-results response control. */
bool ld_put_done_paged(ld_out *o, ber_int_t msgid, int code, const char *msg,
                       const unsigned char *cookie, size_t cookie_len);

typedef struct ld_sess {
    ld_server *srv;
    const conf *cfg;
    const ld_tree *tree;
    svc *s;
    int fd;
    char peer[64];
    svc_actor actor;
    bool bound;               /* as a person or the application account */
    char authz[CONF_DN_MAX + 160]; /* "dn:…" of the bound identity, "" anonymous */
    ld_arena arena;
    ld_out out;
    BerElement *in;           /* reused for decoding */
    bool closing;
    bool noticed;             /* a Notice of Disconnection was sent */
    struct ld_tls_ctx *tls_ctx; /* NULL: TLS is not configured */
    struct gnutls_session_int *ssl; /* non-NULL once TLS is up (a gnutls_session_t) */
    bool start_tls;           /* StartTLS answered: handshake before reading on */
    bool ldaps;               /* accepted on the LDAPS port: handshake first */
    bool peer_loopback;
    tn_throttle *throttle;    /* failed binds per source address (the server's) */
    ld_page page;
    /* The request bytes read so far: kept with the session, which a
     * different worker may serve next time (one spare byte, see drain). */
    unsigned char *rbuf;
    size_t rlen, rcap;
    /* ldap_conn.c's bookkeeping: every session is on the server's list
     * (for the stop and the idle sweep); a plain session waits in the
     * workers' epoll set, a TLS one has a thread of its own. */
    struct ld_sess *prev, *next;
    struct ld_sess *qnext;      /* in the server's run queue */
    bool threaded;
    _Atomic bool busy;          /* a worker is serving it */
    _Atomic bool expired;       /* the idle sweep ended it */
    _Atomic int64_t idle_since; /* ms, monotonic: when it last went back to waiting */
} ld_sess;

/* ---- TLS and byte I/O (ldap_tls.c) ----------------------------------- */

/* The server's TLS context from [ldap] tls_cert and tls_key. */
struct ld_tls_ctx *ld_tls_ctx_new(const conf *c, tn_err *e);
void ld_tls_ctx_free(struct ld_tls_ctx *ctx);
/* Handshake as the server on ss->fd; false: failed (close). */
bool ld_tls_start(ld_sess *ss);
/* Send close_notify and free the TLS state. */
void ld_tls_end(ld_sess *ss);
/* Decrypted or undecrypted bytes buffered in the TLS layer (poll would miss them). */
bool ld_io_pending(ld_sess *ss);
bool ld_io_send(ld_sess *ss, const char *p, size_t n);
/* Like recv: >0 bytes, 0 end of stream, <0 error. */
long ld_io_recv(ld_sess *ss, unsigned char *buf, size_t n);

/* Send what ld_out holds, after making the audit of it durable. */
bool ld_sess_flush(ld_sess *ss);
/* Around something slow in an operation (a password hash, waiting for a
 * client to read): while every worker is inside such a section, another
 * is started, so that the other sessions are still served. */
void ld_sess_slow_begin(ld_sess *ss);
void ld_sess_slow_end(ld_sess *ss);
/* A send would block (the client is not reading): wait up to the idle
 * timeout (a slow section). false: the client did not read in time or
 * the connection failed. */
bool ld_sess_wait_writable(ld_sess *ss);
/* Encode a result and send it. */
bool ld_sess_result(ld_sess *ss, ber_int_t msgid, ber_tag_t tag, int code, const char *matched,
                    const char *msg);

/* Operation handlers: false closes the connection. */
bool ld_op_bind(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_search(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_compare(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_extended(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_passwd(ld_sess *ss, const ld_msg *m, BerElement *ber); /* ldap_passwd.c */
bool ld_op_update(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_abandon(ld_sess *ss, const ld_msg *m, BerElement *ber);
bool ld_op_unbind(ld_sess *ss, const ld_msg *m, BerElement *ber);

/* Map a service error to an LDAP result code. */
int ld_code_for(tn_code rc);

/* ---- groups (ldap_groups.c) ------------------------------------------ */

/* Values of a group entry and the memberOf of a person (ld_values). */
void ld_group_values(const ld_view *e, int id, ld_vals *v);
void ld_member_of_values(const ld_view *e, ld_vals *v);
/* member and memberUid of a group, which may have more values than
 * ld_vals holds: evaluate f (EQ, APPROX, SUB, PRESENT, GE, LE) on each. */
ld_tri ld_group_eval_members(const ld_filter *f, const ld_view *e);
/* Encode member and memberUid of the group (each value). */
bool ld_group_encode_members(BerElement *ber, const ld_view *e, int id, bool types_only);
/* A cn the filter requires by equality (itself, or a term of a top-level AND). */
bool ld_filter_cn(const ld_filter *f, char *out, size_t cap);
/* Does one value satisfy the (non-composite) filter item f. */
bool ld_filter_match_value(const ld_filter *f, const char *v, size_t len);
/* Does the filter mention memberOf (then persons need their groups). */
bool ld_filter_mentions(const ld_filter *f, int attr);
/* Normalise a DN-valued assertion for comparison; false if not a DN. */
bool ld_dn_value_norm(const char *v, size_t len, char *out, size_t cap);

#endif

/* The directory tree and the attribute mapping: which entries exist under
 * the configured base, their DNs, and each attribute's values computed
 * from a dir_entry (docs/ldap.md has the table). userPassword is not an
 * attribute here at all, so no path can return it. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ldap_int.h"
#include "tn_str.h"

static const ld_attr_info attrs[LD_A_MAX] = {
    [LD_A_OBJECTCLASS] = {"objectClass", NULL, LD_SYN_STRING, false},
    [LD_A_UID] = {"uid", "userid", LD_SYN_STRING, false},
    [LD_A_CN] = {"cn", "commonName", LD_SYN_STRING, false},
    [LD_A_SN] = {"sn", "surname", LD_SYN_STRING, false},
    [LD_A_GIVENNAME] = {"givenName", "gn", LD_SYN_STRING, false},
    [LD_A_DISPLAYNAME] = {"displayName", NULL, LD_SYN_STRING, false},
    [LD_A_MAIL] = {"mail", "rfc822Mailbox", LD_SYN_STRING, false},
    [LD_A_TELEPHONE] = {"telephoneNumber", NULL, LD_SYN_PHONE, false},
    [LD_A_TITLE] = {"title", NULL, LD_SYN_STRING, false},
    [LD_A_OU] = {"ou", "organizationalUnitName", LD_SYN_STRING, false},
    [LD_A_EMPLOYEENUMBER] = {"employeeNumber", NULL, LD_SYN_STRING, false},
    [LD_A_PREFLANG] = {"preferredLanguage", NULL, LD_SYN_STRING, false},
    [LD_A_EPAFFILIATION] = {"eduPersonAffiliation", NULL, LD_SYN_STRING, false},
    [LD_A_EPPRIMARY] = {"eduPersonPrimaryAffiliation", NULL, LD_SYN_STRING, false},
    [LD_A_EPPN] = {"eduPersonPrincipalName", NULL, LD_SYN_STRING, false},
    [LD_A_SCHACHOME] = {"schacHomeOrganization", NULL, LD_SYN_STRING, false},
    [LD_A_UIDNUMBER] = {"uidNumber", NULL, LD_SYN_INTEGER, false},
    [LD_A_GIDNUMBER] = {"gidNumber", NULL, LD_SYN_INTEGER, false},
    [LD_A_HOMEDIR] = {"homeDirectory", NULL, LD_SYN_STRING, false},
    [LD_A_LOGINSHELL] = {"loginShell", NULL, LD_SYN_STRING, false},
    [LD_A_GECOS] = {"gecos", NULL, LD_SYN_STRING, false},
    [LD_A_DC] = {"dc", "domainComponent", LD_SYN_STRING, false},
    [LD_A_O] = {"o", "organizationName", LD_SYN_STRING, false},
    [LD_A_NAMINGCONTEXTS] = {"namingContexts", NULL, LD_SYN_DN, true},
    [LD_A_SUPPORTEDLDAPVERSION] = {"supportedLDAPVersion", NULL, LD_SYN_INTEGER, true},
    [LD_A_SUPPORTEDCONTROL] = {"supportedControl", NULL, LD_SYN_STRING, true},
    [LD_A_SUPPORTEDEXTENSION] = {"supportedExtension", NULL, LD_SYN_STRING, true},
    [LD_A_SUPPORTEDSASL] = {"supportedSASLMechanisms", NULL, LD_SYN_STRING, true},
    [LD_A_VENDORNAME] = {"vendorName", NULL, LD_SYN_STRING, true},
    [LD_A_ATTRIBUTETYPES] = {"attributeTypes", NULL, LD_SYN_STRING, true},
    [LD_A_OBJECTCLASSES] = {"objectClasses", NULL, LD_SYN_STRING, true},
    [LD_A_ENTRYUUID] = {"entryUUID", NULL, LD_SYN_STRING, true},
    [LD_A_ENTRYDN] = {"entryDN", NULL, LD_SYN_DN, true},
    [LD_A_SUBSCHEMA] = {"subschemaSubentry", NULL, LD_SYN_DN, true},
    [LD_A_HASSUBORDINATES] = {"hasSubordinates", NULL, LD_SYN_STRING, true},
    [LD_A_STRUCTURALOC] = {"structuralObjectClass", NULL, LD_SYN_STRING, true},
    [LD_A_DESCRIPTION] = {"description", NULL, LD_SYN_STRING, false},
    [LD_A_MEMBER] = {"member", NULL, LD_SYN_DN, false},
    [LD_A_MEMBERUID] = {"memberUid", NULL, LD_SYN_STRING, false},
    /* Like OpenLDAP's memberof overlay: asked for by name or "+". */
    [LD_A_MEMBEROF] = {"memberOf", NULL, LD_SYN_DN, true},
};

const ld_attr_info *ld_attr_get(int id)
{
    return id >= 0 && id < LD_A_MAX ? &attrs[id] : NULL;
}

static bool name_is(const char *name, const char *s, size_t len)
{
    return name && strlen(name) == len && strncasecmp(name, s, len) == 0;
}

int ld_attr_lookup(const char *name, size_t len)
{
    const char *semi = memchr(name, ';', len);
    if (semi)
        len = (size_t)(semi - name);
    for (int i = 0; i < LD_A_MAX; i++)
        if (name_is(attrs[i].name, name, len) || name_is(attrs[i].alias, name, len))
            return i;
    return -1;
}

/* ---- DNs and the tree ---------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool ld_dn_norm(const char *in, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    size_t i = 0;
    if (len == 0) {
        if (cap == 0)
            return false;
        out[0] = '\0';
        return true;
    }
    while (i < len) {
        /* attribute type */
        while (i < len && in[i] == ' ')
            i++;
        size_t t0 = i;
        while (i < len && (isalnum((unsigned char)in[i]) || in[i] == '-' || in[i] == '.'))
            i++;
        if (i == t0)
            return false;
        for (size_t k = t0; k < i; k++) {
            if (n + 1 >= cap)
                return false;
            out[n++] = (char)tolower((unsigned char)in[k]);
        }
        while (i < len && in[i] == ' ')
            i++;
        if (i >= len || in[i] != '=')
            return false;
        i++;
        if (n + 1 >= cap)
            return false;
        out[n++] = '=';
        while (i < len && in[i] == ' ')
            i++;
        /* value, up to an unescaped ',' */
        size_t vstart = n;
        size_t lastkeep = n;
        while (i < len && in[i] != ',') {
            char c = in[i++];
            bool escaped = false;
            if (c == '+' || c == '"' || c == ';' || c == '\0')
                return false; /* multi-valued or quoted RDNs: not in this tree */
            if (c == '\\') {
                if (i >= len)
                    return false;
                int h1 = hexval(in[i]), h2 = i + 1 < len ? hexval(in[i + 1]) : -1;
                if (h1 >= 0 && h2 >= 0) {
                    c = (char)(h1 * 16 + h2);
                    i += 2;
                } else {
                    c = in[i++];
                }
                escaped = true;
            }
            if (c == ',' || c == '=' || c == '+' || c == '\\' || c == '\0')
                return false; /* no name in this tree contains them */
            if (n + 1 >= cap)
                return false;
            out[n++] = (char)tolower((unsigned char)c);
            if (c != ' ' || escaped)
                lastkeep = n;
        }
        n = lastkeep; /* trailing spaces */
        if (n == vstart)
            return false;
        if (i < len) {
            i++; /* ',' */
            if (n + 1 >= cap)
                return false;
            out[n++] = ',';
        }
    }
    out[n] = '\0';
    return true;
}

bool ld_tree_init(ld_tree *t, const conf *c)
{
    memset(t, 0, sizeof *t);
    tn_strlcpy(t->base, c->ldap_base, sizeof t->base);
    if (!ld_dn_norm(c->ldap_base, strlen(c->ldap_base), t->base_norm, sizeof t->base_norm))
        return false;
    snprintf(t->people_norm, sizeof t->people_norm, "ou=people,%s", t->base_norm);
    snprintf(t->people_dn, sizeof t->people_dn, "ou=people,%s", t->base);
    snprintf(t->groups_norm, sizeof t->groups_norm, "ou=groups,%s", t->base_norm);
    snprintf(t->groups_dn, sizeof t->groups_dn, "ou=groups,%s", t->base);
    snprintf(t->services_norm, sizeof t->services_norm, "ou=services,%s", t->base_norm);
    snprintf(t->services_dn, sizeof t->services_dn, "ou=services,%s", t->base);
    /* dc=example,dc=fi -> example.fi; the first RDN names the base entry. */
    const char *p = t->base_norm;
    size_t dn = 0;
    bool first = true;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t l = comma ? (size_t)(comma - p) : strlen(p);
        const char *eq = memchr(p, '=', l);
        if (eq) {
            size_t vl = l - (size_t)(eq + 1 - p);
            if (first) {
                t->base_is_dc = eq - p == 2 && strncmp(p, "dc", 2) == 0;
                snprintf(t->first_dc, sizeof t->first_dc, "%.*s", (int)vl, eq + 1);
            }
            if (eq - p == 2 && strncmp(p, "dc", 2) == 0 && dn + vl + 2 < sizeof t->domain) {
                if (dn)
                    t->domain[dn++] = '.';
                memcpy(t->domain + dn, eq + 1, vl);
                dn += vl;
                t->domain[dn] = '\0';
            }
        }
        first = false;
        p += l;
        if (*p == ',')
            p++;
    }
    t->tls = c->ldap_tls_cert[0] != '\0';
    if (c->ldap_service_dn[0] &&
        !ld_dn_norm(c->ldap_service_dn, strlen(c->ldap_service_dn), t->service_norm,
                    sizeof t->service_norm))
        return false;
    return true;
}

static bool ends_with_rdns(const char *dn, const char *suffix, size_t *prefix_len)
{
    size_t l = strlen(dn), sl = strlen(suffix);
    if (l <= sl + 1 || dn[l - sl - 1] != ',' || strcmp(dn + l - sl, suffix) != 0)
        return false;
    *prefix_len = l - sl - 1;
    return true;
}

bool ld_tree_client(const ld_tree *t, const char *norm, char *name, size_t cap)
{
    size_t pl;
    if (!ends_with_rdns(norm, t->services_norm, &pl) || pl <= 3 || strncmp(norm, "cn=", 3) != 0 ||
        memchr(norm, ',', pl) || pl - 3 >= cap)
        return false;
    memcpy(name, norm + 3, pl - 3);
    name[pl - 3] = '\0';
    return true;
}

void ld_tree_resolve(const ld_tree *t, const char *norm, ld_target *out)
{
    memset(out, 0, sizeof *out);
    out->matched = "";
    size_t pl;
    out->found = true;
    if (!*norm) {
        out->kind = LD_E_ROOTDSE;
    } else if (strcmp(norm, "cn=subschema") == 0) {
        out->kind = LD_E_SUBSCHEMA;
    } else if (strcmp(norm, t->base_norm) == 0) {
        out->kind = LD_E_BASE;
    } else if (strcmp(norm, t->people_norm) == 0) {
        out->kind = LD_E_PEOPLE;
    } else if (strcmp(norm, t->groups_norm) == 0) {
        out->kind = LD_E_GROUPS;
    } else if (ends_with_rdns(norm, t->groups_norm, &pl)) {
        out->kind = LD_E_GROUP;
        out->found = false;
        out->matched = t->groups_dn;
        if (pl > 3 && strncmp(norm, "cn=", 3) == 0 && !memchr(norm, ',', pl) &&
            pl - 3 < sizeof out->cn) {
            memcpy(out->cn, norm + 3, pl - 3);
            out->cn[pl - 3] = '\0';
            out->found = true;
        }
    } else if (ends_with_rdns(norm, t->people_norm, &pl)) {
        out->kind = LD_E_PERSON;
        out->found = false;
        out->matched = t->people_dn;
        if (pl > 4 && strncmp(norm, "uid=", 4) == 0 && !memchr(norm, ',', pl) &&
            pl - 4 < sizeof out->uid) {
            memcpy(out->uid, norm + 4, pl - 4);
            out->uid[pl - 4] = '\0';
            out->found = true;
        }
    } else {
        out->found = false;
        if (ends_with_rdns(norm, t->base_norm, &pl))
            out->matched = t->base;
    }
}

/* ---- values ---------------------------------------------------------------- */

static void put(ld_vals *v, const char *s, size_t len)
{
    if (v->n == LD_MAX_VALS || len == 0)
        return;
    for (int i = 0; i < v->n; i++)
        if (v->len[i] == len && memcmp(v->v[i], s, len) == 0)
            return; /* a set: no duplicates */
    v->v[v->n] = s;
    v->len[v->n] = len;
    v->n++;
}

static void put_s(ld_vals *v, const char *s)
{
    put(v, s, strlen(s));
}

/* A value built here: copied into the scratch space. */
static void put_fmt(ld_vals *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put_fmt(ld_vals *v, const char *fmt, ...)
{
    size_t room = sizeof v->scratch - v->used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(v->scratch + v->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room)
        return;
    char *s = v->scratch + v->used;
    v->used += (size_t)n + 1;
    put(v, s, (size_t)n);
}

/* The first given name, or the preferred one: what people are called. */
static void call_name(const dir_entry *d, char *out, size_t cap)
{
    if (d->preferred_name[0]) {
        tn_strlcpy(out, d->preferred_name, cap);
        return;
    }
    const char *sp = strchr(d->given_names, ' ');
    size_t l = sp ? (size_t)(sp - d->given_names) : strlen(d->given_names);
    if (l >= cap)
        l = cap - 1;
    memcpy(out, d->given_names, l);
    out[l] = '\0';
}

/* Affiliation kinds to eduPerson affiliations (funet practice). */
static void edu_kinds(const char *kind, const char **out, int *n)
{
    *n = 0;
    if (strcmp(kind, "staff") == 0) {
        out[(*n)++] = "staff";
        out[(*n)++] = "employee";
        out[(*n)++] = "member";
    } else if (strcmp(kind, "faculty") == 0 || strcmp(kind, "teacher") == 0) {
        out[(*n)++] = "faculty";
        out[(*n)++] = "employee";
        out[(*n)++] = "member";
    } else if (strcmp(kind, "student") == 0 || strcmp(kind, "pupil") == 0) {
        out[(*n)++] = "student";
        out[(*n)++] = "member";
    } else if (strcmp(kind, "alum") == 0) {
        out[(*n)++] = "alum";
    } else {
        out[(*n)++] = "affiliate";
    }
}

/* Walk the affiliation records: field 0 kind, 1 unit, 2 title. */
static void aff_field(const dir_entry *d, int field, ld_vals *v, bool edu, bool primary)
{
    const char *p = d->affs;
    while (*p) {
        const char *end = strchr(p, '\x1e');
        size_t rl = end ? (size_t)(end - p) : strlen(p);
        const char *f[3] = {p, NULL, NULL};
        size_t fl[3] = {rl, 0, 0};
        const char *us1 = memchr(p, '\x1f', rl);
        if (us1) {
            fl[0] = (size_t)(us1 - p);
            f[1] = us1 + 1;
            const char *us2 = memchr(f[1], '\x1f', rl - fl[0] - 1);
            fl[1] = us2 ? (size_t)(us2 - f[1]) : rl - fl[0] - 1;
            if (us2) {
                f[2] = us2 + 1;
                fl[2] = (size_t)(p + rl - f[2]);
            }
        }
        if (edu) {
            char kind[KIND_BUFSZ];
            snprintf(kind, sizeof kind, "%.*s", (int)fl[0], f[0]);
            const char *ek[4];
            int n;
            edu_kinds(kind, ek, &n);
            for (int i = 0; i < n; i++) {
                put_s(v, ek[i]);
                if (primary)
                    return;
            }
        } else if (f[field]) {
            put(v, f[field], fl[field]);
        }
        if (!end)
            break;
        p = end + 1;
    }
}

static void person_values(const ld_view *e, int id, ld_vals *v)
{
    const dir_entry *d = e->d;
    char name[NAME_BUFSZ];
    switch (id) {
    case LD_A_OBJECTCLASS:
        put_s(v, "top");
        put_s(v, "person");
        put_s(v, "organizationalPerson");
        put_s(v, "inetOrgPerson");
        put_s(v, "eduPerson");
        put_s(v, "posixAccount");
        break;
    case LD_A_UID:
        put_s(v, d->username);
        break;
    case LD_A_CN:
        call_name(d, name, sizeof name);
        put_fmt(v, "%s %s", name, d->family_name);
        put_fmt(v, "%s %s", d->given_names, d->family_name);
        break;
    case LD_A_DISPLAYNAME:
    case LD_A_GECOS:
        call_name(d, name, sizeof name);
        put_fmt(v, "%s %s", name, d->family_name);
        break;
    case LD_A_SN:
        put_s(v, d->family_name);
        break;
    case LD_A_GIVENNAME:
        put_s(v, d->given_names);
        break;
    case LD_A_MAIL:
        put_s(v, d->mail);
        break;
    case LD_A_TELEPHONE:
        put_s(v, d->phone);
        break;
    case LD_A_TITLE:
        aff_field(d, 2, v, false, false);
        break;
    case LD_A_OU:
        aff_field(d, 1, v, false, false);
        break;
    case LD_A_EMPLOYEENUMBER:
        put_fmt(v, "%lld", (long long)d->person_number);
        break;
    case LD_A_PREFLANG:
        put_s(v, d->language);
        break;
    case LD_A_EPAFFILIATION:
        aff_field(d, 0, v, true, false);
        break;
    case LD_A_EPPRIMARY:
        aff_field(d, 0, v, true, true);
        break;
    case LD_A_EPPN:
        if (e->t->domain[0])
            put_fmt(v, "%s@%s", d->username, e->t->domain);
        break;
    case LD_A_SCHACHOME:
        put_s(v, e->t->domain);
        break;
    case LD_A_UIDNUMBER:
    case LD_A_GIDNUMBER:
        /* Each account has its own group with the same number. */
        put_fmt(v, "%lld", (long long)d->uid_number);
        break;
    case LD_A_HOMEDIR:
        put_fmt(v, "/home/%s", d->username);
        break;
    case LD_A_LOGINSHELL:
        put_s(v, "/bin/bash");
        break;
    case LD_A_ENTRYUUID:
        put_s(v, d->person_id);
        break;
    case LD_A_STRUCTURALOC:
        put_s(v, "inetOrgPerson");
        break;
    case LD_A_HASSUBORDINATES:
        put_s(v, "FALSE");
        break;
    case LD_A_MEMBEROF:
        ld_member_of_values(e, v);
        break;
    default:
        break;
    }
}

static const char *const schema_attrs[] = {
    "( 0.9.2342.19200300.100.1.1 NAME ( 'uid' 'userid' ) EQUALITY caseIgnoreMatch "
    "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{256} )",
    "( 2.5.4.3 NAME ( 'cn' 'commonName' ) SUP name )",
    "( 2.5.4.4 NAME ( 'sn' 'surname' ) SUP name )",
    "( 2.5.4.42 NAME ( 'givenName' 'gn' ) SUP name )",
    "( 2.16.840.1.113730.3.1.241 NAME 'displayName' EQUALITY caseIgnoreMatch "
    "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 0.9.2342.19200300.100.1.3 NAME ( 'mail' 'rfc822Mailbox' ) EQUALITY caseIgnoreIA5Match "
    "SUBSTR caseIgnoreIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26{256} )",
    "( 2.5.4.20 NAME 'telephoneNumber' EQUALITY telephoneNumberMatch "
    "SUBSTR telephoneNumberSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.50{32} )",
    "( 2.5.4.12 NAME 'title' SUP name )",
    "( 2.5.4.11 NAME ( 'ou' 'organizationalUnitName' ) SUP name )",
    "( 2.16.840.1.113730.3.1.3 NAME 'employeeNumber' EQUALITY caseIgnoreMatch "
    "SUBSTR caseIgnoreSubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 2.16.840.1.113730.3.1.39 NAME 'preferredLanguage' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 1.3.6.1.4.1.5923.1.1.1.1 NAME 'eduPersonAffiliation' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 )",
    "( 1.3.6.1.4.1.5923.1.1.1.5 NAME 'eduPersonPrimaryAffiliation' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 1.3.6.1.4.1.5923.1.1.1.6 NAME 'eduPersonPrincipalName' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 1.3.6.1.4.1.25178.1.2.9 NAME 'schacHomeOrganization' EQUALITY caseIgnoreMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.0 NAME 'uidNumber' EQUALITY integerMatch ORDERING integerOrderingMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.1 NAME 'gidNumber' EQUALITY integerMatch ORDERING integerOrderingMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.27 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.3 NAME 'homeDirectory' EQUALITY caseExactIA5Match "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.4 NAME 'loginShell' EQUALITY caseExactIA5Match "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 1.3.6.1.1.1.1.2 NAME 'gecos' EQUALITY caseIgnoreIA5Match "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 SINGLE-VALUE )",
    "( 2.5.4.13 NAME 'description' EQUALITY caseIgnoreMatch SUBSTR caseIgnoreSubstringsMatch "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.15{1024} )",
    "( 2.5.4.31 NAME 'member' SUP distinguishedName )",
    "( 1.3.6.1.1.1.1.12 NAME 'memberUid' EQUALITY caseExactIA5Match "
    "SUBSTR caseExactIA5SubstringsMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.26 )",
    "( 1.2.840.113556.1.2.102 NAME 'memberOf' DESC 'Group that the entry belongs to' "
    "SYNTAX 1.3.6.1.4.1.1466.115.121.1.12 EQUALITY distinguishedNameMatch "
    "NO-USER-MODIFICATION USAGE dSAOperation )",
};

static const char *const schema_classes[] = {
    "( 2.16.840.1.113730.3.2.2 NAME 'inetOrgPerson' SUP organizationalPerson STRUCTURAL "
    "MAY ( displayName $ employeeNumber $ givenName $ mail $ preferredLanguage $ uid ) )",
    "( 1.3.6.1.4.1.5923.1.1.2 NAME 'eduPerson' AUXILIARY MAY ( eduPersonAffiliation $ "
    "eduPersonPrimaryAffiliation $ eduPersonPrincipalName ) )",
    "( 1.3.6.1.1.1.2.0 NAME 'posixAccount' SUP top AUXILIARY MUST ( cn $ uid $ uidNumber $ "
    "gidNumber $ homeDirectory ) MAY ( loginShell $ gecos ) )",
    "( 2.5.6.9 NAME 'groupOfNames' SUP top STRUCTURAL MUST ( member $ cn ) "
    "MAY ( businessCategory $ seeAlso $ owner $ ou $ o $ description ) )",
    "( 1.3.6.1.1.1.2.2 NAME 'posixGroup' SUP top AUXILIARY MUST ( cn $ gidNumber ) "
    "MAY ( userPassword $ memberUid $ description ) )",
};

static void fixed_values(const ld_view *e, int id, ld_vals *v)
{
    const ld_tree *t = e->t;
    switch (e->kind) {
    case LD_E_ROOTDSE:
        if (id == LD_A_OBJECTCLASS)
            put_s(v, "top");
        else if (id == LD_A_NAMINGCONTEXTS)
            put_s(v, t->base);
        else if (id == LD_A_SUPPORTEDLDAPVERSION)
            put_s(v, "3");
        else if (id == LD_A_SUPPORTEDCONTROL) {
            put_s(v, LD_OID_MANAGE_DSA_IT);
            put_s(v, LD_OID_PAGED_RESULTS);
        } else if (id == LD_A_SUPPORTEDEXTENSION) {
            put_s(v, LD_OID_WHOAMI);
            put_s(v, LD_OID_PASSWD_MODIFY);
            if (t->tls)
                put_s(v, LD_OID_STARTTLS);
        }
        else if (id == LD_A_VENDORNAME)
            put_s(v, "tunnus");
        else if (id == LD_A_SUBSCHEMA)
            put_s(v, "cn=Subschema");
        break;
    case LD_E_SUBSCHEMA:
        if (id == LD_A_OBJECTCLASS) {
            put_s(v, "top");
            put_s(v, "subentry");
            put_s(v, "subschema");
        } else if (id == LD_A_CN) {
            put_s(v, "Subschema");
        } else if (id == LD_A_ATTRIBUTETYPES) {
            for (size_t i = 0; i < sizeof schema_attrs / sizeof schema_attrs[0]; i++)
                put_s(v, schema_attrs[i]);
        } else if (id == LD_A_OBJECTCLASSES) {
            for (size_t i = 0; i < sizeof schema_classes / sizeof schema_classes[0]; i++)
                put_s(v, schema_classes[i]);
        }
        break;
    case LD_E_BASE:
        if (id == LD_A_OBJECTCLASS) {
            put_s(v, "top");
            put_s(v, t->base_is_dc ? "dcObject" : "organization");
            if (t->base_is_dc)
                put_s(v, "organization");
        } else if (id == LD_A_DC && t->base_is_dc) {
            put_s(v, t->first_dc);
        } else if (id == LD_A_O) {
            put_s(v, t->first_dc);
        } else if (id == LD_A_HASSUBORDINATES) {
            put_s(v, "TRUE");
        } else if (id == LD_A_SUBSCHEMA) {
            put_s(v, "cn=Subschema");
        }
        break;
    case LD_E_PEOPLE:
        if (id == LD_A_OBJECTCLASS) {
            put_s(v, "top");
            put_s(v, "organizationalUnit");
        } else if (id == LD_A_OU) {
            put_s(v, "people");
        } else if (id == LD_A_HASSUBORDINATES) {
            put_s(v, "TRUE");
        } else if (id == LD_A_SUBSCHEMA) {
            put_s(v, "cn=Subschema");
        }
        break;
    case LD_E_GROUPS:
        if (id == LD_A_OBJECTCLASS) {
            put_s(v, "top");
            put_s(v, "organizationalUnit");
        } else if (id == LD_A_OU) {
            put_s(v, "groups");
        } else if (id == LD_A_HASSUBORDINATES) {
            put_s(v, "TRUE");
        } else if (id == LD_A_SUBSCHEMA) {
            put_s(v, "cn=Subschema");
        }
        break;
    case LD_E_PERSON:
    case LD_E_GROUP:
        break;
    }
}

void ld_values(const ld_view *e, int id, ld_vals *out)
{
    out->n = 0;
    out->used = 0;
    if (e->kind == LD_E_PERSON) {
        person_values(e, id, out);
        if (id == LD_A_SUBSCHEMA)
            put_s(out, "cn=Subschema");
    } else if (e->kind == LD_E_GROUP) {
        ld_group_values(e, id, out);
    } else {
        fixed_values(e, id, out);
    }
    if (id == LD_A_ENTRYDN && e->kind != LD_E_ROOTDSE) {
        char dn[CONF_DN_MAX + 96];
        ld_view_dn(e, dn, sizeof dn);
        put_fmt(out, "%s", dn);
    }
}

void ld_view_dn(const ld_view *e, char *out, size_t cap)
{
    switch (e->kind) {
    case LD_E_ROOTDSE:
        tn_strlcpy(out, "", cap);
        break;
    case LD_E_SUBSCHEMA:
        tn_strlcpy(out, "cn=Subschema", cap);
        break;
    case LD_E_BASE:
        tn_strlcpy(out, e->t->base, cap);
        break;
    case LD_E_PEOPLE:
        tn_strlcpy(out, e->t->people_dn, cap);
        break;
    case LD_E_PERSON:
        snprintf(out, cap, "uid=%s,%s", e->d->username, e->t->people_dn);
        break;
    case LD_E_GROUPS:
        tn_strlcpy(out, e->t->groups_dn, cap);
        break;
    case LD_E_GROUP:
        snprintf(out, cap, "cn=%s,%s", e->g->cn, e->t->groups_dn);
        break;
    }
}

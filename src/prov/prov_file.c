/* The file target: a directory that receives a full export and a delta
 * per round, in CSV or JSON, each written atomically (temporary file,
 * fsync, rename). The directory also holds .tunnus-state.json, the
 * entries as last exported, from which the next full export is made and
 * against which a delivery is compared: an entry that did not change
 * does not appear in a delta again (a delivery repeated after a crash
 * changes nothing). */
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "prov_int.h"
#include "tn_str.h"

struct prov_file {
    const conf_target *t;
    json_t *state;  /* id -> {attr: value | [values]} */
    json_t *delta;  /* [{op, id, attrs}] of this round */
    bool loaded;
    unsigned seq;
};

prov_file *prov_file_new(const conf_target *t)
{
    prov_file *f = calloc(1, sizeof *f);
    if (!f)
        abort();
    f->t = t;
    return f;
}

void prov_file_free(prov_file *f)
{
    json_decref(f->state);
    json_decref(f->delta);
    free(f);
}

static void path_of(const prov_file *f, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", f->t->dir, name);
}

prov_result prov_file_open(prov_file *f, char *msg, size_t cap)
{
    if (f->loaded)
        return PROV_OK;
    struct stat sb;
    if (stat(f->t->dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        snprintf(msg, cap, "%s: not a directory", f->t->dir);
        return PROV_TARGET_DOWN;
    }
    char p[600];
    path_of(f, ".tunnus-state.json", p, sizeof p);
    json_decref(f->state);
    f->state = NULL;
    if (access(p, F_OK) == 0) {
        json_error_t je;
        f->state = json_load_file(p, 0, &je);
        if (!f->state || !json_is_object(f->state)) {
            snprintf(msg, cap, "%s: unreadable state file (line %d)", p, je.line);
            json_decref(f->state);
            f->state = NULL;
            return PROV_TARGET_DOWN;
        }
    } else {
        f->state = json_object();
    }
    json_decref(f->delta);
    f->delta = json_array();
    f->loaded = true;
    return PROV_OK;
}

void prov_file_abort(prov_file *f)
{
    /* The state on disk is the truth: read it again next round. */
    f->loaded = false;
}

static json_t *entry_json(const prov_entry *e)
{
    json_t *o = json_object();
    for (size_t i = 0; i < e->nattrs; i++) {
        const char *n = e->attrs[i].name;
        json_t *have = json_object_get(o, n);
        json_t *v = json_string(e->attrs[i].value);
        if (!have) {
            json_object_set_new(o, n, v);
        } else if (json_is_array(have)) {
            json_array_append_new(have, v);
        } else {
            json_t *arr = json_array();
            json_array_append(arr, have);
            json_array_append_new(arr, v);
            json_object_set_new(o, n, arr);
        }
    }
    return o;
}

static void delta_add(prov_file *f, const char *op, const char *id, json_t *attrs)
{
    json_t *d = json_pack("{s:s,s:s}", "op", op, "id", id);
    if (attrs)
        json_object_set(d, "attributes", attrs);
    json_array_append_new(f->delta, d);
}

prov_result prov_file_apply(prov_file *f, const prov_entry *e, const char *old_id,
                            char *res_id, size_t res_cap, const char **res_state, char *msg,
                            size_t cap)
{
    (void)msg;
    (void)cap;
    if (e->want == PROV_ABSENT) {
        const char *id = old_id && old_id[0] ? old_id : e->id;
        if (json_object_get(f->state, id)) {
            json_object_del(f->state, id);
            delta_add(f, "delete", id, NULL);
        }
        tn_strlcpy(res_id, id, res_cap);
        *res_state = "deleted";
        return PROV_OK;
    }
    if (old_id && old_id[0] && strcmp(old_id, e->id) != 0 && json_object_get(f->state, old_id)) {
        json_object_del(f->state, old_id);
        delta_add(f, "delete", old_id, NULL);
    }
    json_t *want = entry_json(e);
    json_t *have = json_object_get(f->state, e->id);
    if (!have || !json_equal(have, want)) {
        delta_add(f, have ? "modify" : "add", e->id, want);
        json_object_set(f->state, e->id, want);
    }
    json_decref(want);
    tn_strlcpy(res_id, e->id, res_cap);
    *res_state = e->want == PROV_DISABLED ? "disabled" : "present";
    return PROV_OK;
}

/* Write text to dir/name atomically. */
static bool write_atomic(const prov_file *f, const char *name, const char *data, size_t len,
                         char *msg, size_t cap)
{
    char tmp[640], dst[600];
    path_of(f, name, dst, sizeof dst);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", f->t->dir, name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0) {
        snprintf(msg, cap, "%s: %s", tmp, strerror(errno));
        return false;
    }
    size_t off = 0;
    bool ok = true;
    while (off < len) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            ok = false;
            break;
        }
        off += (size_t)w;
    }
    if (ok && fsync(fd) != 0)
        ok = false;
    if (close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, dst) != 0)
        ok = false;
    if (!ok) {
        snprintf(msg, cap, "%s: %s", dst, strerror(errno));
        unlink(tmp);
        return false;
    }
    int dfd = open(f->t->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return true;
}

/* A CSV field through libcsv's quoting, into a memory stream. */
static void csv_field(FILE *out, const char *v, bool first)
{
    if (!first)
        fputc(',', out);
    csv_fwrite(out, v, strlen(v));
}

static void csv_value(FILE *out, json_t *v)
{
    if (json_is_string(v)) {
        csv_field(out, json_string_value(v), false);
        return;
    }
    /* Several values: joined with ';' in one field. */
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    size_t i;
    json_t *x;
    json_array_foreach(v, i, x) {
        if (i)
            fputc(';', m);
        fputs(json_string_value(x), m);
    }
    fclose(m);
    csv_field(out, buf ? buf : "", false);
    free(buf);
}

static char *render_csv(const prov_file *f, json_t *rows, bool delta, size_t *len)
{
    const char *names[CONF_MAP_MAX + 2];
    size_t nn = prov_managed_attrs(f->t, names, CONF_MAP_MAX + 2);
    char *buf = NULL;
    FILE *m = open_memstream(&buf, len);
    if (delta)
        csv_field(m, "op", true);
    csv_field(m, "id", !delta);
    for (size_t i = 0; i < nn; i++)
        csv_field(m, names[i], false);
    fputc('\n', m);
    size_t idx;
    json_t *r;
    json_array_foreach(rows, idx, r) {
        if (delta)
            csv_field(m, json_string_value(json_object_get(r, "op")), true);
        csv_field(m, json_string_value(json_object_get(r, "id")), !delta);
        json_t *attrs = json_object_get(r, "attributes");
        for (size_t i = 0; i < nn; i++) {
            json_t *v = attrs ? json_object_get(attrs, names[i]) : NULL;
            if (v)
                csv_value(m, v);
            else
                csv_field(m, "", false);
        }
        fputc('\n', m);
    }
    fclose(m);
    return buf;
}

/* The full export as rows like the delta's, without op, in id order. */
static json_t *full_rows(const prov_file *f)
{
    json_t *rows = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(f->state, k, v) {
        json_array_append_new(rows, json_pack("{s:s,s:O}", "id", k, "attributes", v));
    }
    return rows;
}

static char *render(const prov_file *f, json_t *rows, bool delta, size_t *len)
{
    if (strcmp(f->t->format, "json") == 0) {
        char *s = json_dumps(rows, JSON_INDENT(1) | JSON_SORT_KEYS);
        *len = s ? strlen(s) : 0;
        return s;
    }
    return render_csv(f, rows, delta, len);
}

prov_result prov_file_commit(prov_file *f, char *msg, size_t cap)
{
    if (!f->loaded || json_array_size(f->delta) == 0)
        return PROV_OK;
    const char *ext = strcmp(f->t->format, "json") == 0 ? "json" : "csv";
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char name[128], stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(name, sizeof name, "delta-%s.%06ldZ-%u.%s", stamp, (long)(ts.tv_nsec / 1000),
             f->seq++, ext);
    size_t len = 0;
    char *d = render(f, f->delta, true, &len);
    bool ok = d && write_atomic(f, name, d, len, msg, cap);
    free(d);
    json_t *rows = ok ? full_rows(f) : NULL;
    char full[16];
    snprintf(full, sizeof full, "full.%s", ext);
    char *fu = rows ? render(f, rows, false, &len) : NULL;
    ok = ok && fu && write_atomic(f, full, fu, len, msg, cap);
    free(fu);
    json_decref(rows);
    char *st = ok ? json_dumps(f->state, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    ok = ok && st && write_atomic(f, ".tunnus-state.json", st, strlen(st), msg, cap);
    free(st);
    json_array_clear(f->delta);
    if (!ok) {
        f->loaded = false;
        return PROV_TARGET_DOWN;
    }
    return PROV_OK;
}

prov_result prov_file_list(prov_file *f, prov_seen_cb cb, void *ctx, char *msg, size_t cap)
{
    prov_result r = prov_file_open(f, msg, cap);
    if (r != PROV_OK)
        return r;
    const char *k;
    json_t *v;
    json_object_foreach(f->state, k, v) {
        prov_seen s;
        memset(&s, 0, sizeof s);
        tn_strlcpy(s.id, k, sizeof s.id);
        size_t n = 0;
        const char *an;
        json_t *av;
        json_object_foreach(v, an, av) n += json_is_array(av) ? json_array_size(av) : 1;
        s.attrs = calloc(n ? n : 1, sizeof *s.attrs);
        json_object_foreach(v, an, av) {
            size_t i;
            json_t *x;
            if (json_is_array(av)) {
                json_array_foreach(av, i, x) {
                    tn_strlcpy(s.attrs[s.nattrs].name, an, sizeof s.attrs[0].name);
                    tn_strlcpy(s.attrs[s.nattrs].value, json_string_value(x),
                               sizeof s.attrs[0].value);
                    s.nattrs++;
                }
            } else {
                tn_strlcpy(s.attrs[s.nattrs].name, an, sizeof s.attrs[0].name);
                tn_strlcpy(s.attrs[s.nattrs].value, json_string_value(av),
                           sizeof s.attrs[0].value);
                s.nattrs++;
            }
        }
        int stop = cb(&s, ctx);
        free(s.attrs);
        if (stop)
            break;
    }
    return PROV_OK;
}

/* Unit tests: the admin REST API's route table (src/http/api.c) against
 * its OpenAPI document and the service layer.
 *
 * - /openapi.json's paths and operations are exactly the table's routes;
 * - each route names a service function that a public service header
 *   declares and that has rows in the service access matrix
 *   (tests/unit/test_access.c), and each route has rows in the route
 *   access matrix (tests/integration/test_api_access.py): a route added
 *   without them fails here;
 * - labels and operation ids are unique, every schema fragment parses and
 *   every $ref resolves;
 * - dispatch: unknown paths are 404, known paths with another method 405,
 *   with JSON errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"

#ifndef TN_SRC_DIR
#error "TN_SRC_DIR must name the source tree (tests/meson.build)"
#endif

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += k;
        if (n + 1 == cap)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void document_paths_equal_the_table(void **state)
{
    (void)state;
    json_t *doc = api_openapi();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    json_t *paths = json_object_get(doc, "paths");
    assert_true(json_is_object(paths));
    size_t ops = 0;
    const char *p;
    json_t *item;
    json_object_foreach(paths, p, item) {
        const char *m;
        json_t *op;
        json_object_foreach(item, m, op) {
            bool found = false;
            for (size_t i = 0; i < api_route_count(); i++) {
                const api_route *r = api_route_at(i);
                char lower[8];
                size_t k = 0;
                for (; r->method[k] && k < 7; k++)
                    lower[k] = (char)(r->method[k] + 32);
                lower[k] = '\0';
                if (strcmp(r->pattern, p) == 0 && strcmp(lower, m) == 0) {
                    found = true;
                    assert_string_equal(json_string_value(json_object_get(op, "operationId")),
                                        r->op);
                }
            }
            if (!found)
                fail_msg("the document has %s %s, which the table does not", m, p);
            ops++;
        }
    }
    assert_int_equal(ops, api_route_count());
    json_decref(doc);
}

/* Every "$ref" in j resolves to a schema in components. */
static void refs_resolve(json_t *j, json_t *schemas, json_t *responses)
{
    if (json_is_object(j)) {
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (strcmp(k, "$ref") == 0) {
                const char *ref = json_string_value(v);
                assert_non_null(ref);
                if (strncmp(ref, "#/components/schemas/", 21) == 0) {
                    if (!json_object_get(schemas, ref + 21))
                        fail_msg("unresolved %s", ref);
                } else if (strncmp(ref, "#/components/responses/", 23) == 0) {
                    if (!json_object_get(responses, ref + 23))
                        fail_msg("unresolved %s", ref);
                } else {
                    fail_msg("unexpected $ref %s", ref);
                }
            } else {
                refs_resolve(v, schemas, responses);
            }
        }
    } else if (json_is_array(j)) {
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v) refs_resolve(v, schemas, responses);
    }
}

static void table_is_well_formed(void **state)
{
    (void)state;
    size_t n = api_route_count();
    assert_true(n >= 25);
    assert_true(n <= API_ROUTES_MAX);
    for (size_t i = 0; i < n; i++) {
        const api_route *r = api_route_at(i);
        assert_non_null(r->fn);
        assert_true(strcmp(r->method, "GET") == 0 || strcmp(r->method, "POST") == 0 ||
                    strcmp(r->method, "PATCH") == 0 || strcmp(r->method, "PUT") == 0);
        assert_true(r->pattern[0] == '/');
        assert_true(strncmp(r->label, "api_", 4) == 0);
        assert_true(r->status == 200 || r->status == 201 || r->status == 204);
        assert_true(r->summary[0] && r->tag[0] && strncmp(r->service, "svc_", 4) == 0);
        json_error_t je;
        if (r->request) {
            json_t *j = json_loads(r->request, 0, &je);
            if (!j)
                fail_msg("%s: request schema: %s", r->op, je.text);
            json_decref(j);
        }
        if (r->response) {
            json_t *j = json_loads(r->response, 0, &je);
            if (!j)
                fail_msg("%s: response schema: %s", r->op, je.text);
            json_decref(j);
        }
        for (size_t k = 0; k < i; k++) {
            const api_route *o = api_route_at(k);
            if (strcmp(o->label, r->label) == 0 || strcmp(o->op, r->op) == 0)
                fail_msg("duplicate label or operationId: %s", r->op);
            if (strcmp(o->pattern, r->pattern) == 0 && strcmp(o->method, r->method) == 0)
                fail_msg("duplicate route %s %s", r->method, r->pattern);
        }
    }
    json_t *doc = api_openapi();
    json_t *comp = json_object_get(doc, "components");
    json_t *schemas = json_object_get(comp, "schemas");
    assert_non_null(json_object_get(schemas, "Person")); /* the fragment text parsed */
    refs_resolve(json_object_get(doc, "paths"), schemas, json_object_get(comp, "responses"));
    refs_resolve(schemas, schemas, json_object_get(comp, "responses"));
    json_decref(doc);
}

/* Each route's service function is public and in the service matrix. */
static void routes_call_matrix_covered_services(void **state)
{
    (void)state;
    char *matrix = slurp(TN_SRC_DIR "/tests/unit/test_access.c");
    assert_non_null(matrix);
    /* All public service headers, concatenated. */
    size_t cap = 1 << 20, len = 0;
    char *headers = calloc(1, cap);
    DIR *d = opendir(TN_SRC_DIR "/src/service");
    assert_non_null(d);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l < 3 || strcmp(de->d_name + l - 2, ".h") != 0 ||
            strcmp(de->d_name, "svc_internal.h") == 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/src/service/%s", TN_SRC_DIR, de->d_name);
        char *t = slurp(path);
        assert_non_null(t);
        size_t tl = strlen(t);
        assert_true(len + tl + 1 < cap);
        memcpy(headers + len, t, tl + 1);
        len += tl;
        free(t);
    }
    closedir(d);
    for (size_t i = 0; i < api_route_count(); i++) {
        const api_route *r = api_route_at(i);
        char decl[96], row[96];
        snprintf(decl, sizeof decl, "tn_code %s(", r->service);
        snprintf(row, sizeof row, "{\"%s\",", r->service);
        if (!strstr(headers, decl))
            fail_msg("%s %s calls %s, which no public service header declares", r->method,
                     r->pattern, r->service);
        if (!strstr(matrix, row))
            fail_msg("%s %s calls %s, which has no rows in test_access.c", r->method,
                     r->pattern, r->service);
    }
    free(headers);
    free(matrix);
}

/* The route access matrix (tests/integration/test_api_access.py) has rows
 * for every route: ("METHOD", "/pattern") keys of its ROWS table. */
static void every_route_has_access_rows(void **state)
{
    (void)state;
    char *py = slurp(TN_SRC_DIR "/tests/integration/test_api_access.py");
    assert_non_null(py);
    int missing = 0;
    for (size_t i = 0; i < api_route_count(); i++) {
        const api_route *r = api_route_at(i);
        char key[256];
        snprintf(key, sizeof key, "(\"%s\", \"%s\")", r->method, r->pattern);
        if (!strstr(py, key)) {
            printf("no route access-matrix rows for %s %s\n", r->method, r->pattern);
            missing++;
        }
    }
    free(py);
    assert_int_equal(missing, 0);
}

static const char *no_query(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

static void dispatch_errors(void **state)
{
    (void)state;
    struct {
        const char *method, *path;
        int status;
        const char *error;
    } cases[] = {
        {"GET", "/nope", 404, "not_found"},
        {"GET", "/persons/x/y/z", 404, "not_found"},
        {"GET", "/persons//affiliations", 404, "not_found"},
        {"GET", "", 404, "not_found"},
        {"GET", "/persons/", 404, "not_found"},
        {"DELETE", "/persons", 405, "method_not_allowed"},
        {"PUT", "/persons/abc", 405, "method_not_allowed"},
        {"GET", "/roles/7/revoke", 405, "method_not_allowed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        hreq rq = {.method = cases[i].method, .path = cases[i].path, .query = no_query};
        hresp out = {0};
        api_handle(&rq, &out);
        assert_int_equal(out.status, cases[i].status);
        assert_int_equal(json_integer_value(json_object_get(out.body, "status")),
                         cases[i].status);
        assert_string_equal(json_string_value(json_object_get(out.body, "error")),
                            cases[i].error);
        assert_int_equal(out.allow[0] != '\0', cases[i].status == 405);
        json_decref(out.body);
    }
    hreq rq = {.method = "DELETE", .path = "/persons/abc", .query = no_query};
    hresp out = {0};
    api_handle(&rq, &out);
    assert_string_equal(out.allow, "GET, PATCH");
    json_decref(out.body);
    assert_string_equal(api_route_label("GET", "/persons/abc/lifecycle"), "api_lifecycle");
    assert_string_equal(api_route_label("POST", "/persons/abc/lifecycle"), "api_other");
    assert_string_equal(api_route_label("GET", "/persons"), "api_persons");
}

static void error_shape(void **state)
{
    (void)state;
    hresp out = {0};
    api_error(&out, 400, "invalid", "must be a string", "phone");
    assert_int_equal(out.status, 400);
    assert_string_equal(json_string_value(json_object_get(out.body, "field")), "phone");
    assert_string_equal(json_string_value(json_object_get(out.body, "detail")),
                        "must be a string");
    /* A second error replaces the first without leaking it. */
    api_error(&out, 404, "not_found", NULL, NULL);
    assert_true(json_is_null(json_object_get(out.body, "field")));
    assert_true(json_is_null(json_object_get(out.body, "detail")));
    json_decref(out.body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(document_paths_equal_the_table),
        cmocka_unit_test(table_is_well_formed),
        cmocka_unit_test(routes_call_matrix_covered_services),
        cmocka_unit_test(every_route_has_access_rows),
        cmocka_unit_test(dispatch_errors),
        cmocka_unit_test(error_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

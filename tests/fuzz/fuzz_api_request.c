/* Fuzz the admin REST API's request handling (src/http/api.c): route
 * matching, path parameters, JSON body validation and the handlers, run
 * by the local operator against a scratch registry. Input: "METHOD PATH"
 * on the first line, the JSON body (if any) after it. Every answer must
 * be a well-formed status with a JSON error object for a failure; never a
 * crash, a leak or a 5xx. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static conf cfg;
static svc *s;
static svc_actor op;

static void cleanup(void)
{
    svc_close(s);
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char p[384];
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/tunnus-fuzz-api-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    conf_defaults(&cfg);
    snprintf(cfg.db, sizeof cfg.db, "%s/r.db", dir);
    tn_err e;
    if (conf_finish(&cfg, &e) != TN_OK || svc_init_registry(&cfg, &e) != TN_OK ||
        svc_open(&cfg, &s, &e) != TN_OK)
        abort();
    svc_actor_local(&op, SVC_CH_API);
    org_unit u;
    if (svc_unit_add(s, &op, "HR", "HR", NULL, &u, &e) != TN_OK)
        abort();
    atexit(cleanup);
}

static const char *no_query(void *ctx, const char *name)
{
    (void)ctx;
    (void)name;
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!s)
        setup();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t line = nl ? (size_t)(nl - data) : size;
    char head[512];
    if (line >= sizeof head)
        return 0;
    memcpy(head, data, line);
    head[line] = '\0';
    char *sp = strchr(head, ' ');
    if (!sp || memchr(head, '\0', line))
        return 0;
    *sp = '\0';
    json_t *body = NULL;
    if (nl && size > line + 1)
        body = json_loadb((const char *)nl + 1, size - line - 1, 0, NULL);
    hreq rq = {.method = head, .path = sp + 1, .query = no_query, .body = body, .s = s,
               .actor = &op, .cfg = &cfg, .max_body = 1 << 20};
    hresp out = {0};
    api_handle(&rq, &out);
    (void)api_route_label(head, sp + 1);
    if (out.status < 200 || out.status >= 500)
        __builtin_trap();
    if (out.status >= 400) {
        json_t *st = json_object_get(out.body, "status");
        if (!json_is_integer(st) || json_integer_value(st) != out.status ||
            !json_is_string(json_object_get(out.body, "error")))
            __builtin_trap();
    } else if (out.status != 204 && !json_is_object(out.body)) {
        __builtin_trap();
    }
    json_decref(out.body);
    json_decref(body);
    tn_err e;
    (void)svc_flush(s, &e);
    return 0;
}

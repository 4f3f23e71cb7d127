// An independent SCIM 2.0 implementation (SCIMMY, from npm) used as a
// client against `tunnus serve`: every message it sends is built and
// validated by SCIMMY's own classes, every answer is parsed by them, and
// tunnus's filter results are compared with SCIMMY's own evaluation of the
// same filter over the full list.
//
//   SCIM_BASE=http://127.0.0.1:PORT/scim/v2 SCIM_TOKEN=tnk_… node client.mjs
//
// Prints "scimmy: N checks passed" and exits 0, or names the first
// failure and exits 1.
import SCIMMY from "scimmy";

const base = process.env.SCIM_BASE;
const token = process.env.SCIM_TOKEN;
const CORE = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
let checks = 0;

function check(cond, what) {
    if (!cond)
        throw new Error(`check failed: ${what}`);
    checks++;
}

async function call(method, path, body, headers = {}) {
    const res = await fetch(base + path, {
        method,
        headers: {
            Authorization: `Bearer ${token}`,
            ...(body ? {"Content-Type": "application/scim+json"} : {}),
            ...headers,
        },
        body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return {status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null};
}

// SCIMMY knows the core User and the enterprise extension; tunnus's own
// extension is checked by the project's tests, so it is left out here.
SCIMMY.Schemas.User.extend(SCIMMY.Schemas.EnterpriseUser, false);

function asUser(resource) {
    const copy = {...resource};
    delete copy["urn:tunnus:params:scim:schemas:extension:finnish:2.0:User"];
    copy.schemas = copy.schemas.filter((s) => s === CORE || s === ENT);
    // Throws when the resource breaks the schema (types, required, shapes).
    return new SCIMMY.Schemas.User(copy, "out");
}

async function main() {
    const spc = await call("GET", "/ServiceProviderConfig");
    check(spc.status === 200, "ServiceProviderConfig answers");
    const cfg = new SCIMMY.Schemas.ServiceProviderConfig(spc.body, "out");
    check(cfg.patch.supported && cfg.bulk.supported && cfg.filter.supported, "features advertised");

    const all = await call("GET", "/Users?count=1000");
    check(all.status === 200, "list answers");
    const list = new SCIMMY.Messages.ListResponse(all.body);
    check(list.totalResults === all.body.Resources.length && list.totalResults >= 3,
          "ListResponse parses with every User");
    for (const r of all.body.Resources) {
        const u = asUser(r);
        check(u.id === r.id && u.userName === r.userName, `User ${r.userName} is schema-valid`);
    }

    // Filters: SCIMMY parses each expression (so it is valid SCIM) and
    // evaluates it over the full list; tunnus must return the same Users.
    // Values are in their stored case: SCIMMY compares case-sensitively.
    const filters = [
        'userName eq "maija"',
        'userName sw "t" or userName eq "olli"',
        'name.familyName co "Testa"',
        'not (userName eq "maija")',
        'userName gt "n" and not (userName eq "teppo")',
        '(userName ew "a" or userName ew "o") and name.givenName sw "O"',
    ];
    const byName = (list) => list.map((r) => r.userName).sort().join(",");
    for (const expr of filters) {
        const f = new SCIMMY.Types.Filter(expr);
        const want = byName(f.match(all.body.Resources));
        const got = await call("GET", "/Users?count=1000&filter=" + encodeURIComponent(expr));
        check(got.status === 200, `filter ${expr} answers`);
        const have = byName(new SCIMMY.Messages.ListResponse(got.body).Resources);
        check(have === want, `filter ${expr}: tunnus [${have}], SCIMMY [${want}]`);
    }
    // SCIMMY 1.3.5 parses these but its matcher cannot evaluate them (it
    // throws on a value path over an absent attribute and on pr, and does
    // not resolve schema-URI prefixes): checked against the fixture.
    const known = {
        'emails[type eq "home"]': "maija",
        "phoneNumbers pr": "maija",
        [`${ENT}:department eq "HR"`]: "maija",
    };
    for (const [expr, want] of Object.entries(known)) {
        new SCIMMY.Types.Filter(expr);
        const got = await call("GET", "/Users?count=1000&filter=" + encodeURIComponent(expr));
        const have = byName(new SCIMMY.Messages.ListResponse(got.body).Resources);
        check(have === want, `filter ${expr}: tunnus [${have}], want [${want}]`);
    }

    // Sorting, as SCIMMY's ListResponse sorts the same list.
    const sorted = await call("GET", "/Users?sortBy=userName&sortOrder=descending&count=1000");
    const mine = new SCIMMY.Messages.ListResponse(all.body.Resources,
                                                  {sortBy: "userName", sortOrder: "descending"});
    check(JSON.stringify(sorted.body.Resources.map((r) => r.userName)) ===
          JSON.stringify(mine.Resources.map((r) => r.userName)), "sortBy userName descending");

    // Create a User from a body SCIMMY built and validated.
    const input = new SCIMMY.Schemas.User({
        schemas: [CORE],
        userName: "scimmy.user",
        name: {givenName: "Sanna", familyName: "Scimmy"},
        emails: [{value: "sanna@koti.fi", type: "home"}],
    }, "in");
    const body = JSON.parse(JSON.stringify(input));
    body["urn:tunnus:params:scim:schemas:extension:finnish:2.0:User"] = {birthDate: "1995-05-05"};
    const created = await call("POST", "/Users", body);
    check(created.status === 201, `create answers 201 (${created.status})`);
    const u = asUser(created.body);
    check(u.userName === "scimmy.user" && created.headers.get("etag") === created.body.meta.version,
          "created User with its ETag");

    // PATCH through SCIMMY's PatchOp message, with the ETag.
    const patch = new SCIMMY.Messages.PatchOp({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        Operations: [
            {op: "replace", path: 'emails[type eq "home"].value', value: "sanna@example.org"},
            {op: "add", path: "nickName", value: "Sanna"},
        ],
    });
    const patched = await call("PATCH", `/Users/${u.id}`, patch,
                               {"If-Match": created.body.meta.version});
    check(patched.status === 200, `patch answers 200 (${patched.status})`);
    const p = asUser(patched.body);
    check(p.nickName === "Sanna" && p.emails.some((e) => e.value === "sanna@example.org"),
          "patch applied");
    const stale = await call("PATCH", `/Users/${u.id}`, patch, {"If-Match": created.body.meta.version});
    check(stale.status === 412, "stale If-Match is 412");

    // Bulk: the request is validated by SCIMMY's BulkRequest, the answer
    // parsed by its BulkResponse.
    const bulkBody = {
        schemas: ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        Operations: [
            {method: "POST", path: "/Users", bulkId: "one",
             data: {schemas: [CORE], userName: "scimmy.bulk",
                    name: {givenName: "Bulk", familyName: "Scimmy"},
                    "urn:tunnus:params:scim:schemas:extension:finnish:2.0:User": {birthDate: "1990-01-01"}}},
            {method: "PATCH", path: "/Users/bulkId:one",
             data: {schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    Operations: [{op: "add", path: "nickName", value: "Bulk"}]}},
        ],
    };
    new SCIMMY.Messages.BulkRequest(bulkBody);
    const bulk = await call("POST", "/Bulk", bulkBody);
    check(bulk.status === 200, "bulk answers");
    const br = new SCIMMY.Messages.BulkResponse(bulk.body);
    check(br.Operations.map((o) => o.status).join(",") === "201,200", "bulk operations succeeded");

    // Errors are SCIM errors SCIMMY understands.
    const bad = await call("GET", "/Users?filter=" + encodeURIComponent('userName eq'));
    check(bad.status === 400 && bad.body.scimType === "invalidFilter", "invalid filter is 400");
    const err = new SCIMMY.Types.Error(Number(bad.body.status), bad.body.scimType, bad.body.detail);
    check(err.status === 400 && err.scimType === "invalidFilter", "ErrorResponse parses");

    console.log(`scimmy: ${checks} checks passed`);
}

main().catch((e) => {
    console.error(`scimmy: ${e.stack}`);
    process.exit(1);
});

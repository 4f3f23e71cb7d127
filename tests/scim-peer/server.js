// A SCIM 2.0 service for tunnus's provisioning tests: scimmy (an
// independent SCIM implementation) with scimmy-routers on express, users
// held in memory, bearer token from the environment. Loopback only.
//
//   SCIM_TOKEN=secret node server.js PORT   (0: any free port)
// prints "listening PORT" when ready. GET /debug/users and /debug/groups
// (no auth) dump the store for the tests; GET /debug/requests lists the
// requests received (method and path) and DELETE /debug/requests forgets
// them; POST /debug/fail?userName=X makes writes of that user fail with
// 400 (a rejected entry).
//
// Groups behave as in the services tunnus talks to: displayName is unique
// (409), members are a set (a value added twice is held once), a member
// must be a user the service holds (400), and deleting a user does not
// take them out of groups by itself (the client must), so the tests see
// what tunnus does, not what the peer tidies up. POST
// /debug/mode?strict=1&tidy=1 makes it behave like stricter services:
// strict, a PATCH that removes a member who is not there is refused whole
// (400 noTarget, RFC 7644 §3.5.2); tidy, deleting a user takes it out of
// every group. POST /debug/fail-member?userName=X makes the groups refuse
// that user as a member (400), DELETE /debug/fail-member forgives.
import crypto from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const users = new Map();
const groups = new Map();
const requests = [];
const mode = {strict: false, tidy: false};
const failing = new Set();
const failingMembers = new Set();
const token = process.env.SCIM_TOKEN || "secret";

SCIMMY.Resources.declare(SCIMMY.Resources.User)
    .ingress((resource, data) => {
        if (failing.has(data.userName))
            throw new SCIMMY.Types.Error(400, "invalidValue", `userName ${data.userName} is refused`);
        for (const u of users.values())
            if (u.userName === data.userName && u.id !== resource.id)
                throw new SCIMMY.Types.Error(409, "uniqueness", "userName already exists");
        const now = new Date().toISOString();
        if (resource.id) {
            const old = users.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            const u = {...data, id: resource.id, meta: {...old.meta, lastModified: now}};
            users.set(resource.id, u);
            return u;
        }
        const id = crypto.randomUUID();
        const u = {...data, id, meta: {created: now, lastModified: now}};
        users.set(id, u);
        return u;
    })
    .egress((resource) => {
        if (resource.id) {
            const u = users.get(resource.id);
            if (!u) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return u;
        }
        const all = [...users.values()];
        return resource.filter ? resource.filter.match(all) : all;
    })
    .degress((resource) => {
        if (!users.delete(resource.id))
            throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
        if (mode.tidy)
            for (const g of groups.values())
                g.members = (g.members ?? []).filter(m => m.value !== resource.id);
    });

SCIMMY.Resources.declare(SCIMMY.Resources.Group)
    .ingress((resource, data) => {
        for (const g of groups.values())
            if (g.displayName.toLowerCase() === data.displayName.toLowerCase() && g.id !== resource.id)
                throw new SCIMMY.Types.Error(409, "uniqueness", "displayName already exists");
        const seen = new Set();
        const members = [];
        for (const m of data.members ?? []) {
            if (!users.has(m.value))
                throw new SCIMMY.Types.Error(400, "invalidValue", `no user ${m.value}`);
            if (failingMembers.has(users.get(m.value).userName) &&
                !(groups.get(resource.id)?.members ?? []).some(x => x.value === m.value))
                throw new SCIMMY.Types.Error(400, "invalidValue",
                                             `${users.get(m.value).userName} may not join`);
            if (!seen.has(m.value)) {
                seen.add(m.value);
                members.push({value: m.value, type: "User"});
            }
        }
        const now = new Date().toISOString();
        let g;
        if (resource.id) {
            const old = groups.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            g = {...data, members, id: resource.id, meta: {...old.meta, lastModified: now}};
        } else {
            g = {...data, members, id: crypto.randomUUID(), meta: {created: now, lastModified: now}};
        }
        groups.set(g.id, g);
        return g;
    })
    .egress((resource) => {
        if (resource.id) {
            const g = groups.get(resource.id);
            if (!g) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            return g;
        }
        const all = [...groups.values()];
        return resource.filter ? resource.filter.match(all) : all;
    })
    .degress((resource) => {
        if (!groups.delete(resource.id))
            throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
    });

const app = express();
app.use((req, res, next) => { requests.push({method: req.method, path: req.originalUrl}); next(); });
app.get("/debug/users", (req, res) => res.json([...users.values()]));
app.get("/debug/groups", (req, res) => res.json([...groups.values()]));
app.get("/debug/requests", (req, res) => res.json(requests.filter(r => !r.path.startsWith("/debug/"))));
app.delete("/debug/requests", (req, res) => { requests.length = 0; res.json({ok: true}); });
app.post("/debug/fail-member", (req, res) => { failingMembers.add(req.query.userName); res.json({ok: true}); });
app.delete("/debug/fail-member", (req, res) => { failingMembers.clear(); res.json({ok: true}); });
app.post("/debug/mode", (req, res) => {
    mode.strict = req.query.strict === "1";
    mode.tidy = req.query.tidy === "1";
    res.json(mode);
});
// Strict mode: refuse a PATCH whose remove names a member who is not there.
app.patch("/scim/v2/Groups/:id", express.json({type: ["application/scim+json", "application/json"]}),
    (req, res, next) => {
        const g = groups.get(req.params.id);
        if (!mode.strict || !g) return next();
        for (const op of req.body?.Operations ?? []) {
            const m = /^members\[value eq "(.*)"\]$/.exec(op.path ?? "");
            if (String(op.op).toLowerCase() === "remove" && m &&
                !(g.members ?? []).some(x => x.value === m[1]))
                return res.status(400).type("application/scim+json").json({
                    schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"], status: "400",
                    scimType: "noTarget", detail: `no member ${m[1]}`});
        }
        next();
    });
app.post("/debug/fail", (req, res) => { failing.add(req.query.userName); res.json({ok: true}); });
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${token}`)
            throw new Error("Authorization failed");
        return "tunnus";
    },
}));
const server = app.listen(Number(process.argv[2] || 0), "127.0.0.1", () => {
    console.log(`listening ${server.address().port}`);
});
for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => server.close(() => process.exit(0)));

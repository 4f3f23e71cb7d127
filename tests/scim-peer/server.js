// A SCIM 2.0 service for tunnus's provisioning tests: scimmy (an
// independent SCIM implementation) with scimmy-routers on express, users
// held in memory, bearer token from the environment. Loopback only.
//
//   SCIM_TOKEN=secret node server.js PORT   (0: any free port)
// prints "listening PORT" when ready. GET /debug/users (no auth) dumps
// the store for the tests; POST /debug/fail?userName=X makes writes of
// that user fail with 400 (a rejected entry).
import crypto from "node:crypto";
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";

const users = new Map();
const failing = new Set();
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
    });

const app = express();
app.get("/debug/users", (req, res) => res.json([...users.values()]));
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

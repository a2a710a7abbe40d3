// Authentication and authorization with the official client's
// `accessTokenFactory` (sync and async) over WebSockets, Server-Sent Events and
// Long Polling, against interop/server/auth_app.py. Every refusal also checks
// the server's counters: no protected hub code may have run.

import assert from "node:assert/strict";
import { createHmac, randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";

import { closed, connect, nextCall, signalR, startServer, stopAll } from "./lib/server.mjs";

const TRANSPORTS = {
  WebSockets: signalR.HttpTransportType.WebSockets,
  ServerSentEvents: signalR.HttpTransportType.ServerSentEvents,
  LongPolling: signalR.HttpTransportType.LongPolling,
};

let server;
before(async () => {
  server = await startServer({ app: "server.auth_app:app" });
});
after(async () => {
  await server?.stop();
});
beforeEach(async () => {
  await fetch(`${server.url}/counters/reset`, { method: "POST" });
});

async function issue(sub, { roles = [], tenant, lifetime = 60 } = {}) {
  const response = await fetch(`${server.url}/token`, {
    method: "POST",
    body: JSON.stringify({ sub, roles, tenant, lifetime }),
  });
  assert.equal(response.status, 200);
  return response.text();
}

async function counters() {
  return (await fetch(`${server.url}/counters`)).json();
}

const b64url = (value) => Buffer.from(value).toString("base64url");

/** An HS256 JWT signed with any secret (even a PEM public key). */
function hmacToken(secret, payload, alg = "HS256") {
  const head = `${b64url(JSON.stringify({ alg, typ: "JWT" }))}.${b64url(JSON.stringify(payload))}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

const claims = (sub = "alice") => ({ sub, exp: Math.floor(Date.now() / 1000) + 60 });

const factories = {
  sync: (token) => () => token,
  async: (token) => async () => token,
};

function open(hub, transport, factory, extra = {}) {
  return connect(server.url, hub, { transport, httpOptions: { accessTokenFactory: factory }, ...extra });
}

for (const [transportName, transport] of Object.entries(TRANSPORTS)) {
  for (const [factoryName, makeFactory] of Object.entries(factories)) {
    describe(`${transportName} with a ${factoryName} token factory`, { timeout: 30_000 }, () => {
      test("a valid token connects and identifies the user", async () => {
        const connection = await open("/hubs/secure", transport, makeFactory(await issue("alice")));
        try {
          const me = await connection.invoke("WhoAmI");
          assert.deepEqual(me, { user: "alice", roles: [], transport: transportName });
        } finally {
          await stopAll([connection]);
        }
      });

      const badTokens = {
        missing: async () => "",
        "wrong signature": async () => hmacToken(randomBytes(64), claims()),
        "alg none": async () => `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims()))}.`,
        "algorithm confusion": async () =>
          hmacToken(await (await fetch(`${server.url}/public-key`)).text(), claims()),
        expired: async () => issue("alice", { lifetime: -5 }),
      };
      for (const [kind, make] of Object.entries(badTokens)) {
        test(`${kind} token: negotiate is refused with 401`, async () => {
          const token = await make();
          await assert.rejects(
            open("/hubs/secure", transport, makeFactory(token)),
            (error) => {
              assert.match(error.message, /Failed to complete negotiation with the server/);
              // The reason phrase before ':' is the ASGI server's (hypercorn sends none).
              assert.match(error.message, /Error: Unauthorized: Status code '401'$/);
              return true;
            },
          );
          assert.deepEqual(await counters(), {});
        });
      }

      // WebSockets asks the factory again for the upgrade; SSE and Long Polling
      // reuse negotiate's token until a request gets 401 (covered below and, for
      // raw requests, by tests/auth/test_endpoint_auth.py).
      if (transport === TRANSPORTS.WebSockets) test("a token that turns bad after negotiate is refused on the upgrade", async () => {
        const good = await issue("alice");
        let calls = 0;
        const token = () => (calls++ === 0 ? good : hmacToken(randomBytes(64), claims()));
        const factory = factoryName === "sync" ? token : async () => token();
        await assert.rejects(open("/hubs/secure", transport, factory));
        assert.ok(calls >= 2, `factory called ${calls} times`);
        assert.deepEqual(await counters(), {});
      });

      test("role and policy denials keep the connection open", async () => {
        const connection = await open(
          "/hubs/secure",
          transport,
          makeFactory(await issue("alice", { tenant: "t1" })),
        );
        try {
          await assert.rejects(connection.invoke("AdminOnly"), {
            message: "Failed to invoke 'AdminOnly' because user is unauthorized",
          });
          await assert.rejects(connection.invoke("TenantData", "t2"), {
            message: "Failed to invoke 'TenantData' because user is unauthorized",
          });
          assert.equal(await connection.invoke("TenantData", "t1"), "data of t1");
          assert.equal(connection.state, signalR.HubConnectionState.Connected);
        } finally {
          await stopAll([connection]);
        }
        const ran = await counters();
        assert.equal(ran["secure.admin_only"], undefined);
        assert.equal(ran["secure.tenant_data"], 1);
      });

      test("a hub requiring a role refuses others with 403 and admits the role", async () => {
        await assert.rejects(open("/hubs/admin", transport, makeFactory(await issue("bob", { roles: ["Reader"] }))), {
          message: /Forbidden: Status code '403'$/,
        });
        assert.deepEqual(await counters(), {});
        const admin = await open("/hubs/admin", transport, makeFactory(await issue("ann", { roles: ["Admin"] })));
        try {
          assert.deepEqual((await admin.invoke("WhoAmI")).roles, ["Admin"]);
        } finally {
          await stopAll([admin]);
        }
      });
    });
  }

  if (transport !== TRANSPORTS.WebSockets) {
    // SSE and Long Polling send with a POST each time; the client reuses the
    // token from negotiate, so once it expires the POST is refused and the
    // method never runs. (JS 10 does not retry with a new token here: its
    // fetch client throws on the 401 before the retry check.)
    test(`${transportName}: sends after the token expired are refused with 401`, { timeout: 15_000 }, async () => {
      const connection = await open("/hubs/secure", transport, async () => issue("frank", { lifetime: 2 }));
      try {
        assert.equal((await connection.invoke("WhoAmI")).user, "frank");
        await new Promise((resolve) => setTimeout(resolve, 2_500));
        await assert.rejects(connection.invoke("WhoAmI"), { message: /Status code '401'/ });
      } finally {
        await stopAll([connection]);
      }
      assert.equal((await counters())["secure.who_am_i"], 1);
    });
  }

  test(`${transportName}: the token expiring closes the connection without error`, { timeout: 15_000 }, async () => {
    const connection = await open("/hubs/expiring", transport, async () => issue("alice", { lifetime: 2 }));
    const error = await closed(connection, 6_000);
    assert.equal(error, undefined);
  });
}

describe("tokens and users", { timeout: 30_000 }, () => {
  test("under uvicorn too the client reports the reference's exact text", async () => {
    const uvicorn = await startServer({ app: "server.auth_app:app", args: ["--server", "uvicorn"] });
    try {
      await assert.rejects(connect(uvicorn.url, "/hubs/secure", { httpOptions: { accessTokenFactory: () => "" } }), {
        message: "Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'",
      });
    } finally {
      await uvicorn.stop();
    }
  });

  test("the access_token query parameter works without a factory", async () => {
    const token = await issue("carol");
    const connection = await connect(server.url, `/hubs/secure?access_token=${token}`, {
      transport: signalR.HttpTransportType.LongPolling,
    });
    try {
      assert.equal((await connection.invoke("WhoAmI")).user, "carol");
    } finally {
      await stopAll([connection]);
    }
  });

  test("anonymous callers reach open hubs but not protected methods", async () => {
    const connection = await connect(server.url, "/hubs/open");
    try {
      assert.equal((await connection.invoke("WhoAmI")).user, null);
      await assert.rejects(connection.invoke("MembersOnly"), {
        message: "Failed to invoke 'MembersOnly' because user is unauthorized",
      });
    } finally {
      await stopAll([connection]);
    }
    assert.deepEqual(await counters(), {});
  });

  test("clients.user reaches every connection of the user, on every transport", async () => {
    const tabs = await Promise.all(
      Object.values(TRANSPORTS).map(async (transport) => open("/hubs/secure", transport, await issue("dave").then(factories.async))),
    );
    const other = await open("/hubs/secure", TRANSPORTS.WebSockets, factories.sync(await issue("erin")));
    try {
      const received = tabs.map((tab) => nextCall(tab, "Notify"));
      let erinGot = false;
      other.on("Notify", () => {
        erinGot = true;
      });
      await other.invoke("NotifyUser", "dave", "hello dave");
      assert.deepEqual(await Promise.all(received), [["hello dave"], ["hello dave"], ["hello dave"]]);
      await other.invoke("WhoAmI"); // round trip: anything for erin would have arrived
      assert.equal(erinGot, false);
    } finally {
      await stopAll([...tabs, other]);
    }
  });
});

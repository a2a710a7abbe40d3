// Server-to-client calls on every `clients` target, groups, users and
// hub-context pushes from an HTTP route, with four connected official
// clients. Each case checks who receives AND who does not.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { Inbox, connect, startServer, stopAll } from "./lib/server.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

// Four clients: a, b, c, d. Users: a and b are "u1", c is "u2", d is "u3".
const USERS = { a: "u1", b: "u1", c: "u2", d: "u3" };
const SETUPS = {
  json: { a: "json", b: "json", c: "json", d: "json" },
  messagepack: { a: "messagepack", b: "messagepack", c: "messagepack", d: "messagepack" },
  // One broadcast reaching both protocols at once.
  mixed: { a: "json", b: "messagepack", c: "json", d: "messagepack" },
};

for (const [setupName, protocols] of Object.entries(SETUPS)) {
  describe(`targets with ${setupName} clients`, { timeout: 30_000 }, () => {
    const conn = {};
    const ids = {};
    const inbox = {};
    let round = 0;

    before(async () => {
      await Promise.all(
        Object.keys(USERS).map(async (name) => {
          conn[name] = await connect(server.url, "/hubs/test", { protocol: protocols[name], user: USERS[name] });
          inbox[name] = new Inbox(conn[name], ["Message", "Pushed"]);
          ids[name] = await conn[name].invoke("GetConnectionId");
        }),
      );
      // g1 = {a, b, c}, g2 = {d}
      await Promise.all([
        conn.a.invoke("JoinGroup", "g1"),
        conn.b.invoke("JoinGroup", "g1"),
        conn.c.invoke("JoinGroup", "g1"),
        conn.d.invoke("JoinGroup", "g2"),
      ]);
    });
    after(async () => {
      await stopAll(Object.values(conn));
    });

    /**
     * Runs `action`, then makes every client do a round trip: the server
     * queues a broadcast before the sender's Completion, and each
     * connection's messages arrive in order, so after the barrier every
     * delivery has happened and absences are real.
     */
    async function deliveries(action) {
      for (const box of Object.values(inbox)) box.take();
      await action();
      await Promise.all(Object.values(conn).map((c) => c.invoke("Echo", "barrier")));
      const result = {};
      for (const [name, box] of Object.entries(inbox)) {
        result[name] = box.take().map(({ method, args }) => [method, ...args]);
      }
      return result;
    }

    function expectOnly(result, receivers, call) {
      for (const name of Object.keys(USERS)) {
        const expected = receivers.includes(name) ? [call] : [];
        assert.deepEqual(result[name], expected, `client ${name}`);
      }
    }

    const payload = () => ({ round: ++round, setup: setupName });

    test("user identifiers come from the connection", async () => {
      assert.equal(await conn.a.invoke("GetUserIdentifier"), "u1");
      assert.equal(await conn.c.invoke("GetUserIdentifier"), "u2");
    });

    test("all", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.a.invoke("SendToAll", p)), ["a", "b", "c", "d"], ["Message", "all", p]);
    });

    test("others", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.a.invoke("SendToOthers", p)), ["b", "c", "d"], ["Message", "others", p]);
    });

    test("caller", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.b.invoke("SendToCaller", p)), ["b"], ["Message", "caller", p]);
    });

    test("client", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.a.invoke("SendToClient", ids.c, p)), ["c"], ["Message", "client", p]);
    });

    test("clients", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToClients", [ids.b, ids.d], p));
      expectOnly(result, ["b", "d"], ["Message", "clients", p]);
    });

    test("all_except", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToAllExcept", [ids.a, ids.c], p));
      expectOnly(result, ["b", "d"], ["Message", "all_except", p]);
    });

    test("group", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.d.invoke("SendToGroup", "g1", p)), ["a", "b", "c"], ["Message", "group", p]);
    });

    test("groups", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToGroups", ["g1", "g2"], p));
      expectOnly(result, ["a", "b", "c", "d"], ["Message", "groups", p]);
    });

    test("group_except", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToGroupExcept", "g1", [ids.b], p));
      expectOnly(result, ["a", "c"], ["Message", "group_except", p]);
    });

    test("others_in_group", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToOthersInGroup", "g1", p));
      expectOnly(result, ["b", "c"], ["Message", "others_in_group", p]);
    });

    test("user (every connection of that user)", async () => {
      const p = payload();
      expectOnly(await deliveries(() => conn.c.invoke("SendToUser", "u1", p)), ["a", "b"], ["Message", "user", p]);
    });

    test("users", async () => {
      const p = payload();
      const result = await deliveries(() => conn.a.invoke("SendToUsers", ["u1", "u3"], p));
      expectOnly(result, ["a", "b", "d"], ["Message", "users", p]);
    });

    test("an empty or unknown target reaches nobody", async () => {
      const p = payload();
      const empty = await deliveries(async () => {
        await conn.a.invoke("SendToGroup", "nobody-here", p);
        await conn.a.invoke("SendToUser", "no-such-user", p);
        await conn.a.invoke("SendToClients", [], p);
      });
      expectOnly(empty, [], null);
    });

    test("leaving a group stops deliveries; joining again resumes them", async () => {
      await conn.b.invoke("LeaveGroup", "g1");
      let p = payload();
      expectOnly(await deliveries(() => conn.d.invoke("SendToGroup", "g1", p)), ["a", "c"], ["Message", "group", p]);
      await conn.b.invoke("JoinGroup", "g1");
      // Joining twice is harmless: still one delivery.
      await conn.b.invoke("JoinGroup", "g1");
      p = payload();
      expectOnly(await deliveries(() => conn.d.invoke("SendToGroup", "g1", p)), ["a", "b", "c"], ["Message", "group", p]);
    });

    test("hub context pushes from an HTTP route", async () => {
      let p = payload();
      let response;
      let result = await deliveries(async () => {
        response = await server.post("/push/all", { payload: p });
      });
      assert.equal(response.status, 202);
      expectOnly(result, ["a", "b", "c", "d"], ["Pushed", "all", p]);

      p = payload();
      result = await deliveries(async () => {
        response = await server.post("/push/group/g1", { payload: p });
      });
      expectOnly(result, ["a", "b", "c"], ["Pushed", "group", p]);

      p = payload();
      result = await deliveries(async () => {
        response = await server.post("/push/user/u2", { payload: p });
      });
      expectOnly(result, ["c"], ["Pushed", "user", p]);

      p = payload();
      result = await deliveries(async () => {
        response = await server.post(`/push/client/${encodeURIComponent(ids.d)}`, { payload: p });
      });
      expectOnly(result, ["d"], ["Pushed", "client", p]);
    });
  });
}

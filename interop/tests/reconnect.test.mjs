// Automatic reconnect: the server process goes away and comes back on the
// same port; clients built withAutomaticReconnect get a new connection and
// keep working. Covers a graceful restart (SIGTERM) and a crash (SIGKILL).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { PROTOCOL_NAMES, buildConnection, startServer, stopAll } from "./lib/server.mjs";

const RECONNECT_DELAYS = [0, 500, 1000, ...Array(20).fill(1000)];

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

function watch(connection) {
  const events = { reconnecting: [], reconnected: [], closed: [] };
  let signalReconnected;
  events.reconnectedOnce = new Promise((resolve) => {
    signalReconnected = resolve;
  });
  connection.onreconnecting((error) => events.reconnecting.push(error));
  connection.onreconnected((id) => {
    events.reconnected.push(id);
    signalReconnected(id);
  });
  connection.onclose((error) => events.closed.push(error));
  return events;
}

for (const [how, end] of [
  ["graceful restart", (s) => s.stop()],
  ["crash and restart", (s) => s.kill()],
]) {
  test(`clients reconnect automatically after a ${how} on the same port`, { timeout: 40_000 }, async () => {
    const connections = PROTOCOL_NAMES.map((protocol) =>
      buildConnection(server.url, "/hubs/test", { protocol, reconnectDelays: RECONNECT_DELAYS }),
    );
    try {
      await Promise.all(connections.map((c) => c.start()));
      const before = connections.map((c) => c.connectionId);
      const events = connections.map(watch);
      for (const c of connections) assert.equal(await c.invoke("Add", 1, 1), 2);

      await end(server);
      await server.start();

      const ids = await Promise.all(events.map((e) => e.reconnectedOnce));
      for (const [i, c] of connections.entries()) {
        assert.equal(c.state, "Connected");
        assert.ok(events[i].reconnecting.length >= 1, "onreconnecting fired");
        assert.deepEqual(events[i].closed, [], "onclose must not fire");
        assert.equal(ids[i], c.connectionId);
        assert.notEqual(c.connectionId, before[i], "a reconnect is a new connection");
        assert.equal(await c.invoke("Add", 20, 22), 42);
        assert.equal(await c.invoke("GetConnectionId"), c.connectionId);
      }
    } finally {
      await stopAll(connections);
    }
  });
}

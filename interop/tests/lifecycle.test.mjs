// Connection lifetime with the official client: connect/disconnect events,
// keep-alive pings holding an idle connection open, and the close that
// follows an oversize message.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { setTimeout as delay } from "node:timers/promises";

import { PROTOCOL_NAMES, buildConnection, closed, connect, nextCall, signalR, startServer, stopAll } from "./lib/server.mjs";

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

for (const protocol of PROTOCOL_NAMES) {
  describe(`lifecycle with ${protocol}`, { timeout: 30_000 }, () => {
    test("on_connected and on_disconnected run for each connection", async () => {
      const watcher = await connect(server.url, "/hubs/presence", { protocol });
      let visitor;
      try {
        const arrived = nextCall(watcher, "Connected");
        visitor = await connect(server.url, "/hubs/presence", { protocol });
        assert.deepEqual(await arrived, [visitor.connectionId]);

        const left = nextCall(watcher, "Disconnected");
        const visitorId = visitor.connectionId;
        await visitor.stop();
        assert.deepEqual(await left, [visitorId]);
      } finally {
        await stopAll([watcher, visitor]);
      }
    });

    test("a client-initiated stop closes without an error", async () => {
      const connection = await connect(server.url, "/hubs/test", { protocol });
      const closing = closed(connection);
      await connection.stop();
      assert.equal(await closing, undefined);
      assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
    });

    test("server pings keep an idle connection past the client's server timeout", async () => {
      // Server keep-alive is 1 s on /hubs/keepalive; the client gives up after
      // 3 s of silence. Idle for 5 s: only the pings can keep it open.
      const connection = buildConnection(server.url, "/hubs/keepalive", { protocol, serverTimeoutMs: 3_000 });
      let closeError = "not closed";
      connection.onclose((error) => {
        closeError = error;
      });
      await connection.start();
      try {
        await delay(5_000);
        assert.equal(closeError, "not closed");
        assert.equal(connection.state, signalR.HubConnectionState.Connected);
        assert.equal(await connection.invoke("Add", 1, 2), 3);
      } finally {
        await connection.stop();
      }
    });

    test("an oversize message closes the connection with the reference error", async () => {
      // /hubs/small accepts at most 1024 bytes per message.
      const connection = await connect(server.url, "/hubs/small", { protocol });
      try {
        assert.equal(await connection.invoke("Echo", "x".repeat(100)), "x".repeat(100));
        const closing = closed(connection);
        const invocation = connection.invoke("Echo", "x".repeat(5_000));
        const error = await closing;
        assert.ok(error instanceof Error, `expected an error, got ${error}`);
        assert.equal(error.message, "Server returned an error on close: Connection closed with an error.");
        await assert.rejects(invocation);
        assert.equal(connection.state, signalR.HubConnectionState.Disconnected);
      } finally {
        await connection.stop();
      }
    });
  });
}

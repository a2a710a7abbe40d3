// Stateful reconnect with the official client (`withStatefulReconnect()`):
// a tiny TCP proxy sits between client and server so the test can cut the
// WebSocket under the client — no close frame, like a network failure —
// while messages flow both ways. The client reconnects the same connection
// (same id, no reconnect events), both sides replay what the other has not
// acknowledged, and every message must arrive exactly once, in order.

import assert from "node:assert/strict";
import net from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { after, before, describe, test } from "node:test";

import { createProtocol, freePort, signalR, startServer } from "./lib/server.mjs";

const APP = "server.streaming_app:app";
const HUB = "/hubs/streaming";

/** Forwards TCP to `targetPort`; `cut()` kills every open pair abruptly. */
class CuttableProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.accepted = 0;
    this.server = net.createServer((client) => {
      this.accepted += 1;
      const upstream = net.connect(this.targetPort, "127.0.0.1");
      const pair = { client, upstream };
      this.pairs.add(pair);
      const drop = () => {
        this.pairs.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      client.on("error", drop).on("close", drop);
      upstream.on("error", drop).on("close", drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  async listen() {
    this.port = await freePort();
    await new Promise((resolve) => this.server.listen(this.port, "127.0.0.1", resolve));
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Resets both sides of every forwarded connection: no WebSocket close frame. */
  cut() {
    const count = this.pairs.size;
    for (const { client, upstream } of this.pairs) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.pairs.clear();
    return count;
  }

  async close() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

let server;
let proxy;
before(async () => {
  server = await startServer({ app: APP });
  proxy = await new CuttableProxy(server.port).listen();
});
after(async () => {
  await proxy?.close();
  await server?.stop();
});

function buildStateful(protocol) {
  return new signalR.HubConnectionBuilder()
    .withUrl(`${proxy.url}${HUB}`, { transport: signalR.HttpTransportType.WebSockets })
    .withHubProtocol(createProtocol(protocol))
    .withStatefulReconnect()
    .configureLogging(process.env.CLIENT_LOG_LEVEL ? Number(process.env.CLIENT_LOG_LEVEL) : signalR.LogLevel.None)
    .build();
}

for (const protocol of ["json", "messagepack"]) {
  describe(`stateful reconnect: ${protocol}`, { timeout: 60_000 }, () => {
    test("cuts under traffic both ways lose and duplicate nothing", async () => {
      const connection = buildStateful(protocol);
      const ticks = [];
      const events = [];
      connection.on("Tick", (index) => ticks.push(index));
      connection.onreconnecting(() => events.push("reconnecting"));
      connection.onclose((error) => events.push(`closed: ${error}`));
      await connection.start();
      try {
        const id = await connection.invoke("GetConnectionId");
        const total = 150;
        const serverSide = connection.invoke("Ticks", total, 8);

        const clientSide = (async () => {
          for (let index = 0; index < total; index++) {
            await connection.send("Record", index);
            await delay(8);
          }
        })();

        // Cut twice while both directions are busy.
        await delay(300);
        assert.ok(proxy.cut() > 0, "a socket was open to cut");
        await delay(400);
        assert.ok(proxy.cut() > 0, "the client had reconnected through the proxy");

        assert.equal(await serverSide, total);
        await clientSide;
        const expected = Array.from({ length: total }, (_, i) => i);
        assert.deepEqual(ticks, expected, "server-to-client messages exactly once, in order");
        assert.deepEqual(await connection.invoke("GetRecorded"), expected, "client-to-server messages exactly once, in order");
        assert.equal(await connection.invoke("GetConnectionId"), id, "same connection after reconnecting");
        assert.deepEqual(events, [], "the hub connection never noticed");
        assert.ok(proxy.accepted >= 3, "the WebSocket was reopened after each cut");
      } finally {
        await connection.stop();
      }
    });

    test("a server stream continues across a cut", async () => {
      const connection = buildStateful(protocol);
      await connection.start();
      try {
        const items = [];
        const done = new Promise((resolve, reject) => {
          connection.stream("Counter", 60, 10).subscribe({
            next: (item) => items.push(item),
            complete: resolve,
            error: reject,
          });
        });
        await delay(200);
        proxy.cut();
        await done;
        assert.deepEqual(items, Array.from({ length: 60 }, (_, i) => i));
      } finally {
        await connection.stop();
      }
    });
  });
}

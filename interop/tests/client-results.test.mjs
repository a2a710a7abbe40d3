// Client results with the official client on every transport and protocol:
// the server invokes a `connection.on(...)` handler and awaits what it
// returns — a value, a promise, an error, or nothing (no handler) — both from
// inside a hub method and from outside any hub (`/clientresult/{id}`).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { connect, signalR, startServer, stopAll } from "./lib/server.mjs";
import { TRANSPORT_MATRIX } from "./lib/transport-matrix.mjs";

const APP = "server.streaming_app:app";
const HUB = "/hubs/streaming";

let server;
before(async () => {
  server = await startServer({ app: APP });
});
after(async () => {
  await server?.stop();
});

async function askFromOutside(connectionId, method) {
  const response = await fetch(`${server.url}/clientresult/${connectionId}?method=${method}`);
  assert.equal(response.status, 200);
  return response.json();
}

for (const [transportName, protocol] of TRANSPORT_MATRIX) {
  describe(`client results: ${protocol} over ${transportName}`, { timeout: 30_000 }, () => {
    let connection;
    let connectionId;
    before(async () => {
      connection = await connect(server.url, HUB, {
        protocol,
        transport: signalR.HttpTransportType[transportName],
      });
      connection.on("Double", (value) => value * 2);
      connection.on("Later", (value) => new Promise((resolve) => setTimeout(() => resolve({ late: value }), 20)));
      connection.on("Fails", () => {
        throw new Error("handler failed");
      });
      connection.on("NoResult", () => {});
      connection.on("GetResult", () => `result for ${connection.connectionId}`);
      connectionId = await connection.invoke("GetConnectionId");
    });
    after(async () => {
      await stopAll([connection]);
    });

    test("a handler's return value comes back to the hub method", async () => {
      assert.equal(await connection.invoke("AskCaller", "Double", 21), 42);
    });

    test("a promise's resolved value comes back", async () => {
      assert.deepEqual(await connection.invoke("AskCaller", "Later", "x"), { late: "x" });
    });

    test("a handler error arrives as HubException with the client's text", async () => {
      await assert.rejects(connection.invoke("AskCaller", "Fails", null), {
        message: "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Error: handler failed",
      });
    });

    test("no handler, or a void one, gives the client's 'no result' error", async () => {
      for (const method of ["Missing", "NoResult"]) {
        await assert.rejects(connection.invoke("AskCaller", method, null), {
          message:
            "An unexpected error occurred invoking 'AskCaller' on the server. HubException: Client didn't provide a result.",
        });
      }
    });

    test("from outside a hub through the hub context", async () => {
      assert.deepEqual(await askFromOutside(connectionId, "GetResult"), { result: `result for ${connectionId}` });
      assert.deepEqual(await askFromOutside(connectionId, "Missing"), { error: "Client didn't provide a result." });
      assert.deepEqual(await askFromOutside("no-such-connection", "GetResult"), {
        error: "Connection 'no-such-connection' does not exist.",
      });
    });
  });
}

// Invocations from the official client over WebSockets: results, error texts
// and fire-and-forget sends, with JSON and MessagePack, with and without
// negotiate (skipNegotiation).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import {
  PROTOCOL_NAMES,
  connect,
  createProtocol,
  nextCall,
  recordingProtocol,
  startServer,
  stopAll,
} from "./lib/server.mjs";

const MessageType = { Invocation: 1, Completion: 3 };

let server;
before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
});

for (const protocol of PROTOCOL_NAMES) {
  for (const skipNegotiation of [false, true]) {
    describe(`${protocol} over WebSockets${skipNegotiation ? " (skipNegotiation)" : ""}`, { timeout: 30_000 }, () => {
      const options = { protocol, skipNegotiation };
      let connection;
      let detailed;

      before(async () => {
        [connection, detailed] = await Promise.all([
          connect(server.url, "/hubs/test", options),
          connect(server.url, "/hubs/detailed", options),
        ]);
      });
      after(async () => {
        await stopAll([connection, detailed]);
      });

      test("invoke returns results", async () => {
        assert.equal(await connection.invoke("Add", 2, 40), 42);
        assert.equal(await connection.invoke("Echo", "héllo ✓ 😀"), "héllo ✓ 😀");
        const value = { text: "x", list: [1, 2.5, null, true], nested: { deep: ["a"] } };
        assert.deepEqual(await connection.invoke("Echo", value), value);
        assert.equal(await connection.invoke("Echo", null), null);
      });

      test("method names match case-insensitively and by Python name", async () => {
        assert.equal(await connection.invoke("add", 1, 1), 2);
        assert.equal(await connection.invoke("ADD", 2, 2), 4);
        assert.equal(await connection.invoke("echo", "py"), "py");
      });

      test("the hub sees the connection id that negotiate issued", async () => {
        const id = await connection.invoke("GetConnectionId");
        assert.equal(typeof id, "string");
        assert.ok(id.length > 0);
        if (!skipNegotiation) assert.equal(id, connection.connectionId);
      });

      test("HubException text reaches the client verbatim", async () => {
        await assert.rejects(connection.invoke("ThrowHubException", "custom text"), {
          message:
            "An unexpected error occurred invoking 'ThrowHubException' on the server. HubException: custom text",
        });
      });

      test("other exceptions are hidden without detailed errors", async () => {
        await assert.rejects(connection.invoke("ThrowException", "secret"), {
          message: "An unexpected error occurred invoking 'ThrowException' on the server.",
        });
        // The connection survives a per-invocation error.
        assert.equal(await connection.invoke("Add", 1, 2), 3);
      });

      test("other exceptions are detailed when detailed errors are on", async () => {
        await assert.rejects(detailed.invoke("ThrowException", "boom"), {
          message: "An unexpected error occurred invoking 'ThrowException' on the server. ValueError: boom",
        });
      });

      test("unknown methods and wrong argument counts give the reference texts", async () => {
        await assert.rejects(connection.invoke("NoSuchMethod"), {
          message: "Failed to invoke 'NoSuchMethod' due to an error on the server. HubException: Method does not exist.",
        });
        await assert.rejects(connection.invoke("Add", 1), {
          message: "Failed to invoke 'Add' due to an error on the server.",
        });
        await assert.rejects(detailed.invoke("Add", 1, 2, 3), {
          message:
            "Failed to invoke 'Add' due to an error on the server. InvalidDataException: Invocation provides 3 argument(s) but target expects 2.",
        });
      });
    });

    test(`${protocol}${skipNegotiation ? " (skipNegotiation)" : ""}: send runs the method and gets no Completion`, { timeout: 10_000 }, async () => {
      const recorder = recordingProtocol(createProtocol(protocol));
      const connection = await connect(server.url, "/hubs/test", { protocol: recorder, skipNegotiation });
      try {
        const delivered = nextCall(connection, "Message");
        await connection.send("SendToCaller", "fire-and-forget");
        assert.deepEqual(await delivered, ["caller", "fire-and-forget"]);
        // A failing fire-and-forget call is silent too.
        await connection.send("ThrowException", "ignored");
        await connection.send("NoSuchMethod");
        // The server handles messages in order: once this invoke completes,
        // anything the sends above produced has arrived.
        assert.equal(await connection.invoke("Add", 20, 22), 42);
        const completions = recorder.received.filter((m) => m.type === MessageType.Completion);
        assert.equal(completions.length, 1, JSON.stringify(completions));
        assert.equal(completions[0].result, 42);
        const invocations = recorder.received.filter((m) => m.type === MessageType.Invocation);
        assert.equal(invocations.length, 1);
        assert.equal(invocations[0].invocationId, undefined);
      } finally {
        await connection.stop();
      }
    });
  }
}

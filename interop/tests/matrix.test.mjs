// The official client against `signalr-server testapp` (the reference
// functional-test app) over every transport and protocol it supports:
// WebSockets, Server-Sent Events and Long Polling x JSON and MessagePack
// (MessagePack is binary, which SSE cannot carry). The assertions follow the
// reference client's own functional tests (HubConnectionTests.ts).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { getUserAgentHeader } from "@microsoft/signalr/dist/cjs/Utils.js";

import {
  buildConnection,
  closed,
  createProtocol,
  nextCall,
  recordingProtocol,
  signalR,
  startTestApp,
  stopAll,
} from "./lib/server.mjs";

const { HttpTransportType } = signalR;
const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];
const PROTOCOLS = ["json", "messagepack"];
const MessageType = { Completion: 3 };
const MESSAGE = "你好，世界！";

let server;
before(async () => {
  server = await startTestApp();
});
after(async () => {
  await server?.stop();
});

function testHub(transport, protocol, options = {}) {
  return buildConnection(server.url, options.path ?? "/testhub", {
    protocol,
    transport: HttpTransportType[transport],
    ...options,
  });
}

/** Subscribes to a server stream; resolves `{items}` on completion, rejects on error. */
function collectStream(connection, method, ...args) {
  return new Promise((resolve, reject) => {
    const items = [];
    connection.stream(method, ...args).subscribe({
      next: (item) => items.push(item),
      complete: () => resolve({ items }),
      error: reject,
    });
  });
}

for (const transport of TRANSPORTS) {
  for (const protocol of PROTOCOLS) {
    if (transport === "ServerSentEvents" && protocol === "messagepack") continue;

    describe(`${protocol} over ${transport}`, { timeout: 30_000 }, () => {
      let recorder;
      let connection;
      let closedWith;

      before(async () => {
        recorder = recordingProtocol(createProtocol(protocol));
        connection = testHub(transport, recorder, {
          httpOptions: { headers: { "X-HEADER": "VALUE" } },
        });
        closedWith = closed(connection, 25_000);
        await connection.start();
      });
      after(async () => {
        await stopAll([connection]);
      });

      test("invoke returns the result", async () => {
        assert.equal(await connection.invoke("Echo", MESSAGE), MESSAGE);
      });

      test("send is non-blocking and gets no Completion", async () => {
        const completions = () => recorder.received.filter((m) => m.type === MessageType.Completion).length;
        const before = completions();
        await connection.send("Echo", MESSAGE);
        assert.equal(await connection.invoke("Echo", "after"), "after");
        assert.equal(completions(), before + 1);
      });

      test("a hub exception reaches the caller with the reference text", async () => {
        await assert.rejects(connection.invoke("ThrowException", "An error occurred."), {
          message:
            "An unexpected error occurred invoking 'ThrowException' on the server. " +
            "InvalidOperationException: An error occurred.",
        });
      });

      test("server calls reach handlers case-insensitively", async () => {
        const received = nextCall(connection, "mEssage");
        await connection.invoke("InvokeWithString", "你好 SignalR！");
        assert.deepEqual(await received, ["你好 SignalR！"]);
      });

      test("custom objects keep PascalCase property names", async () => {
        const received = nextCall(connection, "CustomObject");
        await connection.send("SendCustomObject", { Name: "test", Value: 42 });
        assert.deepEqual(await received, [{ Name: "test", Value: 42 }]);
      });

      test("complex objects round-trip", async () => {
        const sent = {
          ByteArray: protocol === "json" ? "aGVsbG8=" : new Uint8Array([0x68, 0x65, 0x6c, 0x6c, 0x6f]),
          DateTime: protocol === "json" ? "2002-04-01T10:20:15Z" : new Date(Date.UTC(2002, 3, 1, 10, 20, 15)),
          Guid: "00010203-0405-0607-0706-050403020100",
          IntArray: [0x01, 0x02, 0x03, 0xff],
          String: "Hello, World!",
        };
        const value = await connection.invoke("EchoComplexObject", sent);
        assertComplexObject(value, sent, protocol);
      });

      test("complex objects from the server have the reference shapes", async () => {
        const value = await connection.invoke("SendComplexObject");
        assertComplexObject(value, {
          ByteArray: protocol === "json" ? "AQID" : new Uint8Array([1, 2, 3]),
          DateTime: protocol === "json" ? "2000-01-01T00:00:00Z" : new Date(Date.UTC(2000, 0, 1)),
          Guid: "00010203-0405-0607-0706-050403020100",
          IntArray: [1, 2, 3],
          String: "hello world",
        }, protocol);
      });

      test("server streams: items, empty, errors and wrong call kinds", async () => {
        assert.deepEqual(await collectStream(connection, "Stream"), { items: ["a", "b", "c"] });
        await assert.rejects(collectStream(connection, "StreamThrowException", "An error occurred."), {
          message:
            "An unexpected error occurred invoking 'StreamThrowException' on the server. " +
            "InvalidOperationException: An error occurred.",
        });
        for (const method of ["EmptyStream", "Stream"]) {
          await assert.rejects(connection.invoke(method), {
            message: `The client attempted to invoke the streaming '${method}' method with a non-streaming invocation.`,
          });
        }
        await assert.rejects(collectStream(connection, "Echo", "42"), {
          message: "The client attempted to invoke the non-streaming 'Echo' method with a streaming invocation.",
        });
      });

      test("cancelling a stream runs the server's cancellation", async () => {
        const cancelled = nextCall(connection, "StreamCanceled");
        const subscription = connection.stream("InfiniteStream").subscribe({
          next() {},
          complete() {},
          error() {},
        });
        subscription.dispose();
        assert.deepEqual(await cancelled, []);
      });

      test("client upload streams reach the hub method", async () => {
        const words = new signalR.Subject();
        const joined = connection.invoke("StreamingConcat", words);
        for (const word of ["Hello ", "world", "!"]) words.next(word);
        words.complete();
        assert.equal(await joined, "Hello world!");

        const failing = new signalR.Subject();
        const failed = connection.invoke("StreamingConcat", failing);
        failing.next("Hello ");
        failing.error(new Error("Something bad"));
        // The reference names the type HubException; the text is the client's.
        await assert.rejects(failed, {
          message: /^An unexpected error occurred invoking 'StreamingConcat' on the server\. HubException: Something bad$/,
        });
      });

      test("client results answer /clientresult", async () => {
        const ask = async () => (await fetch(`${server.url}/clientresult/${connection.connectionId}`)).text();
        try {
          connection.on("Result", () => 10);
          assert.equal(await ask(), "10");
          connection.off("Result");
          connection.on("Result", () => {
            throw new Error("from callback");
          });
          assert.equal(await ask(), "Error: from callback");
          connection.off("Result");
          assert.equal(await ask(), "Client didn't provide a result.");
        } finally {
          connection.off("Result");
        }
      });

      test("the hub sees the transport, the connection id and the request", async () => {
        assert.equal(await connection.invoke("GetActiveTransportName"), transport);
        assert.equal(await connection.invoke("GetCallerConnectionId"), connection.connectionId);
        const [agentName, agentValue] = getUserAgentHeader();
        assert.equal(await connection.invoke("GetHeader", agentName), agentValue);
        assert.equal(await connection.invoke("GetHeader", "X-HEADER"), "VALUE");
        assert.equal(await connection.invoke("GetHeader", "X-Not-Sent"), null);
        assert.equal(await connection.invoke("GetContentTypeHeader"), null);
      });

      test("negotiate cookies come back, expired ones do not", async () => {
        assert.equal(await connection.invoke("GetCookie", "testCookie"), "testValue");
        assert.equal(await connection.invoke("GetCookie", "testCookie2"), "testValue2");
        assert.equal(await connection.invoke("GetCookie", "expiredCookie"), null);
      });

      test("stop closes without an error, and the connection can be restarted", async () => {
        await connection.stop();
        assert.equal(await closedWith, undefined);
        closedWith = closed(connection, 25_000);
        await connection.start();
        assert.equal(await connection.invoke("Echo", MESSAGE), MESSAGE);
        await connection.stop();
        assert.equal(await closedWith, undefined);
      });
    });
  }
}

function assertComplexObject(actual, expected, protocol) {
  assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort());
  assert.equal(actual.String, expected.String);
  assert.deepEqual(actual.IntArray, expected.IntArray);
  assert.equal(actual.Guid, expected.Guid);
  if (protocol === "json") {
    assert.equal(actual.ByteArray, expected.ByteArray);
    assert.equal(actual.DateTime, expected.DateTime);
  } else {
    assert.ok(actual.ByteArray instanceof Uint8Array, "ByteArray arrives as bin");
    assert.deepEqual(Array.from(actual.ByteArray), Array.from(expected.ByteArray));
    assert.ok(actual.DateTime instanceof Date, "DateTime arrives as a timestamp");
    assert.equal(actual.DateTime.getTime(), expected.DateTime.getTime());
  }
}

// Streams in both directions with the official client, on every transport and
// both protocols (MessagePack is binary, so not on Server-Sent Events):
// connection.stream(...) with and without cancel, errors mid-stream, and
// Subject uploads (one or several per call, errors, stream in + stream out).

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { connect, nextCall, signalR, startServer, stopAll } from "./lib/server.mjs";
import { TRANSPORT_MATRIX } from "./lib/transport-matrix.mjs";

const APP = "server.streaming_app:app";
const HUB = "/hubs/streaming";

/** Collects a stream's items; resolves on complete, rejects on error. */
function collect(stream) {
  const items = [];
  return new Promise((resolve, reject) => {
    stream.subscribe({
      next: (item) => items.push(item),
      complete: () => resolve(items),
      error: (err) => reject(Object.assign(err, { items })),
    });
  });
}

let server;
before(async () => {
  server = await startServer({ app: APP });
});
after(async () => {
  await server?.stop();
});

for (const [transportName, protocol] of TRANSPORT_MATRIX) {
  describe(`streams: ${protocol} over ${transportName}`, { timeout: 30_000 }, () => {
    let connection;
    before(async () => {
      connection = await connect(server.url, HUB, {
        protocol,
        transport: signalR.HttpTransportType[transportName],
      });
    });
    after(async () => {
      await stopAll([connection]);
    });

    test("server-to-client stream delivers every item then completes", async () => {
      assert.deepEqual(await collect(connection.stream("Counter", 5)), [0, 1, 2, 3, 4]);
      assert.deepEqual(await collect(connection.stream("Empty")), []);
    });

    test("cancelling a stream stops the generator on the server", async () => {
      const canceled = nextCall(connection, "StreamCanceled");
      const received = [];
      let firstItems;
      const enough = new Promise((resolve) => {
        firstItems = resolve;
      });
      const subscription = connection.stream("Infinite").subscribe({
        next: (item) => {
          received.push(item);
          if (received.length === 3) firstItems();
        },
        complete: () => {},
        error: () => {},
      });
      await enough;
      subscription.dispose();
      await canceled; // sent from the generator's cleanup
      assert.deepEqual(received.slice(0, 3), [0, 1, 2]);
      // The connection is still usable afterwards.
      assert.deepEqual(await collect(connection.stream("Counter", 2)), [0, 1]);
    });

    test("an error mid-stream reaches the client with the reference text", async () => {
      await assert.rejects(collect(connection.stream("StreamThenThrow", false)), (err) => {
        assert.equal(err.message, "An error occurred on the server while streaming results.");
        assert.deepEqual(err.items, [1]);
        return true;
      });
      await assert.rejects(collect(connection.stream("StreamThenThrow", true)), {
        message:
          "An error occurred on the server while streaming results. HubException: a message for the client",
      });
    });

    test("wrong call kinds get the reference errors", async () => {
      await assert.rejects(connection.invoke("Counter", 1), {
        message: "The client attempted to invoke the streaming 'Counter' method with a non-streaming invocation.",
      });
      await assert.rejects(collect(connection.stream("Record", 1)), {
        message: "The client attempted to invoke the non-streaming 'Record' method with a streaming invocation.",
      });
    });

    test("a Subject uploads a stream to an AsyncIterator parameter", async () => {
      const subject = new signalR.Subject();
      const result = connection.invoke("Sum", subject);
      for (const number of [1, 2, 3, 4]) subject.next(number);
      subject.complete();
      assert.equal(await result, 10);
    });

    test("two uploads in one invocation", async () => {
      const first = new signalR.Subject();
      const second = new signalR.Subject();
      // An argument between the streams: the JS client mishandles adjacent ones.
      const result = connection.invoke("Concat", first, "|", second);
      second.next("x");
      first.next("a");
      first.next("b");
      second.next("y");
      first.complete();
      second.complete();
      assert.equal(await result, "ab|xy");
    });

    test("upload and download in one call", async () => {
      const subject = new signalR.Subject();
      const items = collect(connection.stream("Upper", subject));
      subject.next("one");
      subject.next("two");
      subject.complete();
      assert.deepEqual(await items, ["ONE", "TWO"]);
    });

    test("a client-side error completes the upload with that error", async () => {
      const subject = new signalR.Subject();
      const result = connection.invoke("UploadError", subject);
      subject.next(1);
      subject.error(new Error("client broke"));
      assert.equal(await result, "ClientStreamError: client broke");
    });

    test("many items through the bounded stream buffer arrive in order", async () => {
      const subject = new signalR.Subject();
      const result = connection.invoke("Sum", subject);
      let expected = 0;
      for (let number = 0; number < 200; number++) {
        subject.next(number);
        expected += number;
      }
      subject.complete();
      assert.equal(await result, expected);
    });
  });
}

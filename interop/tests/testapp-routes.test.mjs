// The official client against the routes of `signalr-server testapp` other
// than the TestHub matrix: transport fallback, negotiate redirects, a bad
// negotiate, the Long Polling DELETE, JWT-protected hubs, the raw /echo
// connection (through the client and as a plain WebSocket), /echoredirect
// and the hub that cannot be created.

import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";

import { AbortError, DefaultHttpClient, HttpClient, NullLogger, TransferFormat } from "@microsoft/signalr";
import { HttpConnection } from "@microsoft/signalr/dist/cjs/HttpConnection.js";
import WebSocket from "ws";

import { buildConnection, closed, signalR, startTestApp, stopAll } from "./lib/server.mjs";

const { HttpTransportType } = signalR;
const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];

let server;
before(async () => {
  server = await startTestApp();
});
after(async () => {
  await server?.stop();
});

function hub(path, options = {}) {
  return buildConnection(server.url, path, { transport: null, ...options });
}

/** Resolves once `promise` settles, or rejects after `ms` (so a hang fails the test). */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe("transport selection", { timeout: 30_000 }, () => {
  test("negotiate on /testhub-nowebsockets offers only SSE and Long Polling", async () => {
    const response = await fetch(`${server.url}/testhub-nowebsockets/negotiate?negotiateVersion=1`, { method: "POST" });
    const body = await response.json();
    assert.deepEqual(body.availableTransports.map((t) => t.transport), ["ServerSentEvents", "LongPolling"]);
  });

  test("JSON falls back to Server-Sent Events, MessagePack skips them for Long Polling", async () => {
    const json = hub("/testhub-nowebsockets", { protocol: "json" });
    const messagepack = hub("/testhub-nowebsockets", { protocol: "messagepack" });
    try {
      await Promise.all([json.start(), messagepack.start()]);
      assert.equal(await json.invoke("GetActiveTransportName"), "ServerSentEvents");
      assert.equal(await messagepack.invoke("GetActiveTransportName"), "LongPolling");
    } finally {
      await stopAll([json, messagepack]);
    }
  });

  test("asking for WebSockets where they are disabled fails to start", async () => {
    const connection = hub("/testhub-nowebsockets", { transport: HttpTransportType.WebSockets });
    await assert.rejects(connection.start(), (error) => {
      assert.match(error.message, /^Unable to connect to the server with any of the available transports\./);
      assert.doesNotMatch(error.message, /WebSockets failed/);
      return true;
    });
  });

  test("the client picks WebSockets first, and routes match case-insensitively", async () => {
    const connection = hub("/TestHub");
    try {
      await connection.start();
      assert.equal(await connection.invoke("GetActiveTransportName"), "WebSockets");
    } finally {
      await stopAll([connection]);
    }
  });
});

describe("negotiate redirects and errors", { timeout: 30_000 }, () => {
  const redirectPath = () => `/redirect?numRedirects=0&baseUrl=${server.url}`;

  test("a redirected connection reports the server's connection id and redirect count", async () => {
    const connection = hub(redirectPath(), { reconnectDelays: [0, 100, 500] });
    try {
      await connection.start();
      assert.equal(await connection.invoke("GetCallerConnectionId"), connection.connectionId);
      const before = await connection.invoke("GetNumRedirects");
      assert.ok(Number.isInteger(before) && before >= 1, `numRedirects ${before}`);

      const reconnected = new Promise((resolve) => connection.onreconnected(resolve));
      const oldId = connection.connectionId;
      connection.serverTimeout(); // what the client does when the server goes silent
      const newId = await within(reconnected, 10_000, "reconnect");
      assert.notEqual(newId, oldId);
      assert.equal(await connection.invoke("GetCallerConnectionId"), newId);
      assert.ok((await connection.invoke("GetNumRedirects")) > before);
    } finally {
      await stopAll([connection]);
    }
  });

  test("a 400 from negotiate fails start with the server's text", async () => {
    const connection = hub("/bad-negotiate");
    await assert.rejects(connection.start(), {
      message: "Failed to complete negotiation with the server: Error: Some response from server: Status code '400'",
    });
  });
});

describe("Long Polling stop", { timeout: 30_000 }, () => {
  test("stop sends DELETE (202) and the pending poll ends", async () => {
    const inner = new DefaultHttpClient(NullLogger.instance);
    const seen = { polls: [], deletes: [] };
    class RecordingClient extends HttpClient {
      send(request) {
        const response = inner.send(request);
        if (request.method === "GET") seen.polls.push(response);
        if (request.method === "DELETE") seen.deletes.push(response);
        return response;
      }
      getCookieString(url) {
        return inner.getCookieString(url);
      }
    }
    const connection = hub("/testhub", {
      transport: HttpTransportType.LongPolling,
      httpOptions: { httpClient: new RecordingClient() },
    });
    const closedWith = closed(connection, 20_000);
    await connection.start();
    assert.ok(seen.polls.length > 0);
    await connection.stop();
    assert.equal(await closedWith, undefined);
    assert.equal(seen.deletes.length, 1);
    assert.equal((await seen.deletes[0]).statusCode, 202);
    const lastPoll = await seen.polls.at(-1).catch((error) => error);
    // The client may abort its own poll before the server's 204 arrives.
    assert.ok(lastPoll instanceof AbortError || lastPoll.statusCode === 204,
      `last poll ended with ${lastPoll.statusCode ?? lastPoll}`);
  });
});

describe("JWT-protected hub", { timeout: 30_000 }, () => {
  const token = async () => (await fetch(`${server.url}/generateJwtToken`)).text();

  for (const transport of TRANSPORTS) {
    test(`a token from /generateJwtToken connects over ${transport}`, async () => {
      const connection = hub("/authorizedhub", {
        transport: HttpTransportType[transport],
        httpOptions: { accessTokenFactory: token },
      });
      const closedWith = closed(connection, 20_000);
      try {
        await connection.start();
        assert.equal(await connection.invoke("Echo", "你好"), "你好");
        assert.equal(await connection.invoke("GetUserNameIdentifier"), "testuser");
        assert.equal(await connection.invoke("GetUserClaim", "iss"), "SignalRTestServer");
      } finally {
        await stopAll([connection]);
      }
      assert.equal(await closedWith, undefined);
    });
  }

  test("without a token negotiate is refused with 401", async () => {
    const connection = hub("/authorizedhub");
    await assert.rejects(connection.start(), /^Error: Failed to complete negotiation with the server: Error: Unauthorized: Status code '401'$/);
  });
});

describe("raw /echo connection", { timeout: 30_000 }, () => {
  function echoOnce(url, transport) {
    const message = "Hello World!";
    const connection = new HttpConnection(url, { transport, logger: NullLogger.instance });
    return new Promise((resolve, reject) => {
      connection.onreceive = (data) => {
        if (data === message) connection.stop();
        else reject(new Error(`unexpected echo ${data}`));
      };
      connection.onclose = (error) => (error ? reject(error) : resolve(connection));
      connection.start(TransferFormat.Text).then(() => connection.send(message), reject);
    });
  }

  for (const transport of TRANSPORTS) {
    test(`echoes over ${transport}`, async () => {
      const connection = await within(echoOnce(`${server.url}/echo`, HttpTransportType[transport]), 10_000, "echo");
      assert.equal(connection.features.inherentKeepAlive ?? false, transport === "LongPolling");
    });
  }

  test("echoes with the transport the client picks", async () => {
    await within(echoOnce(`${server.url}/echo`, undefined), 10_000, "echo");
  });

  // Long Polling only: the 307's Location is relative, as in the reference,
  // which Node's EventSource cannot follow and a WebSocket upgrade never does.
  test("/echoredirect answers 307 to /echo, which the client follows over Long Polling", async () => {
    const response = await fetch(`${server.url}/echoredirect/negotiate?x=1`, { method: "POST", redirect: "manual" });
    assert.equal(response.status, 307);
    assert.equal(response.headers.get("location"), "/echo/negotiate?x=1");
    await within(echoOnce(`${server.url}/echoredirect`, HttpTransportType.LongPolling), 10_000, "echo");
  });

  function plainSocket(headers) {
    const socket = new WebSocket(`${server.url.replace(/^http/, "ws")}/echo`, { headers });
    const events = { messages: [] };
    events.closed = new Promise((resolve, reject) => {
      socket.on("message", (data, isBinary) =>
        events.messages.push({ data: data.toString(), binary: isBinary ?? Buffer.isBuffer(data) }));
      socket.on("close", (code) => resolve(code));
      socket.on("error", reject);
    });
    events.opened = new Promise((resolve) => socket.on("open", resolve));
    return { socket, events };
  }

  test("a plain WebSocket without negotiate echoes and closes cleanly", async () => {
    const { socket, events } = plainSocket({ Cookie: "testCookie=testValue" });
    await within(events.opened, 5_000, "open");
    const echoed = new Promise((resolve) => socket.once("message", resolve));
    socket.send("message");
    await within(echoed, 5_000, "echo");
    socket.close(1000);
    assert.equal(await within(events.closed, 5_000, "close"), 1000);
    assert.deepEqual(events.messages, [{ data: "message", binary: false }]);
  });

  test("without the negotiate cookie the echo handler ends the connection", async () => {
    const { events } = plainSocket({});
    const code = await within(events.closed, 5_000, "close");
    assert.equal(code, 1000);
    assert.deepEqual(events.messages, []);
  });
});

describe("uncreatable hub", { timeout: 30_000 }, () => {
  test("the connection is closed with an error and no reconnect", async () => {
    const connection = hub("/uncreatable", { transport: HttpTransportType.WebSockets });
    // Either start() fails or onclose reports the error, never both (as in
    // the reference test): the Close can arrive before or after the handshake
    // response has been processed.
    const closedWith = new Promise((resolve) => connection.onclose(resolve));
    const error = await within(
      connection.start().then(() => closedWith, (startError) => startError),
      10_000,
      "the close",
    );
    assert.match(
      String(error?.message),
      /^Server returned an error on close: Connection closed with an error\. ServiceNotFoundError: /,
    );
  });
});

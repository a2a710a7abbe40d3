// Starts and stops the Python interop server, and builds official-client
// connections to it. Every test file starts its own server on a free port so
// files never share state; the reconnect test restarts it on the same port.

import { spawn } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { fileURLToPath } from "node:url";

import * as signalR from "@microsoft/signalr";
import { MessagePackHubProtocol } from "@microsoft/signalr-protocol-msgpack";

export { signalR };

const interopDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const repoRoot = path.resolve(interopDir, "..");
const PYTHON = process.env.PYTHON ?? "python3";
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 8_000;

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/**
 * The Python server process: `signalr-server run server.app:app` by default,
 * or another CLI command (`command: "testapp"` or `"demo"`) that needs no app argument.
 * `readyPath` is the GET route polled until it answers 2xx.
 */
export class PythonServer {
  constructor(port, { app = "server.app:app", args = [], command = "run", readyPath = "/health" } = {}) {
    this.port = port;
    this.app = app;
    // INTEROP_SERVER runs the whole suite on another ASGI server (e.g. "native");
    // a test that names its server keeps it.
    const chosen = process.env.INTEROP_SERVER;
    this.args = chosen && !args.includes("--server") ? ["--server", chosen, ...args] : args;
    this.command = command;
    this.readyPath = readyPath;
    this.process = null;
    this.output = "";
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Spawns the server and resolves once `readyPath` answers. */
  async start() {
    if (this.process) throw new Error("server already running");
    const child = spawn(
      PYTHON,
      ["-m", "signalr_server.app.cli", ...(this.command === "run" ? ["run", this.app] : [this.command]),
        "--port", String(this.port),
        "--log-level", process.env.SERVER_LOG_LEVEL ?? "warning", ...this.args],
      {
        cwd: interopDir,
        env: {
          ...process.env,
          PYTHONPATH: [repoRoot, process.env.PYTHONPATH].filter(Boolean).join(path.delimiter),
          PYTHONUNBUFFERED: "1",
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    this.process = child;
    const collect = (chunk) => {
      this.output = (this.output + chunk.toString()).slice(-20_000);
      if (process.env.SERVER_OUTPUT) process.stderr.write(chunk);
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    child.exited = new Promise((resolve) => child.once("exit", (code, sig) => resolve({ code, sig })));

    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        this.process = null;
        throw new Error(`server exited during start-up:\n${this.output}`);
      }
      try {
        const response = await fetch(`${this.url}${this.readyPath}`);
        if (response.ok) return this;
      } catch {
        // not listening yet
      }
      await delay(100);
    }
    await this.kill();
    throw new Error(`server did not answer ${this.readyPath} within ${START_TIMEOUT_MS} ms:\n${this.output}`);
  }

  /** Graceful stop (SIGTERM), escalating to SIGKILL if it hangs. */
  async stop() {
    await this.#end("SIGTERM");
  }

  /** Simulates a crash: the process dies without closing anything. */
  async kill() {
    await this.#end("SIGKILL");
  }

  async #end(signal) {
    const child = this.process;
    if (!child) return;
    this.process = null;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await child.exited;
      clearTimeout(timer);
    }
  }

  /** POSTs JSON to a route of the app and returns `{status, body}`. */
  async post(route, payload) {
    const response = await fetch(`${this.url}${route}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    return { status: response.status, body: await response.json() };
  }
}

export async function startServer(options = {}) {
  const server = new PythonServer(options.port ?? (await freePort()), options);
  await server.start();
  return server;
}

/** Starts `signalr-server testapp` (the reference functional-test app). */
export async function startTestApp(options = {}) {
  return startServer({ command: "testapp", readyPath: "/deployment", ...options });
}

export const PROTOCOL_NAMES = ["json", "messagepack"];

export function createProtocol(name) {
  if (name === "json") return new signalR.JsonHubProtocol();
  if (name === "messagepack") return new MessagePackHubProtocol();
  throw new Error(`unknown protocol ${name}`);
}

/**
 * Wraps a hub protocol to remember every message the client parsed, so a
 * test can check what the server sent (for example: no Completion).
 */
export function recordingProtocol(inner) {
  const received = [];
  return {
    received,
    name: inner.name,
    version: inner.version,
    transferFormat: inner.transferFormat,
    writeMessage: (message) => inner.writeMessage(message),
    parseMessages(input, logger) {
      const messages = inner.parseMessages(input, logger);
      received.push(...messages);
      return messages;
    },
  };
}

/**
 * Builds (not starts) a connection to `${server.url}${hubPath}`. Options:
 * protocol ("json" | "messagepack" or a protocol object), transport
 * (default WebSockets; `null` lets the client choose from negotiate),
 * skipNegotiation, user (the `user` query parameter), serverTimeoutMs,
 * reconnectDelays, and httpOptions (merged into the client's `withUrl`
 * options: headers, accessTokenFactory, httpClient, ...).
 */
export function buildConnection(baseUrl, hubPath, options = {}) {
  const {
    protocol = "json",
    skipNegotiation = false,
    user,
    serverTimeoutMs,
    reconnectDelays,
    transport = signalR.HttpTransportType.WebSockets,
    httpOptions = {},
  } = options;
  const url = new URL(hubPath, baseUrl);
  if (user !== undefined) url.searchParams.set("user", user);
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(url.toString(), {
      ...(transport === null ? {} : { transport }),
      skipNegotiation,
      ...httpOptions,
    })
    .withHubProtocol(typeof protocol === "string" ? createProtocol(protocol) : protocol)
    .configureLogging(process.env.CLIENT_LOG_LEVEL ? Number(process.env.CLIENT_LOG_LEVEL) : signalR.LogLevel.None);
  if (reconnectDelays) builder = builder.withAutomaticReconnect(reconnectDelays);
  if (serverTimeoutMs !== undefined) builder = builder.withServerTimeout(serverTimeoutMs);
  return builder.build();
}

export async function connect(baseUrl, hubPath, options = {}) {
  const connection = buildConnection(baseUrl, hubPath, options);
  await connection.start();
  return connection;
}

/** Stops every connection; used in `after`/`finally` so tests never leak sockets. */
export async function stopAll(connections) {
  await Promise.allSettled(connections.filter(Boolean).map((c) => c.stop()));
}

/** Records every call of the given client methods on one connection. */
export class Inbox {
  constructor(connection, methods) {
    this.calls = [];
    this.waiters = [];
    for (const method of methods) {
      connection.on(method, (...args) => {
        this.calls.push({ method, args });
        this.waiters = this.waiters.filter((waiter) => !waiter());
      });
    }
  }

  /** Resolves with the calls once `count` have arrived (rejects after `timeoutMs`). */
  waitFor(count, timeoutMs = 5_000) {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.calls.length < count) return false;
        clearTimeout(timer);
        resolve(this.calls.slice());
        return true;
      };
      const timer = setTimeout(
        () => reject(new Error(`expected ${count} calls, got ${JSON.stringify(this.calls)}`)),
        timeoutMs,
      );
      if (!check()) this.waiters.push(check);
    });
  }

  take() {
    const calls = this.calls;
    this.calls = [];
    return calls;
  }
}

/** Resolves with the arguments of the next call of `method` on `connection`. */
export function nextCall(connection, method, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const handler = (...args) => {
      clearTimeout(timer);
      connection.off(method, handler);
      resolve(args);
    };
    const timer = setTimeout(() => {
      connection.off(method, handler);
      reject(new Error(`no '${method}' call within ${timeoutMs} ms`));
    }, timeoutMs);
    connection.on(method, handler);
  });
}

/** Resolves with the error passed to `onclose` (rejects after `timeoutMs`). */
export function closed(connection, timeoutMs = 5_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`connection not closed within ${timeoutMs} ms`)), timeoutMs);
    connection.onclose((error) => {
      clearTimeout(timer);
      resolve(error);
    });
  });
}

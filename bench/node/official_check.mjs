// Correctness check of the benchmark hub with the official @microsoft/signalr
// client (not used for load): for JSON and MessagePack, Echo round-trips,
// Broadcast reaches the other connection, SendToGroup reaches a group member.
// Usage: node bench/node/official_check.mjs http://127.0.0.1:PORT/bench
// Prints one JSON line {"ok": true|false, "checks": [...]} and exits 0/1.
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "interop", "package.json"));
const signalR = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

const url = process.argv[2];
const checks = [];

function build(protocol) {
  let builder = new signalR.HubConnectionBuilder()
    .withUrl(url, { transport: signalR.HttpTransportType.WebSockets })
    .configureLogging(signalR.LogLevel.None);
  if (protocol === "messagepack") builder = builder.withHubProtocol(new MessagePackHubProtocol());
  return builder.build();
}

function nextReceive(connection) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no Receive within 5 s")), 5000);
    connection.on("Receive", (value) => { clearTimeout(timer); connection.off("Receive"); resolve(value); });
  });
}

async function check(protocol) {
  const a = build(protocol);
  const b = build(protocol);
  await a.start();
  await b.start();
  try {
    const echoed = await a.invoke("Echo", "ECHO-check");
    checks.push({ protocol, check: "echo", ok: echoed === "ECHO-check" });
    const got = nextReceive(b);
    await a.invoke("Broadcast", "BCAST-check");
    checks.push({ protocol, check: "broadcast", ok: (await got) === "BCAST-check" });
    await b.invoke("JoinGroup", "g-check");
    const inGroup = nextReceive(b);
    await a.invoke("SendToGroup", "g-check", "BCAST-group");
    checks.push({ protocol, check: "group", ok: (await inGroup) === "BCAST-group" });
  } finally {
    await a.stop();
    await b.stop();
  }
}

try {
  await check("json");
  await check("messagepack");
} catch (error) {
  checks.push({ check: "error", ok: false, error: String(error) });
}
const ok = checks.length > 0 && checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, checks }));
process.exit(ok ? 0 : 1);

// Cross-check our golden protocol fixtures against the unmodified official
// JS protocols, in both directions:
//   1. the JS parsers read every fixture that a server could send and that JS
//      can represent, and get the message the fixture describes;
//   2. the bytes the JS protocols write for the messages a client sends decode
//      with OUR codec (via `python3 -m tests.protocol.decode_cli`) to the
//      message the JS side meant.
// Run with `npm test` (or `node --test tests/`) from interop/.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

import { comparable, neutralMessage } from "./lib/neutral.mjs";

const require = createRequire(import.meta.url);
const { JsonHubProtocol, NullLogger } = require("@microsoft/signalr");
const { MessagePackHubProtocol } = require("@microsoft/signalr-protocol-msgpack");

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, "..", "..");
const fixtureDir = join(repoRoot, "protocol_fixtures");

function loadVectors(file) {
  return JSON.parse(readFileSync(join(fixtureDir, file), "utf8")).vectors;
}

function expectedMessages(vector) {
  if (vector.messages) return vector.messages;
  return vector.message === null ? [] : [vector.message];
}

function parseWithJs(vector) {
  const bytes = Buffer.from(vector.bytes, "hex");
  if (vector.protocol === "json") {
    return new JsonHubProtocol().parseMessages(bytes.toString("utf8"), NullLogger.instance);
  }
  const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return new MessagePackHubProtocol().parseMessages(view.slice().buffer, NullLogger.instance);
}

// ---------------------------------------------------------------------------
// 1. JS reads our fixtures
// ---------------------------------------------------------------------------

for (const file of ["json.json", "messagepack.json"]) {
  const vectors = loadVectors(file).filter((v) => v.kind !== "invalid");
  const checked = vectors.filter((v) => !v.js);
  const skipped = vectors.filter((v) => v.js);

  test(`${file}: every skipped vector says why`, () => {
    for (const v of skipped) assert.match(v.js, /^skip: .{8,}/, v.name);
    assert.ok(checked.length > 30, `only ${checked.length} vectors checked in ${file}`);
  });

  for (const vector of checked) {
    test(`JS parses ${vector.protocol}:${vector.name}`, () => {
      const parsed = parseWithJs(vector).map(neutralMessage);
      assert.deepStrictEqual(comparable(parsed), comparable(expectedMessages(vector)));
    });
  }
}

// ---------------------------------------------------------------------------
// 2. We read what JS writes
// ---------------------------------------------------------------------------

const date = new Date(Date.UTC(2018, 0, 1, 11, 24, 0));
const dateWithMillis = new Date(Date.UTC(2020, 1, 29, 12, 34, 56, 789));

// `message` is what JS writes; `expected` is the neutral message we must decode.
// `msgpack` overrides `expected` where the JS msgpack writer legitimately differs.
const written = [
  {
    name: "invocation",
    message: { type: 1, invocationId: "1", target: "Send", arguments: [42, "x", true, null, { a: [1.5] }], streamIds: [] },
    expected: { type: "Invocation", invocationId: "1", target: "Send", arguments: [42, "x", true, null, { a: [1.5] }], streamIds: null, headers: null },
  },
  {
    name: "invocation-non-blocking",
    message: { type: 1, target: "Fire", arguments: [1] },
    expected: { type: "Invocation", invocationId: null, target: "Fire", arguments: [1], streamIds: null, headers: null },
  },
  {
    name: "invocation-with-stream-ids",
    message: { type: 1, invocationId: "2", target: "Upload", arguments: ["a"], streamIds: ["0", "1"] },
    expected: { type: "Invocation", invocationId: "2", target: "Upload", arguments: ["a"], streamIds: ["0", "1"], headers: null },
  },
  {
    name: "invocation-with-headers-and-unicode",
    message: { type: 1, invocationId: "3", target: "Chat", arguments: ["h\u00e9llo \u4e16\u754c \u{1F600}"], headers: { k: "v" } },
    expected: { type: "Invocation", invocationId: "3", target: "Chat", arguments: ["h\u00e9llo \u4e16\u754c \u{1F600}"], streamIds: null, headers: { k: "v" } },
  },
  {
    name: "stream-invocation",
    message: { type: 4, invocationId: "4", target: "Counter", arguments: [10, 5], streamIds: [] },
    expected: { type: "StreamInvocation", invocationId: "4", target: "Counter", arguments: [10, 5], streamIds: null, headers: null },
  },
  {
    name: "stream-invocation-with-stream-ids",
    message: { type: 4, invocationId: "5", target: "Echo", arguments: [], streamIds: ["6"] },
    expected: { type: "StreamInvocation", invocationId: "5", target: "Echo", arguments: [], streamIds: ["6"], headers: null },
  },
  {
    name: "stream-item",
    message: { type: 2, invocationId: "0", item: "chunk" },
    expected: { type: "StreamItem", invocationId: "0", item: "chunk", headers: null },
  },
  {
    name: "completion-result",
    message: { type: 3, invocationId: "s1", result: { x: 1, y: [true, null] } },
    expected: { type: "Completion", invocationId: "s1", error: null, result: { x: 1, y: [true, null] }, hasResult: true, headers: null },
  },
  {
    name: "completion-null-result",
    message: { type: 3, invocationId: "s2", result: null },
    expected: { type: "Completion", invocationId: "s2", error: null, result: null, hasResult: true, headers: null },
  },
  {
    name: "completion-false-result",
    message: { type: 3, invocationId: "s3", result: false },
    expected: { type: "Completion", invocationId: "s3", error: null, result: false, hasResult: true, headers: null },
  },
  {
    name: "completion-error",
    message: { type: 3, invocationId: "s4", error: "Client didn't provide a result." },
    expected: { type: "Completion", invocationId: "s4", error: "Client didn't provide a result.", result: null, hasResult: false, headers: null },
  },
  {
    name: "completion-void",
    message: { type: 3, invocationId: "0" },
    expected: { type: "Completion", invocationId: "0", error: null, result: null, hasResult: false, headers: null },
  },
  {
    name: "cancel-invocation",
    message: { type: 5, invocationId: "4" },
    expected: { type: "CancelInvocation", invocationId: "4", headers: null },
  },
  { name: "ping", message: { type: 6 }, expected: { type: "Ping" } },
  { name: "close", message: { type: 7 }, expected: { type: "Close", error: null, allowReconnect: false } },
  {
    name: "close-with-error",
    message: { type: 7, error: "bye" },
    expected: { type: "Close", error: "bye", allowReconnect: false },
    // The JS msgpack writer always writes [7, nil], whatever the message says.
    msgpack: { type: "Close", error: null, allowReconnect: false },
  },
  { name: "ack", message: { type: 8, sequenceId: 5 }, expected: { type: "Ack", sequenceId: 5 } },
  { name: "sequence", message: { type: 9, sequenceId: 6 }, expected: { type: "Sequence", sequenceId: 6 } },
  {
    name: "msgpack-only-date-and-bytes",
    only: "messagepack",
    message: { type: 1, invocationId: "7", target: "Store", arguments: [date, dateWithMillis, new Uint8Array([1, 2, 3]), 0.005] },
    expected: {
      type: "Invocation",
      invocationId: "7",
      target: "Store",
      arguments: [{ $datetime: "2018-01-01T11:24:00.000Z" }, { $datetime: "2020-02-29T12:34:56.789Z" }, { $bytes: "AQID" }, 0.005],
      streamIds: null,
      headers: null,
    },
  },
];

function writeWithJs(protocolName, message) {
  if (protocolName === "json") {
    return Buffer.from(new JsonHubProtocol().writeMessage(message), "utf8");
  }
  return Buffer.from(new Uint8Array(new MessagePackHubProtocol().writeMessage(message)));
}

test("our codec decodes what the official JS protocols write", () => {
  const items = [];
  const expected = new Map();
  for (const protocol of ["json", "messagepack"]) {
    for (const entry of written) {
      if (entry.only && entry.only !== protocol) continue;
      const name = `${protocol}:${entry.name}`;
      items.push({ name, protocol, bytes: writeWithJs(protocol, entry.message).toString("hex") });
      expected.set(name, (protocol === "messagepack" && entry.msgpack) || entry.expected);
    }
  }
  // All messages of one protocol, concatenated, must also decode in order.
  for (const protocol of ["json", "messagepack"]) {
    const mine = items.filter((i) => i.protocol === protocol);
    items.push({ name: `${protocol}:all-in-one-buffer`, protocol, bytes: mine.map((i) => i.bytes).join("") });
    expected.set(`${protocol}:all-in-one-buffer`, mine.map((i) => expected.get(i.name)));
  }

  const workDir = mkdtempSync(join(tmpdir(), "signalr-fixtures-"));
  try {
    const file = join(workDir, "items.json");
    writeFileSync(file, JSON.stringify({ items }));
    const run = spawnSync("python3", ["-m", "tests.protocol.decode_cli", file], {
      cwd: repoRoot,
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, `decode_cli failed: ${run.stderr}`);
    const { results } = JSON.parse(run.stdout);
    assert.equal(results.length, items.length);
    for (const result of results) {
      assert.equal(result.error, undefined, `${result.name}: ${result.error}`);
      const want = expected.get(result.name);
      const got = result.name.endsWith("all-in-one-buffer") ? result.messages : result.messages[0];
      if (!result.name.endsWith("all-in-one-buffer")) assert.equal(result.messages.length, 1, result.name);
      assert.deepStrictEqual(comparable(got), comparable(want), result.name);
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
});

// Translate between the official JS clients' message objects and the neutral
// message form of protocol_fixtures/ (described in protocol_fixtures/README.md).
//
// JS cannot tell 42 from 42.0, keeps dates at millisecond precision and never
// reads streamIds over MessagePack, so both sides of every comparison are put
// through `comparable`, which folds those differences away explicitly.

const TYPE_NAMES = {
  1: "Invocation",
  2: "StreamItem",
  3: "Completion",
  4: "StreamInvocation",
  5: "CancelInvocation",
  6: "Ping",
  7: "Close",
  8: "Ack",
  9: "Sequence",
};

function headersOf(message) {
  const headers = message.headers;
  return headers && Object.keys(headers).length > 0 ? { ...headers } : null;
}

function streamIdsOf(message) {
  return Array.isArray(message.streamIds) && message.streamIds.length > 0 ? [...message.streamIds] : null;
}

/** A value as the JS protocols decoded it, in tagged neutral form. */
export function neutralValue(value) {
  if (value === null || value === undefined) return null;
  if (typeof value === "number") {
    if (Number.isNaN(value)) return { $float: "NaN" };
    if (value === Infinity) return { $float: "Infinity" };
    if (value === -Infinity) return { $float: "-Infinity" };
    return value;
  }
  if (typeof value === "bigint") return { $int: value.toString() };
  if (value instanceof Date) return { $datetime: value.toISOString() };
  if (value instanceof Uint8Array) return { $bytes: Buffer.from(value).toString("base64") };
  if (Array.isArray(value)) return value.map(neutralValue);
  if (typeof value === "object") {
    const out = {};
    for (const [key, item] of Object.entries(value)) out[key] = neutralValue(item);
    return out;
  }
  return value;
}

/** A message object returned by a JS `parseMessages`, in neutral form. */
export function neutralMessage(message) {
  const type = TYPE_NAMES[message.type] ?? `Unknown(${message.type})`;
  switch (type) {
    case "Invocation":
    case "StreamInvocation":
      return {
        type,
        invocationId: message.invocationId ? message.invocationId : null,
        target: message.target,
        arguments: neutralValue(message.arguments),
        streamIds: streamIdsOf(message),
        headers: headersOf(message),
      };
    case "StreamItem":
      return { type, invocationId: message.invocationId, item: neutralValue(message.item), headers: headersOf(message) };
    case "Completion":
      return {
        type,
        invocationId: message.invocationId,
        error: message.error ?? null,
        result: message.result === undefined ? null : neutralValue(message.result),
        hasResult: message.result !== undefined,
        headers: headersOf(message),
      };
    case "CancelInvocation":
      return { type, invocationId: message.invocationId, headers: headersOf(message) };
    case "Ping":
      return { type };
    case "Close":
      return { type, error: message.error ?? null, allowReconnect: Boolean(message.allowReconnect) };
    case "Ack":
    case "Sequence":
      return { type, sequenceId: message.sequenceId };
    default:
      return { type };
  }
}

function truncateToMillis(text) {
  // "2017-04-11T00:00:00.123456Z" -> Date -> "2017-04-11T00:00:00.123Z"
  const match = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(text);
  if (!match) return text;
  const fraction = (match[2] ?? "").padEnd(3, "0").slice(0, 3);
  return new Date(`${match[1]}.${fraction}Z`).toISOString();
}

/** Fold away differences JS cannot observe, so deepStrictEqual is meaningful. */
export function comparable(value, { ignoreStreamIds = false } = {}) {
  if (Array.isArray(value)) return value.map((v) => comparable(v, { ignoreStreamIds }));
  if (value && typeof value === "object") {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$datetime") return { $datetime: truncateToMillis(value.$datetime) };
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      if (ignoreStreamIds && key === "streamIds") continue;
      out[key] = comparable(item, { ignoreStreamIds });
    }
    return out;
  }
  return value;
}

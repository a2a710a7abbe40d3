// Every transport × protocol pair the official JS client supports: MessagePack
// is binary, so it never runs over Server-Sent Events.

export const TRANSPORT_MATRIX = [
  ["WebSockets", "json"],
  ["WebSockets", "messagepack"],
  ["ServerSentEvents", "json"],
  ["LongPolling", "json"],
  ["LongPolling", "messagepack"],
];

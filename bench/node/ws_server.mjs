// Native reference: a Node `ws` server with the raw app's commands
// (E echo, B broadcast to the others, J join group, G<group>|payload to group).
// Usage: node bench/node/ws_server.mjs PORT
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "interop", "package.json"));
const ws = require("ws");
const WebSocketServer = ws.WebSocketServer ?? ws.Server; // ws 7 has only .Server

const port = Number(process.argv[2]);
const wss = new WebSocketServer({ host: "127.0.0.1", port, perMessageDeflate: false });
const groups = new Map();

wss.on("connection", (socket) => {
  const joined = [];
  socket.on("message", (data) => {
    const text = data.toString();
    const command = text[0];
    if (command === "E") {
      socket.send(text.slice(1));
    } else if (command === "B") {
      const payload = text.slice(1);
      for (const client of wss.clients) if (client !== socket) client.send(payload);
    } else if (command === "J") {
      const name = text.slice(1);
      if (!groups.has(name)) groups.set(name, new Set());
      groups.get(name).add(socket);
      joined.push(name);
    } else if (command === "G") {
      const bar = text.indexOf("|");
      const members = groups.get(text.slice(1, bar));
      const payload = text.slice(bar + 1);
      if (members) for (const member of members) member.send(payload);
    }
  });
  socket.on("close", () => { for (const name of joined) groups.get(name)?.delete(socket); });
});
wss.on("listening", () => console.error(`ws server on ${port}`));
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => { wss.close(); process.exit(0); });

// The demo chat in a real browser: headless Chromium loads the demo page,
// which uses the npm browser bundle of @microsoft/signalr, and two users (two browser windows) chat
// over each transport. Assertions read what the page renders.

import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";

import { ChatPage, TRANSPORTS, launchChromium, startDemoServer } from "./lib/harness.mjs";

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

let server;
let browser;
let shotDir;

before(async () => {
  shotDir = await mkdtemp(path.join(os.tmpdir(), "signalr-browser-"));
  server = await startDemoServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close().catch(() => {});
  await server?.stop();
  if (shotDir && !process.env.KEEP_SCREENSHOTS) await rm(shotDir, { recursive: true, force: true });
});

for (const transport of TRANSPORTS) {
  describe(`chat over ${transport}`, () => {
    let alice;
    let bob;

    before(async () => {
      alice = await ChatPage.open(browser, server.url, transport);
      bob = await ChatPage.open(browser, server.url, transport);
      await alice.setName("Alice");
      await bob.setName("Bob");
    });

    after(async () => {
      const errors = [...(alice?.errors ?? []), ...(bob?.errors ?? [])];
      await Promise.all([alice?.close(), bob?.close()]);
      assert.deepEqual(errors, [], "uncaught errors in the pages");
    });

    test("both windows show they are connected on the requested transport", async () => {
      assert.equal(await alice.waitConnected(), transport);
      assert.equal(await bob.waitConnected(), transport);
    });

    test("a message sent from one window appears in both", async () => {
      const text = `hello over ${transport}`;
      await alice.send(text);
      for (const tab of [bob, alice]) {
        assert.equal(await tab.waitForEntry(text), `Alice${text}`);
        assert.equal(await tab.authorOf(text), "Alice");
      }
      const reply = `hi Alice, ${transport} works`;
      await bob.send(reply);
      assert.equal(await alice.waitForEntry(reply), `Bob${reply}`);
    });

    test("room messages reach members only", async () => {
      const room = `room-${transport}`;
      const joined = "joined the room";
      await alice.joinRoom(room);
      await alice.waitForCount(joined, 1);
      await bob.joinRoom(room);
      await bob.waitForCount(joined, 1);
      await alice.waitForCount(joined, 2);

      const first = `first in ${room}`;
      await alice.sendToRoom(room, first);
      await bob.waitForEntry(first);
      await alice.waitForEntry(first);

      await bob.leaveRoom(room);
      await alice.waitForEntry("left the room");

      const second = `second in ${room}, Bob gone`;
      await alice.sendToRoom(room, second);
      await alice.waitForEntry(second);
      // A broadcast sent after the room message travels the same connection to
      // Bob, so once it shows, the room message would have shown before it.
      const marker = `after ${room}`;
      await alice.send(marker);
      await bob.waitForEntry(marker);
      assert.equal(await bob.countEntries(second), 0, "Bob saw a room message after leaving");
      assert.equal(await bob.countEntries(first), 1);
    });

    if (transport === "WebSockets") {
      test("the page renders as a PNG screenshot", async () => {
        const file = path.join(shotDir, "chat.png");
        await alice.page.screenshot({ path: file, fullPage: true });
        const png = await readFile(file);
        assert.ok(png.length > 1_000, `screenshot is only ${png.length} bytes`);
        assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE);
        // IHDR: width and height are the first fields after the signature and chunk header.
        assert.ok(png.readUInt32BE(16) > 0 && png.readUInt32BE(20) > 0);
      });
    }
  });
}

describe("transport selection", () => {
  const opened = [];
  const open = async (transport) => {
    const tab = await ChatPage.open(browser, server.url, transport);
    opened.push(tab);
    return tab;
  };
  after(async () => {
    await Promise.all(opened.map((tab) => tab.close()));
  });

  test("without ?transport the client negotiates and shows what it picked", async () => {
    const tab = await open();
    assert.equal(await tab.waitConnected(), "WebSockets");
    assert.deepEqual(tab.errors, []);
  });

  test("an unknown ?transport is reported instead of connecting", async () => {
    const tab = await open("Carrier-Pigeon");
    await tab.page.waitForFunction(
      () => document.getElementById("status").innerText.startsWith("unknown transport"),
    );
    const { status, transport } = await tab.statusLine();
    assert.equal(
      status,
      "unknown transport 'Carrier-Pigeon' (use WebSockets, ServerSentEvents, LongPolling)",
    );
    assert.equal(transport, "none");
    assert.equal(await tab.page.locator("#send").isDisabled(), true);
  });
});

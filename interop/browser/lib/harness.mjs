// Starts the demo app (`signalr-server demo`) and the system's headless
// Chromium, and wraps a chat page in the few actions a user takes. Everything
// the tests assert is read back from the page's DOM, i.e. what a user sees.

import { existsSync } from "node:fs";

import { chromium } from "playwright-core";

import { startServer } from "../../tests/lib/server.mjs";

/** Debian's package puts the launcher here; CHROMIUM_PATH overrides it. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Flags that keep Chromium quiet and local: no GPU, no background traffic to
 * Google services (the network is closed anyway), no proxy for 127.0.0.1.
 * `--no-sandbox` because CI runs as root, where the sandbox refuses to start.
 */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-proxy-server",
];

/** The transports a page can be pinned to with `?transport=`. */
export const TRANSPORTS = ["WebSockets", "ServerSentEvents", "LongPolling"];

/**
 * `signalr-server demo` on a free 127.0.0.1 port, started and stopped like
 * the interop servers; resolves once `GET /` (the chat page) answers.
 */
export async function startDemoServer() {
  return startServer({ command: "demo", readyPath: "/" });
}

/** Launches the system Chromium headless; fails loudly if it is not installed. */
export async function launchChromium() {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATH}: install it (apt-get install chromium) or set CHROMIUM_PATH`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}

/** How long one page action or wait may take before the test fails. */
export const ACTION_TIMEOUT_MS = 10_000;

/**
 * One user's browser window showing the demo chat. Actions go through the
 * visible controls (type, click); checks read the rendered text.
 *
 * Each user gets a browser context of their own (own window, own storage):
 * that is what two people chatting look like, and it keeps every page in the
 * foreground. Two tabs of one window would leave one in the background, where
 * Chromium throttles animation frames to one a second and slows every wait.
 */
export class ChatPage {
  constructor(context, page) {
    this.context = context;
    this.page = page;
    /** Uncaught exceptions in the page: a test fails if any appear. */
    this.errors = [];
    page.on("pageerror", (error) => this.errors.push(error));
  }

  /** Opens the chat, pinned to `transport` when given (`?transport=`). */
  static async open(browser, baseUrl, transport) {
    const context = await browser.newContext({ viewport: { width: 900, height: 700 } });
    context.setDefaultTimeout(ACTION_TIMEOUT_MS);
    try {
      const chat = new ChatPage(context, await context.newPage());
      const query = transport ? `?transport=${encodeURIComponent(transport)}` : "";
      await chat.page.goto(`${baseUrl}/${query}`);
      return chat;
    } catch (error) {
      await context.close().catch(() => {});
      throw error;
    }
  }

  /** Closes the window (and with it the page's SignalR connection). */
  async close() {
    await this.context.close().catch(() => {});
  }

  /** The status line as shown: `{ status, transport }`. */
  async statusLine() {
    return {
      status: await this.page.locator("#status").innerText(),
      transport: await this.page.locator("#transport").innerText(),
    };
  }

  /** Waits until the page says it is connected, and returns the transport it shows. */
  async waitConnected() {
    await this.page.waitForFunction(
      () => document.getElementById("status").innerText === "connected",
    );
    return (await this.statusLine()).transport;
  }

  /** Types into a field and clicks a button, then waits for the page to clear the field. */
  async #submit(field, value, button) {
    const input = this.page.locator(field);
    await input.fill(value);
    await this.page.locator(button).click();
    // The page empties the field once the server acknowledged the invocation,
    // so the next action cannot race the previous one.
    await this.page.waitForFunction((selector) => document.querySelector(selector).value === "", field);
  }

  async setName(name) {
    await this.page.locator("#name").fill(name);
  }

  async send(message) {
    await this.#submit("#message", message, "#send");
  }

  async joinRoom(room) {
    await this.page.locator("#room").fill(room);
    await this.page.locator("#join").click();
  }

  async leaveRoom(room) {
    await this.page.locator("#room").fill(room);
    await this.page.locator("#leave").click();
  }

  async sendToRoom(room, message) {
    await this.page.locator("#room").fill(room);
    await this.#submit("#roomMessage", message, "#sendRoom");
  }

  /** The chat entry whose text contains `text` (a Playwright locator). */
  entry(text) {
    return this.page.locator("#messages li", { hasText: text });
  }

  /** Waits until an entry containing `text` is visible and returns its rendered text. */
  async waitForEntry(text) {
    const item = this.entry(text).last();
    await item.waitFor({ state: "visible" });
    return item.innerText();
  }

  /** How many entries containing `text` the page shows right now. */
  async countEntries(text) {
    return this.entry(text).count();
  }

  /** Waits until at least `count` entries containing `text` are shown. */
  async waitForCount(text, count) {
    await this.page.waitForFunction(
      ([needle, wanted]) => [...document.querySelectorAll("#messages li")]
        .filter((li) => li.innerText.includes(needle)).length >= wanted,
      [text, count],
    );
  }

  /** The author shown on the entry containing `text`. */
  async authorOf(text) {
    return this.entry(text).last().locator(".who").innerText();
  }
}

// Shared by the browser tests: Debian's Chromium through puppeteer-core,
// headless, a fresh profile each run, WebRTC left to the network namespace
// the tests run in (scripts/netns-run), host candidates not hidden behind
// mDNS names (our gateway resolves no .local names).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer from "puppeteer-core";

export const CHROMIUM = process.env.DRTC_CHROMIUM || "/usr/bin/chromium";

/** The one scale of every test wait (tests/interop/timescale.py): DRTC_TEST_TIME_SCALE, >= 1. */
export const TIME_SCALE = Math.max(Number(process.env.DRTC_TEST_TIME_SCALE) || 1, 1);
const scaled = (ms) => Math.ceil(ms * TIME_SCALE);

/** @param {string[]} [extra] more Chromium flags */
export async function launch(extra = []) {
  const profile = mkdtempSync(join(tmpdir(), "drtc-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: scaled(30000),
    protocolTimeout: scaled(180000),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
      "--disable-features=WebRtcHideLocalIpsWithMdns",
      "--autoplay-policy=no-user-gesture-required",
      ...extra,
    ],
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    await close();
    rmSync(profile, { recursive: true, force: true });
  };
  return browser;
}

/** A page whose console and errors go to our stderr. */
export async function newPage(browser) {
  const page = await browser.newPage();
  page.on("console", (m) => {
    // an answer of 4xx/5xx is part of what the tests exercise, not news
    if (!m.text().startsWith("Failed to load resource")) process.stderr.write(`[page ${m.type()}] ${m.text()}\n`);
  });
  page.on("pageerror", (e) => process.stderr.write(`[page error] ${e.message}\n`));
  return page;
}

/** Polls fn in the page until it returns a truthy value; throws after timeoutMs. */
export async function waitFor(page, what, fn, arg, timeoutMs = 30000) {
  try {
    const options = { timeout: scaled(timeoutMs), polling: 200 };
    return await (await page.waitForFunction(fn, options, arg)).jsonValue();
  } catch (err) {
    throw new Error(`timed out waiting for ${what}: ${err.message}`);
  }
}

/**
 * Mean [r, g, b] of the centre half of an element's picture (video or img),
 * drawn onto a canvas in the page.
 */
export function centreRgb(page, selector) {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    if (!el) return null;
    const w = el.videoWidth || el.naturalWidth;
    const h = el.videoHeight || el.naturalHeight;
    if (!w || !h) return null;
    const c = document.createElement("canvas");
    c.width = w;
    c.height = h;
    const ctx = c.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(el, 0, 0, w, h);
    const d = ctx.getImageData(w / 4, h / 4, w / 2, h / 2).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k] += d[i + k];
    return sum.map((v) => Math.round(v / (d.length / 4)));
  }, selector);
}

export const close = (a, b, tol = 45) => a && a.every((v, i) => Math.abs(v - b[i]) <= tol);

/** Waits until the element's centre shows rgb (within tol); returns the colour seen. */
export async function waitColour(page, selector, rgb, what, timeoutMs = 30000) {
  const deadline = Date.now() + scaled(timeoutMs);
  let seen = null;
  while (Date.now() < deadline) {
    seen = await centreRgb(page, selector);
    if (close(seen, rgb)) return seen;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what}: wanted ${JSON.stringify(rgb)}, last saw ${JSON.stringify(seen)}`);
}

/** Runs main(args) with the JSON in DRTC_ARGS; prints RESULT <json>, exits 1 on failure. */
export function run(main) {
  const args = JSON.parse(process.env.DRTC_ARGS || "{}");
  main(args).then(
    (result) => {
      process.stdout.write(`RESULT ${JSON.stringify(result ?? {})}\n`);
      process.exit(0);
    },
    (err) => {
      process.stderr.write(`FAILED: ${err && err.stack ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

/**
 * WebRTC that cannot connect, as for a browser that cannot reach the
 * gateway: every peer connection may use relay candidates only, and has no
 * TURN server, so ICE finds no path (the signalling still works).
 */
export function blockWebRtc(page) {
  return page.evaluateOnNewDocument(() => {
    const Real = window.RTCPeerConnection;
    window.RTCPeerConnection = class extends Real {
      constructor(config = {}) {
        super({ ...config, iceServers: [], iceTransportPolicy: "relay" });
      }
    };
  });
}

// daydream-rtc ComfyUI extension: the one client of the pack's routes.
//
// Everything goes through ComfyUI's own server (api.fetchApi): the pack's
// /rtc/control and /rtc/credentials, and /rtc/api/<path>, which relays to
// `daydream-rtc serve` (python-nodes/relay.py). So it works from another
// machine and needs no cross-origin access to serve.
//
// /status is polled every second with a 1.5 s abort, as the original did;
// polling pauses while the browser tab is hidden. Listeners get every
// snapshot: {server, status, whep, viewer, error, badge}; `badge` is the
// one source of the badge's text (toolbar, sidebar and its icon).
import { badgeFor, errorMessage } from "./daydream-live-core.js";

/** An answer that was not 2xx, with the server's message. */
export class RtcError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/**
 * @typedef {{fetchApi(route: string, options?: RequestInit): Promise<Response>, apiURL(route: string): string}} FetchApi
 * @typedef {{server: any, status: any, whep: any, viewer: any, error: string | null, badge: string, at: number}} Snapshot
 */

export class RtcClient {
  /** @param {FetchApi} api */
  constructor(api) {
    this.api = api;
    /** @type {Set<(s: Snapshot) => void>} */
    this.listeners = new Set();
    /** @type {Snapshot} */
    this.snapshot = { server: null, status: null, whep: null, viewer: null, error: null, badge: "STOPPED", at: 0 };
    this.periodMs = 1000;
    this.abortMs = 1500;
    /** @type {ReturnType<typeof setTimeout> | null} */
    this.timer = null;
    this.polling = false;
    this.inFlight = false;
    this.onVisibility = () => (document.hidden ? this.pause() : this.resume());
  }

  /**
   * JSON from a pack route; throws RtcError with the server's message.
   * @param {string} route
   * @param {RequestInit & {json?: unknown, timeoutMs?: number}} [init]
   */
  async request(route, init = {}) {
    const { json, timeoutMs, ...rest } = init;
    const ctl = new AbortController();
    const timer = timeoutMs ? setTimeout(() => ctl.abort(), timeoutMs) : null;
    /** @type {RequestInit} */
    const options = { ...rest, signal: ctl.signal };
    if (json !== undefined) {
      options.body = JSON.stringify(json);
      options.headers = { "Content-Type": "application/json", ...(rest.headers || {}) };
    }
    try {
      const res = await this.api.fetchApi(route, options);
      const text = await res.text();
      let body = null;
      try {
        body = text ? JSON.parse(text) : null;
      } catch {
        body = { detail: text.slice(0, 300) };
      }
      if (!res.ok || (body && body.success === false)) throw new RtcError(res.status, errorMessage(res.status, body));
      return body;
    } catch (err) {
      if (err instanceof DOMException && err.name === "AbortError") throw new RtcError(0, `${route}: no answer within ${timeoutMs} ms`);
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
    }
  }

  /** serve's REST API, through the relay. @param {string} path @param {RequestInit & {json?: unknown, timeoutMs?: number}} [init] */
  serve(path, init) {
    return this.request(`/rtc/api${path}`, init);
  }

  /** @param {"status" | "start" | "stop" | "restart"} action @param {object} [extra] */
  async control(action, extra = {}) {
    const body = await this.request("/rtc/control", { method: "POST", json: { action, ...extra } });
    this.update({ server: body.status });
    return body;
  }

  credentials() {
    return this.request("/rtc/credentials");
  }

  /** @param {{api_url?: string, api_key?: string}} change */
  saveCredentials(change) {
    return this.request("/rtc/credentials", { method: "POST", json: change });
  }

  /** GET /config, trying /config/ and /runtime-config on a 404, as the original. */
  async getConfig() {
    for (const path of ["/config", "/config/", "/runtime-config"]) {
      try {
        return await this.serve(path);
      } catch (err) {
        if (!(err instanceof RtcError) || err.status !== 404) throw err;
      }
    }
    throw new RtcError(404, "the server has no /config route");
  }

  /** @param {{frame_rate: number, frame_width: number, frame_height: number}} cfg */
  setConfig(cfg) {
    return this.serve("/config", { method: "POST", json: cfg });
  }

  /** Starts the server first when it is not running, then the stream. @param {object} [settings] */
  async startStream(settings) {
    const server = this.snapshot.server || (await this.request("/rtc/control")).status;
    if (!server || !server.running) await this.control("start", settings ? { settings } : {});
    const status = await this.serve("/start", { method: "POST", json: {} });
    this.update({ status });
    return status;
  }

  async stopStream() {
    const status = await this.serve("/stop", { method: "POST", json: {} });
    this.update({ status });
    return status;
  }

  /** @param {(s: Snapshot) => void} fn */
  subscribe(fn) {
    this.listeners.add(fn);
    fn(this.snapshot);
    return () => this.listeners.delete(fn);
  }

  /** @param {Partial<Snapshot>} part */
  update(part) {
    const next = { ...this.snapshot, ...part, at: Date.now() };
    const st = next.status;
    next.badge = badgeFor(st, !!(next.server && next.server.running && st && st.running));
    this.snapshot = next;
    for (const fn of this.listeners) fn(this.snapshot);
  }

  /** One poll: the server's state, then (while it runs) serve's /status and WHEP status. */
  async poll() {
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      let server = this.snapshot.server;
      try {
        server = (await this.request("/rtc/control", { timeoutMs: this.abortMs })).status;
      } catch {
        // keep the last known state of the server
      }
      if (!server || !server.running) {
        this.update({ server, status: null, whep: null, error: null });
        return;
      }
      const [status, whep] = await Promise.allSettled([
        this.serve("/status", { timeoutMs: this.abortMs }),
        this.serve("/whep/status", { timeoutMs: this.abortMs }),
      ]);
      this.update({
        server,
        status: status.status === "fulfilled" ? status.value : this.snapshot.status,
        whep: whep.status === "fulfilled" ? whep.value : null,
        error: status.status === "rejected" ? String(status.reason && status.reason.message) : null,
      });
    } finally {
      this.inFlight = false;
    }
  }

  /** Polls every periodMs while the tab is visible. */
  start() {
    if (this.polling) return;
    this.polling = true;
    document.addEventListener("visibilitychange", this.onVisibility);
    if (!document.hidden) this.resume();
  }

  stop() {
    this.polling = false;
    document.removeEventListener("visibilitychange", this.onVisibility);
    this.pause();
  }

  pause() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  resume() {
    if (!this.polling || this.timer) return;
    const tick = async () => {
      await this.poll();
      if (this.timer) this.timer = setTimeout(tick, this.periodMs);
    };
    this.timer = setTimeout(tick, 0);
  }
}

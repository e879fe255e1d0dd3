// daydream-rtc ComfyUI extension: the pure parts (no DOM, no ComfyUI), so
// node's test runner can check them: the toolbar badge's mapping, the
// runtime-settings clamps, URLs. No side effects on import (ComfyUI imports
// every .js file of the pack as an extension).

export const SETTING_SERVER = "daydream_live.local_rtc_server";
export const SETTING_API_URL = "daydream_live.api_base_url";
export const SETTING_DASHBOARD = "daydream_live.api_dashboard_link";
export const SETTING_API_KEY = "daydream_live.api_key";
export const DEFAULT_SERVER = "http://127.0.0.1:8895";
export const DEFAULT_API_URL = "https://api.daydream.live";
export const DASHBOARD_URL = "https://app.daydream.live/dashboard/api-keys";

/**
 * The badge for a serve status (the original's mapping, §9.9 of the
 * reference): the local phase first, then the remote status.
 * @param {any} status serve's /status object, or null
 * @param {boolean} running whether the server runs at all
 * @returns {string}
 */
export function badgeFor(status, running) {
  const remote = (status && status.remote_status) || {};
  const phase = String(remote.phase || "");
  if (phase === "STREAM_CREATED") return "CREATING";
  if (phase === "WHIP_OFFER") return "STARTING";
  if (phase === "WHIP_ANSWER" || phase === "WHIP_ESTABLISHED") return "ONLINE";
  if (/^(ICE|PEER)_/.test(phase)) return "LOADING";
  if (phase === "STOPPED") return "STOPPED";
  if (remote.http_status === 404) return "NOT FOUND";
  if (!running || !status) return "STOPPED";
  const body = remote.body || {};
  const state = String((body.data && body.data.state) || body.state || body.status || "").toUpperCase();
  if (state === "ONLINE" || state === "READY") return "ONLINE";
  if (["LOADING", "INITIALIZING", "STARTING"].includes(state)) return "LOADING";
  if (state === "OFFLINE") return "OFFLINE";
  if (body.error) return /not found/i.test(String(body.error)) ? "NOT FOUND" : "ERROR";
  if (typeof remote.http_status === "number" && remote.http_status >= 400) return "ERROR";
  if (status.stream_id) return "STARTING";
  return "STOPPED";
}

/** The badge's colour class. @param {string} badge */
export function badgeKind(badge) {
  if (badge === "ONLINE") return "ok";
  if (badge === "ERROR" || badge === "NOT FOUND") return "bad";
  if (badge === "STOPPED" || badge === "OFFLINE") return "off";
  return "wait";
}

/**
 * @param {unknown} value
 * @param {number} lo
 * @param {number} hi
 * @param {number} fallback
 */
export function clampInt(value, lo, hi, fallback) {
  const n = Math.round(Number(value));
  if (!Number.isFinite(n)) return fallback;
  return Math.min(hi, Math.max(lo, n));
}

/**
 * The runtime settings as /config takes them, clamped as the server does.
 * @param {{frame_rate?: unknown, frame_width?: unknown, frame_height?: unknown}} cfg
 */
export function clampConfig(cfg) {
  return {
    frame_rate: clampInt(cfg.frame_rate, 1, 240, 30),
    frame_width: clampInt(cfg.frame_width, 64, 4096, 512),
    frame_height: clampInt(cfg.frame_height, 64, 4096, 512),
  };
}

/**
 * Host and port of the local-server setting, for /rtc/control's start
 * ({"settings": {"host", "port"}}); null when it is no http URL.
 * @param {unknown} url
 */
export function serverSettings(url) {
  try {
    const u = new URL(String(url || DEFAULT_SERVER));
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port) || (u.protocol === "https:" ? 443 : 80) };
  } catch {
    return null;
  }
}

/**
 * The public playback page of a Daydream stream, or null.
 * @param {unknown} playbackId
 */
export function playbackLink(playbackId) {
  if (typeof playbackId !== "string" || !playbackId) return null;
  const u = new URL("https://lvpr.tv/");
  u.searchParams.set("v", playbackId);
  return u.href;
}

/** @param {unknown} v @param {number} [digits] */
export function num(v, digits = 1) {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "–";
}

/** Seconds as milliseconds, finer below 10 ms (loopback). @param {number} s */
export function millis(s) {
  const ms = s * 1000;
  return `${ms < 10 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
}

/** @param {unknown} bps */
export function kbps(bps) {
  return typeof bps === "number" && Number.isFinite(bps) ? `${(bps / 1000).toFixed(0)} kbit/s` : "–";
}

/**
 * The message of a failed answer: serve's {"detail"}, the pack's {"error"}.
 * @param {number} status
 * @param {any} body
 */
export function errorMessage(status, body) {
  const why = body && (body.detail ?? body.error);
  if (typeof why === "string" && why) return why;
  if (why) return JSON.stringify(why);
  return `HTTP ${status}`;
}

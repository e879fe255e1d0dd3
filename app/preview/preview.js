// daydream-rtc: the /preview page of serve and of the gateway.
//
// serve:   /preview[?stream=NAME]  the stream's input (the latest pushed
//          frame, as JPEG stills) and its processed output (WHEP, straight
//          to the output URL from /status, JPEG fallback through serve's
//          /whep/frame), stats, and a prompt box that PATCHes /pipeline.
// gateway: /preview?stream=ID      the stream's output (WHEP on the gateway
//          itself), its rates, and a prompt box that PATCHes /v1/streams/ID.
// A token for the API (serve's --access-token-file, the gateway's key) can
// be given in the fragment, #token=..., which never reaches a server log.
import { WhepPlayer } from "./whep-player.js";

const params = new URLSearchParams(location.search);
const token = new URLSearchParams(location.hash.slice(1)).get("token");
/** @type {Record<string, string>} */
const auth = token ? { Authorization: `Bearer ${token}` } : {};
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/**
 * @param {string} path
 * @param {RequestInit} [init]
 */
async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...auth, ...(init.headers || {}) } });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = { detail: text };
  }
  if (!res.ok) {
    const why = body && (body.detail || body.error);
    throw new Error(`${res.status}: ${typeof why === "string" ? why : JSON.stringify(why)}`);
  }
  return body;
}

/** @param {unknown} v */
const fixed = (v) => (typeof v === "number" ? v.toFixed(1) : v);

/** @param {Record<string, unknown>} rows */
function showStats(rows) {
  const dl = $("stats");
  dl.replaceChildren();
  for (const [k, v] of Object.entries(rows)) {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    dt.textContent = k;
    dd.textContent = v === null || v === undefined || v === "" ? "–" : String(v);
    dl.append(dt, dd);
  }
}

/**
 * @param {string} text
 * @param {"ok" | "bad" | "wait" | ""} kind
 */
function pill(text, kind) {
  const el = $("server-state");
  el.textContent = text;
  el.className = `pill ${kind}`;
}

/** The input pane: JPEG stills of the latest pushed frame, a few a second. */
function pollInput(/** @type {string} */ name) {
  const img = /** @type {HTMLImageElement} */ ($("input"));
  let frames = 0;
  let previous = "";
  const tick = async () => {
    try {
      const res = await fetch(`/preview/input.jpg?stream=${encodeURIComponent(name)}`, { headers: auth, cache: "no-store" });
      const stamp = res.headers.get("X-Frame-Timestamp") || "";
      if (res.ok && res.headers.get("X-Has-Frame") === "1" && stamp !== previous) {
        previous = stamp;
        const url = URL.createObjectURL(await res.blob());
        img.onload = () => URL.revokeObjectURL(url);
        img.src = url;
        frames++;
        img.dataset.frames = String(frames);
        $("input-stats").textContent = `${res.headers.get("X-Frame-Width")}×${res.headers.get("X-Frame-Height")} · ${frames} stills`;
      }
    } catch {
      // the next tick tries again
    }
    setTimeout(tick, 200);
  };
  tick();
}

/**
 * @param {string} whepUrl
 * @param {object} extra WhepPlayer options for this host
 */
function play(whepUrl, extra) {
  const timeout = Number(params.get("connect_timeout_ms"));
  const player = new WhepPlayer($("output"), { url: whepUrl, ...(timeout > 0 ? { connectTimeoutMs: timeout } : {}), ...extra });
  // tests and the curious can read the player's stats
  Object.assign(window, { drtcPlayer: player });
  player.start();
  return player;
}

async function serveHost() {
  const name = params.get("stream") || "default";
  const prefix = name === "default" ? "" : `/streams/${encodeURIComponent(name)}`;
  $("stream-name").textContent = `stream ${name}`;
  pollInput(name);
  /** @type {WhepPlayer | null} */
  let player = null;
  let whepUrl = "";
  const forceFallback = params.get("webrtc") === "0";
  const tick = async () => {
    try {
      const st = await api(`${prefix}/status`);
      const phase = st.remote_status && st.remote_status.phase;
      pill(st.state || (st.running ? "running" : "idle"), st.state === "streaming" ? "ok" : st.state === "failed" ? "bad" : "wait");
      showStats({
        state: st.state_detail ? `${st.state} (${st.state_detail})` : st.state,
        phase,
        "sent fps": fixed(st.fps),
        "sent bitrate": typeof st.bitrate === "number" ? `${(st.bitrate / 1000).toFixed(0)} kbit/s` : st.bitrate,
        "frames sent": st.frames_sent,
        "queue depth": st.queue_depth,
        reconnects: st.reconnects,
        "stream id": st.stream_id,
        "output (WHEP)": st.whep_url,
      });
      if (st.whep_url && st.whep_url !== whepUrl) {
        whepUrl = st.whep_url;
        if (player) await player.stop();
        player = play(whepUrl, {
          forceFallback,
          frameUrl: `${prefix}/whep/frame?format=jpeg`,
          frameHeaders: auth,
          // serve subscribes to the output itself; the page then polls its frames
          prepareFallback: () => api(`${prefix}/whep/connect`, jsonBody("POST", { whep_url: whepUrl })).then(() => {}),
        });
      }
    } catch (err) {
      pill(err instanceof Error ? err.message : String(err), "bad");
    }
    setTimeout(tick, 1000);
  };
  tick();
  onPrompt((prompt, delta) => api(`${prefix}/pipeline`, jsonBody("PATCH", { pipeline_config: { params: { prompt, delta } } })));
}

async function gatewayHost() {
  const id = params.get("stream");
  $("input-pane").hidden = true;
  if (!id) {
    pill("give ?stream=<stream id>", "bad");
    return;
  }
  $("stream-name").textContent = `stream ${id}`;
  /** @type {WhepPlayer | null} */
  let player = null;
  const tick = async () => {
    try {
      const { data } = await api(`/v1/streams/${encodeURIComponent(id)}/status`);
      const inf = data.inference_status || {};
      const gws = data.gateway_status || {};
      pill(data.state, data.state === "ONLINE" ? "ok" : "wait");
      showStats({
        state: data.state,
        "input fps": fixed(inf.input_fps),
        "output fps": fixed(inf.output_fps),
        viewers: gws.viewers,
        prompt: inf.last_params && JSON.stringify(inf.last_params.prompt),
        "last error": inf.last_error,
      });
      if (!player && gws.whep_url) player = play(gws.whep_url, { headers: auth });
    } catch (err) {
      pill(err instanceof Error ? err.message : String(err), "bad");
    }
    setTimeout(tick, 1000);
  };
  tick();
  onPrompt((prompt, delta) => api(`/v1/streams/${encodeURIComponent(id)}`, jsonBody("PATCH", { params: { prompt, delta } })));
}

/**
 * @param {string} method
 * @param {object} body
 */
function jsonBody(method, body) {
  return { method, headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
}

/** @param {(prompt: string, delta: number) => Promise<unknown>} apply */
function onPrompt(apply) {
  const form = /** @type {HTMLFormElement} */ ($("prompt-form"));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const prompt = /** @type {HTMLInputElement} */ ($("prompt")).value;
    const delta = Math.min(1, Math.max(0, Number(/** @type {HTMLInputElement} */ ($("delta")).value) || 0));
    const out = $("prompt-result");
    out.textContent = "…";
    try {
      await apply(prompt, delta);
      out.textContent = `applied: ${prompt}`;
    } catch (err) {
      out.textContent = `failed: ${err instanceof Error ? err.message : err}`;
    }
  });
}

const { host } = await api("/preview/host.json");
if (host === "gateway") gatewayHost();
else serveHost();

// daydream-rtc ComfyUI extension: the "Daydream Live" sidebar tab.
//
// Server state with start/stop/restart (/rtc/control), stream start/stop
// (serve's /start and /stop through the relay), the live numbers of the
// last /status and /whep/status, and the runtime settings (/config; FPS
// 1–240, width/height 64–4096, clamped here as the server clamps them).
import { badgeKind, clampConfig, kbps, millis, num, playbackLink, serverSettings } from "./daydream-live-core.js";
import { el } from "./daydream-live-dom.js";

/**
 * @typedef {import("./daydream-live-client.js").RtcClient} RtcClient
 * @typedef {import("./daydream-live-client.js").Snapshot} Snapshot
 */

/**
 * @param {HTMLElement} container
 * @param {RtcClient} client
 * @param {{fail(what: string, err: unknown): void, serverUrl(): unknown}} host
 * @returns {() => void} unsubscribes
 */
export function renderSidebar(container, client, host) {
  /** @param {string} what @param {() => Promise<unknown>} fn */
  const act = (what, fn) => async () => {
    try {
      await fn();
      await client.poll();
    } catch (err) {
      host.fail(what, err);
    }
  };
  const settings = () => serverSettings(host.serverUrl()) || undefined;
  const badge = el("span", { class: "ddl-badge off", "data-testid": "ddl-sidebar-badge", text: "STOPPED" });
  const server = el("span", { "data-testid": "ddl-server", text: "…" });
  const grid = el("dl", { class: "ddl-grid", "data-testid": "ddl-stats" });
  const link = el("a", { target: "_blank", rel: "noopener noreferrer", hidden: true, text: "playback page" });
  const fps = /** @type {HTMLInputElement} */ (el("input", { type: "number", min: 1, max: 240, step: 1, value: 30, "aria-label": "FPS" }));
  const width = /** @type {HTMLInputElement} */ (el("input", { type: "number", min: 64, max: 4096, step: 8, value: 512, "aria-label": "width" }));
  const height = /** @type {HTMLInputElement} */ (el("input", { type: "number", min: 64, max: 4096, step: 8, value: 512, "aria-label": "height" }));
  const configNote = el("span", { "data-testid": "ddl-config-note" });

  const showConfig = (/** @type {any} */ cfg) => {
    fps.value = String(cfg.frame_rate);
    width.value = String(cfg.frame_width);
    height.value = String(cfg.frame_height);
    configNote.textContent = cfg.locked ? "locked while streaming" : "";
  };
  const loadConfig = act("Loading the runtime settings", async () => showConfig(await client.getConfig()));
  const saveConfig = act("Saving the runtime settings", async () => {
    const cfg = clampConfig({ frame_rate: fps.value, frame_width: width.value, frame_height: height.value });
    showConfig(cfg);
    showConfig(await client.setConfig(cfg));
    configNote.textContent = "saved";
  });

  container.replaceChildren(
    el(
      "div",
      { class: "ddl-panel", "data-testid": "ddl-sidebar" },
      el("section", {}, el("h3", { text: "Server" }), el("div", { class: "ddl-row" }, server, badge)),
      el(
        "div",
        { class: "ddl-row" },
        el("button", { text: "Start server", onclick: act("Starting the server", () => client.control("start", { settings: settings() })) }),
        el("button", { text: "Stop server", onclick: act("Stopping the server", () => client.control("stop")) }),
        el("button", { text: "Restart", onclick: act("Restarting the server", () => client.control("restart", { settings: settings() })) }),
      ),
      el("section", {}, el("h3", { text: "Stream" })),
      el(
        "div",
        { class: "ddl-row" },
        el("button", { text: "Start stream", "data-testid": "ddl-start", onclick: act("Starting the stream", () => client.startStream(settings())) }),
        el("button", { text: "Stop stream", "data-testid": "ddl-stop", onclick: act("Stopping the stream", () => client.stopStream()) }),
        link,
      ),
      grid,
      el("section", {}, el("h3", { text: "Runtime settings" })),
      el(
        "div",
        { class: "ddl-row" },
        el("label", { text: "FPS" }),
        fps,
        el("label", { text: "W" }),
        width,
        el("label", { text: "H" }),
        height,
      ),
      el("div", { class: "ddl-row" }, el("button", { text: "Load", onclick: loadConfig }), el("button", { text: "Save", onclick: saveConfig }), configNote),
    ),
  );

  let configLoaded = false;
  // Daydream's fps of its last status poll, kept through the local phases
  // (PIPELINE_UPDATED, ...) in between, for the same stream
  let inference = {};
  let inferenceOf = "";
  const unsubscribe = client.subscribe((snap) => {
    const srv = snap.server;
    if (srv && srv.running && !configLoaded) {
      configLoaded = true;
      loadConfig();
    }
    server.textContent = srv && srv.running ? `running on ${srv.host}:${srv.port}${srv.pid ? ` (pid ${srv.pid})` : ""}` : "not running";
    const st = snap.status;
    badge.textContent = snap.badge;
    badge.className = `ddl-badge ${badgeKind(snap.badge)}`;
    const href = playbackLink(st && st.playback_id);
    link.hidden = !href;
    if (href) link.setAttribute("href", href);
    const w = snap.whep || {};
    // the preview's last numbers, while a stream runs
    const viewer = st && st.running ? snap.viewer : null;
    const body = (st && st.remote_status && st.remote_status.body) || {};
    const streamId = (st && st.running && st.stream_id) || "";
    if (body.data && body.data.inference_status) inference = body.data.inference_status;
    else if (streamId !== inferenceOf) inference = {};
    inferenceOf = streamId;
    const rows = {
      phase: st && st.remote_status && st.remote_status.phase,
      state: st && (st.state_detail ? `${st.state} (${st.state_detail})` : st.state),
      "input fps": num(inference.input_fps),
      "output fps": num(inference.output_fps),
      "sent fps": num(st && st.fps),
      bitrate: kbps(st && st.bitrate),
      // serve's, to the WHIP peer (RTCP; 0 before a measurement)
      RTT: st && st.rtt > 0 ? millis(st.rtt) : "–",
      // the preview node's WHEP viewer measures its own
      "viewer RTT": viewer && typeof viewer.rtt === "number" ? millis(viewer.rtt) : "–",
      "viewer fps": viewer ? num(viewer.fps) : "–",
      "queue depth": st && st.queue_depth,
      "frames sent": st && st.frames_sent,
      WHEP: w.connection_state ? `${w.connection_state}${w.frames_received ? `, ${w.frames_received} frames` : ""}` : "–",
      "last error": (srv && srv.error ? `server: ${srv.error}` : "") || snap.error || (w.last_error ? `WHEP: ${w.last_error}` : "") || (st && st.state === "failed" ? st.state_detail : ""),
    };
    grid.replaceChildren();
    for (const [k, v] of Object.entries(rows)) {
      grid.append(el("dt", { text: k }), el("dd", { text: v === null || v === undefined || v === "" ? "–" : String(v) }));
    }
  });
  return unsubscribe;
}

// daydream-rtc ComfyUI extension: the RTCStreamUIPreview node's live view.
//
// A DOM widget (560×560 by default) holding the WHEP player: it plays the
// output URL serve's /status reports, straight from the gateway/Daydream;
// when WebRTC cannot connect (ComfyUI opened from another machine, a
// loopback gateway) it shows serve's /whep/frame?format=jpeg stills through
// the pack's relay instead, after asking serve to subscribe. A Reload
// button restarts it; a link opens the stream's playback page.
import { playbackLink } from "./daydream-live-core.js";
import { el } from "./daydream-live-dom.js";
import { WhepPlayer } from "./whep-player.js";

export const PREVIEW_NODE = "RTCStreamUIPreview";
export const PREVIEW_SIZE = /** @type {[number, number]} */ ([560, 560]);

/**
 * @typedef {import("./daydream-live-client.js").RtcClient} RtcClient
 */

/**
 * The widget's element and its life: it follows the client's snapshots.
 * @param {RtcClient} client
 * @param {{connectTimeoutMs?: number}} [options]
 */
export function createPreview(client, options = {}) {
  const surface = el("div", { class: "ddl-preview-surface", "data-testid": "ddl-preview-surface" });
  const note = el("span", { "data-testid": "ddl-preview-note", text: "waiting for the stream's output" });
  const link = el("a", { target: "_blank", rel: "noopener noreferrer", hidden: true, text: "Open playback page" });
  /** @type {WhepPlayer | null} */
  let player = null;
  let whepUrl = "";
  const play = () => {
    if (player) player.stop();
    surface.replaceChildren();
    if (!whepUrl) return;
    const url = whepUrl;
    player = new WhepPlayer(surface, {
      url,
      frameUrl: client.api.apiURL("/rtc/api/whep/frame?format=jpeg"),
      prepareFallback: () => client.serve("/whep/connect", { method: "POST", json: { whep_url: url } }).then(() => {}),
      onStats: (stats) => client.update({ viewer: stats }),
      onState: (state, detail) => {
        note.textContent = detail ? `${state}: ${detail}` : state;
      },
      ...options,
    });
    player.start();
  };
  const reload = el("button", { text: "Reload", "data-testid": "ddl-preview-reload", onclick: play });
  const root = el("div", { class: "ddl-preview", "data-testid": "ddl-preview" }, el("div", { class: "ddl-preview-bar" }, reload, link, note), surface);
  const unsubscribe = client.subscribe((snap) => {
    const st = snap.status;
    const href = playbackLink(st && st.playback_id);
    link.hidden = !href;
    if (href) link.setAttribute("href", href);
    const next = (st && st.running && st.whep_url) || "";
    if (next !== whepUrl) {
      whepUrl = next;
      if (next) play();
      else {
        if (player) player.stop();
        player = null;
        surface.replaceChildren();
        note.textContent = "waiting for the stream's output";
      }
    }
  });
  return {
    element: root,
    dispose() {
      unsubscribe();
      if (player) player.stop();
      player = null;
    },
  };
}

/**
 * Adds the preview widget to a node.
 * @param {any} node an LGraphNode of RTCStreamUIPreview (addDOMWidget comes with the frontend)
 * @param {RtcClient} client
 */
export function attachPreview(node, client) {
  const preview = createPreview(client);
  node.addDOMWidget("rtc_preview", "rtc_preview", preview.element, {
    serialize: false,
    hideOnZoom: false,
    getMinHeight: () => 200,
  });
  node.setSize?.(PREVIEW_SIZE);
  const removed = node.onRemoved;
  node.onRemoved = function (/** @type {unknown[]} */ ...args) {
    preview.dispose();
    return removed?.apply(this, args);
  };
  return preview;
}

// daydream-rtc: a WHEP player on the browser's RTCPeerConnection.
//
// One file shared by two hosts: the ComfyUI extension (the RTCStreamUIPreview
// node) and the /preview page that `daydream-rtc serve` and the gateway build
// into their binary (GResource). Plain ES module, no framework, no side
// effects on import (ComfyUI imports every .js file of the pack).
//
// What it does (WHEP, RFC 9725 and the draft's counter-offer):
// - recv-only video (and audio when asked, or when the server offers it);
// - waits for ICE gathering (bounded); candidates found later are trickled
//   by PATCH (application/trickle-ice-sdpfrag) when the server gave a
//   Location and says it takes them (Accept-Patch);
// - POSTs the offer as application/sdp; a 406 carrying an SDP offer is the
//   server offering instead: the answer goes back by PATCH to the Location;
// - follows Location (relative to the URL that answered) and DELETEs it on stop;
// - 404 (output not ready yet), 429 (too many viewers) and 503 are retried
//   with Retry-After or a doubling backoff;
// - live stats from getStats every second: fps, bitrate, RTT, resolution,
//   frames, state;
// - when WebRTC cannot connect (a remote browser, a blocked UDP path), it
//   falls back to polling a JPEG URL (serve's /whep/frame?format=jpeg) at a
//   few frames a second, and says so in its state and overlay.

const SDP = "application/sdp";
const SDPFRAG = "application/trickle-ice-sdpfrag";

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Seconds from a Retry-After header (delta seconds only), or null.
 * @param {string | null} value
 * @returns {number | null}
 */
export function retryAfterSeconds(value) {
  if (!value || !/^\s*\d+(\.\d+)?\s*$/.test(value)) return null;
  return Math.min(Number(value), 60);
}

/**
 * The bits of getStats() a viewer shows, from one report and the previous.
 * @param {RTCStatsReport} report
 * @param {{bytes: number, frames: number, at: number} | null} previous
 */
export function summarizeStats(report, previous) {
  /** @type {any} */
  let video = null;
  /** @type {any} */
  let pair = null;
  /** @type {Map<string, any>} */
  const byId = new Map();
  report.forEach((s) => {
    byId.set(s.id, s);
    if (s.type === "inbound-rtp" && (s.kind === "video" || s.mediaType === "video")) video = s;
  });
  report.forEach((s) => {
    if (s.type === "transport" && s.selectedCandidatePairId) pair = byId.get(s.selectedCandidatePairId);
  });
  if (!pair) {
    report.forEach((s) => {
      if (s.type === "candidate-pair" && s.state === "succeeded" && (s.nominated || s.selected)) pair = s;
    });
  }
  const at = video ? video.timestamp : performance.now();
  const bytes = video ? video.bytesReceived || 0 : 0;
  const frames = video ? video.framesDecoded || 0 : 0;
  let fps = video && typeof video.framesPerSecond === "number" ? video.framesPerSecond : 0;
  let bitrate = 0;
  if (previous && at > previous.at) {
    const dt = (at - previous.at) / 1000;
    bitrate = Math.max(0, ((bytes - previous.bytes) * 8) / dt);
    if (!fps) fps = Math.max(0, (frames - previous.frames) / dt);
  }
  return {
    frames,
    fps,
    bitrate,
    rtt: pair && typeof pair.currentRoundTripTime === "number" ? pair.currentRoundTripTime : null,
    width: video ? video.frameWidth || 0 : 0,
    height: video ? video.frameHeight || 0 : 0,
    sample: { bytes, frames, at },
  };
}

/**
 * The candidate lines of an SDP, as an sdpfrag for a trickle PATCH.
 * @param {RTCIceCandidate[]} candidates
 * @param {string} ufrag
 * @param {string} pwd
 */
function sdpFrag(candidates, ufrag, pwd) {
  const lines = [`a=ice-ufrag:${ufrag}`, `a=ice-pwd:${pwd}`];
  /** @type {Map<string, string[]>} */
  const byMid = new Map();
  for (const c of candidates) {
    const mid = c.sdpMid || "0";
    if (!byMid.has(mid)) byMid.set(mid, []);
    byMid.get(mid)?.push(`a=${c.candidate}`);
  }
  for (const [mid, list] of byMid) lines.push("m=video 9 UDP/TLS/RTP/SAVPF 0", `a=mid:${mid}`, ...list);
  return lines.join("\r\n") + "\r\n";
}

/** A failed HTTP exchange with the WHEP endpoint. */
export class WhepHttpError extends Error {
  /**
   * @param {number} status
   * @param {string} message
   * @param {number | null} retryAfter
   */
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

/**
 * @typedef {object} WhepPlayerOptions
 * @property {string} url the WHEP endpoint
 * @property {string} [frameUrl] a JPEG of the latest frame, for the fallback
 * @property {() => Promise<void>} [prepareFallback] called once before the fallback polls
 * @property {Record<string, string>} [headers] sent with every WHEP request
 * @property {Record<string, string>} [frameHeaders] sent with every JPEG request
 * @property {RTCIceServer[]} [iceServers]
 * @property {boolean} [audio] offer to receive audio as well
 * @property {number} [gatherTimeoutMs] longest wait for ICE gathering before the POST
 * @property {number} [connectTimeoutMs] WebRTC not connected by then: JPEG fallback
 * @property {number} [fallbackFps] JPEG polls per second
 * @property {number} [maxWaitRetries] 404/429/503 answers before giving up
 * @property {boolean} [forceFallback] skip WebRTC (tests, or a known-unreachable gateway)
 * @property {(stats: object) => void} [onStats]
 * @property {(state: string, detail: string) => void} [onState]
 */

export class WhepPlayer {
  /**
   * @param {HTMLElement} container the player puts its video, image and overlay in it
   * @param {WhepPlayerOptions} options
   */
  constructor(container, options) {
    this.options = {
      gatherTimeoutMs: 2000,
      connectTimeoutMs: 10000,
      fallbackFps: 4,
      maxWaitRetries: 60,
      iceServers: [],
      headers: {},
      frameHeaders: {},
      ...options,
    };
    this.container = container;
    this.video = document.createElement("video");
    this.video.muted = true;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.className = "drtc-player-video";
    this.image = document.createElement("img");
    this.image.className = "drtc-player-image";
    this.image.alt = "latest frame (JPEG fallback)";
    this.image.hidden = true;
    this.overlay = document.createElement("div");
    this.overlay.className = "drtc-player-overlay";
    container.classList.add("drtc-player");
    container.append(this.video, this.image, this.overlay);
    /** @type {RTCPeerConnection | null} */
    this.pc = null;
    /** @type {string | null} */
    this.location = null;
    this.state = "idle";
    this.detail = "";
    /** @type {string[]} the last states, oldest first (for the curious, and tests) */
    this.history = [];
    this.mode = "webrtc";
    this.stats = { frames: 0, fps: 0, bitrate: 0, rtt: null, width: 0, height: 0, mode: "webrtc", state: "idle" };
    this.stopped = true;
    this.generation = 0;
    /** @type {ReturnType<typeof setInterval> | null} */
    this.statsTimer = null;
    /** @type {string | null} */
    this.objectUrl = null;
    this.render();
  }

  /** Starts (or restarts) playing. */
  async start() {
    await this.stop();
    this.stopped = false;
    this.mode = "webrtc";
    this.stats = { ...this.stats, frames: 0, fps: 0, bitrate: 0, rtt: null };
    const gen = ++this.generation;
    if (this.options.forceFallback) return this.startFallback(gen, "WebRTC disabled");
    try {
      await this.connect(gen);
      if (gen !== this.generation) return;
      this.startStats(gen);
      await this.waitConnected(gen);
      if (gen === this.generation) this.setState("playing", "WebRTC");
    } catch (err) {
      if (gen !== this.generation) return;
      const why = err instanceof Error ? err.message : String(err);
      await this.closePeer();
      if (this.options.frameUrl) await this.startFallback(gen, why);
      else this.setState("error", why);
    }
  }

  /** Stops playing: the WHEP session is DELETEd, timers end. */
  async stop() {
    this.generation++;
    this.stopped = true;
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    await this.closePeer();
    this.image.hidden = true;
    this.video.hidden = false;
    if (this.state !== "idle") this.setState("stopped", "");
  }

  async closePeer() {
    const pc = this.pc;
    const location = this.location;
    this.pc = null;
    this.location = null;
    // the server hears it from the DELETE first, then the peer closes
    if (location) {
      try {
        const res = await fetch(location, { method: "DELETE", headers: this.options.headers, keepalive: true });
        this.history.push(`DELETE ${res.status}`);
      } catch {
        // the session expires on its own when the server sees no RTCP
      }
    }
    if (pc) pc.close();
    this.video.srcObject = null;
  }

  /**
   * @param {string} state
   * @param {string} detail
   */
  setState(state, detail) {
    this.state = state;
    this.detail = detail;
    this.history.push(detail ? `${state}: ${detail}` : state);
    if (this.history.length > 50) this.history.shift();
    this.stats = { ...this.stats, state, mode: this.mode };
    this.render();
    this.options.onState?.(state, detail);
  }

  /** @param {number} gen */
  async connect(gen) {
    let wait = 500;
    for (let attempt = 0; ; attempt++) {
      if (gen !== this.generation) return;
      this.setState("connecting", attempt ? `attempt ${attempt + 1}` : "");
      try {
        await this.negotiate(gen);
        return;
      } catch (err) {
        if (!(err instanceof WhepHttpError) || ![404, 429, 503].includes(err.status)) throw err;
        if (attempt + 1 >= (this.options.maxWaitRetries || 1)) throw err;
        const delay = err.retryAfter !== null ? err.retryAfter * 1000 : wait;
        wait = Math.min(wait * 2, 8000);
        await this.closePeer();
        const why = err.status === 404 ? "output not ready yet" : err.status === 429 ? "too many viewers" : "server busy";
        this.setState("waiting", `${err.status}: ${why}, retrying in ${(delay / 1000).toFixed(1)} s`);
        await sleep(delay);
      }
    }
  }

  /**
   * A peer connection whose tracks go to the video element.
   * @param {number} gen
   */
  newPeer(gen) {
    const pc = new RTCPeerConnection({ iceServers: this.options.iceServers });
    this.pc = pc;
    const stream = new MediaStream();
    pc.ontrack = (ev) => {
      stream.addTrack(ev.track);
      this.video.srcObject = stream;
      this.video.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => {
      if (gen === this.generation && this.mode === "webrtc") {
        this.stats = { ...this.stats, state: pc.connectionState };
        this.render();
      }
    };
    return pc;
  }

  /** @param {number} gen */
  async negotiate(gen) {
    const pc = this.newPeer(gen);
    pc.addTransceiver("video", { direction: "recvonly" });
    if (this.options.audio) pc.addTransceiver("audio", { direction: "recvonly" });
    /** @type {RTCIceCandidate[]} */
    const late = [];
    let posted = false;
    pc.onicecandidate = (ev) => {
      if (ev.candidate && ev.candidate.candidate && posted) late.push(ev.candidate);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await this.gathered(pc);
    const res = await this.post(this.options.url, pc.localDescription?.sdp || "");
    posted = true;
    if (gen !== this.generation) return;
    const body = await res.text();
    const location = res.headers.get("Location");
    this.location = location ? new URL(location, res.url).href : null;
    if (res.status === 406 && body.startsWith("v=")) {
      pc.close();
      await this.answerCounterOffer(this.newPeer(gen), body);
    } else {
      await pc.setRemoteDescription({ type: "answer", sdp: body });
      // trickle only where the server says it takes it (RFC 9725 Accept-Patch)
      if (this.location && /trickle-ice-sdpfrag/i.test(res.headers.get("Accept-Patch") || "")) {
        pc.onicecandidate = (ev) => this.trickle(pc, ev.candidate);
        for (const c of late) this.trickle(pc, c);
      }
    }
  }

  /**
   * The server offered instead (406 + its offer, with whatever it sends:
   * video, audio): a fresh peer answers, by PATCH to the Location.
   * @param {RTCPeerConnection} pc
   * @param {string} offer
   */
  async answerCounterOffer(pc, offer) {
    if (!this.location) throw new Error("counter-offer without a Location");
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    await pc.setLocalDescription(await pc.createAnswer());
    await this.gathered(pc);
    const res = await fetch(this.location, {
      method: "PATCH",
      headers: { ...this.options.headers, "Content-Type": SDP },
      body: pc.localDescription?.sdp || "",
    });
    if (!res.ok) throw new WhepHttpError(res.status, `PATCH of the answer: ${res.status} ${await res.text()}`, null);
  }

  /**
   * @param {RTCPeerConnection} pc
   * @param {RTCIceCandidate | null} candidate
   */
  trickle(pc, candidate) {
    if (!candidate || !candidate.candidate || !this.location || pc !== this.pc) return;
    const m = /a=ice-ufrag:(\S+)[\s\S]*?a=ice-pwd:(\S+)/.exec(pc.localDescription?.sdp || "");
    if (!m) return;
    fetch(this.location, {
      method: "PATCH",
      headers: { ...this.options.headers, "Content-Type": SDPFRAG },
      body: sdpFrag([candidate], m[1], m[2]),
    }).catch(() => {});
  }

  /**
   * @param {string} url
   * @param {string} sdp
   */
  async post(url, sdp) {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...this.options.headers, "Content-Type": SDP, Accept: SDP },
      body: sdp,
      redirect: "follow",
    });
    if (res.ok || res.status === 406) return res;
    const text = (await res.text()).slice(0, 300);
    throw new WhepHttpError(res.status, `WHEP POST: ${res.status} ${text}`, retryAfterSeconds(res.headers.get("Retry-After")));
  }

  /**
   * Resolves once ICE gathering completed, or after gatherTimeoutMs.
   * @param {RTCPeerConnection} pc
   */
  gathered(pc) {
    if (pc.iceGatheringState === "complete") return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (pc.iceGatheringState !== "complete") return;
        pc.removeEventListener("icegatheringstatechange", done);
        resolve(undefined);
      };
      pc.addEventListener("icegatheringstatechange", done);
      setTimeout(resolve, this.options.gatherTimeoutMs);
    });
  }

  /** @param {number} gen */
  waitConnected(gen) {
    const pc = this.pc;
    if (!pc) return Promise.reject(new Error("no peer connection"));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`WebRTC did not connect within ${(this.options.connectTimeoutMs || 0) / 1000} s`));
      }, this.options.connectTimeoutMs);
      const check = () => {
        if (gen !== this.generation) {
          clearTimeout(timer);
          resolve(undefined);
        } else if (pc.connectionState === "connected") {
          clearTimeout(timer);
          resolve(undefined);
        } else if (pc.connectionState === "failed" || pc.connectionState === "closed") {
          clearTimeout(timer);
          reject(new Error(`WebRTC ${pc.connectionState}`));
        }
      };
      pc.addEventListener("connectionstatechange", check);
      check();
    });
  }

  /** @param {number} gen */
  startStats(gen) {
    /** @type {{bytes: number, frames: number, at: number} | null} */
    let previous = null;
    const tick = async () => {
      const pc = this.pc;
      if (gen !== this.generation || !pc || this.mode !== "webrtc") return;
      const s = summarizeStats(await pc.getStats(), previous);
      previous = s.sample;
      this.stats = { frames: s.frames, fps: s.fps, bitrate: s.bitrate, rtt: s.rtt, width: s.width, height: s.height, mode: "webrtc", state: pc.connectionState };
      this.render();
      this.options.onStats?.(this.stats);
    };
    this.statsTimer = setInterval(tick, 1000);
  }

  /**
   * Polls the JPEG URL at fallbackFps, after WebRTC failed.
   * @param {number} gen
   * @param {string} why
   */
  async startFallback(gen, why) {
    if (this.statsTimer) clearInterval(this.statsTimer);
    this.statsTimer = null;
    this.mode = "jpeg";
    this.video.hidden = true;
    this.image.hidden = false;
    this.setState("fallback", `JPEG stills: ${why}`);
    try {
      await this.options.prepareFallback?.();
    } catch (err) {
      this.setState("fallback", `JPEG stills: ${why}; ${err instanceof Error ? err.message : err}`);
    }
    const period = 1000 / Math.max(0.2, this.options.fallbackFps || 4);
    let frames = 0;
    /** @type {number[]} */
    const arrivals = [];
    while (gen === this.generation) {
      const started = performance.now();
      try {
        const res = await fetch(this.options.frameUrl || "", { headers: this.options.frameHeaders, cache: "no-store" });
        if (res.ok && res.headers.get("X-Has-Frame") !== "0") {
          const blob = await res.blob();
          if (gen !== this.generation) break;
          await this.showBlob(blob);
          frames++;
          const now = performance.now();
          arrivals.push(now);
          while (arrivals.length && now - arrivals[0] > 2000) arrivals.shift();
          this.stats = {
            frames,
            fps: arrivals.length / 2,
            bitrate: (blob.size * 8 * arrivals.length) / 2,
            rtt: null,
            width: this.image.naturalWidth,
            height: this.image.naturalHeight,
            mode: "jpeg",
            state: "fallback",
          };
          this.render();
          this.options.onStats?.(this.stats);
        }
      } catch {
        // the next poll tries again
      }
      await sleep(Math.max(0, period - (performance.now() - started)));
    }
  }

  /** @param {Blob} blob */
  showBlob(blob) {
    const url = URL.createObjectURL(blob);
    return new Promise((resolve) => {
      this.image.onload = this.image.onerror = () => {
        if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
        this.objectUrl = url;
        resolve(undefined);
      };
      this.image.src = url;
    });
  }

  /** The element that shows the picture now (video, or the JPEG image). */
  get surface() {
    return this.mode === "jpeg" ? this.image : this.video;
  }

  render() {
    const s = this.stats;
    const kbps = (s.bitrate / 1000).toFixed(0);
    const rtt = s.rtt === null ? "–" : `${(s.rtt * 1000).toFixed(0)} ms`;
    const mode = this.mode === "jpeg" ? "JPEG fallback" : "WebRTC";
    // textContent only: nothing from the server is ever parsed as HTML
    this.overlay.textContent =
      `${mode} · ${this.state}${this.detail ? ` (${this.detail})` : ""}\n` +
      `${s.width}×${s.height} · ${s.fps.toFixed(1)} fps · ${kbps} kbit/s · RTT ${rtt} · ${s.frames} frames`;
    this.overlay.dataset.frames = String(s.frames);
    this.overlay.dataset.state = this.state;
    this.overlay.dataset.mode = this.mode;
  }
}

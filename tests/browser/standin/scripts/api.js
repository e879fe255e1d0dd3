// Stand-in for ComfyUI's /scripts/api.js: the shape of ComfyApi that the
// extension uses (fetchApi, apiURL, addEventListener), and like ComfyUI,
// websocket messages {type, data} become CustomEvents of that type.
class StandinApi extends EventTarget {
  constructor() {
    super();
    this.api_base = "";
  }

  /** @param {string} route */
  apiURL(route) {
    return `${this.api_base}/api${route}`;
  }

  /** @param {string} route @param {RequestInit} [options] */
  fetchApi(route, options = {}) {
    return fetch(this.apiURL(route), { cache: "no-cache", ...options });
  }

  connect() {
    const ws = new WebSocket(`${location.origin.replace(/^http/, "ws")}/ws`);
    ws.onmessage = (ev) => {
      const msg = JSON.parse(ev.data);
      this.dispatchEvent(new CustomEvent(msg.type, { detail: msg.data }));
    };
    return new Promise((resolve) => (ws.onopen = resolve));
  }
}

export const api = new StandinApi();

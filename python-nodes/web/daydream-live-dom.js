// daydream-rtc ComfyUI extension: building DOM without HTML strings.
// Text goes in through textContent and attributes through setAttribute,
// so nothing a server sends (a playback_id, an error) is ever parsed as
// markup (the original inserted playback_id raw: §11.29).

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined | ((ev: Event) => void)>} [props]
 *   "text" sets textContent, "class" the class, on* a listener, others attributes
 * @param {...(Node | string | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "class") node.className = String(value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined && child !== false) node.append(child);
  return node;
}

/** The stylesheet next to this module, once (the pack's folder is never named). */
export function ensureStyles() {
  const href = new URL("./daydream-live.css", import.meta.url).href;
  if (document.querySelector(`link[data-daydream-live]`)) return;
  document.head.append(el("link", { rel: "stylesheet", href, "data-daydream-live": true }));
}

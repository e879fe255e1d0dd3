// daydream-rtc: the ComfyUI frontend extension ("Daydream Live").
//
// Settings (the original's ids, so existing settings carry over), the API
// key kept server side (/rtc/credentials: the browser only learns whether
// one is set; a key the original stored in the settings in plain text is
// moved there once and cleared), the sidebar tab, a toolbar badge, toasts
// for `rtc-stream-notification` and for failed actions, widget values set by
// `rtc-stream-widget`, and the live view
// of the RTCStreamUIPreview node. See docs/comfyui-frontend.md.
import { app } from "../../scripts/app.js";
import { api } from "../../scripts/api.js";
import { RtcClient } from "./daydream-live-client.js";
import {
  DASHBOARD_URL,
  DEFAULT_API_URL,
  DEFAULT_SERVER,
  SETTING_API_KEY,
  SETTING_API_URL,
  SETTING_DASHBOARD,
  SETTING_SERVER,
  badgeKind,
  serverSettings,
} from "./daydream-live-core.js";
import { el, ensureStyles } from "./daydream-live-dom.js";
import { PREVIEW_NODE, attachPreview } from "./daydream-live-preview.js";
import { renderSidebar } from "./daydream-live-sidebar.js";

/**
 * @typedef {import("@comfyorg/comfyui-frontend-types").ComfyExtension} ComfyExtension
 * @typedef {NonNullable<ComfyExtension["settings"]>[number]} SettingParams
 * @typedef {SettingParams["id"]} SettingId
 */

const SIDEBAR_ID = "DaydreamLive";
const NOTIFICATION = "rtc-stream-notification";
const WIDGET_VALUE = "rtc-stream-widget";
const SEVERITIES = ["success", "info", "warn", "error"];
const client = new RtcClient(api);
/** Key fields refresh when the credentials change elsewhere (the migration). */
const credentialsChanged = new EventTarget();

/** Our setting ids are not in the frontend's list of core settings. @param {string} id */
const settingId = (id) => /** @type {SettingId} */ (/** @type {unknown} */ (id));

/** @param {string} id */
function getSetting(id) {
  return app.extensionManager.setting.get(settingId(id));
}

/**
 * A toast for a failed action, with the server's message.
 * @param {string} what
 * @param {unknown} err
 */
function fail(what, err) {
  const detail = err instanceof Error ? err.message : String(err);
  app.extensionManager.toast.add({ severity: "error", summary: `${what} failed`, detail, life: 6000 });
}

/** The API key field: a password box that saves through /rtc/credentials. */
function renderKeyField() {
  const state = el("span", { "data-testid": "ddl-key-state", text: "…" });
  const input = /** @type {HTMLInputElement} */ (
    el("input", { type: "password", autocomplete: "off", placeholder: "paste a Daydream API key", "data-testid": "ddl-key-input" })
  );
  const refresh = async () => {
    try {
      const { credentials } = await client.credentials();
      state.textContent = credentials.has_api_key ? `a key is set (${credentials.sources.api_key})` : "no key set";
      state.dataset.hasKey = String(!!credentials.has_api_key);
    } catch (err) {
      state.textContent = "unknown";
      fail("Reading the credentials", err);
    }
  };
  /** @param {string} key */
  const save = async (key) => {
    try {
      await client.saveCredentials({ api_key: key });
    } catch (err) {
      fail("Saving the API key", err);
    }
    input.value = "";
    await refresh();
  };
  refresh();
  credentialsChanged.addEventListener("change", refresh);
  return el(
    "div",
    { class: "ddl-key" },
    input,
    el("button", { text: "Save", "data-testid": "ddl-key-save", onclick: () => input.value && save(input.value) }),
    el("button", { text: "Remove", onclick: () => save("") }),
    state,
  );
}

function renderDashboardLink() {
  return el("a", { href: DASHBOARD_URL, target: "_blank", rel: "noopener noreferrer", text: "Open the Daydream dashboard (API keys)" });
}

/** A key stored in plain text by the original goes to /rtc/credentials, once. */
async function migratePlaintextKey() {
  const old = getSetting(SETTING_API_KEY);
  if (typeof old !== "string" || !old.trim()) return;
  try {
    await client.saveCredentials({ api_key: old.trim() });
    app.extensionManager.setting.set(settingId(SETTING_API_KEY), "");
    credentialsChanged.dispatchEvent(new Event("change"));
    app.extensionManager.toast.add({
      severity: "info",
      summary: "Daydream Live",
      detail: "The API key moved out of ComfyUI's settings into the server's credentials file.",
      life: 5000,
    });
  } catch (err) {
    fail("Moving the API key out of the settings", err);
  }
}

/**
 * Where the badge goes in the top bar: the legacy menu's group, which the
 * current frontend shows in its action bar (its own `.comfy-menu` is hidden
 * and the action bar is not mounted yet at setup), else an older frontend's
 * menu.
 */
function toolbarHost() {
  const legacy = app.menu && app.menu.settingsGroup && app.menu.settingsGroup.element;
  if (legacy) return legacy;
  return [".comfyui-menu-right", ".actionbar-container", ".comfyui-menu"].map((sel) => document.querySelector(sel)).find((x) => x) || null;
}

/** The badge in ComfyUI's top bar; a click opens the sidebar tab. */
function mountToolbarBadge() {
  const badge = el("button", {
    class: "ddl-badge ddl-toolbar-badge off",
    title: "Daydream Live",
    "data-testid": "ddl-toolbar-badge",
    text: "STOPPED",
    onclick: async () => {
      try {
        await app.extensionManager.command.execute(`Workspace.ToggleSidebarTab.${SIDEBAR_ID}`);
      } catch {
        // a frontend without that command: the sidebar icon still opens it
      }
    },
  });
  const bar = toolbarHost();
  if (bar) bar.prepend(badge);
  else document.body.append(badge);
  client.subscribe((snap) => {
    badge.textContent = snap.badge;
    badge.className = `ddl-badge ddl-toolbar-badge ${badgeKind(snap.badge)}`;
  });
}

/**
 * The sidebar icon's badge follows the snapshot's. The frontend draws it
 * from a computed property of the tab it keeps (a reactive object): a
 * function there is called once, so the badge is set on that object
 * instead, whenever it changes. Hidden while STOPPED.
 */
function followIconBadge() {
  client.subscribe((snap) => {
    const text = snap.badge === "STOPPED" ? "" : snap.badge;
    const tab = app.extensionManager.getSidebarTabs().find((t) => t.id === SIDEBAR_ID);
    if (tab && tab.iconBadge !== text) tab.iconBadge = text;
  });
}

/** @param {any} ev */
function onNotification(ev) {
  const d = (ev && ev.detail) || {};
  app.extensionManager.toast.add({
    severity: SEVERITIES.includes(d.severity) ? d.severity : "info",
    summary: String(d.summary || "Daydream Live"),
    detail: String(d.detail || ""),
    life: 3500,
  });
}

/**
 * {"node_id", "widget", "value"}: that widget of that node of the open
 * workflow takes the value (how the Start node resets its stop toggle).
 * @param {any} ev
 */
function onWidgetValue(ev) {
  const d = (ev && ev.detail) || {};
  const node = app.graph && app.graph.getNodeById(d.node_id);
  const widget = node && node.widgets && node.widgets.find((w) => w.name === d.widget);
  if (!widget) return;
  widget.value = d.value;
  widget.callback?.(d.value, app.canvas, node);
  app.graph.setDirtyCanvas(true, false);
}

/** @type {SettingParams[]} */
const settings = [
  {
    id: settingId(SETTING_SERVER),
    category: ["Daydream Live", "Server", "Local RTC server"],
    name: "Local RTC server (where daydream-rtc serve listens)",
    type: "text",
    defaultValue: DEFAULT_SERVER,
    tooltip: "Host and port the pack starts `daydream-rtc serve` on. The browser reaches it through ComfyUI.",
  },
  {
    id: settingId(SETTING_API_URL),
    category: ["Daydream Live", "Daydream", "API base URL"],
    name: "Daydream API base URL",
    type: "text",
    defaultValue: DEFAULT_API_URL,
    onChange: (value, old) => {
      if (old === undefined || value === old) return;
      client.saveCredentials({ api_url: String(value || "") }).catch((err) => fail("Saving the API URL", err));
    },
  },
  {
    id: settingId(SETTING_API_KEY),
    category: ["Daydream Live", "Daydream", "API key"],
    name: "Daydream API key (kept by the server, never in these settings)",
    type: renderKeyField,
    defaultValue: "",
  },
  {
    id: settingId(SETTING_DASHBOARD),
    category: ["Daydream Live", "Daydream", "Dashboard"],
    name: "Get an API key",
    type: renderDashboardLink,
    defaultValue: "",
  },
];

/** @type {ComfyExtension} */
const extension = {
  name: "DaydreamLive.RTC",
  settings,
  commands: [
    { id: "DaydreamLive.StartStream", label: "Daydream Live: start the stream", function: () => client.startStream(serverSettings(getSetting(SETTING_SERVER)) || undefined).catch((e) => fail("Starting the stream", e)) },
    { id: "DaydreamLive.StopStream", label: "Daydream Live: stop the stream", function: () => client.stopStream().catch((e) => fail("Stopping the stream", e)) },
    { id: "DaydreamLive.RestartServer", label: "Daydream Live: restart the server", function: () => client.control("restart").catch((e) => fail("Restarting the server", e)) },
  ],
  menuCommands: [{ path: ["Extensions", "Daydream Live"], commands: ["DaydreamLive.StartStream", "DaydreamLive.StopStream", "DaydreamLive.RestartServer"] }],
  async setup() {
    ensureStyles();
    app.extensionManager.registerSidebarTab({
      id: SIDEBAR_ID,
      title: "Daydream Live",
      tooltip: "Daydream Live",
      icon: "pi pi-video",
      type: "custom",
      iconBadge: "",
      render: (container) => {
        renderSidebar(container, client, { fail, serverUrl: () => getSetting(SETTING_SERVER) });
      },
    });
    mountToolbarBadge();
    followIconBadge();
    api.addEventListener(/** @type {any} */ (NOTIFICATION), onNotification);
    api.addEventListener(/** @type {any} */ (WIDGET_VALUE), onWidgetValue);
    client.start();
    await migratePlaintextKey();
  },
  async beforeRegisterNodeDef(nodeType, nodeData) {
    if (nodeData.name !== PREVIEW_NODE) return;
    const created = nodeType.prototype.onNodeCreated;
    nodeType.prototype.onNodeCreated = function () {
      created?.apply(this);
      attachPreview(this, client);
    };
  },
};

app.registerExtension(extension);

// Stand-in for ComfyUI's /scripts/app.js: the shape of ComfyApp that the
// extension uses. Kept small: settings (stored through the stand-in server,
// like ComfyUI's /settings), the sidebar, toasts, commands, the legacy menu,
// node types with a prototype and DOM widgets. Tests read window.standin.
import { api } from "./api.js";

const settings = new Map();
const settingDefs = new Map();
const commands = new Map();
const extensions = [];
const toasts = [];

function renderToast(t) {
  const box = document.createElement("div");
  box.className = `toast ${t.severity || "info"}`;
  const s = document.createElement("div");
  s.className = "summary";
  s.textContent = t.summary || "";
  const d = document.createElement("div");
  d.className = "detail";
  d.textContent = t.detail || "";
  box.append(s, d);
  document.getElementById("toasts").append(box);
  if (t.life) setTimeout(() => box.remove(), t.life);
}

const extensionManager = {
  registerSidebarTab(tab) {
    const button = document.createElement("button");
    button.title = tab.title;
    button.className = tab.icon || "";
    button.dataset.tab = tab.id;
    button.textContent = tab.title.slice(0, 2);
    const badge = document.createElement("span");
    badge.className = "icon-badge";
    button.append(badge);
    document.getElementById("sidebar-icons").append(button);
    const container = document.getElementById("sidebar");
    tab.render(container);
    // As the frontend's SidebarIcon: the badge is a computed of the tab the
    // store keeps (a reactive object): a function is called once, and the
    // badge is drawn again only when a property of that object is set.
    const draw = () => {
      const value = typeof tab.iconBadge === "function" ? tab.iconBadge() : tab.iconBadge;
      badge.textContent = value || "";
    };
    draw();
    const kept = new Proxy(tab, {
      set(target, key, value) {
        target[key] = value;
        draw();
        return true;
      },
    });
    window.standin.sidebarTabs.push(kept);
  },
  unregisterSidebarTab() {},
  getSidebarTabs: () => window.standin.sidebarTabs,
  toast: {
    add(t) {
      toasts.push(t);
      renderToast(t);
    },
    remove() {},
    removeAll() {},
  },
  setting: {
    get: (id) => (settings.has(id) ? settings.get(id) : settingDefs.get(id)?.defaultValue),
    set: (id, value) => {
      const old = settings.get(id);
      settings.set(id, value);
      fetch(`/api/settings/${encodeURIComponent(id)}`, { method: "POST", body: JSON.stringify(value) });
      settingDefs.get(id)?.onChange?.(value, old);
    },
  },
  command: {
    async execute(id) {
      if (!commands.has(id)) throw new Error(`no command ${id}`);
      return commands.get(id).function();
    },
  },
};

// What the settings dialog does with each setting: a text box, or the
// element a custom renderer returns.
function renderSettings() {
  const box = document.getElementById("settings");
  for (const def of settingDefs.values()) {
    const row = document.createElement("div");
    row.className = "setting";
    row.dataset.id = def.id;
    const label = document.createElement("label");
    label.textContent = def.name;
    const value = extensionManager.setting.get(def.id);
    const setter = (v) => extensionManager.setting.set(def.id, v);
    let input;
    if (typeof def.type === "function") {
      input = def.type(def.name, setter, value, def.attrs);
    } else {
      input = document.createElement("input");
      input.type = "text";
      input.value = value ?? "";
      input.onchange = () => setter(input.value);
    }
    row.append(label, input);
    box.append(row);
  }
}

class Node {
  constructor(type) {
    this.type = type;
    this.widgets = [];
    this.size = [200, 100];
    this.element = document.createElement("div");
    this.element.className = "node";
    const title = document.createElement("div");
    title.className = "node-title";
    title.textContent = type;
    this.element.append(title);
  }

  addDOMWidget(name, type, element, options) {
    const w = { name, type, element, options };
    this.widgets.push(w);
    this.element.append(element);
    return w;
  }

  setSize(size) {
    this.size = [...size];
    this.element.style.width = `${size[0]}px`;
    this.element.style.height = `${size[1]}px`;
  }
}

// ComfyAppMenu: the current frontend moves its element into the action bar
// when the top menu mounts; custom scripts add to its groups.
const menuElement = document.createElement("div");
const group = () => ({ element: document.createElement("div") });
const menu = { element: menuElement, actionsGroup: group(), settingsGroup: group(), viewGroup: group() };
menuElement.append(menu.actionsGroup.element, menu.settingsGroup.element, menu.viewGroup.element);

const graphNodes = new Map();
const graph = {
  getNodeById: (id) => graphNodes.get(Number(id)) || null,
  setDirtyCanvas() {},
  add(node) {
    node.id = graphNodes.size + 1;
    graphNodes.set(node.id, node);
  },
};

export const app = {
  extensionManager,
  graph,
  menu,
  canvas: null,
  registerExtension(ext) {
    extensions.push(ext);
  },
  // the stand-in's boot: what ComfyUI does once the extensions are loaded
  async boot(nodeNames) {
    const stored = await (await fetch("/api/settings")).json();
    for (const [k, v] of Object.entries(stored)) settings.set(k, v);
    for (const ext of extensions) {
      for (const s of ext.settings || []) settingDefs.set(s.id, s);
      for (const c of ext.commands || []) commands.set(c.id, c);
    }
    renderSettings();
    await api.connect();
    for (const ext of extensions) await ext.setup?.(app);
    document.getElementById("legacy-commands").append(menu.element);
    const types = {};
    for (const name of nodeNames) {
      const nodeType = class extends Node {
        constructor() {
          super(name);
          this.onNodeCreated?.();
        }
      };
      for (const ext of extensions) await ext.beforeRegisterNodeDef?.(nodeType, { name }, app);
      types[name] = nodeType;
    }
    window.standin.ready = true;
    return types;
  },
};

window.standin = { app, api, settings, settingDefs, commands, extensions, toasts, sidebarTabs: [], ready: false };

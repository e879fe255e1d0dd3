// Loads every extension script the server lists (as ComfyUI loads a pack's
// WEB_DIRECTORY), boots the stand-in app, adds a preview node on ?node=1.
import { app } from "/scripts/app.js";

const list = await (await fetch("/api/extensions")).json();
for (const url of list) await import(url);
const types = await app.boot(["RTCStreamUIPreview", "SomeOtherNode"]);
// a node with a toggle, for rtc-stream-widget (node id 1)
const start = new types.SomeOtherNode();
start.widgets.push({ name: "stop_stream", value: true });
app.graph.add(start);
window.standin.startNode = start;
if (new URLSearchParams(location.search).get("node") === "1") {
  const node = new types.RTCStreamUIPreview();
  app.graph.add(node);
  document.getElementById("graph").append(node.element);
  window.standin.previewNode = node;
}

// node --test: the extension's pure parts (python-nodes/web/daydream-live-core.js).
import assert from "node:assert/strict";
import { test } from "node:test";
import { badgeFor, clampConfig, millis, playbackLink, serverSettings } from "../../python-nodes/web/daydream-live-core.js";

const st = (remote, extra = {}) => ({ running: true, remote_status: remote, ...extra });

test("the badge keeps the original's mapping (reference §9.9)", () => {
  const cases = [
    [st({ phase: "STREAM_CREATED" }), "CREATING"],
    [st({ phase: "WHIP_OFFER" }), "STARTING"],
    [st({ phase: "WHIP_ANSWER" }), "ONLINE"],
    [st({ phase: "WHIP_ESTABLISHED" }), "ONLINE"],
    [st({ phase: "ICE_CHECKING" }), "LOADING"],
    [st({ phase: "PEER_CONNECTING" }), "LOADING"],
    [st({ phase: "STOPPED" }), "STOPPED"],
    [st({ phase: "REMOTE_STATUS", http_status: 404, body: {} }), "NOT FOUND"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { data: { state: "ONLINE" } } }), "ONLINE"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { state: "READY" } }), "ONLINE"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { status: "initializing" } }), "LOADING"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { data: { state: "STARTING" } } }), "LOADING"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { state: "OFFLINE" } }), "OFFLINE"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { error: "Stream not found" } }), "NOT FOUND"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: { error: "boom" } }), "ERROR"],
    [st({ phase: "REMOTE_STATUS", http_status: 500, body: {} }), "ERROR"],
    [st({ phase: "REMOTE_STATUS", http_status: 200, body: {} }, { stream_id: "str_1" }), "STARTING"],
    [st({}), "STOPPED"],
  ];
  for (const [status, want] of cases) assert.equal(badgeFor(status, true), want, JSON.stringify(status));
  assert.equal(badgeFor(st({ phase: "REMOTE_STATUS", body: { state: "ONLINE" } }), false), "STOPPED", "not running");
  assert.equal(badgeFor(null, false), "STOPPED");
});

test("runtime settings are clamped as the server clamps them", () => {
  assert.deepEqual(clampConfig({ frame_rate: 0, frame_width: 10, frame_height: 99999 }), { frame_rate: 1, frame_width: 64, frame_height: 4096 });
  assert.deepEqual(clampConfig({ frame_rate: "300", frame_width: "512.4", frame_height: "x" }), { frame_rate: 240, frame_width: 512, frame_height: 512 });
});

test("URLs", () => {
  assert.deepEqual(serverSettings("http://127.0.0.1:8895"), { host: "127.0.0.1", port: 8895 });
  assert.deepEqual(serverSettings("http://[::1]:9000/"), { host: "::1", port: 9000 });
  assert.equal(serverSettings("javascript:alert(1)"), null);
  assert.equal(playbackLink('a"><b>'), "https://lvpr.tv/?v=a%22%3E%3Cb%3E");
  assert.equal(playbackLink(""), null);
});

test("RTTs in milliseconds, finer on loopback", () => {
  assert.equal(millis(0.012), "12 ms");
  assert.equal(millis(0.0004), "0.4 ms");
  assert.equal(millis(0.25), "250 ms");
});

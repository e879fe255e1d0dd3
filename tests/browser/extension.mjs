// The ComfyUI extension in the stand-in page (tests/browser/standin) served
// by a real aiohttp server with the pack's relay; serve's /status scripted
// (ScriptedServe), so each badge phase can be seen. Checks: settings with
// their ids and defaults, the plaintext key moved out of the settings, the
// sidebar, start -> CREATING, STARTING, ONLINE, the toolbar badge, the
// sidebar's and its icon's saying the same during REMOTE_STATUS, serve's RTT,
// stop -> STOPPED, a notification toast, a failed action's toast with the server's message,
// the key field never showing a key, a playback_id inserted as text only,
// /status polled about once a second and not while the tab is hidden.
import { launch, newPage, run, waitFor } from "./lib.mjs";

const text = (page, sel) => page.$eval(sel, (e) => e.textContent);

run(async ({ url, plaintextKey, newKey, notifyUrl, readsUrl, screenshot }) => {
  const reads = async () => (await (await fetch(readsUrl)).json()).reads;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await page.setViewport({ width: 1000, height: 640 });
    await page.goto(url);
    await waitFor(page, "the stand-in to boot", () => window.standin && window.standin.ready);

    const defs = await page.evaluate(() =>
      Object.fromEntries([...window.standin.settingDefs.values()].map((s) => [s.id, typeof s.type === "string" ? s.defaultValue : "(custom)"])),
    );
    const tabs = await page.evaluate(() => window.standin.sidebarTabs.map((t) => ({ id: t.id, title: t.title, type: t.type })));
    await page.waitForSelector('[data-testid="ddl-sidebar"]');

    // the original's plaintext key: moved to /rtc/credentials, cleared in the settings
    await waitFor(page, "the key moved out of the settings", () => window.standin.settings.get("daydream_live.api_key") === "");
    await waitFor(page, "the key field to say a key is set", () => document.querySelector('[data-testid="ddl-key-state"]')?.dataset.hasKey === "true");
    const migratedKey = await page.evaluate(() => document.querySelector('[data-testid="ddl-key-state"]').textContent);

    // badge: nothing running yet
    await waitFor(page, "STOPPED", () => document.querySelector('[data-testid="ddl-toolbar-badge"]').textContent === "STOPPED");
    await page.evaluate(() => {
      window.badgeSeen = [];
      const b = document.querySelector('[data-testid="ddl-toolbar-badge"]');
      new MutationObserver(() => {
        if (window.badgeSeen.at(-1) !== b.textContent) window.badgeSeen.push(b.textContent);
      }).observe(b, { childList: true, characterData: true, subtree: true });
    });
    await page.click('[data-testid="ddl-start"]');
    await waitFor(page, "ONLINE", () => document.querySelector('[data-testid="ddl-toolbar-badge"]').textContent === "ONLINE");
    const sidebarBadge = await text(page, '[data-testid="ddl-sidebar-badge"]');
    const stats = await text(page, '[data-testid="ddl-stats"]');
    // Daydream's status poll: all three badges from the one state
    await waitFor(page, "REMOTE_STATUS", () => document.querySelector('[data-testid="ddl-stats"]').textContent.includes("REMOTE_STATUS"));
    const remote = await page.evaluate(() => {
      const toolbar = document.querySelector('[data-testid="ddl-toolbar-badge"]');
      const r = toolbar.getBoundingClientRect();
      const rows = [...document.querySelectorAll('[data-testid="ddl-stats"] dt')].map((dt) => [dt.textContent, dt.nextElementSibling.textContent]);
      return {
        toolbar: toolbar.textContent,
        toolbarShown: r.width > 0 && r.height > 0 && !toolbar.closest("[hidden]"),
        sidebar: document.querySelector('[data-testid="ddl-sidebar-badge"]').textContent,
        icon: document.querySelector('#sidebar-icons [data-tab="DaydreamLive"] .icon-badge').textContent,
        stats: Object.fromEntries(rows),
      };
    });
    if (screenshot) await page.screenshot({ path: screenshot });
    await page.click('[data-testid="ddl-stop"]');
    await waitFor(page, "STOPPED after stop", () => document.querySelector('[data-testid="ddl-toolbar-badge"]').textContent === "STOPPED");
    const badgeSeen = await page.evaluate(() => window.badgeSeen);
    const iconAfterStop = await text(page, '#sidebar-icons [data-tab="DaydreamLive"] .icon-badge');

    // a notification from the server: a toast
    await fetch(notifyUrl, { method: "POST", body: JSON.stringify({ severity: "success", summary: "Stream ready", detail: "<b>bold?</b>" }) });
    await waitFor(page, "the notification toast", () => window.standin.toasts.some((t) => t.summary === "Stream ready"));
    const toast = await page.evaluate(() => window.standin.toasts.find((t) => t.summary === "Stream ready"));
    const toastHtml = await page.$eval("#toasts", (e) => e.innerHTML);

    // rtc-stream-widget: the node's widget takes the value
    await fetch(`${notifyUrl}?type=rtc-stream-widget`, { method: "POST", body: JSON.stringify({ node_id: 1, widget: "stop_stream", value: false }) });
    const widgetValue = await waitFor(page, "the widget set", () => window.standin.startNode.widgets[0].value === false && "false");

    // a failed action: the server's message in an error toast
    await page.evaluate(() => [...document.querySelectorAll("button")].find((b) => b.textContent === "Save").click());
    await waitFor(page, "the failure toast", () => window.standin.toasts.some((t) => t.severity === "error"));
    const failure = await page.evaluate(() => window.standin.toasts.filter((t) => t.severity === "error"));

    // the key field: typed, saved, cleared, never shown
    await page.type('[data-testid="ddl-key-input"]', newKey);
    await page.$eval('[data-testid="ddl-key-save"]', (b) => b.click());
    await waitFor(page, "the field cleared", () => document.querySelector('[data-testid="ddl-key-input"]').value === "");
    const keyState = await text(page, '[data-testid="ddl-key-state"]');
    const leaks = await page.evaluate(
      (keys) => {
        const html = document.documentElement.outerHTML;
        const values = [...document.querySelectorAll("input")].map((i) => i.value).join("\n");
        const stored = JSON.stringify([...window.standin.settings.entries()]);
        return keys.filter((k) => html.includes(k) || values.includes(k) || stored.includes(k));
      },
      [plaintextKey, newKey],
    );

    // polling: about one /status a second while visible, none while hidden
    let before = await reads();
    await sleep(4000);
    const visibleReads = (await reads()) - before;
    const other = await browser.newPage();
    await other.goto("about:blank");
    await other.bringToFront();
    const hidden = await page.evaluate(() => document.visibilityState);
    await sleep(1600); // one poll may still have been under way
    before = await reads();
    await sleep(3000);
    const hiddenReads = (await reads()) - before;
    await page.bringToFront();
    const shownAgain = await page.evaluate(() => document.visibilityState);
    before = await reads();
    await sleep(2500);
    const resumedReads = (await reads()) - before;
    return { widgetValue, migratedKey, defs, tabs, badgeSeen, sidebarBadge, stats, remote, iconAfterStop, toast, toastHtml, failure, keyState, leaks, hidden, shownAgain, visibleReads, hiddenReads, resumedReads };
  } finally {
    await browser.close();
  }
});

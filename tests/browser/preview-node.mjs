// The RTCStreamUIPreview node's player in the stand-in page, playing the
// real gateway's output of the real serve's stream (the relay in between):
// canvas pixels show the prompt's effect and change with the prompt; the
// overlay counts frames; with WebRTC blocked the JPEG stills come through
// the relay from serve's /whep/frame.
import { blockWebRtc, launch, newPage, run, waitColour, waitFor } from "./lib.mjs";

run(async ({ url, red, cyan, blocked, screenshot }) => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await page.setViewport({ width: 1000, height: 700 });
    if (blocked) await blockWebRtc(page);
    await page.goto(`${url}/?node=1`);
    await waitFor(page, "the stand-in to boot", () => window.standin && window.standin.ready);
    const size = await page.evaluate(() => window.standin.previewNode.size);
    const widgets = await page.evaluate(() => window.standin.previewNode.widgets.map((w) => w.name));
    const surface = blocked ? '[data-testid="ddl-preview-surface"] img' : '[data-testid="ddl-preview-surface"] video';
    await waitColour(page, surface, red, "the preview before the prompt", 45000);
    const patch = await page.evaluate(async (u) => {
      const res = await fetch(`${u}/api/rtc/api/pipeline`, {
        method: "PATCH",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ pipeline_config: { params: { prompt: "invert", delta: 1 } } }),
      });
      return res.status;
    }, url);
    const inverted = await waitColour(page, surface, cyan, "the preview after the 'invert' prompt");
    const overlay = () => {
      const o = document.querySelector('[data-testid="ddl-preview"] .drtc-player-overlay');
      return { frames: Number(o.dataset.frames), mode: o.dataset.mode, state: o.dataset.state, text: o.textContent };
    };
    await waitFor(page, "frames counted", () => Number(document.querySelector('[data-testid="ddl-preview"] .drtc-player-overlay').dataset.frames) > 0);
    const first = await page.evaluate(overlay);
    await waitFor(page, "more frames", (n) => Number(document.querySelector('[data-testid="ddl-preview"] .drtc-player-overlay').dataset.frames) > n, first.frames);
    const second = await page.evaluate(overlay);
    if (screenshot) await page.screenshot({ path: screenshot });
    // Reload restarts the player: it plays again
    await page.$eval('[data-testid="ddl-preview-reload"]', (b) => b.click());
    await waitColour(page, surface, cyan, "the preview after Reload");
    return { size, widgets, patch, inverted, first, second };
  } finally {
    await browser.close();
  }
});

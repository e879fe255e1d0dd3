// /preview from `daydream-rtc serve` (input and output panes) or from the
// gateway (output only): the panes play, the prompt box changes the
// gateway's effect, the stats overlay counts frames; with WebRTC blocked
// ("blocked": ICE finds no path; "forced": ?webrtc=0) the JPEG fallback
// shows the output instead.
import { blockWebRtc, launch, newPage, run, waitColour, waitFor } from "./lib.mjs";

run(async ({ url, screenshot, fallback, red, cyan, input = true }) => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    if (fallback === "blocked") await blockWebRtc(page);
    await page.setViewport({ width: 960, height: 720 });
    const query = fallback === "forced" ? "webrtc=0" : fallback === "blocked" ? "connect_timeout_ms=4000" : "";
    await page.goto(`${url}${url.includes("?") ? "&" : "?"}${query}`);
    let inputFrames = null;
    if (input) {
      inputFrames = await waitFor(page, "input stills", () => Number(document.querySelector("#input")?.dataset.frames || 0) >= 3 && document.querySelector("#input").dataset.frames);
      await waitColour(page, "#input", red, "the input pane");
    }
    const surface = fallback ? "#output img.drtc-player-image" : "#output video";
    await waitColour(page, surface, red, "the output before any prompt");
    await page.type("#prompt", "invert");
    await page.click("#prompt-form button");
    await waitFor(page, "the PATCH", () => /applied/.test(document.querySelector("#prompt-result").textContent));
    const inverted = await waitColour(page, surface, cyan, "the output after the 'invert' prompt");
    const overlay = () => {
      const o = document.querySelector(".drtc-player-overlay");
      return o && { frames: Number(o.dataset.frames), mode: o.dataset.mode, state: o.dataset.state, text: o.textContent };
    };
    await waitFor(page, "the overlay counting frames", () => Number(document.querySelector(".drtc-player-overlay")?.dataset.frames) > 0);
    const first = await page.evaluate(overlay);
    await waitFor(page, "the overlay counting on", (n) => Number(document.querySelector(".drtc-player-overlay").dataset.frames) > n, first.frames);
    const second = await page.evaluate(overlay);
    if (screenshot) await page.screenshot({ path: screenshot, fullPage: true });
    const history = await page.evaluate(() => window.drtcPlayer.history);
    return { inputFrames, inverted, first, second, history };
  } catch (err) {
    const pages = await browser.pages();
    const text = await pages[pages.length - 1].evaluate(() => document.body.innerText).catch(() => "");
    throw new Error(`${err.message}\n--- page ---\n${text}`);
  } finally {
    await browser.close();
  }
});

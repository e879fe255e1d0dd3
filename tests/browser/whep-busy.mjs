// Two viewers of a gateway that takes one (--max-viewers 1, rfc mode: a
// Location per viewer): the second waits on 429 after Retry-After; the
// first stops, DELETEing its Location; the second then plays.
import { launch, newPage, run, waitFor } from "./lib.mjs";

const playing = () => window.drtcPlayer && window.drtcPlayer.state === "playing";

run(async ({ url }) => {
  const browser = await launch();
  try {
    const a = await newPage(browser);
    await a.goto(url);
    await waitFor(a, "the first viewer playing", playing);
    const location = await a.evaluate(() => window.drtcPlayer.location);
    const b = await newPage(browser);
    await b.goto(url);
    await waitFor(b, "the second viewer told to wait", () => window.drtcPlayer && window.drtcPlayer.history.some((h) => h.startsWith("waiting: 429")));
    const firstHistory = await a.evaluate(async () => {
      await window.drtcPlayer.stop();
      return window.drtcPlayer.history;
    });
    await waitFor(b, "the second viewer playing", playing, undefined, 40000);
    const history = await b.evaluate(() => window.drtcPlayer.history);
    return { location, history, firstHistory };
  } finally {
    await browser.close();
  }
});

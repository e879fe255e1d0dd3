// A playback_id with markup in it: the sidebar's link carries it as a URL
// parameter; no element comes of it, no script runs.
import { launch, newPage, run, waitFor } from "./lib.mjs";

run(async ({ url }) => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    await page.goto(url);
    await waitFor(page, "the stand-in to boot", () => window.standin && window.standin.ready);
    await page.click('[data-testid="ddl-start"]');
    const href = await waitFor(page, "the playback link", () => {
      const a = [...document.querySelectorAll("#sidebar a")].find((x) => x.textContent === "playback page" && !x.hidden);
      return a && a.getAttribute("href");
    });
    const result = await page.evaluate(() => ({ pwned: window.pwned ?? null, imgs: document.querySelectorAll("#sidebar img").length }));
    return { href, ...result };
  } finally {
    await browser.close();
  }
});

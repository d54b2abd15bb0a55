// A citizen's visit to the public interface in Debian's headless Chromium, driven by Playwright.
//
//   node interface.mjs tasks BASE_URL           -> prints a JSON report of what the browser saw
//   node interface.mjs audit BASE_URL PATH...   -> axe-core and the 390 px width check on each page
//   node interface.mjs screenshots BASE_URL DIR -> PNG pictures of the main pages, for the README
//
// The script only observes and reports; tests/e2e/test_interface_browser.py decides what must hold.
import { readFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--disable-default-apps", "--disable-extensions"];
const [mode, base, ...rest] = process.argv.slice(2);
const origin = new URL(base).origin;

async function launch() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: FLAGS });
}

function texts(page, selector) {
  return page.$$eval(selector, (nodes) => nodes.map((node) => node.textContent.trim()));
}

async function total(page) {
  return Number(await page.getAttribute("#total", "data-total"));
}

async function tasks() {
  const browser = await launch();
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-GB" });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on("request", (request) => requests.push(request.url()));
  page.on("pageerror", (error) => problems.push(String(error)));
  page.on("console", (message) => { if (message.type() === "error") { problems.push(message.text()); } });
  const report = { steps: {} };
  try {
    // 1. Proposals about cycling on several platforms at once, from the home page's search box.
    await page.goto(base);
    await page.fill("form#search input[name=q]", "cyclable OR bicicleta");
    await Promise.all([page.waitForURL(/\/explore\?/), page.press("form#search input[name=q]", "Enter")]);
    await Promise.all([page.waitForURL(/kind=proposals/),
      page.click("section.facet[data-facet=kind] a[data-value=proposals]")]);
    report.steps.search = {
      url: page.url(), total: await total(page),
      platforms: [...new Set(await texts(page, "ol#results li.result .platform"))],
      kinds: [...new Set(await texts(page, "ol#results li.result .kind"))],
      titles: await texts(page, "ol#results li.result a.title"),
    };
    // 2. Narrowed to one platform and one status.
    await Promise.all([page.waitForURL(/platform=/),
      page.click("section.facet[data-facet=platform] li:first-child a")]);
    await Promise.all([page.waitForURL(/status=/), page.click("section.facet[data-facet=status] li:first-child a")]);
    report.steps.narrowed = {
      url: page.url(), total: await total(page),
      platforms: [...new Set(await texts(page, "ol#results li.result .platform"))],
      statuses: [...new Set(await texts(page, "ol#results li.result .status"))],
    };
    // 3. The map: every located contribution, then zoomed to one district's cluster; the list follows.
    await page.goto(`${base}explore?located=yes`);
    await page.waitForSelector("#map .leaflet-marker-icon");
    const before = { total: await total(page), platforms: [...new Set(await texts(page, "li.result .platform"))] };
    // The reader drags the first cluster (or marker) to the middle of the map and zooms in twice.
    const target = (await page.$$("#map .marker-cluster, #map .leaflet-marker-icon"))[0];
    const spot = await target.boundingBox();
    const frame = await page.locator("#map").boundingBox();
    const [fromX, fromY] = [spot.x + spot.width / 2 + 40, spot.y + spot.height / 2 + 40];
    await page.mouse.move(fromX, fromY);
    await page.mouse.down();
    await page.mouse.move(frame.x + frame.width / 2 + 40, frame.y + frame.height / 2 + 40, { steps: 8 });
    await page.mouse.up();
    await page.waitForURL(/bbox=/);
    for (let step = 0; step < 2; step += 1) {
      await page.click("#map .leaflet-control-zoom-in");
      await page.waitForTimeout(600);
    }
    await page.waitForFunction(() => document.querySelector("#map-status").textContent.trim() ===
      document.querySelector("#map-status").dataset.done);
    report.steps.map = {
      before, url: page.url(), total: await total(page),
      platforms: [...new Set(await texts(page, "li.result .platform"))],
      markers: (await page.$$("#map .leaflet-marker-icon")).length,
    };
    // 4. A proposal with a reply that came from another platform.
    await page.goto(`${base}explore?q=${encodeURIComponent("Victor-Hugo")}&kind=proposals`);
    await Promise.all([page.waitForURL(/\/contribution\?/), page.click("ol#results li.result a.title")]);
    report.steps.contribution = {
      url: page.url(),
      platform: (await texts(page, "article.contribution .platform"))[0] || null,
      replies: await page.$$eval("section#replies li.reply", (items) => items.map((item) => ({
        platform: (item.querySelector(".platform") || {}).textContent?.trim() || null,
        stance: (item.querySelector(".stance") || {}).textContent?.trim() || null,
        text: item.textContent.trim().slice(0, 200),
      }))),
      minimap: (await page.$$("#minimap .leaflet-marker-icon")).length,
    };
    // 5. The interface in Catalan.
    await Promise.all([page.waitForNavigation(), page.click("nav#languages a[hreflang=ca]")]);
    report.steps.catalan = {
      url: page.url(), lang: await page.getAttribute("html", "lang"),
      navigation: await texts(page, "header nav a, nav[aria-label] a"),
      heading: (await texts(page, "h1"))[0] || null,
    };
    await page.goto(`${base}explore`);
    report.steps.catalanExplore = { lang: await page.getAttribute("html", "lang"),
      heading: (await texts(page, "h1"))[0] || null };
  } catch (error) {
    report.error = String(error && error.stack || error);
    report.failedAt = page.url();
  }
  report.requests = requests.length;
  report.foreign = requests.filter((url) => !url.startsWith(origin + "/") && !url.startsWith("data:"));
  report.problems = problems;
  await browser.close();
  return report;
}

async function audit(paths) {
  const browser = await launch();
  // axe is evaluated into the page through the DevTools protocol; the pages' own CSP still applies to them.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "en-GB" });
  const page = await context.newPage();
  const requests = [];
  page.on("request", (request) => requests.push(request.url()));
  const pages = [];
  for (const path of paths) {
    const response = await page.goto(base + path.replace(/^\//, ""));
    await page.waitForLoadState("networkidle");
    await page.evaluate(AXE);
    const results = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }));
    const width = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth }));
    pages.push({ path, status: response.status(), lang: await page.getAttribute("html", "lang"), width,
      violations: results.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 3).map((n) => n.target.join(" ")) })) });
  }
  await browser.close();
  return { pages, foreign: requests.filter((url) => !url.startsWith(origin + "/") && !url.startsWith("data:")) };
}

async function screenshots(directory) {
  mkdirSync(directory, { recursive: true });
  const browser = await launch();
  const shots = [];
  const views = [["home", "", 1280], ["explore", "explore?q=cyclable+OR+bicicleta&kind=proposals", 1280],
    ["explore-map", "explore?located=yes", 1280], ["phone", "explore?located=yes&locale=ca", 390]];
  for (const [name, path, width] of views) {
    const context = await browser.newContext({ viewport: { width, height: width > 400 ? 900 : 844 },
      locale: "en-GB", deviceScaleFactor: 1 });
    const page = await context.newPage();
    await page.goto(base + path);
    await page.waitForLoadState("networkidle");
    const file = `${directory}/${name}.png`;
    await page.screenshot({ path: file, fullPage: false });
    shots.push(file);
    await context.close();
  }
  await browser.close();
  return { shots };
}

const run = { tasks: () => tasks(), audit: () => audit(rest), screenshots: () => screenshots(rest[0]) }[mode];
if (!run) {
  console.error("usage: interface.mjs tasks|audit|screenshots BASE_URL [PATH...|DIR]");
  process.exit(2);
}
console.log(JSON.stringify(await run()));

// Measures the front end as a user on a phone connection gets it (prints numbers; asserts
// nothing). Starts the dashboard in demo mode, signs in, then for each journey opens a fresh
// page with an empty cache under DevTools' "Fast 4G" profile (9 Mbit/s × 0.9 down,
// 1.5 Mbit/s × 0.9 up, 165 ms latency) and a 4× CPU slowdown, and reports:
//
// - the bytes of /pkg (wasm, JS, CSS) the page fetched, as served (compressed) and
//   decoded, and per file;
// - tag list: time from navigation until the 10,000-tag list answers a typed filter
//   without a page load;
// - policy page: time from navigation until the preview follows a changed field.
//
// Run: `node scripts/measure-frontend.mjs [--runs 3] [--bin target/release/registry-dash]
// [--site target/site]`
// (after `scripts/build-site.sh`; a release server build keeps server time out of it).
import { spawn } from 'node:child_process';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { chromium } = await import(path.join(root, 'end2end/node_modules/playwright-core/index.mjs'));

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const runs = Number(arg('--runs', '3'));
const bin = path.resolve(root, arg('--bin', 'target/release/registry-dash'));
const site = path.resolve(root, arg('--site', 'target/site'));
if (!fs.existsSync(bin)) throw new Error(`${bin} not found: cargo build --release -p server --bin registry-dash`);

const FAST_4G = {
  offline: false,
  downloadThroughput: ((9 * 1000 * 1000) / 8) * 0.9,
  uploadThroughput: ((1.5 * 1000 * 1000) / 8) * 0.9,
  latency: 60 * 2.75,
};
const CPU_SLOWDOWN = 4;

function startServer() {
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      REGISTRY_DASH_LISTEN: '127.0.0.1:0',
      REGISTRY_DASH_DEMO: '1',
      REGISTRY_DASH_SITE_ROOT: site,
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const found = {};
    child.stdout.on('data', (chunk) => {
      buffer += chunk.toString();
      for (const line of buffer.split('\n')) {
        const app = line.match(/^registry-dash listening on (http:\/\/\S+)/);
        const gitlab = line.match(/^gitlab double at (http:\/\/\S+)/);
        if (app) found.app = app[1];
        if (gitlab) found.gitlab = gitlab[1];
      }
      if (found.app && found.gitlab) resolve({ child, ...found });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${buffer}`)));
  });
}

const hydrated = (page) =>
  page.waitForFunction(() => {
    const theme = document.querySelector('.theme-toggle');
    return theme !== null && !theme.disabled;
  }, null, { timeout: 120_000 });

/** A fresh page, cache off, throttled, counting what /pkg costs on the wire. */
async function throttledPage(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', FAST_4G);
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
  const urls = new Map();
  const files = new Map();
  cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId);
    if (url && new URL(url).pathname.startsWith('/pkg/')) {
      files.set(new URL(url).pathname, e.encodedDataLength);
    }
  });
  return { page, files };
}

async function journey(context, base, name, steps) {
  const times = [];
  let files = new Map();
  for (let i = 0; i < runs; i++) {
    const t = await throttledPage(context);
    const started = Date.now();
    await steps(t.page, base);
    times.push(Date.now() - started);
    files = t.files;
    await t.page.close();
  }
  times.sort((a, b) => a - b);
  const wire = [...files.values()].reduce((a, b) => a + b, 0);
  console.log(`${name}: median ${times[Math.floor(times.length / 2)]} ms (runs: ${times.join(', ')} ms)`);
  console.log(`  /pkg on the wire: ${(wire / 1024).toFixed(1)} KiB`);
  for (const [file, bytes] of [...files.entries()].sort()) {
    console.log(`    ${file}: ${(bytes / 1024).toFixed(1)} KiB`);
  }
}

const { child, app, gitlab } = await startServer();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  // Sign in and warm the server's tag index, unthrottled: only the front end is measured.
  await page.goto(`${app}/i/demo/repositories/3`);
  await page.getByRole('link', { name: /Sign in with the demo GitLab/ }).click();
  await page.getByRole('button', { name: /@?maria\b/ }).first().click();
  await page.waitForURL((u) => u.toString().startsWith(app) && !u.pathname.startsWith('/auth/'));
  await page.waitForFunction(() => !document.querySelector('[data-testid="index-progress"]'), null, { timeout: 120_000 })
    .catch(() => {});
  await page.goto(`${app}/i/demo/cleanup/acme/web`);
  await page.close();

  await journey(context, app, 'tag list (10,000 tags): navigation → typed filter answered', async (p, base) => {
    await p.goto(`${base}/i/demo/repositories/3?sort=name_asc`);
    await hydrated(p);
    await p.evaluate(() => { window.__samePage = true; });
    await p.getByRole('searchbox').fill('v1.2');
    await p.getByRole('searchbox').press('Enter');
    await p.waitForFunction(() => /q=v1\.2/.test(location.search)
      && /match/.test(document.querySelector('[data-testid="tag-summary"]')?.textContent ?? ''),
    null, { timeout: 120_000 });
    if (!(await p.evaluate(() => window.__samePage === true))) throw new Error('the filter reloaded the page');
  });

  await journey(context, app, 'policy page: navigation → preview follows a changed field', async (p, base) => {
    await p.goto(`${base}/i/demo/cleanup/acme/web`);
    await hydrated(p);
    await p.evaluate(() => {
      window.__samePage = true;
      window.__before = document.querySelector('[data-testid="preview-total"]')?.textContent;
    });
    await p.getByLabel('Keep the most recent').selectOption('');
    await p.getByLabel('Remove tags older than').selectOption('');
    await p.waitForFunction(() => {
      const now = document.querySelector('[data-testid="preview-total"]')?.textContent;
      return now && now !== window.__before;
    }, null, { timeout: 120_000 });
    if (!(await p.evaluate(() => window.__samePage === true))) throw new Error('the change reloaded the page');
  });
} finally {
  await browser.close();
  child.kill('SIGTERM');
}

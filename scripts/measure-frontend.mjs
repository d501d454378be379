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
// [--site target/site] [--tls] [--tag-query 'sort=name_asc&per_page=50']`
// (`--tag-query`: the tag list's query; by default the name order at the default page size).
// (after `scripts/build-site.sh`; a release server build keeps server time out of it).
//
// `--tls` puts Debian's haproxy in front, as a production proxy would: TLS with a throwaway
// self-signed certificate and HTTP/2, so the browser fetches every file of a page over one
// connection at once instead of six HTTP/1.1 connections taking turns (each request pays the
// profile's 165 ms). Needs Debian's haproxy and openssl.
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
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
const tls = process.argv.includes('--tls');
const tagQuery = arg('--tag-query', 'sort=name_asc').replace(/^\?/, '');
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

/** `count` distinct free loopback ports (each probe stays open until all are known). */
async function freePorts(count) {
  const probes = [];
  try {
    for (let i = 0; i < count; i++) {
      const probe = net.createServer();
      probes.push(probe);
      await new Promise((resolve, reject) => {
        probe.on('error', reject);
        probe.listen(0, '127.0.0.1', resolve);
      });
    }
    return probes.map((p) => p.address().port);
  } finally {
    await Promise.all(probes.map((p) => new Promise((r) => p.close(() => r()))));
  }
}

const waitForPort = async (port) => {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => { socket.end(); resolve(true); });
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`nothing listens on ${port}`);
};

/** haproxy terminating TLS (HTTP/2 or HTTP/1.1 by ALPN) in front of `backend`. Returns
 * what `stop` needs even when it fails half-way (the directory holds a private key). */
async function startProxy(port, backend, started) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'measure-tls-'));
  started.proxy = { dir, child: null };
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1'], { stdio: 'ignore' });
  const pem = path.join(dir, 'site.pem');
  fs.writeFileSync(pem, fs.readFileSync(cert, 'utf8') + fs.readFileSync(key, 'utf8'));
  const config = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(config, [
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend dashboard',
    `  bind 127.0.0.1:${port} ssl crt ${pem} alpn h2,http/1.1`,
    '  default_backend app',
    'backend app',
    `  server app ${backend}`,
    '',
  ].join('\n'));
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  started.proxy.child = child;
  const failed = new Promise((_, reject) => {
    child.on('error', (e) => reject(new Error(`haproxy did not start: ${e.message}`)));
    child.on('exit', (code) => reject(new Error(`haproxy exited with ${code}`)));
  });
  await Promise.race([waitForPort(port), failed]);
}

/** Stops whatever `startServer` started, however far it got. */
function stop(started) {
  started.child?.kill('SIGTERM');
  if (started.proxy) {
    started.proxy.child?.kill('SIGTERM');
    fs.rmSync(started.proxy.dir, { recursive: true, force: true });
  }
}

/** Starts the server (and with `--tls` the proxy) into `started`, so that `stop` can end
 * them whatever fails. */
async function startServer(started) {
  const [proxyPort, appPort] = tls ? await freePorts(2) : [null, 0];
  const child = spawn(bin, [], {
    env: {
      ...process.env,
      REGISTRY_DASH_LISTEN: `127.0.0.1:${appPort}`,
      ...(tls ? { REGISTRY_DASH_PUBLIC_URL: `https://127.0.0.1:${proxyPort}` } : {}),
      REGISTRY_DASH_DEMO: '1',
      REGISTRY_DASH_SITE_ROOT: site,
      RUST_LOG: 'warn',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.child = child;
  const found = await new Promise((resolve, reject) => {
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
      if (found.app && found.gitlab) resolve(found);
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${buffer}`)));
  });
  if (!tls) return found.app;
  await startProxy(proxyPort, `127.0.0.1:${appPort}`, started);
  return `https://127.0.0.1:${proxyPort}`;
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
  const protocols = new Set();
  const documents = new Map();
  cdp.on('Network.responseReceived', (e) => {
    urls.set(e.requestId, e.response.url);
    protocols.add(e.response.protocol);
  });
  cdp.on('Network.loadingFinished', (e) => {
    const url = urls.get(e.requestId);
    if (url && new URL(url).pathname.startsWith('/pkg/')) {
      files.set(new URL(url).pathname, e.encodedDataLength);
    } else if (url && new URL(url).pathname.startsWith('/i/')) {
      documents.set(new URL(url).pathname, e.encodedDataLength);
    }
  });
  return { page, files, protocols, documents };
}

async function journey(context, base, name, steps) {
  const times = [];
  const marks = [];
  let files = new Map();
  let protocols = new Set();
  let documents = new Map();
  for (let i = 0; i < runs; i++) {
    const t = await throttledPage(context);
    const started = Date.now();
    const mark = {};
    await steps(t.page, base, () => { mark.hydrated = Date.now() - started; });
    times.push(Date.now() - started);
    marks.push(mark.hydrated);
    files = t.files;
    protocols = t.protocols;
    documents = t.documents;
    await t.page.close();
  }
  times.sort((a, b) => a - b);
  const wire = [...files.values()].reduce((a, b) => a + b, 0);
  console.log(`${name}: median ${times[Math.floor(times.length / 2)]} ms (runs: ${times.join(', ')} ms)`);
  marks.sort((a, b) => a - b);
  console.log(`  of which until hydrated: median ${marks[Math.floor(marks.length / 2)]} ms`);
  console.log(`  /pkg on the wire: ${(wire / 1024).toFixed(1)} KiB in ${files.size} files (${[...protocols].join(', ')})`);
  for (const [doc, bytes] of documents) {
    console.log(`  document ${doc} on the wire: ${(bytes / 1024).toFixed(1)} KiB`);
  }
  for (const [file, bytes] of [...files.entries()].sort()) {
    console.log(`    ${file}: ${(bytes / 1024).toFixed(1)} KiB`);
  }
}

const started = {};
let browser = null;
try {
  const app = await startServer(started);
  console.log(tls ? `through haproxy, TLS + HTTP/2: ${app}` : `direct, HTTP/1.1: ${app}`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ...(tls ? ['--ignore-certificate-errors'] : [])],
  });
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

  await journey(context, app, `tag list (10,000 tags, ?${tagQuery}): navigation → typed filter answered`, async (p, base, hydratedAt) => {
    await p.goto(`${base}/i/demo/repositories/3?${tagQuery}`);
    await hydrated(p);
    hydratedAt();
    await p.evaluate(() => { window.__samePage = true; });
    await p.getByRole('searchbox').fill('v1.2');
    await p.getByRole('searchbox').press('Enter');
    await p.waitForFunction(() => /q=v1\.2/.test(location.search)
      && /match/.test(document.querySelector('[data-testid="tag-summary"]')?.textContent ?? ''),
    null, { timeout: 120_000 });
    if (!(await p.evaluate(() => window.__samePage === true))) throw new Error('the filter reloaded the page');
  });

  await journey(context, app, 'policy page: navigation → preview follows a changed field', async (p, base, hydratedAt) => {
    await p.goto(`${base}/i/demo/cleanup/acme/web`);
    await hydrated(p);
    hydratedAt();
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
  await browser?.close();
  stop(started);
}

// The bundle budget, measured (scripts/budget runs this after the release build).
//
// Starts the release server on a free port with a fresh data directory, makes an owner, an
// organization and an invite through the JSON API, then loads the sign-in, registration and
// invite pages in Chromium:
//   - cold, in a fresh browser context, under Lighthouse's mobile throttling (150 ms latency,
//     1.6 Mbit/s down, 750 kbit/s up, CPU slowed 4×) and once more unthrottled: the bytes on
//     the wire (CDP encodedDataLength of the HTML and everything it pulls until hydrated and
//     the network is quiet) and the time from navigation start to <body data-hydrated>;
//   - a second visit in the same context: bytes on the wire, and those of /pkg/ files.
// Then every file of the site's pkg/ with its raw, gzip and brotli size.
//
//   node end2end/budget/measure.mjs [--runs N] [--json FILE] [--bin PATH] [--site DIR]
//
// GATEHOUSE_BIN / GATEHOUSE_SITE (set by scripts/budget) name the server and its site;
// CHROMIUM the browser (default /usr/bin/chromium). A measurement: it exits 0 whatever
// the figures.
import { chromium } from '@playwright/test';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET = { coldBytes: 200 * 1024, throttledMs: 2500 };
// Lighthouse's mobile profile, as DevTools throttling: kbit/s × 1024 / 8 = bytes/s.
const THROTTLED = { offline: false, latency: 150, downloadThroughput: (1638.4 * 1024) / 8, uploadThroughput: (750 * 1024) / 8 };
const CPU_SLOWDOWN = 4;

const opts = parseArgs(process.argv.slice(2));
const targetDir = process.env.CARGO_TARGET_DIR ?? join(homedir(), '.cache', 'gatehouse', 'target');
const BIN = opts.bin ?? process.env.GATEHOUSE_BIN ?? join(targetDir, 'release', 'gatehouse');
const SITE = opts.site ?? process.env.GATEHOUSE_SITE ?? join(ROOT, 'target', 'site');

function parseArgs(argv) {
  const o = { runs: 5, json: null, bin: null, site: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--runs') o.runs = Math.max(1, Number(value()) || usage('--runs needs a number'));
    else if (a === '--json') o.json = value();
    else if (a === '--bin') o.bin = value();
    else if (a === '--site') o.site = value();
    else usage(`unknown argument ${a}`);
  }
  return o;
}

function usage(msg) {
  console.error(`${msg}\nusage: measure.mjs [--runs N] [--json FILE] [--bin PATH] [--site DIR]`);
  process.exit(2);
}

/** The Chromium flags of playwright.config.ts, so both measure the same browser. */
function chromiumArgs() {
  const config = readFileSync(join(ROOT, 'end2end', 'playwright.config.ts'), 'utf8');
  const list = config.match(/args:\s*\[([^\]]*)\]/);
  return list ? [...list[1].matchAll(/'([^']*)'/g)].map((m) => m[1]) : ['--headless', '--no-sandbox'];
}

// ---------------------------------------------------------------- the server

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startServer() {
  if (!existsSync(BIN)) throw new Error(`no server binary at ${BIN} (build first: scripts/budget)`);
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-budget-'));
  const base = `http://127.0.0.1:${port}`;
  const child = spawn(BIN, ['serve'], {
    env: { ...process.env, APP_ADDR: `127.0.0.1:${port}`, APP_DATA_DIR: dataDir, LEPTOS_SITE_ROOT: SITE,
      APP_REGISTER_LIMIT_PER_IP: '0', RUST_LOG: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = null;
  child.on('exit', (code) => { exited = code; });
  const stop = () => { if (exited === null) child.kill('SIGTERM'); rmSync(dataDir, { recursive: true, force: true }); };
  process.on('exit', stop);
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));
  for (let i = 0; i < 600; i++) {
    if (exited !== null) throw new Error(`the server exited (${exited}) before it was ready`);
    const ok = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (ok) return { base, dataDir, stop };
    await sleep(100);
  }
  throw new Error('the server did not answer /healthz within 60 s');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** An owner, an organization and an invite (JSON API); returns the invite page's path. */
async function makeInvite(base, dataDir) {
  let cookie = '';
  const api = async (path, body) => {
    const res = await fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify(body) });
    const set = res.headers.getSetCookie().map((c) => c.split(';')[0]);
    if (set.length) cookie = set.join('; ');
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
  };
  await api('/api/0/auth/register/', { email: 'owner@example.com', name: 'Olive Owner', password: 'vivid-harbor-lantern-42' });
  await api('/api/0/organizations/', { name: 'Budget Org', slug: 'budget' });
  await api('/api/0/organizations/budget/members/', { email: 'invitee@example.com', role: 'member' });
  const mail = join(dataDir, 'mail');
  for (let i = 0; i < 300; i++) {
    for (const f of existsSync(mail) ? readdirSync(mail) : []) {
      const raw = readFileSync(join(mail, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '=');
      const m = raw.includes('To: invitee@example.com') && raw.match(/https?:\/\/[^\s"<]+(\/accept\/\d+\/[0-9a-f]{64}\/)/);
      if (m) return m[1];
    }
    await sleep(100);
  }
  throw new Error('no invite mail within 30 s');
}

// ---------------------------------------------------------------- the browser

/** Records when <body data-hydrated> appears, in ms from navigation start. */
const HYDRATION_PROBE = () => {
  new MutationObserver(() => {
    if (window.__hydratedAt === undefined && document.body?.getAttribute('data-hydrated') === 'true') {
      window.__hydratedAt = performance.now();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ['data-hydrated'] });
};

/** Every request of a page through CDP: URL, bytes on the wire, whether a cache answered. */
function watchNetwork(cdp) {
  let requests = new Map();
  const get = (id) => requests.get(id) ?? requests.set(id, { url: '', bytes: 0, done: false, cached: false }).get(id);
  cdp.on('Network.requestWillBeSent', (e) => { const r = get(e.requestId); r.url = e.request.url; r.done = false; });
  cdp.on('Network.requestServedFromCache', (e) => { get(e.requestId).cached = true; });
  cdp.on('Network.responseReceived', (e) => {
    const r = get(e.requestId);
    r.status = e.response.status;
    r.encoding = e.response.headers['content-encoding'] ?? e.response.headers['Content-Encoding'] ?? '';
    if (e.response.fromDiskCache || e.response.fromServiceWorker) r.cached = true;
  });
  cdp.on('Network.loadingFinished', (e) => { const r = get(e.requestId); r.bytes = e.encodedDataLength; r.done = true; });
  cdp.on('Network.loadingFailed', (e) => { const r = get(e.requestId); r.done = true; r.failed = e.errorText; });
  return {
    /** Waits until nothing has been in flight for 500 ms (at most 30 s). */
    async quiet() {
      let since = Date.now();
      for (const end = Date.now() + 30_000; Date.now() < end; await sleep(50)) {
        if ([...requests.values()].some((r) => !r.done)) since = Date.now();
        else if (Date.now() - since >= 500) return;
      }
    },
    /** The requests so far, and a fresh start. */
    take() { const list = [...requests.values()]; requests = new Map(); return list; },
  };
}

const isPkg = (url) => new URL(url).pathname.startsWith('/pkg/');
const sum = (list) => list.reduce((n, r) => n + r.bytes, 0);

/** ms from navigation start to <body data-hydrated>, or null when it never comes (60 s). */
async function hydrated(page) {
  const handle = await page.waitForFunction(() => window.__hydratedAt, null, { timeout: 60_000, polling: 50 }).catch(() => null);
  return handle && handle.jsonValue();
}

/** One cold load of `url` (and, when `second`, a second visit in the same context). */
async function load(browser, url, throttled, second) {
  const context = await browser.newContext();
  try {
    await context.addInitScript(HYDRATION_PROBE);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    const cdp = await context.newCDPSession(page);
    const net = watchNetwork(cdp);
    await cdp.send('Network.enable');
    if (throttled) {
      await cdp.send('Network.emulateNetworkConditions', THROTTLED);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    }
    await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
    const ms = await hydrated(page);
    await net.quiet();
    const cold = net.take();
    const out = { ms, coldBytes: sum(cold), pkg: cold.filter((r) => isPkg(r.url)), errors };
    if (ms === null) errors.push('cold load: never hydrated');
    if (second) {
      await page.goto(url, { waitUntil: 'commit', timeout: 120_000 });
      if ((await hydrated(page)) === null) errors.push('second visit: never hydrated');
      await net.quiet();
      const again = net.take();
      out.secondBytes = sum(again);
      out.secondPkgBytes = sum(again.filter((r) => isPkg(r.url)));
      out.secondPkgFromNetwork = again.filter((r) => isPkg(r.url) && !r.cached).map((r) => `${name(r.url)} ${r.status}`);
    }
    return out;
  } finally {
    await context.close();
  }
}

const name = (url) => new URL(url).pathname.replace(/^\/pkg\//, '');

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

// ---------------------------------------------------------------- the pkg files

function pkgFiles(dir = join(SITE, 'pkg')) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...pkgFiles(path));
    else if (!/\.(br|gz)$/.test(entry.name)) out.push(path);
  }
  return out;
}

function chunkTable() {
  return pkgFiles().map((path) => {
    const raw = readFileSync(path);
    const sibling = (ext, compress) => (existsSync(`${path}.${ext}`)
      ? { bytes: statSync(`${path}.${ext}`).size, from: 'file' }
      : { bytes: compress(raw).length, from: 'node' });
    return {
      file: relative(join(SITE, 'pkg'), path),
      raw: raw.length,
      gzip: sibling('gz', (b) => gzipSync(b, { level: 9 })),
      brotli: sibling('br', (b) => brotliCompressSync(b, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11 } })),
    };
  }).sort((a, b) => b.raw - a.raw);
}

// ---------------------------------------------------------------- printing

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const bytes = (n) => n.toLocaleString('en-US');

function table(header, rows) {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

// ---------------------------------------------------------------- main

const server = await startServer();
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: chromiumArgs() });
try {
  const invitePath = await makeInvite(server.base, server.dataDir);
  const pages = [['/auth/login/', '/auth/login/'], ['/auth/register/', '/auth/register/'], ['invite page', invitePath]];
  const results = [];
  for (const [label, path] of pages) {
    const url = server.base + path;
    const throttled = [];
    const plain = [];
    for (let i = 0; i < opts.runs; i++) {
      throttled.push(await load(browser, url, true, true));
      plain.push(await load(browser, url, false, false));
    }
    results.push({
      page: label,
      coldBytes: median(throttled.map((r) => r.coldBytes)),
      secondBytes: median(throttled.map((r) => r.secondBytes)),
      secondPkgBytes: median(throttled.map((r) => r.secondPkgBytes)),
      secondPkgFromNetwork: [...new Set(throttled.flatMap((r) => r.secondPkgFromNetwork))],
      hydratedThrottledMs: Math.round(median(throttled.map((r) => r.ms).filter((ms) => ms !== null))),
      hydratedMs: Math.round(median(plain.map((r) => r.ms).filter((ms) => ms !== null))),
      errors: [...new Set([...throttled, ...plain].flatMap((r) => r.errors))],
      runs: { throttledMs: throttled.map((r) => (r.ms === null ? 'never' : Math.round(r.ms))),
        unthrottledMs: plain.map((r) => (r.ms === null ? 'never' : Math.round(r.ms))),
        coldBytes: throttled.map((r) => r.coldBytes), pkgFiles: throttled.map((r) => r.pkg.length),
        secondPkgBytes: throttled.map((r) => r.secondPkgBytes) },
      pkg: throttled[0].pkg.map((r) => ({ file: name(r.url), bytes: r.bytes, encoding: r.encoding || 'identity', status: r.status })),
    });
  }
  const chunks = chunkTable();

  console.log(`\nBundle budget: ${opts.runs} runs per page, medians; throttled = 150 ms, 1.6 Mbit/s down, 750 kbit/s up, CPU ×${CPU_SLOWDOWN}`);
  console.log(`server ${BIN}\nsite   ${SITE}\n`);
  console.log(table(
    ['page', 'cold bytes', `target ≤ ${kib(TARGET.coldBytes)}`, '2nd visit bytes', '2nd visit /pkg bytes', 'hydrated throttled', `target ≤ ${TARGET.throttledMs} ms`, 'hydrated unthrottled'],
    results.map((r) => [r.page, bytes(r.coldBytes), `${kib(r.coldBytes)} ${r.coldBytes <= TARGET.coldBytes ? 'within' : 'OVER'}`,
      bytes(r.secondBytes), bytes(r.secondPkgBytes), `${r.hydratedThrottledMs} ms`,
      r.hydratedThrottledMs <= TARGET.throttledMs ? 'within' : 'OVER', `${r.hydratedMs} ms`]),
  ));
  for (const r of results) {
    const big = r.pkg.filter((f) => f.bytes >= 4096);
    const small = r.pkg.filter((f) => f.bytes < 4096);
    console.log(`\n${r.page}: ${r.pkg.length} /pkg files on a cold load, ${bytes(sum(r.pkg))} bytes on the wire (encoding)`);
    for (const f of big) console.log(`  ${f.file.padEnd(78)} ${bytes(f.bytes).padStart(9)}  ${f.encoding}${f.status === 200 ? '' : ` ${f.status}`}`);
    if (small.length) {
      const list = small.map((f) => `${f.file.replace(/\.[A-Za-z0-9_-]{22}\.wasm$/, '')} ${bytes(f.bytes)}${f.encoding === 'br' ? '' : ` ${f.encoding}`}`);
      console.log(`  ${small.length} files under 4 KiB, ${bytes(sum(small))} bytes (${[...new Set(small.map((f) => f.encoding))].join(', ')}):`);
      for (let i = 0; i < list.length; i += 6) console.log(`    ${list.slice(i, i + 6).join(', ')}`);
    }
    if (r.secondPkgFromNetwork.length) console.log(`  a second visit asked the network for: ${r.secondPkgFromNetwork.join(', ')}`);
    for (const e of r.errors) console.log(`  error: ${e.slice(0, 300)}`);
    console.log(`  runs: hydrated throttled ${r.runs.throttledMs.join(' ')} ms; unthrottled ${r.runs.unthrottledMs.join(' ')} ms`);
    console.log(`        cold bytes ${r.runs.coldBytes.join(' ')} (/pkg files ${r.runs.pkgFiles.join(' ')}); second-visit /pkg bytes ${r.runs.secondPkgBytes.join(' ')}`);
  }
  const cell = (c) => `${bytes(c.bytes)}${c.from === 'node' ? '*' : ''}`;
  console.log(`\nFiles in ${join(SITE, 'pkg')} (* = compressed here by node; else the .gz/.br beside the file)\n`);
  console.log(table(['file', 'raw', 'gzip', 'brotli'], [
    ...chunks.map((c) => [c.file, bytes(c.raw), cell(c.gzip), cell(c.brotli)]),
    ['total', bytes(chunks.reduce((n, c) => n + c.raw, 0)), bytes(chunks.reduce((n, c) => n + c.gzip.bytes, 0)),
      bytes(chunks.reduce((n, c) => n + c.brotli.bytes, 0))],
  ]));
  if (opts.json) {
    writeFileSync(opts.json, `${JSON.stringify({ date: new Date().toISOString(), bin: BIN, site: SITE, runs: opts.runs,
      throttling: { ...THROTTLED, cpuSlowdown: CPU_SLOWDOWN }, targets: TARGET, pages: results, files: chunks }, null, 2)}\n`);
    console.log(`\nfigures written to ${opts.json}`);
  }
} finally {
  await browser.close();
  server.stop();
}

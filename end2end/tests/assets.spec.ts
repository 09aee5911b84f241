import { test, expect } from '@playwright/test';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { basename } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { open } from '../fixtures/app';

/**
 * How the release build's bundle is served (issue 17): the wasm, JavaScript and stylesheet a
 * page names are precompressed (brotli, else gzip, else the plain bytes, the same bytes in
 * each), carry a content hash in their names and are cached for a year as immutable, so a
 * second visit fetches none of them; pages never are.
 */

const PLAIN_NAMES = ['gatehouse.js', 'gatehouse.wasm', 'gatehouse_bg.wasm', 'gatehouse.css'];

type Raw = { status: number; headers: IncomingHttpHeaders; body: Buffer };

/** A GET with exactly these headers, the body as it came over the wire (not decoded). */
function rawGet(url: string, headers: Record<string, string>): Promise<Raw> {
  return new Promise((resolve, reject) => {
    httpGet(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

/** The bundle files a page's HTML names: module preloads, fetch preloads and stylesheets. */
function bundleLinks(html: string, base: string): string[] {
  const urls: string[] = [];
  for (const [tag] of html.matchAll(/<link\b[^>]*>/gi)) {
    const attr = (name: string) => tag.match(new RegExp(`\\s${name}=(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i'))?.slice(1).find((v) => v !== undefined);
    const rel = (attr('rel') ?? '').toLowerCase();
    const href = attr('href');
    if (!href) continue;
    if (rel === 'modulepreload' || rel === 'stylesheet' || (rel === 'preload' && attr('as') === 'fetch')) {
      urls.push(new URL(href, base).toString());
    }
  }
  return [...new Set(urls)];
}

test.describe('the bundle, as the release server serves it', () => {
  test('bundle files are precompressed, hashed and immutable; pages are not immutable', async ({ baseURL }) => {
    // Every departure from the contract, one line each, so a failure lists them all at once.
    const problems: string[] = [];
    const check = (ok: boolean, what: string) => { if (!ok) problems.push(what); };

    for (const path of ['/auth/login/', '/auth/register/']) {
      const page = await rawGet(baseURL + path, { accept: 'text/html', 'accept-encoding': 'identity' });
      expect(page.status, path).toBe(200);
      const cache = String(page.headers['cache-control'] ?? '');
      check(!cache.includes('immutable'), `page ${path}: cache-control "${cache}" must not be immutable`);
    }
    // A name a newer build might create must not be remembered as missing.
    const missing = await rawGet(`${baseURL}/pkg/gatehouse.AAAAAAAAAAAAAAAAAAAAAA.wasm`, { 'accept-encoding': 'br, gzip' });
    const missingCache = String(missing.headers['cache-control'] ?? '');
    check(missing.status === 404, `a missing /pkg/ file: status ${missing.status}, want 404`);
    check(!missingCache.includes('immutable'), `a missing /pkg/ file: cache-control "${missingCache}" must not be immutable`);

    const html = (await rawGet(`${baseURL}/auth/login/`, { accept: 'text/html', 'accept-encoding': 'identity' })).body.toString('utf8');
    const files = bundleLinks(html, baseURL!);
    for (const ext of ['.js', '.wasm', '.css']) {
      expect(files.filter((u) => new URL(u).pathname.endsWith(ext)), `the login page names a ${ext} file: ${files.join(' ')}`).not.toHaveLength(0);
    }
    for (const url of files) {
      const name = basename(new URL(url).pathname);
      check(!PLAIN_NAMES.includes(name) && /\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/.test(name), `${name}: no content hash in the name`);

      const br = await rawGet(url, { 'accept-encoding': 'br, gzip' });
      const gz = await rawGet(url, { 'accept-encoding': 'gzip' });
      const plain = await rawGet(url, { 'accept-encoding': 'identity' });
      for (const [asked, res, encoding] of [['br, gzip', br, 'br'], ['gzip', gz, 'gzip'], ['identity', plain, undefined]] as const) {
        const what = `${name} (Accept-Encoding: ${asked})`;
        expect(res.status, what).toBe(200);
        const got = res.headers['content-encoding'];
        check(got === encoding, `${what}: content-encoding ${got ?? '(none)'}, want ${encoding ?? '(none)'}`);
        const vary = String(res.headers.vary ?? '');
        check(vary.toLowerCase().includes('accept-encoding'), `${what}: vary "${vary}", want Accept-Encoding`);
        const cache = String(res.headers['cache-control'] ?? '');
        check(cache.includes('immutable') && cache.includes('max-age=31536000'), `${what}: cache-control "${cache}", want max-age=31536000, immutable`);
        const type = String(res.headers['content-type'] ?? '');
        check(!name.endsWith('.wasm') || type === 'application/wasm', `${what}: content-type "${type}", want application/wasm`);
      }
      expect(plain.body.length, `${name} is not empty`).toBeGreaterThan(0);
      if (br.headers['content-encoding'] === 'br') {
        check(brotliDecompressSync(br.body).equals(plain.body), `${name}: the brotli body does not decode to the plain bytes`);
      }
      if (gz.headers['content-encoding'] === 'gzip') {
        check(gunzipSync(gz.body).equals(plain.body), `${name}: the gzip body does not decode to the plain bytes`);
      }
    }
    expect(problems, `${files.length} bundle files checked`).toEqual([]);
  });

  test('a second visit fetches no bundle bytes', async ({ page, context }) => {
    await open(page, '/auth/login/', true);
    // The first visit finishes its downloads (preloaded chunks may still arrive after hydration;
    // one cut short by the next navigation would not be in the cache).
    await page.waitForLoadState('networkidle');
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    const seen = new Map<string, { url: string; status?: number; cached: boolean }>();
    const entry = (id: string) => seen.get(id) ?? seen.set(id, { url: '', cached: false }).get(id)!;
    cdp.on('Network.requestWillBeSent', (e) => { entry(e.requestId).url = e.request.url; });
    cdp.on('Network.requestServedFromCache', (e) => { entry(e.requestId).cached = true; });
    cdp.on('Network.responseReceived', (e) => {
      const r = entry(e.requestId);
      r.status = e.response.status;
      if (e.response.fromDiskCache || e.response.fromPrefetchCache) r.cached = true;
    });

    await open(page, '/auth/login/', true);
    await page.waitForLoadState('networkidle');
    const timings = await page.evaluate(() => performance.getEntriesByType('resource')
      .filter((e) => new URL(e.name).pathname.startsWith('/pkg/'))
      .map((e) => ({ url: e.name, transferSize: (e as PerformanceResourceTiming).transferSize })));
    expect(timings.length, 'the second visit loads the bundle (from the cache)').toBeGreaterThan(0);
    expect(timings.filter((t) => t.transferSize !== 0), 'Resource Timing: /pkg/ entries with bytes transferred').toEqual([]);
    const fromNetwork = [...seen.values()]
      .filter((r) => r.url && new URL(r.url).pathname.startsWith('/pkg/') && !r.cached)
      .map((r) => `${r.url} → ${r.status}`);
    expect(fromNetwork, 'CDP: /pkg/ requests not answered by the browser cache').toEqual([]);
  });
});

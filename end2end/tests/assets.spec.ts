import { test, expect, type Page } from '@playwright/test';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { get as httpGet, type IncomingHttpHeaders } from 'node:http';
import { basename, join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { open, markWindow, ownerWithOrg, signOut, uniqueEmail, watchErrors, windowMarked, PASSWORD } from '../fixtures/app';

/**
 * How the release build's bundle is served (issue 17): the wasm, JavaScript and stylesheet a
 * page names are precompressed (brotli, else gzip, else the plain bytes, the same bytes in
 * each), carry a content hash in their names and are cached for a year as immutable, so a
 * second visit fetches none of them; pages never are. With the build split by route, the
 * sign-in page loads none of the organization pages' chunks, and those load when the app
 * navigates to such a page.
 */

const SITE = process.env.GATEHOUSE_SITE ?? join(__dirname, '..', '..', 'target', 'site');
// Split names (keys of the split manifest) of the pages a signed-out visitor never needs.
const ORG_SPLITS = new RegExp(process.env.E2E_ORG_SPLITS ?? 'org|settings|audit|security|member|auth_?provider', 'i');
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

/** The split manifest of the build (split name → chunk stems), or null for an unsplit build. */
function splitManifest(): { file: string; splits: Record<string, string[]> } | null {
  const pkg = join(SITE, 'pkg');
  const file = existsSync(pkg) ? readdirSync(pkg).find((f) => /^__wasm_split_manifest.*\.json$/.test(f)) : undefined;
  return file ? { file, splits: JSON.parse(readFileSync(join(pkg, file), 'utf8')) } : null;
}

/** Chunk stems of the manifest that only organization/settings/audit/security splits use. */
function orgOnlyChunks(splits: Record<string, string[]>): string[] {
  const org = Object.keys(splits).filter((s) => ORG_SPLITS.test(s));
  const other = new Set(Object.keys(splits).filter((s) => !ORG_SPLITS.test(s)).flatMap((s) => splits[s].map((f) => basename(f))));
  return [...new Set(org.flatMap((s) => splits[s].map((f) => basename(f))))].filter((f) => !other.has(f));
}

/** The wasm file of a manifest stem among the pkg directory's files. */
function pkgWasm(files: string[], stem: string): string | undefined {
  return files.find((f) => f === `${stem}.wasm` || (f.startsWith(`${stem}.`) && f.endsWith('.wasm')));
}

/** Whether a requested /pkg/ URL is the file of a manifest stem (hashed or not). */
function isChunk(url: string, stem: string): boolean {
  const file = basename(new URL(url).pathname).replace(/\.wasm$/, '');
  return file === stem || file.startsWith(`${stem}.`);
}

/** Records the URLs of /pkg/ wasm files the page requests (from the network or a cache). */
function recordWasm(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (r) => {
    const path = new URL(r.url()).pathname;
    if (path.startsWith('/pkg/') && path.endsWith('.wasm')) urls.push(r.url());
  });
  return urls;
}

test.describe('the bundle, as the release server serves it', () => {
  test('bundle files are precompressed, hashed and immutable; pages are not immutable', async ({ baseURL }) => {
    for (const path of ['/auth/login/', '/auth/register/']) {
      const page = await rawGet(baseURL + path, { accept: 'text/html', 'accept-encoding': 'identity' });
      expect(page.status, path).toBe(200);
      expect.soft(String(page.headers['cache-control'] ?? ''), `cache-control of the page ${path}`).not.toContain('immutable');
    }
    // A name a newer build might create must not be remembered as missing.
    const missing = await rawGet(`${baseURL}/pkg/gatehouse.AAAAAAAAAAAAAAAAAAAAAA.wasm`, { 'accept-encoding': 'br, gzip' });
    expect.soft(missing.status, 'a missing /pkg/ file').toBe(404);
    expect.soft(String(missing.headers['cache-control'] ?? ''), 'cache-control of a missing /pkg/ file').not.toContain('immutable');

    const html = (await rawGet(`${baseURL}/auth/login/`, { accept: 'text/html', 'accept-encoding': 'identity' })).body.toString('utf8');
    const files = bundleLinks(html, baseURL!);
    for (const ext of ['.js', '.wasm', '.css']) {
      expect(files.filter((u) => new URL(u).pathname.endsWith(ext)), `the login page names a ${ext} file: ${files.join(' ')}`).not.toHaveLength(0);
    }
    // A split build: the chunk loader and one chunk loaded later are served the same way.
    const manifest = splitManifest();
    if (manifest) {
      const pkg = readdirSync(join(SITE, 'pkg'));
      const loader = pkg.find((f) => /^__wasm_split\..*\.js$/.test(f));
      const chunk = orgOnlyChunks(manifest.splits).map((stem) => pkgWasm(pkg, stem)).find((f) => f);
      for (const f of [loader, chunk]) if (f) files.push(`${baseURL}/pkg/${f}`);
    }
    for (const url of files) {
      const name = basename(new URL(url).pathname);
      expect.soft(PLAIN_NAMES, `${name} carries a content hash`).not.toContain(name);
      expect.soft(name, `${name} carries a content hash`).toMatch(/\.[A-Za-z0-9_-]{16,}\.(js|wasm|css)$/);

      const br = await rawGet(url, { 'accept-encoding': 'br, gzip' });
      const gz = await rawGet(url, { 'accept-encoding': 'gzip' });
      const plain = await rawGet(url, { 'accept-encoding': 'identity' });
      for (const [asked, res, encoding] of [['br, gzip', br, 'br'], ['gzip', gz, 'gzip'], ['identity', plain, undefined]] as const) {
        const what = `${name} with Accept-Encoding: ${asked}`;
        expect(res.status, what).toBe(200);
        expect.soft(res.headers['content-encoding'], `content-encoding of ${what}`).toBe(encoding);
        expect.soft(String(res.headers.vary ?? '').toLowerCase(), `vary of ${what}`).toContain('accept-encoding');
        const cache = String(res.headers['cache-control'] ?? '');
        expect.soft(cache, `cache-control of ${what}`).toContain('immutable');
        expect.soft(cache, `cache-control of ${what}`).toContain('max-age=31536000');
        if (name.endsWith('.wasm')) expect.soft(res.headers['content-type'], `content-type of ${what}`).toBe('application/wasm');
      }
      expect(plain.body.length, `${name} is not empty`).toBeGreaterThan(0);
      if (br.headers['content-encoding'] === 'br') {
        expect.soft(brotliDecompressSync(br.body).equals(plain.body), `${name}: brotli decodes to the plain bytes`).toBe(true);
        expect.soft(br.body.length, `${name}: brotli is smaller`).toBeLessThan(plain.body.length);
      }
      if (gz.headers['content-encoding'] === 'gzip') {
        expect.soft(gunzipSync(gz.body).equals(plain.body), `${name}: gzip decodes to the plain bytes`).toBe(true);
      }
    }
  });

  test('a second visit fetches no bundle bytes', async ({ page, context }) => {
    await open(page, '/auth/login/', true);
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

  test('the sign-in page loads none of the chunks only organization pages need', async ({ page }) => {
    const manifest = splitManifest();
    expect(manifest, `a split manifest (__wasm_split_manifest*.json) in ${join(SITE, 'pkg')}`).not.toBeNull();
    const { splits, file } = manifest!;
    const orgSplits = Object.keys(splits).filter((s) => ORG_SPLITS.test(s));
    expect(orgSplits, `splits of organization pages (${ORG_SPLITS}) in ${file}: ${Object.keys(splits).join(', ')}`).not.toHaveLength(0);
    const orgOnly = orgOnlyChunks(splits);
    expect(orgOnly, `chunks only organization/settings/audit/security splits use, in ${file}`).not.toHaveLength(0);
    const files = readdirSync(join(SITE, 'pkg'));
    for (const stem of orgOnly) {
      expect(pkgWasm(files, stem), `the file of ${stem} (${file}) in ${join(SITE, 'pkg')}`).toBeDefined();
    }

    const requested = recordWasm(page);
    await open(page, '/auth/login/', true);
    await page.waitForLoadState('networkidle');
    expect(requested.length, 'the sign-in page loads its wasm').toBeGreaterThan(0);
    const wrong = requested.filter((url) => orgOnly.some((stem) => isChunk(url, stem)));
    expect(wrong, `organization-only chunks fetched by the sign-in page (of ${requested.join(' ')})`).toEqual([]);
  });

  test('signing in loads the organization page chunk on the way, and the page works', async ({ page }) => {
    const errors = watchErrors(page);
    const slug = await ownerWithOrg(page, true);
    // The URL changes before a lazy page's chunk has arrived; until then the previous page
    // stays on screen (and would react to the sign-out below). Wait for the page itself.
    await expect(page.getByRole('heading', { name: `Acme ${slug}` })).toBeVisible();
    const email = (await page.locator('.whoami strong').textContent())!.trim();
    await signOut(page);

    await open(page, '/auth/login/', true);
    await page.waitForLoadState('networkidle');
    await markWindow(page);
    const requested = recordWasm(page);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(page.getByRole('heading', { name: `Acme ${slug}` })).toBeVisible();
    expect(await windowMarked(page), 'reached the organization page without a full page load').toBe(true);
    expect(requested, 'wasm chunks loaded on the way to the organization page').not.toHaveLength(0);
    const manifest = splitManifest();
    if (manifest) {
      const orgChunks = Object.keys(manifest.splits).filter((s) => ORG_SPLITS.test(s)).flatMap((s) => manifest.splits[s].map((f) => basename(f)));
      expect(requested.filter((url) => orgChunks.some((stem) => isChunk(url, stem))), `organization chunks among ${requested.join(' ')}`).not.toHaveLength(0);
    }

    // The lazily loaded page is live: its tab goes to the members page, whose form invites.
    await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Members' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/members/$`));
    const invitee = uniqueEmail('lazy');
    await page.getByLabel('Email').fill(invitee);
    await page.getByRole('button', { name: 'Send invite' }).click();
    await expect(page.getByTestId(`member-${invitee}`)).toContainText('Invited by Olive Owner');
    expect(await windowMarked(page), 'still the same page load').toBe(true);
    expect(errors).toEqual([]);
  });
});

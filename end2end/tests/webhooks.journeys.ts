import { test, expect, type Page } from '@playwright/test';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac } from 'node:crypto';
import { open, ownerWithOrg, invite, uniqueEmail, watchErrors, markWindow, windowMarked } from '../fixtures/app';

/**
 * Organization webhooks (SPEC §8) from the owner's page `/organizations/{slug}/settings/webhooks/`:
 * add an endpoint (its secret shown once), receive a signed delivery in a real receiver,
 * read it in the page's delivery log, redeliver it; disable, enable, rotate and delete.
 * Run with JavaScript on (hydrated forms) and off (plain posts and redirects).
 *
 * The receiver listens on 127.0.0.1, which the test server allows webhooks to reach
 * (APP_OUTBOUND_ALLOWLIST in playwright.config.ts), so a plain http:// URL is accepted.
 */

type Received = { headers: IncomingHttpHeaders; body: string };

/** A webhook receiver on a free port of 127.0.0.1: records every request, answers 200. */
async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok: received by the e2e receiver');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/gatehouse`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Whether a request's `webhook-signature` verifies with `secret` (Standard Webhooks). */
function signedWith(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`;
  const expected = `v1,${createHmac('sha256', key).update(signed).digest('base64')}`;
  return String(r.headers['webhook-signature'] ?? '').split(' ').includes(expected);
}

function webhooksPath(slug: string): string {
  return `/organizations/${slug}/settings/webhooks/`;
}

/** The one endpoint card of the page. */
function endpointCard(page: Page) {
  return page.locator('article.webhook');
}

/** Adds an endpoint for `events` through the form; returns the secret the page shows once. */
async function addEndpoint(page: Page, url: string, events: string[]): Promise<string> {
  await page.getByLabel('Endpoint URL').fill(url);
  for (const event of events) await page.getByRole('checkbox', { name: event }).check();
  await page.getByRole('button', { name: 'Add endpoint' }).click();
  await expect(page.getByTestId('notice')).toHaveText('Endpoint added.');
  const secret = page.getByTestId('webhook-secret');
  await expect(secret).toHaveValue(/^whsec_[A-Za-z0-9+/]+=*$/);
  return secret.inputValue();
}

/** Reopens the page until `check` passes (deliveries are sent by a worker, moments later). */
async function untilPage(page: Page, slug: string, js: boolean, check: () => Promise<void>) {
  await expect(async () => {
    await open(page, webhooksPath(slug), js);
    await check();
  }).toPass({ timeout: 20_000, intervals: [250, 500, 1000] });
}

export function webhookJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('an owner adds an endpoint, copies its secret once, receives a signed member.invited delivery, reads it in the log and redelivers it', async ({ page }) => {
    const errors = watchErrors(page);
    const receiver = await startReceiver();
    try {
      const slug = await ownerWithOrg(page, js);

      // The tab beside "Single sign-on" leads to the page.
      await open(page, `/organizations/${slug}/members/`, js);
      await page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Webhooks' }).click();
      await expect(page).toHaveURL(new RegExp(`${webhooksPath(slug)}$`));
      await expect(page.getByRole('heading', { level: 1 })).toHaveText(`Acme ${slug} · Webhooks`);
      await expect(page.getByRole('link', { name: 'Webhooks' })).toHaveAttribute('aria-current', 'page');
      await expect(page.getByTestId('no-webhooks')).toBeVisible();
      if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

      const secret = await addEndpoint(page, receiver.url, ['member.invited']);
      const card = endpointCard(page);
      await expect(card.getByTestId('webhook-secret')).toHaveValue(secret);
      await page.screenshot({ path: test.info().outputPath(`webhooks-secret-${js ? 'js' : 'nojs'}.png`), fullPage: true });
      await expect(card.getByRole('heading', { name: receiver.url })).toBeVisible();
      await expect(card.getByTestId('webhook-state')).toHaveText('Enabled');
      await expect(card.getByTestId('webhook-events')).toHaveText('member.invited');
      await expect(card.getByTestId('no-deliveries')).toBeVisible();

      // Shown once: a reload no longer has it.
      await open(page, webhooksPath(slug), js);
      await expect(endpointCard(page)).toBeVisible();
      await expect(page.getByTestId('webhook-secret')).toHaveCount(0);
      // With an endpoint, the add form is folded under its heading.
      await expect(page.getByLabel('Endpoint URL')).toBeHidden();
      await page.getByRole('heading', { name: 'Add an endpoint' }).click();
      await expect(page.getByLabel('Endpoint URL')).toBeVisible();

      // An invite from the members page is a member.invited event: one signed POST.
      await invite(page, slug, uniqueEmail('bob'), js);
      await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(1);
      const first = receiver.received[0];
      expect(first.headers['content-type']).toContain('application/json');
      expect(JSON.parse(first.body).type).toBe('member.invited');
      expect(signedWith(secret, first)).toBe(true);
      const webhookId = String(first.headers['webhook-id']);
      expect(webhookId).toMatch(/^msg_/);

      // The page lists it as delivered, with its one attempt answered 200.
      const row = page.getByTestId(`delivery-${webhookId}`);
      await untilPage(page, slug, js, async () => {
        await expect(row.getByTestId('delivery-state')).toHaveText('Delivered', { timeout: 500 });
      });
      await expect(row.getByRole('cell', { name: 'member.invited', exact: true })).toBeVisible();
      await expect(row.getByTestId('delivery-attempts')).toHaveText('1');
      await expect(row.getByTestId('attempt')).toHaveCount(1);
      await expect(row.getByTestId('attempt-outcome')).toHaveText('HTTP 200');
      await expect(row.getByTestId('attempt')).toContainText('ok: received by the e2e receiver');

      // Redeliver: the same webhook-id again, freshly signed; the log has both attempts.
      if (js) await markWindow(page);
      await row.getByRole('button', { name: `Redeliver member.invited delivery ${webhookId}` }).click();
      await expect(page.getByTestId('notice')).toContainText('Delivery queued again');
      // With JavaScript the form went through the hydrated app, not a page load.
      if (js) expect(await windowMarked(page)).toBe(true);
      await expect.poll(() => receiver.received.length, { timeout: 20_000 }).toBe(2);
      const second = receiver.received[1];
      expect(second.headers['webhook-id']).toBe(webhookId);
      expect(second.body).toBe(first.body);
      expect(signedWith(secret, second)).toBe(true);
      await untilPage(page, slug, js, async () => {
        await expect(row.getByTestId('attempt')).toHaveCount(2, { timeout: 500 });
        await expect(row.getByTestId('delivery-state')).toHaveText('Delivered', { timeout: 500 });
      });
      await expect(row.getByTestId('delivery-attempts')).toHaveText('2');
      await expect(row.getByTestId('attempt-outcome')).toHaveText(['HTTP 200', 'HTTP 200']);

      await page.screenshot({ path: test.info().outputPath(`webhooks-${js ? 'js' : 'nojs'}.png`), fullPage: true });
      if (js) expect(errors).toEqual([]);
    } finally {
      await receiver.close();
    }
  });

  test('the add form keeps what was typed beside its errors; an endpoint is disabled, enabled, rotated and deleted', async ({ page }) => {
    const errors = watchErrors(page);
    const slug = await ownerWithOrg(page, js);
    await open(page, webhooksPath(slug), js);
    if (js) await markWindow(page);

    // A plain-http public address and no event: both refused, nothing added.
    await page.getByLabel('Endpoint URL').fill('http://hooks.example.com/in');
    await page.getByLabel('Enabled', { exact: true }).uncheck();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByRole('alert').first()).toBeVisible();
    await expect(page.locator('#url-errors')).not.toBeEmpty();
    await expect(page.locator('#events-errors')).not.toBeEmpty();
    await expect(page.getByLabel('Endpoint URL')).toHaveValue('http://hooks.example.com/in');
    await expect(page.getByLabel('Enabled', { exact: true })).not.toBeChecked();
    await expect(page.getByTestId('no-webhooks')).toBeVisible();

    // Ticked boxes come back ticked after an error.
    await page.getByRole('checkbox', { name: 'member.joined' }).check();
    await page.getByRole('checkbox', { name: 'member.left' }).check();
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.locator('#url-errors')).not.toBeEmpty();
    await expect(page.locator('#events-errors')).toBeEmpty();
    await expect(page.getByRole('checkbox', { name: 'member.joined' })).toBeChecked();
    await expect(page.getByRole('checkbox', { name: 'member.left' })).toBeChecked();
    await expect(page.getByRole('checkbox', { name: 'member.invited' })).not.toBeChecked();
    await page.screenshot({ path: test.info().outputPath(`webhooks-errors-${js ? 'js' : 'nojs'}.png`), fullPage: true });

    // With https it is added, disabled as asked.
    const url = 'https://hooks.example.com/in';
    await page.getByLabel('Endpoint URL').fill(url);
    await page.getByRole('button', { name: 'Add endpoint' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Endpoint added.');
    const firstSecret = await page.getByTestId('webhook-secret').inputValue();
    const card = endpointCard(page);
    await expect(card.getByTestId('webhook-state')).toHaveText('Disabled by you');
    await expect(card.getByTestId('webhook-events').getByRole('listitem')).toHaveText(['member.joined', 'member.left']);

    await card.getByRole('button', { name: `Enable ${url}` }).click();
    await expect(page.getByTestId('notice')).toContainText('Endpoint enabled');
    await expect(card.getByTestId('webhook-state')).toHaveText('Enabled');
    await card.getByRole('button', { name: `Disable ${url}` }).click();
    await expect(page.getByTestId('notice')).toContainText('Endpoint disabled');
    await expect(card.getByTestId('webhook-state')).toHaveText('Disabled by you');

    // Rotating shows the new secret once; the previous one signs for a day more.
    await card.getByRole('button', { name: `Rotate secret for ${url}` }).click();
    await expect(page.getByTestId('notice')).toContainText('New signing secret made');
    await expect(page.getByTestId('webhook-secret')).toHaveValue(/^whsec_/);
    expect(await page.getByTestId('webhook-secret').inputValue()).not.toBe(firstSecret);
    await expect(card.getByTestId('previous-secret')).toContainText('Still signs until');

    // Deleting asks first; Cancel keeps it.
    await card.getByRole('link', { name: `Delete ${url}` }).click();
    const confirm = page.getByRole('group', { name: /Delete the endpoint/ });
    await expect(confirm).toBeVisible();
    await confirm.getByRole('link', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await card.getByRole('link', { name: `Delete ${url}` }).click();
    await page.getByRole('button', { name: 'Delete endpoint' }).click();
    await expect(page.getByTestId('notice')).toContainText('Endpoint deleted');
    await expect(page.getByTestId('no-webhooks')).toBeVisible();
    // With JavaScript every form went through the hydrated app, not a page load.
    if (js) expect(await windowMarked(page)).toBe(true);
    if (js) expect(errors).toEqual([]);
  });
}

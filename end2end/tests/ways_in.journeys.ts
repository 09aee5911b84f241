import { test, expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PASSWORD, open, uniqueEmail, registerThroughForm, watchErrors } from '../fixtures/app';

/**
 * More ways in (SPEC §5.9): the user's own invitations (`/invitations/`) and the header's
 * notice, bulk invites from the members page, and governed join links (`/join/{token}/`).
 * Run with JavaScript on (hydrated forms) and off (plain posts and redirects).
 *
 * The people and organizations a journey starts from are made through the JSON API
 * (`/api/0/`, same-origin requests); what the journey is about is done through the pages.
 */

type Api = APIRequestContext;

/** A fresh API client (its own cookie jar) that sends the site's Origin like a browser. */
async function apiClient(playwright: { request: { newContext: (o: any) => Promise<Api> } }, baseURL: string) {
  return playwright.request.newContext({ baseURL, extraHTTPHeaders: { Origin: baseURL } });
}

async function apiRegister(api: Api, email: string, name: string): Promise<void> {
  const res = await api.post('/api/0/auth/register/', { data: { email, name, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(201);
}

async function apiOrg(api: Api, name: string): Promise<string> {
  const slug = `way-${Math.random().toString(16).slice(2, 10)}`;
  const res = await api.post('/api/0/organizations/', { data: { name, slug } });
  expect(res.status(), await res.text()).toBe(201);
  return slug;
}

/** Invites `email` into `slug`; returns the invite's member id. */
async function apiInvite(api: Api, slug: string, email: string): Promise<number> {
  const res = await api.post(`/api/0/organizations/${slug}/members/`, { data: { email, role: 'member' } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

/** The browser page signed in (through the API, in the page's own cookie jar) as a new owner of a new organization. */
async function ownerInBrowser(page: Page, baseURL: string, orgName: string): Promise<{ owner: string; slug: string }> {
  const owner = uniqueEmail('owner');
  const res = await page.request.post('/api/0/auth/register/', {
    data: { email: owner, name: 'Olive Owner', password: PASSWORD },
    headers: { Origin: baseURL },
  });
  expect(res.status(), await res.text()).toBe(201);
  const slug = `way-${Math.random().toString(16).slice(2, 10)}`;
  const org = await page.request.post('/api/0/organizations/', { data: { name: orgName, slug }, headers: { Origin: baseURL } });
  expect(org.status(), await org.text()).toBe(201);
  return { owner, slug };
}

/** The mails sent to `to` so far, decoded enough to search (quoted-printable soft breaks and `=3D`). */
function mailsTo(to: string): string[] {
  const dir = join(process.env.E2E_DATA_DIR!, 'mail');
  const files = (() => { try { return readdirSync(dir); } catch { return []; } })();
  return files
    .map((f) => readFileSync(join(dir, f), 'utf8').replace(/=\r?\n/g, '').replace(/=3D/g, '='))
    .filter((raw) => raw.includes(`To: ${to}`));
}

/** The link of the invite `memberId` mailed to `email` (waits for the mail). */
async function inviteLinkById(email: string, memberId: number): Promise<string> {
  const pattern = new RegExp(`https?://[^\\s"<]+/accept/${memberId}/[0-9a-f]{64}/`);
  for (let i = 0; i < 100; i++) {
    for (const raw of mailsTo(email)) {
      const m = raw.match(pattern);
      if (m) return new URL(m[0]).pathname;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no invite ${memberId} mailed to ${email}`);
}

async function hydrated(page: Page, js: boolean) {
  if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
}

export function waysInJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('invited to several organizations: sign up through one link, then join another and decline one on /invitations/', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const ownerApi = await apiClient(playwright, baseURL!);
    const owner = uniqueEmail('owner');
    await apiRegister(ownerApi, owner, 'Olive Owner');
    const first = await apiOrg(ownerApi, 'Acme First');
    const second = await apiOrg(ownerApi, 'Acme Second');
    const third = await apiOrg(ownerApi, 'Acme Third');
    const bob = uniqueEmail('bob');
    const firstInvite = await apiInvite(ownerApi, first, bob);
    await apiInvite(ownerApi, second, bob);
    await apiInvite(ownerApi, third, bob);
    const link = await inviteLinkById(bob, firstInvite);

    // Sign up through the first organization's link: lands in it.
    await open(page, link, js);
    await page.getByRole('link', { name: 'Create a new account' }).click();
    await expect(page.getByLabel('Email')).toHaveValue(bob);
    await hydrated(page, js);
    await page.getByLabel('Name').fill('Bob Invited');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${first}/$`));

    // The header says there are more, on every page but the list itself.
    const notice = page.getByTestId('invitations-notice');
    await expect(notice).toContainText('You have 2 pending invitations.');
    await notice.getByRole('link', { name: 'Review invitations' }).click();
    await expect(page).toHaveURL(/\/invitations\/$/);
    await hydrated(page, js);
    await expect(page.getByRole('heading', { name: 'Your invitations' })).toBeVisible();
    await expect(notice).toHaveCount(0);
    await expect(page.getByTestId(`invitation-${first}`)).toHaveCount(0);
    const secondRow = page.getByTestId(`invitation-${second}`);
    await expect(secondRow.getByRole('heading', { name: 'Acme Second' })).toBeVisible();
    await expect(secondRow).toContainText('Olive Owner invited you as member');

    // Decline one: it goes, and the inviter is told.
    await page.getByRole('button', { name: 'Decline the invitation to Acme Third' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Invitation declined.');
    await expect(page.getByTestId(`invitation-${third}`)).toHaveCount(0);
    await expect(async () => {
      expect(mailsTo(owner).some((m) => m.includes('declined your invite to Acme Third'))).toBe(true);
    }).toPass({ timeout: 10_000 });

    // Join the other: lands in it, and nothing is pending any more.
    await secondRow.getByRole('button', { name: 'Join Acme Second' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${second}/$`));
    await expect(page.getByTestId('my-role')).toHaveText('member');
    await expect(notice).toHaveCount(0);
    await open(page, '/invitations/', js);
    await expect(page.getByTestId('invitations-empty')).toBeVisible();
    if (js) expect(errors).toEqual([]);
  });

  test('/invitations/ asks anonymous visitors to sign in and unverified users to verify their address first', async ({ page, playwright, baseURL }) => {
    const carol = uniqueEmail('carol');
    await apiRegister(await apiClient(playwright, baseURL!), carol, 'Carol Unverified');
    await open(page, '/invitations/', js);
    await expect(page).toHaveURL(/\/auth\/login\/\?next=\/invitations\/$/);
    await hydrated(page, js);
    await page.getByLabel('Email').fill(carol);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/invitations\/$/);
    await expect(page.getByTestId('invitations-unverified')).toContainText(`Verify your address ${carol}`);
    await expect(page.getByRole('link', { name: 'Verify your email address' })).toHaveAttribute('href', '/settings/account/emails/');
  });

  test('an owner creates a join link; a fresh browser registers through it and lands in the organization', async ({ page, browser, baseURL }) => {
    const errors = watchErrors(page);
    const { slug } = await ownerInBrowser(page, baseURL!, 'Acme Links');
    await open(page, `/organizations/${slug}/members/`, js);
    const section = page.getByRole('region', { name: 'Join links' });
    await expect(section.getByTestId('no-join-links')).toBeVisible();
    await section.getByLabel('Maximum uses').fill('3');
    await section.getByRole('button', { name: 'Create join link' }).click();

    // The URL, shown this once.
    const field = section.getByLabel('Your new join link');
    await expect(field).toHaveValue(/\/join\/[0-9a-f]{64}\/$/);
    const path = new URL(await field.inputValue()).pathname;
    // The form starts again from the defaults.
    await expect(section.getByLabel('Maximum uses')).toHaveValue('10');
    const row = section.locator('tbody tr').first();
    await expect(row.getByTestId('uses-left')).toHaveText('3 of 3');
    await expect(row.getByTestId('link-state')).toHaveText('Active');
    await open(page, `/organizations/${slug}/members/`, js);
    await expect(row.getByTestId('link-state')).toHaveText('Active');
    await expect(section.getByLabel('Your new join link')).toHaveCount(0);

    // Someone with the link, in another browser: registers through the page and is in.
    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const jo = await ctx.newPage();
    const joErrors = watchErrors(jo);
    await open(jo, path, js);
    await expect(jo.getByRole('heading', { name: 'Join Acme Links' })).toBeVisible();
    await expect(jo.getByTestId('join-role')).toHaveText('Member');
    await jo.getByRole('link', { name: 'Create a new account' }).click();
    await expect(jo).toHaveURL(/\/auth\/register\/$/);
    await expect(jo.getByTestId('joining')).toHaveText('You are joining Acme Links.');
    // Never ticked in advance: the pending link may have been planted by another site.
    const joinBox = jo.getByLabel('Join Acme Links after creating my account');
    await expect(joinBox).not.toBeChecked();
    await hydrated(jo, js);
    await joinBox.check();
    await registerThroughForm(jo, uniqueEmail('jo'), 'Jo Joiner', PASSWORD);
    await expect(jo).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(jo.getByTestId('my-role')).toHaveText('member');
    // The link again: already a member.
    await open(jo, path, js);
    await expect(jo.getByTestId('join-message')).toHaveText('You are already a member of Acme Links.');
    if (js) expect(joErrors).toEqual([]);
    await ctx.close();

    // One use taken; the owner revokes the link and it says so to whoever opens it.
    await open(page, `/organizations/${slug}/members/`, js);
    await expect(row.getByTestId('uses-left')).toHaveText('2 of 3');
    await row.getByRole('button', { name: /^Revoke/ }).click();
    await expect(page.getByTestId('notice')).toHaveText('Join link revoked. It no longer lets anyone in.');
    await expect(row.getByTestId('link-state')).toHaveText('Revoked');
    await expect(row.getByRole('button', { name: /^Revoke/ })).toHaveCount(0);
    const late = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const latePage = await late.newPage();
    await open(latePage, path, js);
    await expect(latePage.getByTestId('join-message')).toHaveText('This join link has been revoked.');
    await expect(latePage.getByRole('button', { name: /^Join/ })).toHaveCount(0);
    await late.close();
    if (js) expect(errors).toEqual([]);
  });

  test('paste a list of addresses into the members page and read what became of each', async ({ page, baseURL }) => {
    const errors = watchErrors(page);
    const { owner, slug } = await ownerInBrowser(page, baseURL!, 'Acme Bulk');
    const ann = uniqueEmail('ann');
    const ben = uniqueEmail('ben');
    await open(page, `/organizations/${slug}/members/`, js);

    // Nothing pasted: said beside the field.
    await page.getByRole('button', { name: 'Invite all' }).click();
    await expect(page.locator('#bulk-emails-errors')).not.toBeEmpty();
    await expect(page.getByLabel('People to invite')).toHaveAttribute('aria-invalid', 'true');

    await page.getByLabel('People to invite').fill(`${ann}, ${owner}\nnot-an-address; ${ben.toUpperCase()}`);
    await expect(page.getByLabel('Role for everyone')).toHaveValue('member');
    await page.getByRole('button', { name: 'Invite all' }).click();

    const outcome = page.getByTestId('bulk-outcome');
    await expect(page.getByRole('heading', { name: '2 of 4 addresses invited' })).toBeVisible();
    const status = (email: string) => outcome.getByTestId(`outcome-${email}`).getByTestId('outcome-status');
    await expect(status(ann)).toHaveText('Invited');
    await expect(status(ben)).toHaveText('Invited');
    await expect(status(owner)).toHaveText('Already a member');
    await expect(status('not-an-address')).toHaveText('Not a valid address');
    await expect(outcome.getByTestId('outcome-not-an-address')).toContainText(/\w+/);
    // The invited ones are pending invites now.
    await expect(page.getByTestId(`member-${ann}`)).toContainText('Invited by Olive Owner');
    await expect(page.getByTestId(`member-${ben}`)).toContainText('Invited by Olive Owner');
    // The box starts empty again.
    await expect(page.getByLabel('People to invite')).toHaveValue('');

    // The outcome is shown once.
    await open(page, `/organizations/${slug}/members/`, js);
    await expect(outcome).toHaveCount(0);

    // The same address again: already invited.
    await page.getByLabel('People to invite').fill(ann);
    await page.getByRole('button', { name: 'Invite all' }).click();
    await expect(page.getByRole('heading', { name: '0 of 1 address invited' })).toBeVisible();
    await expect(status(ann)).toHaveText('Already invited');
    if (js) expect(errors).toEqual([]);
  });
}

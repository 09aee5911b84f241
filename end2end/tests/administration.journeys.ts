import { test, expect, type APIRequestContext, type Browser, type Page } from '@playwright/test';
import { PASSWORD, open, uniqueEmail, inviteLinkFor, mailedLink, watchErrors } from '../fixtures/app';

/**
 * Administering members (SPEC §5.10): invites resent, regenerated and revoked; roles
 * changed; members removed through the confirmation; teams; ownership handed on; leaving;
 * the audit log; the organization switcher; and "Switch accounts" on the invite page
 * (§5.6). Run with JavaScript on (hydrated forms) and off (plain posts and redirects).
 *
 * The people and organizations a journey starts from are made through the JSON API
 * (`/api/0/`); what the journey is about is done through the pages.
 */

type Api = APIRequestContext;

/** Registers an account through the API; `api` is then signed in as it. */
async function apiRegister(api: Api, email: string, name: string): Promise<void> {
  const res = await api.post('/api/0/auth/register/', { data: { email, name, password: PASSWORD } });
  expect(res.status(), await res.text()).toBe(201);
}

/** Creates an organization as the user signed in on `api`; returns its slug. */
async function apiOrg(api: Api, name: string): Promise<string> {
  const slug = `adm-${Math.random().toString(16).slice(2, 10)}`;
  const res = await api.post('/api/0/organizations/', { data: { name, slug } });
  expect(res.status(), await res.text()).toBe(201);
  return slug;
}

/** Invites `email` (as the user signed in on `api`); returns the member id. */
async function apiInvite(api: Api, slug: string, email: string, role = 'member'): Promise<number> {
  const res = await api.post(`/api/0/organizations/${slug}/members/`, { data: { email, role } });
  expect(res.status(), await res.text()).toBe(201);
  return (await res.json()).id;
}

/** A new account that joins `slug` through an invite by `owner`: registered, then accepted through the API. */
async function apiMember(owner: Api, fresh: Api, slug: string, name: string, role = 'member'): Promise<string> {
  const email = uniqueEmail(name.split(' ')[0].toLowerCase());
  await apiInvite(owner, slug, email, role);
  const link = await inviteLinkFor(email);
  await apiRegister(fresh, email, name);
  const res = await fresh.post(`/api/0${link.replace('/accept/', '/accept-invite/')}`);
  expect(res.ok(), await res.text()).toBe(true);
  return email;
}

/** The browser's page signed in (through the API, in the page's own cookie jar) as a new owner of a new organization. */
async function ownerInBrowser(page: Page, orgName = 'Acme Admin'): Promise<{ owner: string; slug: string }> {
  const owner = uniqueEmail('owner');
  await apiRegister(page.request, owner, 'Olive Owner');
  const slug = await apiOrg(page.request, orgName);
  return { owner, slug };
}

export function administrationJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('resend, regenerate and revoke an invite; its delivery state is shown', async ({ page }) => {
    const errors = watchErrors(page);
    const { slug } = await ownerInBrowser(page);
    const bob = uniqueEmail('bob');
    await open(page, `/organizations/${slug}/members/`, js);
    // The role select starts on the organization's default role.
    await expect(page.getByLabel('Role', { exact: true })).toHaveValue('member');
    await page.getByLabel('Email').fill(bob);
    await page.getByRole('button', { name: 'Send invite' }).click();
    const row = page.getByTestId(`member-${bob}`);
    await expect(row).toContainText('Invited by Olive Owner');
    const first = await mailedLink(bob, '/accept/');
    // The mail worker sends it: the row says so once the page is read again.
    await expect(async () => {
      await open(page, `/organizations/${slug}/members/`, js);
      await expect(row.getByTestId('mail-state')).toHaveText('email sent', { timeout: 500 });
    }).toPass({ timeout: 15_000 });

    // Resend: the same link, in a new email.
    await row.getByRole('button', { name: 'Resend' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Invite sent again, with the same link.');
    await expect(row.getByTestId('mail-state')).toHaveText(/^email (queued|sending|sent)$/);
    await expect(async () => {
      await open(page, `/organizations/${slug}/members/`, js);
      await expect(row.getByTestId('mail-state')).toHaveText('email sent', { timeout: 500 });
    }).toPass({ timeout: 15_000 });
    expect(await mailedLink(bob, '/accept/')).toBe(first);

    // Regenerate: a new link; the first one no longer works.
    await row.getByRole('button', { name: 'Regenerate' }).click();
    await expect(page.getByTestId('notice')).toContainText('the previous link no longer works');
    await expect(async () => expect(await mailedLink(bob, '/accept/')).not.toBe(first)).toPass({ timeout: 10_000 });

    // Revoke: the row goes; the link says the invite is no longer valid.
    const current = await mailedLink(bob, '/accept/');
    await row.getByRole('button', { name: 'Revoke' }).click();
    await expect(row).toHaveCount(0);
    await expect(page.getByText('No pending invites.')).toBeVisible();
    await open(page, current, js);
    await expect(page.getByTestId('invite-message')).toHaveText('This invite link is no longer valid.');
    if (js) expect(errors).toEqual([]);
  });

  test('change a role, and remove a member through the confirmation', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const { owner, slug } = await ownerInBrowser(page, 'Acme Roles');
    const mel = await apiMember(page.request, await playwright.request.newContext({ baseURL }), slug, 'Mel Member');
    await open(page, `/organizations/${slug}/members/`, js);
    // The only owner has no controls on their own row.
    await expect(page.getByTestId(`member-${owner}`)).toContainText('Last owner');
    await expect(page.getByTestId(`member-${owner}`).getByRole('combobox')).toHaveCount(0);

    const row = page.getByTestId(`member-${mel}`);
    await row.getByLabel(`Role for ${mel}`).selectOption('manager');
    await row.getByRole('button', { name: 'Change role' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Role changed.');
    await expect(page.getByTestId(`member-${mel}`).getByLabel(`Role for ${mel}`)).toHaveValue('manager');

    // Remove asks first; Cancel changes nothing.
    await page.getByTestId(`member-${mel}`).getByRole('link', { name: 'Remove' }).click();
    const confirm = page.getByRole('group', { name: /^Remove Mel Member from Acme Roles\?/ });
    await expect(confirm).toContainText('They lose access at once.');
    await confirm.getByRole('link', { name: 'Cancel' }).click();
    await expect(confirm).toHaveCount(0);
    await expect(page.getByTestId(`member-${mel}`)).toBeVisible();

    await page.getByTestId(`member-${mel}`).getByRole('link', { name: 'Remove' }).click();
    await confirm.getByRole('button', { name: 'Remove' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Member removed. They no longer have access.');
    await expect(page.getByTestId(`member-${mel}`)).toHaveCount(0);
    if (js) expect(errors).toEqual([]);
  });

  test('create a team and put a member and an invite on it', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const { slug } = await ownerInBrowser(page, 'Acme Teams');
    const mel = await apiMember(page.request, await playwright.request.newContext({ baseURL }), slug, 'Mel Teammate');
    const ivy = uniqueEmail('ivy');
    await apiInvite(page.request, slug, ivy);
    await open(page, `/organizations/${slug}/members/`, js);

    await page.getByLabel('Team name').fill('Platform');
    await page.getByRole('button', { name: 'Create team' }).click();
    await expect(page.getByTestId('notice')).toHaveText('Team created.');
    const team = page.getByTestId('team-platform');
    await expect(team).toContainText('Nobody on this team yet.');

    await team.getByLabel('Add to Platform').selectOption({ label: 'Mel Teammate' });
    await team.getByRole('button', { name: 'Add to team' }).click();
    await expect(team.locator('.chip', { hasText: 'Mel Teammate' })).toBeVisible();
    await expect(page.getByTestId(`member-${mel}`)).toContainText('Platform');

    await team.getByLabel('Add to Platform').selectOption({ label: `${ivy} (invited)` });
    await team.getByRole('button', { name: 'Add to team' }).click();
    await expect(team.locator('.chip', { hasText: ivy })).toBeVisible();

    await team.getByRole('button', { name: 'Remove Mel Teammate from Platform' }).click();
    await expect(team.locator('.chip', { hasText: 'Mel Teammate' })).toHaveCount(0);
    await expect(team.locator('.chip', { hasText: ivy })).toBeVisible();
    if (js) expect(errors).toEqual([]);
  });

  test('transfer ownership with the password; the previous owner stays as a manager', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const { owner, slug } = await ownerInBrowser(page, 'Acme Handover');
    const mel = await apiMember(page.request, await playwright.request.newContext({ baseURL }), slug, 'Mel Heir');
    await open(page, `/organizations/${slug}/settings/`, js);
    const section = page.getByRole('region', { name: 'Transfer ownership' });
    await section.getByLabel('New owner').selectOption({ label: `Mel Heir (${mel})` });
    await section.getByLabel('Your password').fill('not-my-password');
    await section.getByRole('button', { name: 'Transfer ownership' }).click();
    await expect(page.locator('#transfer-password-errors')).toHaveText('That is not your current password.');
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/settings/`));

    await section.getByLabel('Your password').fill(PASSWORD);
    await section.getByRole('button', { name: 'Transfer ownership' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/members/\\?done=transferred$`));
    await expect(page.getByTestId('notice')).toContainText('Ownership transferred.');
    await expect(page.getByTestId(`member-${owner}`)).toContainText('Manager');
    await expect(page.getByTestId(`member-${mel}`)).toContainText('Owner');
    // A manager cannot touch the owner.
    await expect(page.getByTestId(`member-${mel}`).getByRole('combobox')).toHaveCount(0);
    // Nor see the transfer section any more.
    await open(page, `/organizations/${slug}/settings/`, js);
    await expect(page.getByRole('region', { name: 'Transfer ownership' })).toHaveCount(0);
    if (js) expect(errors).toEqual([]);
  });

  test('a member leaves through the confirmation; the last owner is told why they cannot', async ({ page, browser, playwright, baseURL }) => {
    const ownerApi = await playwright.request.newContext({ baseURL });
    await apiRegister(ownerApi, uniqueEmail('owner'), 'Olive Owner');
    const slug = await apiOrg(ownerApi, 'Acme Leaving');
    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const member = await ctx.newPage();
    await apiMember(ownerApi, member.request, slug, 'Lee Leaver');
    await open(member, `/organizations/${slug}/members/`, js);
    // A plain member: the list without controls, and the request form.
    await expect(member.getByRole('heading', { name: 'Request an invite' })).toBeVisible();
    await expect(member.getByRole('button', { name: 'Change role' })).toHaveCount(0);
    await member.getByRole('link', { name: 'Leave organization' }).click();
    const confirm = member.getByRole('group', { name: /^Leave Acme Leaving\?/ });
    await confirm.getByRole('button', { name: 'Leave organization' }).click();
    // Lands where a user without organizations lands; the redirects settle before the
    // next page is opened (a navigation still under way could replace it).
    await expect(member).toHaveURL(/\/organizations\/new\/$/);
    if (js) await expect(member.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await open(member, `/organizations/${slug}/`, js);
    await expect(member.getByRole('alert')).toContainText('not a member');
    await ctx.close();

    const { slug: own } = await ownerInBrowser(page, 'Acme Alone');
    await open(page, `/organizations/${own}/members/`, js);
    await expect(page.getByTestId('cannot-leave')).toContainText('You are the last owner');
    await expect(page.getByRole('link', { name: 'Leave organization' })).toHaveCount(0);
  });

  test('the audit log reads as sentences, filters by event and person, and shows the raw data', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const { slug } = await ownerInBrowser(page, 'Acme Audit');
    const melApi = await playwright.request.newContext({ baseURL });
    const mel = await apiMember(page.request, melApi, slug, 'Mel Auditee', 'manager');
    const zed = uniqueEmail('zed');
    await apiInvite(melApi, slug, zed);
    await open(page, `/organizations/${slug}/audit-log/`, js);
    await expect(page.getByRole('navigation', { name: 'Organization' }).getByRole('link', { name: 'Audit log' }))
      .toHaveAttribute('aria-current', 'page');
    const entries = page.getByTestId('audit-entry');
    await expect(entries.first()).toContainText(`Mel Auditee invited ${zed} as member.`);
    await expect(entries.first().locator('time')).toHaveText('just now');
    await expect(entries.first().locator('time')).toHaveAttribute('title', /^\d{4}-\d\d-\d\d \d\d:\d\d UTC$/);
    await expect(page.getByText(`Olive Owner invited ${mel} as manager.`)).toBeVisible();

    // Raw data on demand.
    const raw = entries.first().locator('details');
    await expect(raw.locator('pre')).toBeHidden();
    await raw.locator('summary').click();
    await expect(raw.locator('pre')).toContainText(`"email": "${zed}"`);

    // Only Mel's entries.
    await page.getByLabel('Person').selectOption({ label: 'Mel Auditee' });
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/actor=\d+/);
    await expect(entries).not.toHaveCount(0);
    for (const text of await entries.locator('.audit-note').allTextContents()) expect(text).toMatch(/^Mel Auditee /);
    await expect(page.getByLabel('Person')).toHaveValue(/\d+/);

    // Only joins, from everyone.
    await page.getByLabel('Person').selectOption({ label: 'Everyone' });
    await page.getByLabel('Event').selectOption('member.accept-invite');
    await page.getByRole('button', { name: 'Filter' }).click();
    await expect(page).toHaveURL(/event=member\.accept-invite/);
    await expect(entries).toHaveCount(1);
    await expect(entries.first()).toContainText('Mel Auditee joined through an invite from Olive Owner.');
    if (js) expect(errors).toEqual([]);
  });

  test('the header switcher lists the organizations, the one last opened first', async ({ page }) => {
    const { slug: first } = await ownerInBrowser(page, 'Acme First');
    const second = await apiOrg(page.request, 'Acme Second');
    await open(page, `/organizations/${first}/`, js);
    const switcher = page.locator('details.org-switcher');
    await expect(switcher.locator('summary')).toHaveText('Acme First');
    await open(page, `/organizations/${second}/members/`, js);
    await expect(switcher.locator('summary')).toHaveText('Acme Second');
    await switcher.locator('summary').click();
    await switcher.getByRole('link', { name: 'Acme First' }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${first}/$`));
    await expect(switcher.locator('summary')).toHaveText('Acme First');
    // `/` goes to the organization last opened.
    await open(page, '/', js);
    await expect(page).toHaveURL(new RegExp(`/organizations/${first}/$`));
    await switcher.locator('summary').click();
    await expect(switcher.getByRole('link', { name: 'New organization' })).toBeVisible();
  });

  test('switch accounts on the invite page: sign in as the invited account, come back and join', async ({ page, playwright, baseURL }) => {
    const errors = watchErrors(page);
    const ownerApi = await playwright.request.newContext({ baseURL });
    await apiRegister(ownerApi, uniqueEmail('owner'), 'Olive Owner');
    const slug = await apiOrg(ownerApi, 'Acme Switch');
    const dan = uniqueEmail('dan');
    await apiRegister(await playwright.request.newContext({ baseURL }), dan, 'Dan Invited');
    await apiInvite(ownerApi, slug, dan);
    const link = await inviteLinkFor(dan);

    // Signed in as someone else.
    const eve = uniqueEmail('eve');
    await apiRegister(page.request, eve, 'Eve Wrong');
    await open(page, link, js);
    await expect(page.getByTestId('invite-message')).toContainText(`This invite was sent to ${dan}; you are signed in as ${eve}.`);
    await page.getByRole('button', { name: 'Switch accounts' }).click();
    await expect(page).toHaveURL(/\/auth\/login\/$/);
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Email').fill(dan);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // Back on the invite, as the invited account.
    await expect(page).toHaveURL(new RegExp(link.replace(/\//g, '\\/') + '$'));
    await page.getByRole('button', { name: /^Join Acme Switch/ }).click();
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(page.getByTestId('my-role')).toHaveText('member');
    if (js) expect(errors).toEqual([]);
  });
}

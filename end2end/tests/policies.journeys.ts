import { test, expect, type Browser, type Page } from '@playwright/test';
import { PASSWORD, open, uniqueEmail, registerThroughForm, inviteLinkFor, ownerWithOrg, invite, totp, watchErrors } from '../fixtures/app';

/** Turns on TOTP for the signed-in user from the security page; returns the secret. */
async function enrol(page: Page, js: boolean): Promise<string> {
  await open(page, '/settings/account/security/', js);
  await expect(page.locator('.qr svg')).toBeVisible();
  const secret = (await page.getByTestId('totp-secret').textContent())!.trim();
  await page.getByLabel('Authentication code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
  await expect(page.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
  return secret;
}

export function policyJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('a 2FA organization: the invitee registers, enrols TOTP and is then a member without another click', async ({ page, browser }) => {
    const errors = watchErrors(page);
    const slug = await ownerWithOrg(page, js);
    await enrol(page, js);
    await open(page, `/organizations/${slug}/settings/`, js);
    await page.getByLabel('Require two-factor authentication').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Settings saved.')).toBeVisible();
    const teammate = uniqueEmail('tfa');
    await invite(page, slug, teammate, js);
    const link = await inviteLinkFor(teammate);

    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const bob = await ctx.newPage();
    const bobErrors = watchErrors(bob);
    await open(bob, link, js);
    await bob.getByRole('link', { name: 'Create a new account' }).click();
    await expect(bob.getByLabel('Email')).toHaveValue(teammate);
    if (js) await expect(bob.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await bob.getByLabel('Name').fill('Bob Secure');
    await bob.getByLabel('Password').fill(PASSWORD);
    await bob.getByRole('button', { name: 'Create account' }).click();
    // Back on the invite page, which says what is missing.
    await expect(bob).toHaveURL(new RegExp(link.replace(/\//g, '\\/') + '$'));
    await expect(bob.getByTestId('invite-message')).toContainText('requires two-factor authentication');
    await bob.getByRole('link', { name: 'Set up two-factor authentication' }).click();
    if (js) await expect(bob.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const bobSecret = (await bob.getByTestId('totp-secret').textContent())!.trim();
    await bob.getByLabel('Authentication code').fill(totp(bobSecret));
    await bob.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    // No other click: enrolling accepted the invite.
    await expect(bob.getByTestId('joined')).toContainText('You joined');
    await expect(bob.getByTestId('recovery-codes').locator('li')).toHaveCount(10);
    await bob.getByRole('link', { name: /^Continue to/ }).click();
    await expect(bob).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(bob.getByTestId('my-role')).toHaveText('member');
    await ctx.close();

    // The hydrated app ran under the Content-Security-Policy without a violation.
    expect(errors).toEqual([]);
    expect(bobErrors).toEqual([]);
  });

  test('the second login step accepts a code and refuses a wrong one', async ({ page, browser }) => {
    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const p = await ctx.newPage();
    const errors = watchErrors(p);
    const email = uniqueEmail('login2fa');
    await open(p, '/auth/register/', js);
    await registerThroughForm(p, email, 'Lena Login', PASSWORD);
    await expect(p).toHaveURL(/\/organizations\/new\/$/);
    const secret = await enrol(p, js);
    await p.getByRole('button', { name: 'Sign out' }).click();
    await expect(p).toHaveURL(/\/auth\/login\/$/);
    if (js) await expect(p.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await p.getByLabel('Email').fill(email);
    await p.getByLabel('Password').fill(PASSWORD);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await expect(p).toHaveURL(/\/auth\/2fa\/$/);
    if (js) await expect(p.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await p.getByLabel('Authentication code').fill(totp(secret) === '000000' ? '111111' : '000000');
    await p.getByRole('button', { name: 'Verify' }).click();
    await expect(p.locator('.field-errors')).toContainText('That code is not valid');
    await p.getByLabel('Authentication code').fill(totp(secret, 1));
    await p.getByRole('button', { name: 'Verify' }).click();
    await expect(p).toHaveURL(/\/organizations\/new\/$/);
    await expect(p.getByTestId('user-email')).toHaveText(email);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  test('an owner allows join requests and approves one; the requester is sent an invite', async ({ page, browser }) => {
    const slug = await ownerWithOrg(page, js);
    await open(page, `/organizations/${slug}/settings/`, js);
    await page.getByLabel('Allow join requests').check();
    await page.getByRole('button', { name: 'Save settings' }).click();
    await expect(page.getByText('Settings saved.')).toBeVisible();

    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const visitor = await ctx.newPage();
    const email = uniqueEmail('joiner');
    await open(visitor, `/join-request/${slug}/`, js);
    await visitor.getByLabel('Your email').fill(email);
    await visitor.getByRole('button', { name: 'Ask to join' }).click();
    await expect(visitor.getByTestId('join-message')).toContainText('If the organization approves your request');
    await ctx.close();

    await open(page, `/organizations/${slug}/members/`, js);
    const row = page.getByTestId(`request-${email}`);
    await expect(row).toContainText('Asked to join');
    await row.getByRole('button', { name: 'Approve' }).click();
    await expect(page.getByTestId(`request-${email}`)).toHaveCount(0);
    await expect(page.getByTestId(`member-${email}`)).toContainText('Invited by Olive Owner');
    const link = await inviteLinkFor(email);
    expect(link).toMatch(/^\/accept\/\d+\/[0-9a-f]{64}\/$/);
  });
}

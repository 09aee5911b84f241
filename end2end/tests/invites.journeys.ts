import { test, expect, type Browser } from '@playwright/test';
import { PASSWORD, open, uniqueEmail, registerThroughForm, inviteLinkFor, ownerWithOrg, invite } from '../fixtures/app';

export function inviteJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('an owner invites a teammate who registers from the email link and lands in the organization', async ({ page, browser }) => {
    const slug = await ownerWithOrg(page, js);
    const teammate = uniqueEmail('bob');
    await invite(page, slug, teammate, js);
    const link = await inviteLinkFor(teammate);

    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const bob = await ctx.newPage();
    await open(bob, link, js);
    await expect(bob.getByRole('heading', { name: /^Join Acme/ })).toBeVisible();
    await bob.getByRole('link', { name: 'Create a new account' }).click();
    await expect(bob.getByLabel('Email')).toHaveValue(teammate);
    if (js) await expect(bob.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await bob.getByLabel('Name').fill('Bob Teammate');
    await bob.getByLabel('Password').fill(PASSWORD);
    await bob.getByRole('button', { name: 'Create account' }).click();
    await expect(bob).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(bob.getByTestId('my-role')).toHaveText('member');
    await ctx.close();

    // The owner's checklist step completes once the invitee has joined.
    await expect(async () => {
      await page.goto(`/organizations/${slug}/`);
      await expect(page.getByTestId('step-invite')).toContainText('a teammate has joined', { timeout: 500 });
    }).toPass({ timeout: 10_000 });
  });

  test('an existing user follows a link, signs in and joins with one click', async ({ page, browser }) => {
    const slug = await ownerWithOrg(page, js);
    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const carol = await ctx.newPage();
    const email = uniqueEmail('carol');
    await open(carol, '/auth/register/', js);
    await registerThroughForm(carol, email, 'Carol Existing', PASSWORD);
    await expect(carol).toHaveURL(/\/organizations\/new\/$/);
    await carol.getByRole('button', { name: 'Sign out' }).click();
    await expect(carol).toHaveURL(/\/auth\/login\/$/);

    await invite(page, slug, email, js);
    const link = await inviteLinkFor(email);
    await open(carol, link, js);
    await carol.getByRole('link', { name: 'Sign in with an existing account' }).click();
    if (js) await expect(carol.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await carol.getByLabel('Email').fill(email);
    await carol.getByLabel('Password').fill(PASSWORD);
    await carol.getByRole('button', { name: 'Sign in' }).click();
    await expect(carol).toHaveURL(new RegExp(link.replace(/\//g, '\\/') + '$'));
    await carol.getByRole('button', { name: /^Join Acme/ }).click();
    await expect(carol).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await ctx.close();
  });

  test('a wrong account sees the mismatch explanation; a revoked link says it is no longer valid', async ({ page, browser }) => {
    const slug = await ownerWithOrg(page, js);
    const invited = uniqueEmail('dan');
    await invite(page, slug, invited, js);
    const link = await inviteLinkFor(invited);

    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const eve = await ctx.newPage();
    const eveEmail = uniqueEmail('eve');
    await open(eve, '/auth/register/', js);
    await registerThroughForm(eve, eveEmail, 'Eve Other', PASSWORD);
    await expect(eve).toHaveURL(/\/organizations\/new\/$/);
    await open(eve, link, js);
    await expect(eve.getByTestId('invite-message')).toContainText(`This invite was sent to ${invited}; you are signed in as ${eveEmail}.`);
    await expect(eve.getByRole('button', { name: /^Join/ })).toHaveCount(0);

    // The owner revokes it: the link is dead.
    await open(page, `/organizations/${slug}/members/`, js);
    await page.getByTestId(`member-${invited}`).getByRole('button', { name: 'Revoke' }).click();
    await expect(page.getByTestId(`member-${invited}`)).toHaveCount(0);
    await open(eve, link, js);
    await expect(eve.getByTestId('invite-message')).toHaveText('This invite link is no longer valid.');
    await ctx.close();
  });
}

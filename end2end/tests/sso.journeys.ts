import { test, expect, type Browser, type Page } from '@playwright/test';
import { open, uniqueEmail, inviteLinkFor, ownerWithOrg, invite, watchErrors, PASSWORD } from '../fixtures/app';

const issuer = () => process.env.E2E_IDP_ISSUER!;

/** Adds a person to the test identity provider's directory. */
async function idpUser(sub: string, email: string, name: string, password: string) {
  const res = await fetch(`${issuer()}/__test/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sub, email, email_verified: true, name, password }),
  });
  expect(res.status).toBe(204);
}

/** Signs in on the identity provider's own login page (a page of another site). */
async function signInAtProvider(page: Page, email: string, password: string) {
  await expect(page).toHaveURL(new RegExp(`^${issuer()}/interaction/`));
  await expect(page.getByRole('heading', { name: 'Test identity provider' })).toBeVisible();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export function ssoJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('an invitee of a required-SSO organization signs in at the provider and lands in the organization', async ({ page, browser }) => {
    const errors = watchErrors(page);
    const slug = await ownerWithOrg(page, js);
    const tag = slug.slice(4);

    // The owner connects the provider, links their own identity, then requires SSO.
    await open(page, `/organizations/${slug}/settings/auth/`, js);
    await expect(page.getByTestId('redirect-uri')).toHaveText(/\/auth\/sso\/callback\/$/);
    await page.getByLabel('Issuer URL').fill(issuer());
    await page.getByLabel('Client ID').fill(process.env.E2E_IDP_CLIENT_ID!);
    await page.getByLabel('Client secret').fill(process.env.E2E_IDP_CLIENT_SECRET!);
    await page.getByLabel('Button label (provider name)').fill('Acme SSO');
    await page.getByRole('button', { name: 'Save identity provider' }).click();
    await expect(page.getByText('Identity provider saved.')).toBeVisible();
    await idpUser(`owner-${tag}`, `owner-${tag}@idp.test`, 'Olive Owner', 'owner-idp-pass');
    // Linking needs the account's own password, typed on the organization's sign-in page
    // (a same-site form whose policy lets it lead to the provider).
    await page.getByRole('link', { name: 'Link with Acme SSO' }).click();
    await expect(page).toHaveURL(new RegExp(`/auth/login/${slug}/`));
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Your password on this site').fill(PASSWORD);
    await page.getByRole('button', { name: 'Link with Acme SSO' }).click();
    await signInAtProvider(page, `owner-${tag}@idp.test`, 'owner-idp-pass');
    await expect(page).toHaveURL(new RegExp(`/organizations/${slug}/settings/auth/$`));
    await expect(page.getByTestId('owner-linked')).toBeVisible();
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Require single sign-on').check();
    await page.getByRole('button', { name: 'Save identity provider' }).click();
    await expect(page.getByText('Identity provider saved.')).toBeVisible();
    await expect(page.getByLabel('Require single sign-on')).toBeChecked();

    const teammate = uniqueEmail('sso').replace('@example.com', '@idp.test');
    await invite(page, slug, teammate, js);
    const link = await inviteLinkFor(teammate);
    await idpUser(`mate-${tag}`, teammate, 'Dana Joiner', 'dana-idp-pass');

    // The invitee: only the provider's button, the provider's login page, then the organization.
    const ctx = await (browser as Browser).newContext({ javaScriptEnabled: js });
    const dana = await ctx.newPage();
    const danaErrors = watchErrors(dana);
    await open(dana, link, js);
    await expect(dana.getByRole('link', { name: 'Join with Acme SSO' })).toBeVisible();
    await expect(dana.getByRole('link', { name: 'Create a new account' })).toHaveCount(0);
    await dana.getByRole('link', { name: 'Join with Acme SSO' }).click();
    await expect(dana).toHaveURL(new RegExp(`/auth/login/${slug}/`));
    if (js) await expect(dana.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await dana.getByRole('button', { name: 'Continue with Acme SSO' }).click();
    await signInAtProvider(dana, teammate, 'dana-idp-pass');
    await expect(dana).toHaveURL(new RegExp(`/organizations/${slug}/$`));
    await expect(dana.getByTestId('my-role')).toHaveText('member');
    await open(dana, '/settings/account/security/', js);
    await expect(dana.getByTestId('identities')).toContainText('Acme SSO');
    await expect(dana.getByTestId('identities')).toContainText(teammate);
    expect(danaErrors).toEqual([]);
    await ctx.close();

    // The owner sees the identity on the security page, unlinks it and links it again
    // from there (the provider remembers this browser, so it answers at once).
    await open(page, '/settings/account/security/', js);
    await expect(page.getByTestId('identities')).toContainText(`owner-${tag}@idp.test`);
    await page.getByRole('button', { name: new RegExp('^Unlink Acme SSO') }).click();
    await expect(page.getByTestId('link-identity')).toBeVisible();
    await expect(page.getByTestId('identities')).not.toContainText(`owner-${tag}@idp.test`);
    await page.getByTestId('link-identity').click();
    await expect(page).toHaveURL(new RegExp(`/auth/login/${slug}/`));
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Your password on this site').fill(PASSWORD);
    await page.getByRole('button', { name: 'Link with Acme SSO' }).click();
    await expect(page).toHaveURL(/\/settings\/account\/security\/$/);
    await expect(page.getByTestId('identities')).toContainText(`owner-${tag}@idp.test`);
    expect(errors).toEqual([]);
  });
}

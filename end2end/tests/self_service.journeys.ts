import { test, expect } from '@playwright/test';
import {
  PASSWORD, open, uniqueEmail, watchErrors, registerThroughForm, mailedLink, signOut, signInThroughForm, newContext,
} from '../fixtures/app';

const NEW_PASSWORD = 'amber-quarry-violin-77';

/**
 * Account self-service journeys (SPEC §4.5–§4.7), run with JavaScript on (hydrated forms)
 * and off (plain form posts and server redirects).
 */
export function selfServiceJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('forgot the password: ask for a link, read the mail, choose a new one, land signed in', async ({ page }) => {
    const errors = watchErrors(page);
    const email = uniqueEmail('forgetful');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Fay Forgetful', PASSWORD);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    await signOut(page);

    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await expect(page).toHaveURL(/\/account\/recover\/$/);
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Email').fill(email);
    await page.getByRole('button', { name: 'Send reset link' }).click();
    await expect(page.getByTestId('reset-sent')).toContainText('If an account exists for that address');

    const link = await mailedLink(email, '/account/recover/confirm/');
    await open(page, link, js);
    await expect(page.getByRole('heading', { name: 'Choose a new password' })).toBeVisible();
    await page.getByLabel('New password').fill('12345678');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expect(page.locator('#password-errors')).toContainText('entirely numeric');
    await page.getByLabel('New password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Set new password' }).click();
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    await expect(page.getByTestId('user-email')).toHaveText(email);

    // The link worked once; the new password signs in, the old one does not.
    await open(page, link, js);
    await expect(page.getByTestId('reset-refused')).toContainText('already been used');
    await signOut(page);
    await signInThroughForm(page, email, PASSWORD, js);
    await expect(page.getByRole('alert')).toHaveText('Please enter a correct email and password.');
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    if (js) expect(errors).toEqual([]);
  });

  test('change the password on the account page', async ({ page }) => {
    const email = uniqueEmail('changer');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Cid Changer', PASSWORD);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    await page.getByRole('link', { name: 'Account' }).click();
    await expect(page).toHaveURL(/\/settings\/account\/$/);
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    const section = page.getByRole('region', { name: 'Password' });
    await section.getByLabel('Current password').fill('not-my-password');
    await section.getByLabel('New password').fill(NEW_PASSWORD);
    await section.getByRole('button', { name: 'Change password' }).click();
    await expect(section.getByText('That is not your current password.')).toBeVisible();
    await section.getByLabel('Current password').fill(PASSWORD);
    await section.getByLabel('New password').fill(NEW_PASSWORD);
    await section.getByRole('button', { name: 'Change password' }).click();
    await expect(page.getByText('Your password is changed. Your other sessions are signed out.')).toBeVisible();

    await signOut(page);
    await signInThroughForm(page, email, NEW_PASSWORD, js);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
  });

  test('sign out another browser from the sessions page', async ({ page, browser }) => {
    const email = uniqueEmail('twodevices');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Tess Twodevices', PASSWORD);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);

    const other = await newContext(browser, js);
    const laptop = await other.newPage();
    await signInThroughForm(laptop, email, PASSWORD, js);
    await expect(laptop).toHaveURL(/\/organizations\/new\/$/);

    await open(page, '/settings/account/sessions/', js);
    await expect(page.getByTestId('session-current')).toContainText('This session');
    await expect(page.getByTestId('session-current')).toContainText('Chrome');
    await expect(page.getByTestId('session')).toHaveCount(1);
    await page.getByTestId('session').getByRole('button', { name: /^Sign out / }).click();
    await expect(page.getByTestId('session')).toHaveCount(0);
    await expect(page.getByTestId('session-current')).toBeVisible();

    await laptop.goto('/settings/account/');
    await expect(laptop).toHaveURL(/\/auth\/login\/\?next=/);
    await other.close();
  });

  test('change the email address through the link mailed to the new one', async ({ page }) => {
    const email = uniqueEmail('mover');
    const newEmail = uniqueEmail('moved');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Mo Mover', PASSWORD);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);

    await open(page, '/settings/account/', js);
    const section = page.getByRole('region', { name: 'Email address' });
    await section.getByLabel('New email address').fill(newEmail);
    await section.getByLabel('Current password').fill(PASSWORD);
    await section.getByRole('button', { name: 'Change email address' }).click();
    await expect(section.getByRole('status')).toContainText('Your address changes when you open it.');
    await expect(page.getByTestId('current-email')).toHaveText(email);

    const link = await mailedLink(newEmail, '/auth/verify-email/');
    await open(page, link, js);
    await expect(page.getByText(`Confirm that ${newEmail} is your email address.`)).toBeVisible();
    await page.getByRole('button', { name: 'Confirm my email address' }).click();
    await expect(page).not.toHaveURL(/\/auth\/verify-email\//);
    await open(page, '/settings/account/', js);
    await expect(page.getByTestId('current-email')).toHaveText(newEmail);
    await expect(page.getByTestId('email-status')).toContainText('verified');
  });
}

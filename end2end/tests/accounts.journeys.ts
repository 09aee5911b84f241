import { test, expect } from '@playwright/test';
import { PASSWORD, open, uniqueEmail, watchErrors, markWindow, windowMarked, registerThroughForm } from '../fixtures/app';

/**
 * The account journeys, run once with JavaScript on (hydrated app, client-side
 * navigation) and once with it off (plain form posts and server redirects).
 */
export function accountJourneys(js: boolean) {
  test.use({ javaScriptEnabled: js });

  test('register and land signed in', async ({ page }) => {
    const errors = watchErrors(page);
    const email = uniqueEmail('ada');
    await open(page, '/auth/register/', js);
    if (js) await markWindow(page);
    await registerThroughForm(page, email, 'Ada Lovelace', PASSWORD);
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    await expect(page.getByRole('heading', { name: 'Welcome, Ada Lovelace' })).toBeVisible();
    await expect(page.getByTestId('user-email')).toHaveText(email);
    await expect(page.getByRole('navigation', { name: 'Account' })).toContainText(`Signed in as ${email}`);
    if (js) {
      expect(await windowMarked(page), 'landed without a full page reload').toBe(true);
      expect(errors).toEqual([]);
    }
  });

  test('validation errors are shown beside their fields and the typed values are kept', async ({ page }) => {
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, 'ada@example', 'Ada Typed', '123');
    const email = page.getByLabel('Email');
    await expect(page.locator('#email-errors')).toHaveText('Enter a valid email address.');
    await expect(page.locator('#password-errors')).toContainText('This password is too short.');
    await expect(page.locator('#password-errors')).toContainText('This password is entirely numeric.');
    await expect(page.locator('#name-errors')).toBeEmpty();
    await expect(email).toHaveAttribute('aria-invalid', 'true');
    await expect(email).toHaveValue('ada@example');
    await expect(page.getByLabel('Name')).toHaveValue('Ada Typed');
    if (!js) {
      // Without JavaScript the page came back from the server: the password is never sent back.
      await expect(page.getByLabel('Password')).toHaveValue('');
    }
    await expect(page).toHaveURL(/\/auth\/register\//);
  });

  test('log out and log back in', async ({ page }) => {
    const email = uniqueEmail('grace');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Grace Hopper', PASSWORD);
    await expect(page.getByRole('heading', { name: 'Welcome, Grace Hopper' })).toBeVisible();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/auth\/login\/$/);
    await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');

    // A wrong password first: one generic message, the email kept.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not-my-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert')).toHaveText('Please enter a correct email and password.');
    await expect(page.getByLabel('Email')).toHaveValue(email);

    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
    await expect(page.getByTestId('user-email')).toHaveText(email);
  });

  test('a signed-in page sends an anonymous visitor to sign in and back', async ({ page }) => {
    const email = uniqueEmail('alan');
    await open(page, '/auth/register/', js);
    await registerThroughForm(page, email, 'Alan Turing', PASSWORD);
    await expect(page.getByRole('heading', { name: 'Welcome, Alan Turing' })).toBeVisible();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/auth\/login\/$/);

    await page.goto('/organizations/new/');
    await expect(page).toHaveURL(/\/auth\/login\/\?next=/);
    if (js) await expect(page.locator('body')).toHaveAttribute('data-hydrated', 'true');
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/organizations\/new\/$/);
  });
}

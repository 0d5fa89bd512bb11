// An impatient person on a slow link: the sign-in page shows before its
// WebAssembly has arrived, and signing in works all the same — the page's plain
// HTML form posts to the server (`POST /login`), which signs in and redirects.
// The WebAssembly is held back for the whole test, so the page never hydrates.

import { expect, test, type Page } from '@playwright/test';
import { useServers } from '../harness/server';

const server = useServers('corp');

/** Holds back the client's WebAssembly for as long as the test runs. */
async function neverHydrate(page: Page): Promise<void> {
  await page.route('**/pkg/*.wasm', () => new Promise<void>(() => {}));
}

test.afterEach(async ({ page }) => {
  await page.unrouteAll({ behavior: 'ignoreErrors' });
});

test('the sign-in form works before the page has hydrated', async ({ page }) => {
  const corp = server('corp');
  await neverHydrate(page);
  await page.goto(`${corp.url}/login?next=/contacts`);
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await page.getByLabel('Login or Causeway ID').fill('admin');
  const password = page.getByLabel('Password');
  await password.fill(corp.adminPassword);
  await password.press('Enter');

  // Only a signed-in person gets the page (anyone else is sent to /login).
  await expect(page).toHaveURL(`${corp.url}/contacts`);
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  // Still the server's HTML: the Sign out button waits for the script.
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeDisabled();
  const cookies = await page.context().cookies();
  expect(cookies.find((c) => c.name === 'causeway_session')?.httpOnly).toBe(true);
  const me = await page.request.get(`${corp.url}/api/v1/me`);
  expect(me.status()).toBe(200);
  expect((await me.json()).display_name).toBe('Administrator');
});

test('a wrong password comes back with a clear message and the login kept', async ({ page }) => {
  const corp = server('corp');
  await neverHydrate(page);
  await page.goto(`${corp.url}/login?next=/contacts`);
  await page.getByLabel('Login or Causeway ID').fill('admin');
  const password = page.getByLabel('Password');
  await password.fill('not the password');
  await password.press('Enter');

  await expect(page.getByRole('alert')).toHaveText('The login or password is incorrect.');
  await expect(page).toHaveURL(/\/login\?error=invalid_credentials&login=admin&next=%2Fcontacts$/);
  await expect(page.getByLabel('Login or Causeway ID')).toHaveValue('admin');
  await expect(page.getByLabel('Password')).toHaveValue('');

  // The next try, right, goes where the first was meant to.
  await page.getByLabel('Password').fill(corp.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(`${corp.url}/contacts`);
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
});

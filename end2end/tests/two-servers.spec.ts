// The harness runs two servers with different names side by side, as federation
// tests will need: each has its own administrator and its own users.

import { expect, test } from '@playwright/test';
import { screenshot, signIn, openSignIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp', 'guest');

test('two servers run side by side, each with its own administrator', async ({ browser }) => {
  const corp = server('corp');
  const guest = server('guest');
  expect(corp.url).not.toBe(guest.url);
  expect(corp.adminPassword).not.toBe(guest.adminPassword);

  const wolf = await browser.newContext();
  const moore = await browser.newContext();
  const corpPage = await wolf.newPage();
  const guestPage = await moore.newPage();

  await signIn(corpPage, corp.url, 'admin', corp.adminPassword);
  await signIn(guestPage, guest.url, 'admin', guest.adminPassword);
  await corpPage.goto(`${corp.url}/contacts`);
  await guestPage.goto(`${guest.url}/contacts`);
  await expect(corpPage.locator('code', { hasText: 'admin@corp' })).toHaveText('admin@corp');
  await expect(guestPage.locator('code', { hasText: 'admin@guest' })).toHaveText('admin@guest');
  await screenshot(guestPage, 'home-guest');

  // One server's password does not open the other.
  const other = await browser.newContext();
  const page = await other.newPage();
  await openSignIn(page, `${guest.url}/login`);
  await page.getByLabel('Login or Causeway ID').fill('admin');
  await page.getByLabel('Password').fill(corp.adminPassword);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The login or password is incorrect.');

  // And a corp ID typed on the guest server gets told where to go.
  await page.getByLabel('Login or Causeway ID').fill('admin@corp');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toContainText('Sign in on your own server');

  await Promise.all([wolf.close(), moore.close(), other.close()]);
});

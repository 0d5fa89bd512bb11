import { expect, test } from '@playwright/test';
import { cspRefusals, interactive, screenshot, signIn, openSignIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp.example');

test('the administrator signs in through the page and sees the home page', async ({ page }) => {
  const corp = server('corp.example');
  const refused = cspRefusals(page);
  const response = await page.goto(corp.url);
  await expect(page).toHaveURL(`${corp.url}/login`);
  // The page's script runs under a strict Content-Security-Policy.
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self' 'nonce-");
  await expect(page.getByRole('heading', { name: 'Sign in' })).toBeVisible();
  await screenshot(page, 'sign-in');

  await page.getByLabel('Login or Causeway ID').fill('admin');
  await page.getByLabel('Password').fill(corp.adminPassword);
  await page.getByLabel('Remember me').check();
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(`${corp.url}/`);
  await expect(page.getByRole('heading', { name: 'Chats', exact: true })).toBeVisible();
  await expect(page.getByText('No chats yet.')).toBeVisible();
  await screenshot(page, 'home');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await expect(page.getByText('admin@corp.example')).toBeVisible();
  await expect(page.getByText('Signed in as Administrator')).toBeVisible();
  // An administrator finds the control panel in the main navigation.
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Control panel' })).toBeVisible();
  await screenshot(page, 'contacts');

  // Remember me: the session cookie outlives the browser session.
  const cookies = await page.context().cookies();
  const session = cookies.find((c) => c.name === 'causeway_session');
  expect(session?.httpOnly).toBe(true);
  expect(session?.expires ?? -1).toBeGreaterThan(Date.now() / 1000 + 29 * 86400);

  // A reload keeps the person signed in.
  await page.reload();
  await interactive(page);
  await expect(page.getByRole('heading', { name: 'Contacts' })).toBeVisible();
  await expect(page).toHaveURL(`${corp.url}/contacts`);

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(`${corp.url}/login`);
  await page.goto(corp.url);
  await expect(page).toHaveURL(`${corp.url}/login`);
  expect(refused).toEqual([]);
});

test('a wrong password shows one clear message and signs nobody in', async ({ page }) => {
  const corp = server('corp.example');
  await openSignIn(page, `${corp.url}/login`);
  await page.getByLabel('Login or Causeway ID').fill('admin');
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The login or password is incorrect.');
  await expect(page).toHaveURL(`${corp.url}/login`);
  await screenshot(page, 'sign-in-error');

  // The same message for a user that does not exist.
  await page.getByLabel('Login or Causeway ID').fill('nobody');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('The login or password is incorrect.');
});

test('the keyboard alone signs in, with the full Causeway ID', async ({ page }) => {
  const corp = server('corp.example');
  await openSignIn(page, `${corp.url}/login`);
  await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
  await page.getByLabel('Login or Causeway ID').focus();
  await page.keyboard.type('admin@corp.example');
  await page.keyboard.press('Tab');
  await page.keyboard.type(corp.adminPassword);
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Chats', exact: true })).toBeVisible();
});

test('sign-in and home fit a phone screen', async ({ browser }) => {
  const corp = server('corp.example');
  const context = await browser.newContext({ viewport: { width: 375, height: 740 } });
  const page = await context.newPage();
  await openSignIn(page, `${corp.url}/login`);
  await screenshot(page, 'sign-in-phone');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  expect(overflow).toBe(false);
  await signIn(page, corp.url, 'admin', corp.adminPassword);
  await expect(page.getByRole('heading', { name: 'Chats', exact: true })).toBeVisible();
  expect(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth)).toBe(false);
  await screenshot(page, 'home-phone');
  await context.close();
});

test('an unknown address shows a page-not-found screen', async ({ page }) => {
  const corp = server('corp.example');
  const response = await page.goto(`${corp.url}/no/such/page`);
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
});

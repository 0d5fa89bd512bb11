// What a person does on the pages, found by role and label.

import { expect, type Page } from '@playwright/test';
import path from 'node:path';

export const screenshotDir = path.resolve(__dirname, '..', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Follows a link of the control panel's side navigation. */
export async function panel(page: Page, link: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Control panel' }).getByRole('link', { name: link, exact: true }).click();
}

/** Opens the sign-in page of `url` and signs in; returns once the home page shows. */
export async function signIn(
  page: Page,
  url: string,
  login: string,
  password: string,
  options: { rememberMe?: boolean } = {},
): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('Login or Causeway ID').fill(login);
  await page.getByLabel('Password').fill(password);
  if (options.rememberMe) await page.getByLabel('Remember me').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible();
}

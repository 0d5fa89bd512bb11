// What a person does on the pages, found by role and label.

import { expect, type Locator, type Page } from '@playwright/test';
import path from 'node:path';

export const screenshotDir = path.resolve(__dirname, '..', 'screenshots');

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/**
 * Opens `url` as a signed-in person and waits until the page is interactive: the
 * Sign out button stays disabled until the page has hydrated, and a click before
 * that would do nothing.
 */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await interactive(page);
}

/** Waits until a signed-in page has hydrated (after a load or a reload). */
export async function interactive(page: Page): Promise<void> {
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeEnabled();
}

/**
 * Starts recording what the pages' Content-Security-Policy refuses (the browser
 * logs each refusal as a console error); the returned list fills as they come.
 */
export function cspRefusals(...pages: Page[]): string[] {
  const refused: string[] = [];
  for (const page of pages) {
    page.on('console', (message) => {
      if (message.type() === 'error' && message.text().includes('Content Security Policy')) {
        refused.push(message.text());
      }
    });
  }
  return refused;
}

/**
 * In a people picker (the combobox labelled `label` inside `scope`): types the
 * name `person` matches and chooses the person it offers.
 */
export async function pickPerson(scope: Locator | Page, label: string, person: RegExp): Promise<void> {
  const box = scope.getByRole('combobox', { name: label });
  await box.fill(person.source.replace(/\\/g, ''));
  await scope.getByRole('listbox', { name: label }).getByRole('option', { name: person }).click();
  await expect(scope.getByRole('list', { name: 'Chosen people' }).getByText(person)).toBeVisible();
}

/**
 * On the chat list: **New group chat** titled `title` with the contacts whose
 * names match `people`, chosen in the dialog's picker; returns once the new
 * chat shows.
 */
export async function newGroupChat(page: Page, title: string, ...people: RegExp[]): Promise<void> {
  await page.getByRole('button', { name: 'New group chat' }).click();
  const dialog = page.getByRole('dialog', { name: 'New group chat' });
  await dialog.getByLabel('Title').fill(title);
  for (const person of people) await pickPerson(dialog, 'People', person);
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: title })).toBeVisible();
}

/** Chooses `action` from the one menu a message has (its only tab stop). */
export async function messageAction(message: Locator, action: 'Reply' | 'Edit' | 'Delete'): Promise<void> {
  await message.getByRole('button', { name: /^Actions for the message of/ }).click();
  await message.getByRole('menuitem', { name: action }).click();
}

/** Follows a link of the control panel's side navigation. */
export async function panel(page: Page, link: string): Promise<void> {
  await page.getByRole('navigation', { name: 'Control panel' }).getByRole('link', { name: link, exact: true }).click();
}

/** Opens the sign-in page of `url` and signs in; returns once the home page shows. */
/**
 * Opens the sign-in page and waits until its script runs. The form works
 * before that too (a plain POST, see sign-in-before-hydration.spec.ts), but
 * the script's sign-in says more when it refuses (e.g. which server an ID
 * belongs to) and stays on the page.
 */
export async function openSignIn(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.locator('form[data-hydrated]')).toHaveCount(1);
}

export async function signIn(
  page: Page,
  url: string,
  login: string,
  password: string,
  options: { rememberMe?: boolean } = {},
): Promise<void> {
  await openSignIn(page, `${url}/login`);
  await page.getByLabel('Login or Causeway ID').fill(login);
  await page.getByLabel('Password').fill(password);
  if (options.rememberMe) await page.getByLabel('Remember me').check();
  await page.getByRole('button', { name: 'Sign in' }).click();
  await interactive(page);
}

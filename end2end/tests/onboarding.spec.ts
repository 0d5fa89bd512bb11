// A new server works for its people within minutes (issue 13, onboarding): the
// administrator's first screen is a set-up checklist; New user puts people into
// groups; colleagues find each other without an address book typed by hand;
// address books are edited with a people picker that searches by name.

import { expect, test } from '@playwright/test';
import { interactive, open, panel, screenshot, signIn } from '../harness/pages';
import { allow, createUser } from '../harness/api';
import { useServers } from '../harness/server';

const server = useServers('corp', 'guest');

test('a new server: the checklist, New user with groups, colleagues who see each other', async ({ page, browser }) => {
  const corp = server('corp');
  await signIn(page, corp.url, 'admin', corp.adminPassword);

  // The first screen is the set-up checklist, not an empty chat list.
  const setup = page.getByRole('region', { name: 'Set up this server' });
  await expect(setup).toBeVisible();
  await expect(setup.getByText('0 of 3 steps done.')).toBeVisible();
  await expect(setup.getByRole('listitem')).toHaveCount(3);
  await expect(setup.getByRole('link', { name: 'Add people' })).toHaveAttribute('href', '/admin/users');
  await screenshot(page, 'setup-checklist');

  // Groups first: a new group's members see each other unless switched off.
  await setup.getByRole('link', { name: 'Groups and rights' }).click();
  await interactive(page);
  await page.getByLabel('New group name').fill('Sales');
  await page.getByRole('button', { name: 'Create group' }).click();
  await expect(page.getByRole('heading', { name: 'Sales' })).toBeVisible();
  await expect(page.getByRole('switch', { name: 'Members see each other' })).toBeChecked();

  // New user chooses the groups in the same form.
  await panel(page, 'Users');
  for (const [login, name, group] of [
    ['cat', 'Cat Cole', 'Sales'],
    ['dan', 'Dan Dale', 'Sales'],
    ['ann', 'Ann Archer', null],
  ] as const) {
    await page.getByRole('button', { name: 'New user' }).click();
    const form = page.getByRole('region', { name: 'New user' });
    await form.getByLabel('Login').fill(login);
    await form.getByLabel('Display name').fill(name);
    await form.getByLabel('Password').fill('a-long-password-1');
    if (group) await form.getByRole('group', { name: 'Groups' }).getByRole('checkbox', { name: group }).check();
    await form.getByRole('button', { name: 'Create user' }).click();
    await expect(page.getByRole('heading', { name: `${name} (${login})` })).toBeVisible();
    if (group) await expect(page.getByRole('checkbox', { name: group })).toBeChecked();
    await panel(page, 'Users');
  }

  // Cat sees Dan (same group) by name, and not Ann (in no group); nobody typed
  // an address book.
  const catContext = await browser.newContext();
  const cat = await catContext.newPage();
  await signIn(cat, corp.url, 'cat', 'a-long-password-1');
  await cat.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  const people = cat.getByRole('list', { name: 'Contacts' });
  await expect(people.getByRole('listitem')).toHaveCount(1);
  await expect(people.getByRole('listitem')).toContainText('Dan Dale');
  await expect(people.getByRole('listitem')).toContainText('Sales');

  // The switch saves at once: off, and Cat's list is empty after a reload.
  await page.getByRole('navigation', { name: 'Control panel' }).getByRole('link', { name: 'Groups' }).click();
  await page.getByRole('link', { name: 'Sales' }).click();
  const visibility = page.getByRole('switch', { name: 'Members see each other' });
  await visibility.uncheck();
  await expect(page.getByRole('status').filter({ hasText: 'Members see only the address book below.' })).toBeVisible();
  await cat.reload();
  await interactive(cat);
  await expect(cat.getByText('No contacts yet')).toBeVisible();
  await page.reload();
  await interactive(page);
  await expect(page.getByRole('switch', { name: 'Members see each other' })).not.toBeChecked();

  // The address book editor finds people by name here, and by ID elsewhere.
  const guest = server('guest');
  await allow(guest, corp);
  await allow(corp, guest);
  await createUser(guest, 'moore', 'moore-password-1', 'Albert Moore');
  const book = page.getByRole('region', { name: 'Address Book' });
  await book.getByRole('button', { name: 'Customize' }).click();
  const picker = book.getByRole('combobox', { name: 'Add a person' });
  await picker.fill('archer');
  await expect(book.getByRole('option', { name: /Ann Archer/ })).toBeVisible();
  await screenshot(page, 'people-picker');
  await picker.press('Enter');
  await picker.fill('moore@guest');
  await book.getByRole('option', { name: 'Look up moore@guest' }).click();
  const entries = book.getByRole('list', { name: 'Address book entries' });
  await expect(entries.getByRole('listitem')).toHaveCount(2);
  await expect(entries.getByRole('listitem').last()).toContainText('Albert Moore');
  await book.getByLabel('Name to show for moore@guest').fill('Albert Moore (Guest)');
  // Someone who does not exist is refused by the look-up, before any save.
  await picker.fill('nobody@corp');
  await picker.press('Enter');
  await expect(book.getByText('There is no user nobody@corp on this server.')).toBeVisible();
  await book.getByRole('button', { name: 'Save address book' }).click();
  const saved = book.getByRole('list', { name: 'Group address book' });
  await expect(saved.getByRole('listitem')).toHaveCount(2);
  await expect(saved.getByRole('listitem').first()).toContainText('Ann Archer');
  await expect(saved.getByRole('listitem').last()).toContainText('Albert Moore (Guest)');

  await cat.reload();
  await interactive(cat);
  await expect(people.getByRole('listitem')).toHaveCount(2);
  await expect(people.getByText('Ann Archer')).toBeVisible();

  // Back on the chat list, the checklist has ticked what is done.
  await open(page, `${corp.url}/`);
  await expect(setup).toHaveCount(0);
  await expect(page.getByText('Choose a chat, or start one from Contacts.')).toBeVisible();
  await catContext.close();
});

test('a new server lets its people send and download files without the administrator granting it', async ({ page }) => {
  const corp = server('corp');
  await createUser(corp, 'eve', 'a-long-password-1', 'Eve Evans');
  await createUser(corp, 'fay', 'a-long-password-1', 'Fay Ford');
  await signIn(page, corp.url, 'eve', 'a-long-password-1');
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  const fay = page.getByRole('list', { name: 'Contacts' }).getByRole('listitem').filter({ hasText: 'Fay Ford' });
  await fay.getByRole('button', { name: /Message/ }).click();
  await expect(page.getByRole('heading', { name: 'Fay Ford' })).toBeVisible();
  await page.getByLabel('Attach a file').setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('the plan') });
  await page.getByRole('button', { name: 'Send' }).click();
  const link = page.getByRole('list', { name: 'Messages' }).getByRole('link', { name: 'Download plan.txt' });
  await expect(link).toBeVisible();
  const download = page.waitForEvent('download');
  await link.click();
  expect((await download).suggestedFilename()).toBe('plan.txt');
});

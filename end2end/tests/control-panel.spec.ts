// The administrator sets up a server through the control panel, as DESIGN.md's
// acceptance story does on the corporate side, and a user sees the result.

import { expect, test, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { interactive, open, panel, screenshot, signIn, openSignIn } from '../harness/pages';
import { allow, asAdmin, createUser as createUserByApi } from '../harness/api';
import { useServersOn, type Backend } from '../harness/server';

/** A 1×1 PNG. */
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg==',
  'base64',
);

async function createUser(page: Page, login: string, name: string, password: string): Promise<void> {
  await panel(page, 'Users');
  await expect(page.getByRole('table')).toBeVisible();
  await page.getByRole('button', { name: 'New user' }).click();
  const form = page.getByRole('region', { name: 'New user' });
  await form.getByLabel('Login').fill(login);
  await form.getByLabel('Display name').fill(name);
  await form.getByLabel('Password').fill(password);
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(page.getByRole('heading', { name: `${name} (${login})` })).toBeVisible();
}

// Both storage backends play the same story in the browser.
for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  test.describe(backend, () => {
    // Times in the panel are the reader's: a browser away from UTC shows it.
    test.use({ timezoneId: 'Asia/Kolkata' });
    const server = useServersOn(backend, 'corp', 'guest');
    const prefix = backend === 'sqlite' ? '' : 'postgres-';

    test(`the administrator sets up groups, users, address books and federation (${backend})`, async ({ page, browser }) => {
      // The longest story of the suite (about a minute on two cores shared
      // with another worker): its steps wait for what they assert, not for it.
      test.slow();
      const corp = server('corp');
      await signIn(page, corp.url, 'admin', corp.adminPassword);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Control panel' }).click();
      // The panel comes with its own bundle: the page loads anew.
      await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
      await interactive(page);
      await expect(page.getByRole('link', { name: 'admin' })).toBeVisible();

      // Federation first (as in DESIGN.md's story): corp allows guest here, guest
      // allows corp through its API, and guest has the user Moore.
      const guest = server('guest');
      await allow(guest, corp);
      await createUserByApi(guest, 'moore', 'moore-password-1', 'Albert Moore');
      // Federation: white list with guest, applied at once.
      await panel(page, 'Federation');
      await page.getByLabel('Federation mode').selectOption({ label: 'Allowed for whitelisted servers' });
      await page.getByLabel('Server name').fill('guest');
      await page.getByLabel('Address (optional)').fill(guest.url);
      await page.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByRole('button', { name: 'Apply' }).click();
      await expect(page.getByText('Applied. Federation settings are in force now.')).toBeVisible();
      await page.reload();
      await interactive(page);
      await expect(page.getByLabel('Federation mode')).toHaveValue('whitelist');
      await expect(page.getByRole('region', { name: 'White list' }).getByRole('cell', { name: 'guest', exact: true })).toBeVisible();
      await expect(page.getByRole('region', { name: 'Servers' }).getByRole('cell', { name: 'guest', exact: true })).toBeVisible();
      // The states follow real traffic, and the page keeps them current: a
      // look-up of Moore makes guest reachable here without a reload.
      const guestRow = page.getByRole('region', { name: 'Servers' }).getByRole('row', { name: /^guest/ });
      await expect(guestRow).toContainText('Not contacted yet');
      await asAdmin(corp, 'GET', '/api/v1/people/lookup?id=moore%40guest');
      await expect(guestRow).toContainText('Reachable', { timeout: 20_000 });
      await screenshot(page, `${prefix}panel-federation`);

      // A group with some rights.
      await panel(page, 'Groups');
      await expect(page.getByRole('link', { name: 'Users without a group' })).toBeVisible();
      await page.getByLabel('New group name').fill('Operators');
      await page.getByRole('button', { name: 'Create group' }).click();
      await expect(page.getByRole('heading', { name: 'Operators' })).toBeVisible();
      await page.getByRole('switch', { name: 'Send files to chats' }).check();
      await page.getByRole('switch', { name: 'Download files in chats' }).check();
      await page.getByRole('switch', { name: 'Edit the address book' }).check();
      await expect(page.getByText('Rights saved.')).toBeVisible();
      // Each switch saved at once: a reload shows all three.
      await page.reload();
      await interactive(page);
      for (const right of ['Send files to chats', 'Download files in chats', 'Edit the address book']) {
        await expect(page.getByRole('switch', { name: right })).toBeChecked();
      }
      await expect(page.getByRole('switch', { name: 'Share content' })).not.toBeChecked();

      // Users: one in the group, one in no group.
      await createUser(page, 'wolf', 'Wolf', 'wolf-password-1');
      await page.getByRole('checkbox', { name: 'Operators' }).check();
      await page.getByRole('button', { name: 'Save groups' }).click();
      const rights = page.getByRole('region', { name: 'Effective rights' });
      await expect(rights.getByRole('row', { name: /Send files to chats\s+Operators/ })).toBeVisible();
      await screenshot(page, `${prefix}panel-user`);
      await createUser(page, 'bob', 'Bob Builder', 'bob-password-12');
      // In no group: what a new server grants "Users without a group".
      await expect(page.getByRole('region', { name: 'Effective rights' }).getByRole('row', { name: /Send files to chats\s+Users without a group/ })).toBeVisible();

      // The group address book: a local user and a user of the guest server.
      await panel(page, 'Groups');
      await page.getByRole('link', { name: 'Operators' }).click();
      await page.getByRole('button', { name: 'Customize' }).click();
      const book = page.getByRole('region', { name: 'Address Book' });
      const picker = book.getByRole('combobox', { name: 'Add a person' });
      await picker.fill('moore@guest');
      await picker.press('Enter');
      await book.getByLabel('Name to show for moore@guest').fill('Albert Moore (Guest)');
      await picker.fill('builder');
      await book.getByRole('option', { name: /Bob Builder/ }).click();
      await book.getByRole('button', { name: 'Move bob@corp up' }).click();
      await book.getByRole('button', { name: 'Save address book' }).click();
      const saved = book.getByRole('list', { name: 'Group address book' });
      await expect(saved.getByRole('listitem')).toHaveCount(2);
      await expect(saved.getByRole('listitem').first()).toContainText('Bob Builder');
      await expect(saved.getByRole('listitem').first()).toContainText('bob@corp');
      await expect(saved.getByRole('listitem').last()).toContainText('Albert Moore (Guest)');
      await screenshot(page, `${prefix}panel-group`);

      // A local entry must name an existing user: the look-up says so at once.
      await book.getByRole('button', { name: 'Customize' }).click();
      await picker.fill('nobody@corp');
      await picker.press('Enter');
      await expect(book.getByText('There is no user nobody@corp on this server.')).toBeVisible();
      await book.getByRole('button', { name: 'Cancel' }).click();

      // What users of other servers may do here.
      await panel(page, 'Groups');
      await page.getByRole('link', { name: 'Federated Users' }).click();
      await expect(page.getByRole('button', { name: 'Rename' })).toHaveCount(0);
      // A new server's defaults already: download, not send (nothing to save).
      await page.getByRole('switch', { name: 'Send files to chats' }).uncheck();
      await page.getByRole('switch', { name: 'Download files in chats' }).check();
      await expect(page.getByRole('switch', { name: 'Send files to chats' })).not.toBeChecked();
      await expect(page.getByRole('switch', { name: 'Download files in chats' })).toBeChecked();
      await panel(page, 'Groups');
      await expect(page.getByRole('row', { name: /Federated Users.*implicit\s+Download files in chats$/ })).toBeVisible();
      await screenshot(page, `${prefix}panel-groups`);

      // Users → Settings → Display Fields.
      await panel(page, 'Settings');
      await page.getByRole('checkbox', { name: 'Email' }).check();
      await page.getByRole('checkbox', { name: 'Company' }).check();
      await page.getByRole('button', { name: 'Save Display Fields' }).click();
      await expect(page.getByText('Display Fields saved.')).toBeVisible();
      await page.getByLabel('Longest message (characters)').fill('5000');
      await page.getByRole('button', { name: 'Save chat settings' }).click();
      await expect(page.getByText('Chat settings saved.')).toBeVisible();
      await page.reload();
      await interactive(page);
      await expect(page.getByLabel('Longest message (characters)')).toHaveValue('5000');
      await screenshot(page, `${prefix}panel-settings`);

      // Wolf signs in and sees the group's address book.
      const wolfContext = await browser.newContext();
      const wolf = await wolfContext.newPage();
      await signIn(wolf, corp.url, 'wolf', 'wolf-password-1');
      await wolf.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
      const people = wolf.getByRole('list', { name: 'Contacts' });
      await expect(people.getByRole('listitem')).toHaveCount(2);
      await expect(people.getByText('Albert Moore (Guest)')).toBeVisible();
      await expect(people.getByText('Bob Builder')).toBeVisible();
      await expect(people.getByRole('listitem').filter({ hasText: 'moore@guest' }).getByTitle('On another server')).toHaveText('guest');
      await expect(wolf.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Control panel' })).toHaveCount(0);
      await screenshot(wolf, `${prefix}contacts`);
      // The control panel is not for Wolf: the page sends him home.
      await wolf.goto(`${corp.url}/admin/users`);
      await expect(wolf).toHaveURL(`${corp.url}/`);

      // A deactivated user cannot sign in.
      await open(page, `${corp.url}/admin/users`);
      await page.getByRole('link', { name: 'bob' }).click();
      // It asks first, in the page; backing out changes nothing.
      await page.getByRole('button', { name: 'Deactivate' }).click();
      const asking = page.getByRole('alertdialog');
      await expect(asking).toContainText('Deactivate Bob Builder? They are signed out everywhere at once');
      await asking.getByRole('button', { name: 'Keep active' }).click();
      await expect(asking).toHaveCount(0);
      await expect(page.getByRole('region', { name: 'Status' }).getByText('Active', { exact: true })).toBeVisible();
      await page.getByRole('button', { name: 'Deactivate' }).click();
      await asking.getByRole('button', { name: 'Yes, deactivate' }).click();
      await expect(page.getByRole('region', { name: 'Status' }).getByText('Deactivated', { exact: true })).toBeVisible();
      // The page is drawn anew from the server's answer; what was saved stays said.
      await expect(page.getByRole('status').filter({ hasText: 'Deactivated: they are signed out everywhere.' })).toBeVisible();
      const bobContext = await browser.newContext();
      const bob = await bobContext.newPage();
      await openSignIn(bob, `${corp.url}/login`);
      await bob.getByLabel('Login or Causeway ID').fill('bob');
      await bob.getByLabel('Password').fill('bob-password-12');
      await bob.getByRole('button', { name: 'Sign in' }).click();
      await expect(bob.getByRole('alert')).toHaveText('This account is deactivated. Contact your administrator.');

      // Everything above is in the audit log.
      // Actions read as words; times are the reader's (this browser is in
      // Kolkata, UTC+5:30), with UTC on hover.
      await open(page, `${corp.url}/admin/audit`);
      await expect(page.getByRole('cell', { name: 'User deactivated' })).toBeVisible();
      const when = page.getByRole('row').nth(1).locator('time');
      const utc = (await when.getAttribute('title')) ?? '';
      const local = new Date(Date.parse(utc.replace(' UTC', 'Z').replace(' ', 'T')) + 330 * 60_000);
      await expect(when).toHaveText(local.toISOString().slice(0, 16).replace('T', ' '));
      await page.getByLabel('Show').selectOption({ label: 'Sign-ins' });
      await expect(page.getByRole('cell', { name: 'Sign-in failed' }).first()).toBeVisible();
      await expect(page.getByRole('cell', { name: 'User created' })).toHaveCount(0);
      await screenshot(page, `${prefix}panel-audit`);
      // The export gives the lines the filter shows, as CSV.
      const download = page.waitForEvent('download');
      await page.getByRole('link', { name: 'Export CSV' }).click();
      const csv = readFileSync(await (await download).path(), 'utf8').split('\r\n').filter(Boolean);
      expect(csv[0]).toBe('time_utc,actor,action,action_name,target,detail,address');
      expect(csv.some((line) => line.includes(',sign_in.failure,Sign-in failed,bob,'))).toBe(true);
      expect(csv.every((line, i) => i === 0 || line.includes(',sign_in.'))).toBe(true);

      await panel(page, 'Users');
      await expect(page.getByText('Page 1 of 1 · 3 users')).toBeVisible();
      await expect(page.getByRole('button', { name: 'Previous' })).toBeDisabled();
      await expect(page.getByRole('button', { name: 'Next' })).toBeDisabled();
      await page.getByRole('searchbox', { name: 'Search users' }).fill('builder');
      await expect(page.getByRole('link', { name: 'bob' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'wolf' })).toHaveCount(0);
      await page.getByRole('searchbox', { name: 'Search users' }).fill('');
      // The whole list again, before a click can land on a row that moves.
      await expect(page.getByText('Page 1 of 1 · 3 users')).toBeVisible();
      await expect(page.getByRole('link', { name: 'wolf' })).toBeVisible();
      await screenshot(page, `${prefix}panel-users`);

      // Deleting asks once more, then the user is gone.
      await page.getByRole('link', { name: 'bob' }).click();
      await page.getByRole('button', { name: 'Delete user' }).click();
      await expect(page.getByText('Delete bob for good?')).toBeVisible();
      await page.getByRole('button', { name: 'Delete for good' }).click();
      await expect(page).toHaveURL(`${corp.url}/admin/users`);
      await expect(page.getByRole('link', { name: 'wolf' })).toBeVisible();
      await expect(page.getByRole('link', { name: 'bob' })).toHaveCount(0);
      await Promise.all([wolfContext.close(), bobContext.close()]);
    });

    test(`a user edits their own profile and password (${backend})`, async ({ page }) => {
      const corp = server('corp');
      await signIn(page, corp.url, 'admin', corp.adminPassword);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My account' }).click();
      // My account comes with the panel bundle: the page loads anew.
      await expect(page.getByRole('heading', { name: 'My account' })).toBeVisible();
      await interactive(page);
      await page.getByLabel('Display name').fill('Chief Administrator');
      await page.getByLabel('Phone').fill('+1 555 0100');
      await page.getByRole('button', { name: 'Save profile' }).click();
      await expect(page.getByText('Profile saved.')).toBeVisible();
      await expect(page.locator('.topbar-name')).toHaveText('Chief Administrator');

      // A photo: chosen from a file, shown at once here and in the top bar.
      const photo = page.getByRole('region', { name: 'Photo' });
      await expect(photo.locator('img')).toHaveCount(0);
      await photo.getByLabel('Choose a photo').setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: PNG });
      await expect(photo.locator('img')).toHaveAttribute('src', /\/api\/v1\/avatars\/[0-9a-f]{64}\.png$/);
      await expect(page.locator('.topbar img')).toBeVisible();
      // Something that is not an image is refused with a clear message.
      await photo.getByLabel('Choose a photo').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
      await expect(photo.getByRole('alert')).toHaveText('A photo must be a PNG, JPEG or WebP image.');
      await screenshot(page, `${prefix}account-photo`);
      await photo.getByRole('button', { name: 'Remove photo' }).click();
      await expect(photo.locator('img')).toHaveCount(0);

      await page.getByLabel('Current password').fill('wrong password');
      await page.getByLabel('New password', { exact: true }).fill('a-new-password-1');
      await page.getByLabel('Repeat the new password').fill('a-new-password-1');
      await page.getByRole('button', { name: 'Change password' }).click();
      await expect(page.getByRole('alert')).toHaveText('The current password is incorrect.');
      await screenshot(page, `${prefix}account`);
    });
  });
}

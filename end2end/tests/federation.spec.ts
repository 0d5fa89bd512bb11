// DESIGN.md's acceptance story on two servers, in two browsers: the two
// administrators federate corp and guest, fill address books and set what
// Federated Users may do; Moore (guest) and Wolf (corp) chat in real time, in a
// direct chat and in a corp group chat; Wolf sends a file that Moore downloads
// through his own server; Moore is refused sending one; and when corp takes
// guest off its white list, guest's traffic is refused at once while nothing
// stored is lost.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { createUser } from '../harness/api';
import { cspRefusals, newGroupChat, open, panel, screenshot, signIn } from '../harness/pages';
import { useServers, type RunningServer } from '../harness/server';

const server = useServers('corp', 'guest');

/** Steps 1 and 2: the administrator of `own` allows `other` on the Federation page. */
async function allowOnPage(page: Page, own: RunningServer, other: RunningServer): Promise<void> {
  await signIn(page, own.url, 'admin', own.adminPassword);
  await open(page, `${own.url}/admin/federation`);
  await page.getByLabel('Federation mode').selectOption({ label: 'Allowed for whitelisted servers' });
  await page.getByLabel('Server name').fill(other.serverName);
  await page.getByLabel('Address (optional)').fill(other.url);
  await page.getByRole('button', { name: 'Add', exact: true }).click();
  await page.getByRole('button', { name: 'Apply' }).click();
  await expect(page.getByText('Applied. Federation settings are in force now.')).toBeVisible();
}

/** Steps 4 and 5: the administrator adds `id` to "Users without a group". */
async function addToBook(page: Page, id: string, name: string): Promise<void> {
  await panel(page, 'Groups');
  await page.getByRole('link', { name: 'Users without a group' }).click();
  await page.getByRole('button', { name: 'Customize' }).click();
  const book = page.getByRole('region', { name: 'Address Book' });
  // The picker looks the ID up on its server and shows the name it has there.
  await book.getByRole('combobox', { name: 'Add a person' }).fill(id);
  await book.getByRole('option', { name: `Look up ${id}` }).click();
  await expect(book.getByRole('list', { name: 'Address book entries' }).getByRole('listitem')).toHaveCount(1);
  if (name) await book.getByLabel(`Name to show for ${id}`).fill(name);
  await book.getByRole('button', { name: 'Save address book' }).click();
  await expect(book.getByRole('list', { name: 'Group address book' }).getByRole('listitem')).toHaveCount(1);
}

function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

test('corp and guest federate, and their users chat and exchange files', async ({ browser }) => {
  test.setTimeout(180_000);
  const corp = server('corp');
  const guest = server('guest');
  await createUser(corp, 'wolf', 'wolf-password-1', 'Wolf');

  const corpAdminContext = await browser.newContext();
  const guestAdminContext = await browser.newContext();
  const corpAdmin = await corpAdminContext.newPage();
  const guestAdmin = await guestAdminContext.newPage();

  // 1–2. Each administrator allows the other server; no restart.
  await allowOnPage(corpAdmin, corp, guest);
  await allowOnPage(guestAdmin, guest, corp);
  await screenshot(guestAdmin, 'federation-guest-whitelist');

  // 3. Guest's administrator creates Moore's account (in no group).
  await panel(guestAdmin, 'Users');
  await guestAdmin.getByRole('button', { name: 'New user' }).click();
  const form = guestAdmin.getByRole('region', { name: 'New user' });
  await form.getByLabel('Login').fill('moore');
  await form.getByLabel('Display name').fill('Albert Moore');
  await form.getByLabel('Password').fill('moore-password-1');
  await form.getByRole('button', { name: 'Create user' }).click();
  await expect(guestAdmin.getByRole('heading', { name: 'Albert Moore (moore)' })).toBeVisible();

  // 4–5. Address books on both sides name the other person; an unknown one is refused.
  await addToBook(corpAdmin, 'moore@guest', 'Albert Moore (Guest)');
  await addToBook(guestAdmin, 'wolf@corp', '');
  await panel(guestAdmin, 'Groups');
  await guestAdmin.getByRole('link', { name: 'Users without a group' }).click();
  await guestAdmin.getByRole('button', { name: 'Customize' }).click();
  const book = guestAdmin.getByRole('region', { name: 'Address Book' });
  const picker = book.getByRole('combobox', { name: 'Add a person' });
  await picker.fill('nobody@corp');
  await picker.press('Enter');
  await expect(book.getByText('There is no active user nobody@corp on corp.')).toBeVisible();
  await book.getByRole('button', { name: 'Cancel' }).click();

  // A new server already lets its own people send and download files: the
  // panel shows it.
  for (const page of [corpAdmin, guestAdmin]) {
    await panel(page, 'Groups');
    await page.getByRole('link', { name: 'Users without a group' }).click();
    await expect(page.getByRole('switch', { name: 'Send files to chats' })).toBeChecked();
    await expect(page.getByRole('switch', { name: 'Download files in chats' })).toBeChecked();
  }

  // 6. Corp decides what Federated Users may do, and which fields others see.
  await panel(corpAdmin, 'Groups');
  await corpAdmin.getByRole('link', { name: 'Federated Users' }).click();
  // Sending files is off and downloading on already (a new server's
  // defaults); Share content is switched on and saved at once.
  await expect(corpAdmin.getByRole('switch', { name: 'Send files to chats' })).not.toBeChecked();
  await expect(corpAdmin.getByRole('switch', { name: 'Download files in chats' })).toBeChecked();
  await corpAdmin.getByRole('switch', { name: 'Share content' }).check();
  await expect(corpAdmin.getByText('Rights saved.')).toBeVisible();
  await screenshot(corpAdmin, 'federation-federated-users');
  await panel(corpAdmin, 'Settings');
  await corpAdmin.getByRole('checkbox', { name: 'Company' }).check();
  await corpAdmin.getByRole('button', { name: 'Save Display Fields' }).click();
  await expect(corpAdmin.getByText('Display Fields saved.')).toBeVisible();

  // 7. Moore signs in on guest with his full ID and Remember me, and sees Wolf.
  const mooreContext = await browser.newContext({ acceptDownloads: true });
  const wolfContext = await browser.newContext({ acceptDownloads: true });
  const moore = await mooreContext.newPage();
  const wolf = await wolfContext.newPage();
  const cspRefused = cspRefusals(moore, wolf, corpAdmin, guestAdmin);
  await signIn(moore, guest.url, 'moore@guest', 'moore-password-1', { rememberMe: true });
  await signIn(wolf, corp.url, 'wolf', 'wolf-password-1');
  await moore.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  const people = moore.getByRole('list', { name: 'Contacts' });
  const wolfEntry = people.getByRole('listitem').filter({ hasText: 'wolf@corp' });
  await expect(wolfEntry).toContainText('Wolf');
  await expect(wolfEntry.getByTitle('On another server')).toHaveText('corp');
  await screenshot(moore, 'federation-guest-contacts');

  // Moore opens the chat with Wolf and they talk in real time.
  await moore.getByRole('button', { name: 'Message Wolf' }).click();
  await expect(moore).toHaveURL(/\/chats\/\d+$/);
  const mooreBox = moore.getByRole('textbox', { name: 'Message' });
  await mooreBox.fill('Hello Wolf, Albert from the contractor here.');
  await mooreBox.press('Enter');
  await expect(messages(moore).getByText('Hello Wolf, Albert from the contractor here.')).toBeVisible();
  const fromMoore = wolf.getByRole('link', { name: /Albert Moore/ });
  await expect(fromMoore).toBeVisible();
  await fromMoore.click();
  await expect(messages(wolf).getByText('Hello Wolf, Albert from the contractor here.')).toBeVisible();
  const wolfBox = wolf.getByRole('textbox', { name: 'Message' });
  await wolfBox.pressSequentially('Welcome');
  await expect(moore.getByText(/is typing…/)).toBeVisible();
  await wolfBox.press('Enter');
  await expect(messages(moore).getByText('Welcome')).toBeVisible();
  await screenshot(moore, 'federation-direct-chat-guest');

  // Wolf sends a file; Moore downloads it through his own server.
  const bytes = randomBytes(256 * 1024);
  await wolf.getByLabel('Attach a file').setInputFiles({ name: 'plan.bin', mimeType: 'application/octet-stream', buffer: bytes });
  await wolf.getByRole('button', { name: 'Send' }).click();
  await expect(messages(wolf).getByText('plan.bin')).toBeVisible();
  const link = messages(moore).getByRole('link', { name: 'Download plan.bin' });
  await expect(link).toBeVisible();
  const download = moore.waitForEvent('download');
  await link.click();
  const saved = await (await download).path();
  const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  expect(digest(readFileSync(saved!))).toBe(digest(bytes));

  // Moore tries to send a file: corp's Federated Users may not.
  await moore.getByLabel('Attach a file').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('my notes') });
  await expect(moore.getByRole('alert').filter({ hasText: 'corp does not let people of other servers send files to its chats.' })).toBeVisible();
  await screenshot(moore, 'federation-file-refused');

  // Wolf adds Moore to an internal group chat.
  await wolf.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chats' }).click();
  await newGroupChat(wolf, 'Operators', /Albert Moore/);
  await wolfBox.fill('Moore joins the operators for the launch.');
  await wolfBox.press('Enter');
  await moore.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chats' }).click();
  await moore.getByRole('link', { name: /Operators/ }).click();
  await expect(messages(moore).getByText('Moore joins the operators for the launch.')).toBeVisible();
  await screenshot(moore, 'federation-group-chat-guest');
  await screenshot(wolf, 'federation-group-chat-corp');

  // The corp administrator sees guest reachable with nothing waiting.
  await open(corpAdmin, `${corp.url}/admin/federation`);
  const servers = corpAdmin.getByRole('region', { name: 'Servers' });
  await expect(servers.getByRole('row', { name: /guest\s+Reachable\s+0 events/ })).toBeVisible();
  await screenshot(corpAdmin, 'federation-servers');

  // 8. Corp takes guest off its white list: guest's traffic is refused at once,
  // and nothing stored is lost.
  await corpAdmin.getByRole('button', { name: 'Remove guest' }).click();
  await corpAdmin.getByRole('button', { name: 'Apply' }).click();
  await expect(corpAdmin.getByText('Applied. Federation settings are in force now.')).toBeVisible();
  await mooreBox.fill('Are you still there?');
  await mooreBox.press('Enter');
  const failed = messages(moore).getByRole('listitem').filter({ hasText: 'Are you still there?' });
  await expect(failed.getByRole('alert')).toContainText('corp does not accept traffic from this server at the moment.');
  await expect(messages(moore).getByText('Moore joins the operators for the launch.')).toBeVisible();
  await screenshot(moore, 'federation-refused');
  expect(cspRefused, 'nothing the pages did was refused by their policy').toEqual([]);

  await Promise.all([
    corpAdminContext.close(),
    guestAdminContext.close(),
    mooreContext.close(),
    wolfContext.close(),
  ]);
});

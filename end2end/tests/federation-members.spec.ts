// A group chat hosted on corp, managed from guest: Wolf (corp, the owner) makes
// Moore (guest) an admin; Moore adds Carol (guest) and removes her again from
// his copy of the chat; each change reaches the other server and the other
// people at once.

import { expect, test, type Page } from '@playwright/test';
import { allow, asAdmin, createUser } from '../harness/api';
import { cspRefusals, newGroupChat, pickPerson, screenshot, signIn } from '../harness/pages';
import { useServers, type RunningServer } from '../harness/server';

const PASSWORD = 'members-password-1';
const server = useServers('corp', 'guest');

/** Sets the address book of `server`'s "Users without a group" to `ids`. */
async function everyoneSees(server: RunningServer, ids: string[]): Promise<void> {
  const groups = (await asAdmin(server, 'GET', '/api/v1/admin/groups')) as { id: number; name: string }[];
  const group = groups.find((g) => g.name === 'Users without a group')!;
  await asAdmin(server, 'PUT', `/api/v1/admin/groups/${group.id}/address-book`, {
    entries: ids.map((id) => ({ causeway_id: id, display_name: '' })),
  });
}

function membersPanel(page: Page) {
  return page.getByRole('complementary', { name: /Members/ });
}

function memberList(page: Page) {
  return membersPanel(page).getByRole('list', { name: 'Members' });
}

test('an admin on the guest server manages the members of a chat hosted on corp', async ({ browser }) => {
  test.setTimeout(120_000);
  const corp = server('corp');
  const guest = server('guest');
  await allow(corp, guest);
  await allow(guest, corp);
  await createUser(corp, 'wolf', PASSWORD, 'Wolf');
  await createUser(guest, 'moore', PASSWORD, 'Albert Moore');
  await createUser(guest, 'carol', PASSWORD, 'Carol Jones');
  await everyoneSees(corp, ['moore@guest']);
  await everyoneSees(guest, ['wolf@corp', 'carol@guest']);

  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  const [wolf, moore, carol] = await Promise.all(contexts.map((c) => c.newPage()));
  const refused = cspRefusals(wolf, moore, carol);
  await signIn(wolf, corp.url, 'wolf', PASSWORD);
  await signIn(moore, guest.url, 'moore', PASSWORD);
  await signIn(carol, guest.url, 'carol', PASSWORD);

  // Wolf makes "Launch" with Moore, and makes him an admin.
  await newGroupChat(wolf, 'Launch', /Albert Moore/);
  await wolf.getByRole('button', { name: 'Members' }).click();
  await membersPanel(wolf).getByRole('button', { name: 'Make admin: Albert Moore' }).click();
  await expect(memberList(wolf).getByRole('listitem').filter({ hasText: 'Albert Moore' }).getByText('Admin', { exact: true })).toBeVisible();

  // On guest, Moore's copy shows him as an admin, with "Add people".
  await moore.getByRole('link', { name: /Launch/ }).click();
  await expect(moore.getByRole('heading', { name: 'Launch' })).toBeVisible();
  await moore.getByRole('button', { name: 'Members' }).click();
  await expect(memberList(moore).getByRole('listitem').filter({ hasText: '(you)' }).getByText('Admin', { exact: true })).toBeVisible();
  // An admin changes no roles: only the owner does.
  await expect(membersPanel(moore).getByRole('button', { name: /^Make / })).toHaveCount(0);

  // Moore adds Carol from his contacts: corp adds her, and everyone sees it.
  await membersPanel(moore).getByRole('button', { name: 'Add people' }).click();
  await pickPerson(membersPanel(moore), 'People to add', /Carol Jones/);
  await membersPanel(moore).getByRole('button', { name: 'Add', exact: true }).click();
  await expect(memberList(moore).getByRole('listitem')).toHaveCount(3);
  await expect(memberList(wolf).getByRole('listitem').filter({ hasText: 'carol@guest' })).toBeVisible();
  await expect(carol.getByRole('link', { name: /Launch/ })).toBeVisible();
  await screenshot(moore, 'federation-members-guest-admin');

  // Carol says hello in the corp-hosted chat; Wolf reads it.
  await carol.getByRole('link', { name: /Launch/ }).click();
  const carolBox = carol.getByRole('textbox', { name: 'Message' });
  await carolBox.fill('Hello from Carol');
  await carolBox.press('Enter');
  await expect(wolf.getByRole('list', { name: 'Messages' }).getByText('Hello from Carol')).toBeVisible();

  // Moore removes Carol again: she is told at once, and Wolf's list shrinks.
  await membersPanel(moore).getByRole('button', { name: 'Remove Carol Jones' }).click();
  await expect(carol.getByText('You are no longer a member of this chat.')).toBeVisible();
  await expect(memberList(wolf).getByRole('listitem')).toHaveCount(2);
  await expect(memberList(moore).getByRole('listitem')).toHaveCount(2);
  await screenshot(wolf, 'federation-members-corp');

  expect(refused, 'nothing the pages did was refused by their policy').toEqual([]);
  await Promise.all(contexts.map((c) => c.close()));
});

// A group chat made from the address book: replies, long history loading on
// scroll, and membership managed from the member panel (add, make admin, remove,
// leave), each seen live by the others.

import { expect, request, test, type Page } from '@playwright/test';
import { messageAction, newGroupChat, open, pickPerson, screenshot, signIn } from '../harness/pages';
import { useServers, type RunningServer } from '../harness/server';

const PASSWORD = 'group-password-1';
const server = useServers('corp');

/** Wolf, Moore and Eve in one group whose address book lists all three. */
async function setUp(corp: RunningServer): Promise<number> {
  const admin = await request.newContext({ baseURL: corp.url });
  const ok = async (r: Awaited<ReturnType<typeof admin.post>>) => {
    expect(r.ok(), `${r.url()}: ${r.status()} ${await r.text()}`).toBe(true);
    return r.json();
  };
  await ok(await admin.post('/api/v1/auth/login', { data: { login: 'admin', password: corp.adminPassword } }));
  const team = await ok(await admin.post('/api/v1/admin/groups', { data: { name: 'Team', rights: ['download_files'] } }));
  for (const [login, name] of [['wolf', 'Wolf'], ['moore', 'Albert Moore'], ['eve', 'Eve Adams']]) {
    await ok(await admin.post('/api/v1/admin/users', {
      data: { login, password: PASSWORD, profile: { display_name: name }, group_ids: [team.id] },
    }));
  }
  await ok(await admin.put(`/api/v1/admin/groups/${team.id}/address-book`, {
    data: { entries: ['wolf', 'moore', 'eve'].map((l) => ({ causeway_id: `${l}@corp`, display_name: '' })) },
  }));
  await admin.dispose();
  return team.id;
}

function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

test('a group chat: made from contacts, replies, history on scroll, members managed live', async ({ browser }) => {
  test.setTimeout(120_000);
  const corp = server('corp');
  await setUp(corp);
  const [wolfContext, mooreContext, eveContext] = await Promise.all([
    browser.newContext(),
    browser.newContext(),
    browser.newContext(),
  ]);
  const wolf = await wolfContext.newPage();
  const moore = await mooreContext.newPage();
  const eve = await eveContext.newPage();
  await signIn(wolf, corp.url, 'wolf', PASSWORD);
  await signIn(moore, corp.url, 'moore', PASSWORD);
  await signIn(eve, corp.url, 'eve', PASSWORD);

  // Wolf makes "Launch" with Moore.
  await newGroupChat(wolf, 'Launch', /Albert Moore/);
  await expect(wolf.getByText('2 members')).toBeVisible();
  const chatId = wolf.url().split('/').pop();

  // Sixty messages through the API, so that history has more than one page.
  const api = wolf.request;
  for (let i = 1; i <= 60; i++) {
    const r = await api.post(`${corp.url}/api/v1/chats/${chatId}/messages`, {
      data: { client_id: `bulk-${i}`, body: `Status line ${i}` },
    });
    expect(r.status()).toBe(201);
  }
  await expect(messages(wolf).getByText('Status line 60', { exact: true })).toBeVisible();

  // Moore opens the chat: the latest page shows; scrolling up loads the rest.
  await moore.getByRole('link', { name: /Launch/ }).click();
  await expect(messages(moore).getByText('Status line 60', { exact: true })).toBeVisible();
  await expect(messages(moore).getByText('Status line 1', { exact: true })).toHaveCount(0);
  for (let i = 0; i < 10; i++) {
    await messages(moore).evaluate((el) => el.scrollTo(0, 0));
    if (await messages(moore).getByText('This is the beginning of the chat.').isVisible()) break;
    await moore.waitForTimeout(300);
  }
  await expect(messages(moore).getByText('Status line 1', { exact: true })).toBeAttached();
  await expect(messages(moore).getByText('This is the beginning of the chat.')).toBeVisible();

  // Moore replies to line 60; Wolf sees the quote.
  await messageAction(messages(moore).getByRole('listitem').filter({ hasText: 'Status line 60' }), 'Reply');
  await expect(moore.getByText('Replying to')).toBeVisible();
  const box = moore.getByRole('textbox', { name: 'Message' });
  await box.fill('Line 60 looks good');
  await box.press('Enter');
  const reply = messages(wolf).getByRole('listitem').filter({ hasText: 'Line 60 looks good' });
  await expect(reply.locator('blockquote')).toContainText('Wolf: Status line 60');

  // Wolf adds Eve from the member panel; her chat list shows the chat at once.
  await wolf.getByRole('button', { name: 'Members' }).click();
  const panel = wolf.getByRole('complementary', { name: /Members/ });
  await panel.getByRole('button', { name: 'Add people' }).click();
  await pickPerson(panel, 'People to add', /Eve Adams/);
  // The panel is drawn anew when the chat changes under it (Moore goes
  // offline and comes back): whom Wolf was about to add stays chosen.
  const chosen = panel.getByRole('list', { name: 'Chosen people' });
  const mooreAt = moore.url();
  await moore.goto('about:blank');
  await expect(wolf.getByText('2 members, 1 online')).toBeVisible();
  await expect(chosen.getByText('Eve Adams')).toBeVisible();
  await open(moore, mooreAt);
  await expect(wolf.getByText('2 members, 2 online')).toBeVisible();
  await expect(chosen.getByText('Eve Adams')).toBeVisible();
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(panel.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(3);
  await expect(eve.getByRole('link', { name: /Launch/ })).toBeVisible();
  await expect(moore.getByText('3 members')).toBeVisible();

  // Moore becomes an admin; the badge changes.
  await panel.getByRole('button', { name: 'Make admin: Albert Moore' }).click();
  await expect(panel.getByRole('listitem').filter({ hasText: 'Albert Moore' }).getByText('Admin', { exact: true })).toBeVisible();
  await screenshot(wolf, 'group-chat-members');

  // Wolf removes Eve: she is told at once, and the chat leaves her list.
  await eve.getByRole('link', { name: /Launch/ }).click();
  await expect(eve.getByRole('heading', { name: 'Launch' })).toBeVisible();
  await panel.getByRole('button', { name: 'Remove Eve Adams' }).click();
  await expect(eve.getByText('You are no longer a member of this chat.')).toBeVisible();
  await expect(eve.getByRole('textbox', { name: 'Message' })).toHaveCount(0);
  await expect(eve.getByRole('link', { name: /Launch/ })).toHaveCount(0);

  // Moore leaves, asked first in the panel (not the browser's confirm); Wolf's
  // panel shows one member left.
  moore.on('dialog', (dialog) => {
    throw new Error(`a browser dialog: ${dialog.message()}`);
  });
  await moore.getByRole('button', { name: 'Members' }).click();
  await moore.getByRole('button', { name: 'Leave chat' }).click();
  const asked = moore.getByRole('alertdialog', { name: /^Leave this chat\?/ });
  await expect(asked.getByRole('button', { name: 'Stay' })).toBeFocused();
  await asked.getByRole('button', { name: 'Stay' }).click();
  await expect(asked).toHaveCount(0);
  await expect(moore.getByRole('heading', { name: 'Launch' })).toBeVisible();
  await moore.getByRole('button', { name: 'Leave chat' }).click();
  await asked.getByRole('button', { name: 'Yes, leave' }).click();
  await expect(moore).toHaveURL(`${corp.url}/`);
  await expect(moore.getByRole('link', { name: /Launch/ })).toHaveCount(0);
  await expect(wolf.getByText(/^1 member, /)).toBeVisible();

  await Promise.all([wolfContext.close(), mooreContext.close(), eveContext.close()]);
});

// Never miss a message (issue 13): the unread count in the tab title, the tab
// icon and the Chats link on every page; @mentions offered from the chat's
// members, highlighted and counted apart; a muted chat that still speaks up
// for a mention; notifications that name the sender and open the chat in the
// same page; an offer of notifications that can be dismissed.

import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import { interactive, newGroupChat, open, screenshot, signIn } from '../harness/pages';
import { createUser } from '../harness/api';
import { useServers } from '../harness/server';

const server = useServers('corp');

/**
 * Replaces the browser's notifications with a recorder, and lets the test say
 * whether the tab is hidden (a headless tab never is).
 */
async function recordNotifications(page: Page, permission: 'granted' | 'default'): Promise<void> {
  await page.addInitScript((permission) => {
    const w = window as unknown as Record<string, unknown>;
    w.__notes = [];
    w.__hidden = false;
    class Recorded {
      static permission = permission;
      static requestPermission() {
        return Promise.resolve(permission);
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options: { body?: string }) {
        (w.__notes as unknown[]).push({ title, body: options?.body ?? '' });
        w.__last = this;
      }
    }
    w.Notification = Recorded;
    Object.defineProperty(document, 'hidden', { get: () => w.__hidden === true });
  }, permission);
}

function chatsLink(page: Page) {
  return page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: /^Chats/ });
}

test('unread counts, mentions, a muted chat and notifications', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'wolf', 'wolf-password-1', 'Wolf');
  await createUser(corp, 'moore', 'moore-password-1', 'Albert Moore');
  const wolfContext = await browser.newContext();
  const mooreContext = await browser.newContext();
  const wolf = await wolfContext.newPage();
  const moore = await mooreContext.newPage();
  await recordNotifications(moore, 'granted');
  await signIn(wolf, corp.url, 'wolf', 'wolf-password-1');
  await signIn(moore, corp.url, 'moore', 'moore-password-1');

  // Wolf and Moore are in no group: they see each other with no address book typed.
  await newGroupChat(wolf, 'Plans', /Albert Moore/);
  const box = wolf.getByRole('textbox', { name: 'Message' });
  await box.fill('morning');
  await box.press('Enter');

  // Moore is on another page: the count shows in the title, the icon and the link.
  await moore.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  await expect(moore).toHaveTitle('(1) Contacts · Causeway');
  await expect(chatsLink(moore)).toHaveAccessibleName('Chats 1 unread');
  await expect(moore.locator('link[rel=icon]')).toHaveAttribute('href', '/favicon-unread.svg');

  // Wolf mentions Moore through the list the composer offers.
  await box.pressSequentially('@alb');
  const offered = wolf.getByRole('listbox', { name: 'People to mention' });
  await expect(offered.getByRole('option')).toHaveText(['Albert Moore — moore@corp']);
  await screenshot(wolf, 'mention-offered');
  await box.press('Enter');
  await expect(box).toHaveValue('@moore@corp ');
  await box.pressSequentially('can you look?');
  await box.press('Enter');
  await expect(wolf.getByRole('list', { name: 'Messages' }).locator('.mention')).toHaveText('@Albert Moore');

  await expect(moore).toHaveTitle('(2) Contacts · Causeway');
  await chatsLink(moore).click();
  const row = moore.getByRole('list', { name: 'Your chats' }).getByRole('link', { name: /Plans/ });
  await expect(row.getByLabel('2 unread, 1 mentioning you')).toBeVisible();
  await row.click();
  const mine = moore.getByRole('list', { name: 'Messages' }).locator('.mention.me');
  await expect(mine).toHaveText('@Albert Moore');
  await expect(moore).toHaveTitle('Chats · Causeway');
  await screenshot(moore, 'mention-highlighted');

  // Muted: chatter neither counts nor notifies; a mention still does both.
  await moore.getByRole('button', { name: 'Mute' }).click();
  await expect(moore.getByRole('button', { name: 'Mute' })).toHaveAttribute('aria-pressed', 'true');
  await moore.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  await moore.evaluate(() => ((window as unknown as Record<string, unknown>).__hidden = true));
  await box.fill('just chatter');
  await box.press('Enter');
  await box.fill('@moore@corp this one matters');
  await box.press('Enter');
  await expect(moore).toHaveTitle('(1) Contacts · Causeway');
  const notes = () => moore.evaluate(() => (window as unknown as { __notes: { title: string; body: string }[] }).__notes);
  await expect.poll(notes).toEqual([{ title: 'Wolf in Plans mentioned you', body: '@moore@corp this one matters' }]);

  // Clicking the notification opens the chat in the same page (no reload).
  await moore.evaluate(() => ((window as unknown as Record<string, unknown>).__marker = 'same page'));
  await moore.evaluate(() => (window as unknown as { __last: { onclick: () => void } }).__last.onclick());
  await expect(moore.getByRole('heading', { name: 'Plans' })).toBeVisible();
  expect(await moore.evaluate(() => (window as unknown as Record<string, unknown>).__marker)).toBe('same page');

  // Unmuted, an ordinary message notifies again, under the sender's name.
  await moore.getByRole('button', { name: 'Mute' }).click();
  await expect(moore.getByRole('button', { name: 'Mute' })).toHaveAttribute('aria-pressed', 'false');
  await box.fill('back to normal');
  await box.press('Enter');
  await expect.poll(async () => (await notes()).length).toBe(2);
  expect((await notes())[1]).toEqual({ title: 'Wolf in Plans', body: 'back to normal' });
  await Promise.all([wolfContext.close(), mooreContext.close()]);
});

test('the offer of notifications can be dismissed for good', async ({ page }) => {
  const corp = server('corp');
  await createUser(corp, 'nell', 'nell-password-1', 'Nell');
  await recordNotifications(page, 'default');
  await signIn(page, corp.url, 'nell', 'nell-password-1');
  const offer = page.getByText('Get a notification when a message arrives');
  await expect(offer).toBeVisible();
  await page.getByRole('button', { name: 'Not now' }).click();
  await expect(offer).toHaveCount(0);
  await open(page, `${corp.url}/`);
  await interactive(page);
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
  await expect(offer).toHaveCount(0);
});

test('typing shows again when someone types right after sending', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'tess', 'tess-password-1', 'Tess');
  await createUser(corp, 'uli', 'uli-password-1', 'Uli');
  const tessContext = await browser.newContext();
  const uliContext = await browser.newContext();
  const tess = await tessContext.newPage();
  const uli = await uliContext.newPage();
  await signIn(tess, corp.url, 'tess', 'tess-password-1');
  await signIn(uli, corp.url, 'uli', 'uli-password-1');
  await newGroupChat(tess, 'Typing', /Uli/);
  await uli.getByRole('list', { name: 'Your chats' }).getByRole('link', { name: /Typing/ }).click();
  await expect(uli.getByRole('heading', { name: 'Typing' })).toBeVisible();

  const box = tess.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('first');
  await expect(uli.getByText('Tess is typing…')).toBeVisible();
  await box.press('Enter');
  await expect(uli.getByRole('list', { name: 'Messages' }).getByText('first')).toBeVisible();
  await expect(uli.getByText('Tess is typing…')).toHaveCount(0);
  // Typing again at once, for a little over a second, then stopping.
  await box.pressSequentially('and a second thought', { delay: 70 });
  await expect(uli.getByText('Tess is typing…')).toBeVisible();
  await Promise.all([tessContext.close(), uliContext.close()]);
});

test('a lost connection shows, and what was sent meanwhile goes out by itself, once', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'vic', 'vic-password-1', 'Vic');
  await createUser(corp, 'wren', 'wren-password-1', 'Wren');
  const vicContext = await browser.newContext();
  const wrenContext = await browser.newContext();
  // Vic's realtime connection runs through the test, which can cut it: a
  // browser told it is offline still keeps an open WebSocket.
  let down = false;
  let socket: WebSocketRoute | undefined;
  await vicContext.routeWebSocket(/\/api\/v1\/events$/, (ws) => {
    if (down) {
      ws.close({ code: 1012, reason: 'network down' });
      return;
    }
    ws.connectToServer();
    socket = ws;
  });
  const vic = await vicContext.newPage();
  const wren = await wrenContext.newPage();
  await signIn(vic, corp.url, 'vic', 'vic-password-1');
  await signIn(wren, corp.url, 'wren', 'wren-password-1');
  await newGroupChat(vic, 'Offline', /Wren/);
  await wren.getByRole('list', { name: 'Your chats' }).getByRole('link', { name: /Offline/ }).click();
  await expect(wren.getByRole('heading', { name: 'Offline' })).toBeVisible();

  down = true;
  await vicContext.setOffline(true);
  await socket?.close({ code: 1012, reason: 'network down' });
  const lost = vic.getByRole('status').filter({ hasText: 'The connection to the server was lost' });
  await expect(lost).toBeVisible();
  const box = vic.getByRole('textbox', { name: 'Message' });
  for (const text of ['written offline', 'and again']) {
    await box.fill(text);
    await box.press('Enter');
  }
  const mine = vic.getByRole('list', { name: 'Messages' });
  await expect(mine.getByText('Waiting for the connection…')).toHaveCount(2);
  await expect(vic.getByRole('alert')).toHaveCount(0);
  await screenshot(vic, 'connection-lost');

  down = false;
  await vicContext.setOffline(false);
  await expect(lost).toHaveCount(0);
  await expect(mine.getByText('Waiting for the connection…')).toHaveCount(0);
  const theirs = wren.getByRole('list', { name: 'Messages' });
  await expect(theirs.getByText('written offline')).toHaveCount(1);
  await expect(theirs.getByText('and again')).toHaveCount(1);
  // In the order they were written.
  await expect(theirs.getByRole('listitem').filter({ hasText: /written offline|and again/ })).toHaveText([/written offline/, /and again/]);
  await Promise.all([vicContext.close(), wrenContext.close()]);
});

test('search finds messages and file names in all of one’s chats and opens one at its place', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'xena', 'xena-password-1', 'Xena Xu');
  await createUser(corp, 'yann', 'yann-password-1', 'Yann Young');
  const xenaContext = await browser.newContext();
  const xena = await xenaContext.newPage();
  await signIn(xena, corp.url, 'xena', 'xena-password-1');
  await newGroupChat(xena, 'Roadmap', /Yann Young/);
  const box = xena.getByRole('textbox', { name: 'Message' });
  await box.fill('The quarterly ROADMAP review is on Friday');
  await box.press('Enter');
  // Enough newer messages that the match is not on the chat's first page.
  for (let i = 1; i <= 60; i++) {
    await box.fill(`filler ${i}`);
    await box.press('Enter');
  }
  await expect(xena.getByRole('list', { name: 'Messages' }).getByText('filler 60')).toBeVisible();
  await xena.getByLabel('Attach a file').setInputFiles({ name: 'Roadmap-2027.txt', mimeType: 'text/plain', buffer: Buffer.from('plan') });
  await xena.getByRole('button', { name: 'Send' }).click();
  await expect(xena.getByRole('list', { name: 'Messages' }).getByRole('link', { name: 'Download Roadmap-2027.txt' })).toBeVisible();

  await xena.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Search' }).click();
  await xena.getByRole('searchbox', { name: 'Search for' }).fill('roadmap review');
  await xena.getByRole('searchbox', { name: 'Search for' }).press('Enter');
  const results = xena.getByRole('list', { name: 'Search results' });
  await expect(results.getByRole('listitem')).toHaveCount(1);
  await expect(results.getByRole('listitem')).toContainText('Roadmap');
  await expect(results.getByRole('listitem')).toContainText('Xena Xu');
  await expect(results.locator('mark')).toHaveText('ROADMAP review');

  await xena.getByRole('searchbox', { name: 'Search for' }).fill('roadmap-2027');
  await xena.getByRole('searchbox', { name: 'Search for' }).press('Enter');
  await expect(results.getByRole('listitem')).toHaveCount(1);
  await expect(results.getByRole('listitem')).toContainText('File: Roadmap-2027.txt');
  await screenshot(xena, 'search');

  await xena.getByRole('searchbox', { name: 'Search for' }).fill('nothing like this');
  await xena.getByRole('searchbox', { name: 'Search for' }).press('Enter');
  await expect(xena.getByText('Nothing in your chats matches “nothing like this”.')).toBeVisible();

  // A result opens its chat at the message, loading the history before it.
  await xena.getByRole('searchbox', { name: 'Search for' }).fill('quarterly');
  await xena.getByRole('searchbox', { name: 'Search for' }).press('Enter');
  await results.getByRole('link').first().click();
  await expect(xena.getByRole('heading', { name: 'Roadmap' })).toBeVisible();
  const reached = xena.getByRole('list', { name: 'Messages' }).locator('.message.reached');
  await expect(reached).toContainText('The quarterly ROADMAP review is on Friday');
  await expect(reached).toBeFocused();
  await expect(reached).toBeInViewport();
  await xenaContext.close();
});

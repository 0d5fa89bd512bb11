// What a browser downloads: the chat page's first visit stays within its
// budget and loads no other page's code, a repeat visit takes the client from
// the browser's cache, another page fetches only its own module, the control
// panel's code comes when it is opened, and an open tab learns that the server
// was upgraded under it.

import { expect, test, type Page } from '@playwright/test';
import { createUser } from '../harness/api';
import { interactive, open, screenshot, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

/**
 * The chat page's first load: the bytes of its client files as they came
 * over the network (brotli wasm, JS, link module and CSS, headers not
 * counted). Every other page's code, and the parts of the chat page a person
 * opens (a new group chat, members, search in a chat, an image), come in
 * modules of their own when first needed.
 */
// The goal is 300,000 (issue 12 stays open until the build is back under):
// calls took the build to 309 KB — the call button and styles, then the
// call dock above every page (a call rings and goes on on any page), the
// roster in the chat list and the header, and the pushes that carry it.
// A ceiling, so that it does not grow further unnoticed.
const BUDGET = 310_000;

const server = useServers('corp');

interface Loaded {
  name: string;
  /** Bytes over the network, headers included (0: from the cache). */
  transferred: number;
  /** The body's bytes as sent (compressed). */
  body: number;
}

/** The client files (`/pkg/…`) this document loaded, with the bytes each took over the network (0: from the cache). */
async function clientFiles(page: Page): Promise<Loaded[]> {
  return page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((entry) => entry as PerformanceResourceTiming)
      .filter((entry) => new URL(entry.name).pathname.startsWith('/pkg/'))
      .map((entry) => ({
        name: new URL(entry.name).pathname,
        transferred: entry.transferSize,
        body: entry.encodedBodySize,
      })),
  );
}

test('the chat page loads within its budget, and a repeat visit takes the client from the cache', async ({ browser }) => {
  const corp = server('corp');
  // A browser that has never been here, already signed in, of someone who is
  // not an administrator (a new server's administrator sees its set-up
  // checklist, a part of its own).
  await createUser(corp, 'first.load', 'first-load-password', 'First Load');
  const fresh = await browser.newContext();
  const signedIn = await fresh.request.post(`${corp.url}/api/v1/auth/login`, {
    data: { login: 'first.load', password: 'first-load-password' },
  });
  expect(signedIn.ok()).toBe(true);
  const page = await fresh.newPage();
  await open(page, `${corp.url}/`);
  const files = await clientFiles(page);
  const names = files.map((file) => file.name);
  for (const kind of ['wasm', 'js', 'css']) {
    const named = new RegExp(`^/pkg/causeway\\.[0-9a-f]{16}\\.${kind}$`);
    expect(names.some((name) => named.test(name)), `a content-named ${kind} in ${names.join()}`).toBe(true);
  }
  expect(names.filter((name) => name.includes('causeway-lazy-')), 'no other page\'s code on the chat page').toEqual([]);
  const total = files.reduce((sum, file) => sum + file.body, 0);
  const listing = files.map((file) => `${file.name} ${file.body}`).join('\n');
  expect(total, listing).toBeLessThanOrEqual(BUDGET);
  expect(total, `the files came over the network: ${listing}`).toBeGreaterThan(50_000);

  // A repeat visit: nothing of the client crosses the network, not even to
  // ask whether it changed.
  await open(page, `${corp.url}/`);
  const again = await clientFiles(page);
  expect(again.length).toBeGreaterThan(0);
  for (const file of again) expect(file.transferred, `${file.name} came from the cache`).toBe(0);

  // Another page: its own modules come, the rest from the cache.
  await open(page, `${corp.url}/contacts`);
  const contacts = await clientFiles(page);
  expect(contacts.some((file) => /^\/pkg\/causeway-lazy-split___contacts_route_view_\d+\.[0-9a-f]{16}\.wasm$/.test(file.name)), contacts.map((file) => file.name).join()).toBe(true);
  for (const file of contacts.filter((file) => !file.name.includes('causeway-lazy-'))) {
    expect(file.transferred, `${file.name} came from the cache`).toBe(0);
  }
  await fresh.close();
});

test('the control panel\'s code comes when it is opened from a chat, without loading the page again', async ({ page }) => {
  const corp = server('corp');
  await signIn(page, corp.url, 'admin', corp.adminPassword);
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
  const panelCode = (names: string[]) => names.filter((name) => name.includes('users_route_view'));
  expect(panelCode((await clientFiles(page)).map((file) => file.name))).toEqual([]);
  // The same document throughout: the router shows the panel in place.
  await page.evaluate(() => ((window as unknown as { stayed: boolean }).stayed = true));
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Control panel' }).click();
  await expect(page.getByRole('heading', { name: 'Users' })).toBeVisible();
  const names = (await clientFiles(page)).map((file) => file.name);
  expect(panelCode(names).length, names.join()).toBeGreaterThan(0);
  expect(await page.evaluate(() => (window as unknown as { stayed?: boolean }).stayed)).toBe(true);
  // The panel works: its search filters the users.
  await page.getByRole('searchbox', { name: 'Search users' }).fill('nobody-by-this-name');
  await expect(page.getByRole('link', { name: 'admin' })).toHaveCount(0);
  // And the way back to the chats needs nothing more.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chats' }).click();
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
});

test('an open tab offers to reload once the server was upgraded', async ({ page }) => {
  const corp = server('corp');
  // The server's side of the tab's socket, as the network would carry it;
  // after the "upgrade" its `ready` names another client version.
  let upgraded = false;
  let drop: () => void = () => {};
  await page.routeWebSocket(/\/api\/v1\/events$/, (socket) => {
    const upstream = socket.connectToServer();
    drop = () => socket.close({ code: 1012, reason: 'restarting' });
    upstream.onMessage((message) => {
      if (upgraded && typeof message === 'string' && message.includes('"type":"ready"')) {
        socket.send(JSON.stringify({ ...JSON.parse(message), client: 'ffffffffffffffff' }));
      } else {
        socket.send(message);
      }
    });
  });
  await signIn(page, corp.url, 'admin', corp.adminPassword);
  const bar = page.getByRole('status').filter({ hasText: 'Causeway was updated' });
  // Connected to the server that served the page: nothing to say.
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
  await expect(bar).toHaveCount(0);

  upgraded = true;
  drop();
  await expect(bar).toBeVisible({ timeout: 15_000 });
  await screenshot(page, 'upgrade-bar');

  upgraded = false;
  await bar.getByRole('button', { name: 'Reload' }).click();
  await interactive(page);
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
  await expect(bar).toHaveCount(0);
});

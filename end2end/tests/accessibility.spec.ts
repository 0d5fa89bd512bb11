// Keyboard and accessibility (issue 13): axe-core finds no serious or critical
// violation on any page; a skip link; opening a chat puts the caret in the
// message box; a message's actions are one tab stop, a menu worked by keys.

import AxeBuilder from '@axe-core/playwright';
import { expect, test, type Page } from '@playwright/test';
import { interactive, newGroupChat, open, openSignIn, screenshot, signIn } from '../harness/pages';
import { createUser } from '../harness/api';
import { useServers } from '../harness/server';

const server = useServers('corp');

/** The serious and critical violations axe-core finds on the page as it is now. */
async function violations(page: Page): Promise<string[]> {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('no page has a serious or critical accessibility violation', async ({ page, browser }) => {
  test.setTimeout(120_000);
  const corp = server('corp');
  await createUser(corp, 'ally', 'ally-password-1', 'Ally Adams');
  await createUser(corp, 'bo', 'bo-password-1', 'Bo Brown');

  await openSignIn(page, `${corp.url}/login`);
  expect(await violations(page), 'sign-in').toEqual([]);

  await signIn(page, corp.url, 'ally', 'ally-password-1');
  await newGroupChat(page, 'Checks', /Bo Brown/);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Hello @bo@corp, see https://example.com');
  await box.press('Enter');
  await expect(page.getByRole('list', { name: 'Messages' }).locator('.mention')).toBeVisible();
  expect(await violations(page), 'a chat').toEqual([]);

  for (const [path, ready] of [
    ['/contacts', 'People'],
    ['/search?q=hello', 'Search'],
  ] as const) {
    await open(page, `${corp.url}${path}`);
    await expect(page.getByRole('heading', { name: ready }).first()).toBeVisible();
    expect(await violations(page), path).toEqual([]);
  }

  // The administrator's pages.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, corp.url, 'admin', corp.adminPassword);
  expect(await violations(admin), 'the set-up checklist').toEqual([]);
  for (const [path, ready] of [
    ['/account', 'My account'],
    ['/admin/users', 'Users'],
    ['/admin/groups', 'Groups'],
    ['/admin/settings', 'Settings'],
    ['/admin/federation', 'Federation'],
    ['/admin/audit', 'Audit log'],
  ] as const) {
    await open(admin, `${corp.url}${path}`);
    await expect(admin.getByRole('heading', { name: ready, exact: true })).toBeVisible();
    expect(await violations(admin), path).toEqual([]);
  }
  await admin.getByRole('link', { name: 'Control panel' }).click();
  await admin.getByRole('link', { name: 'ally' }).click();
  await expect(admin.getByRole('heading', { name: 'Ally Adams (ally)' })).toBeVisible();
  expect(await violations(admin), 'a user').toEqual([]);
  await admin.getByRole('navigation', { name: 'Control panel' }).getByRole('link', { name: 'Groups', exact: true }).click();
  await admin.getByRole('link', { name: 'Users without a group' }).click();
  await expect(admin.getByRole('heading', { name: 'Users without a group' })).toBeVisible();
  await admin.getByRole('button', { name: 'Customize' }).click();
  expect(await violations(admin), 'a group, its address book being edited').toEqual([]);
  await adminContext.close();
});

test('the keyboard alone: skip link, the caret in the message box, a message menu', async ({ page }) => {
  const corp = server('corp');
  await createUser(corp, 'cy', 'cy-password-1', 'Cy Clark');
  await createUser(corp, 'di', 'di-password-1', 'Di Dunn');
  await signIn(page, corp.url, 'cy', 'cy-password-1');

  // The first Tab reaches "Skip to content", which moves past the top bar.
  await page.keyboard.press('Tab');
  const skip = page.getByRole('link', { name: 'Skip to content' });
  await expect(skip).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.locator('main#main')).toBeFocused();

  await newGroupChat(page, 'Keys', /Di Dunn/);
  await page.reload();
  await interactive(page);
  // Opening a chat puts the caret in the message box.
  const box = page.getByRole('textbox', { name: 'Message' });
  await expect(box).toBeFocused();
  await page.keyboard.type('first');
  await page.keyboard.press('Enter');
  await page.keyboard.type('second');
  await page.keyboard.press('Enter');
  const list = page.getByRole('list', { name: 'Messages' });
  await expect(list.getByText('second')).toBeVisible();

  // One tab stop per message: its menu button, named after the sender and time.
  const second = list.getByRole('listitem').filter({ hasText: 'second' });
  const menuButton = second.getByRole('button', { name: /^Actions for the message of you, / });
  await expect(second.getByRole('button')).toHaveCount(1);
  await menuButton.focus();
  await page.keyboard.press('Enter');
  const menu = second.getByRole('menu');
  await expect(menu.getByRole('menuitem', { name: 'Reply' })).toBeFocused();
  await page.keyboard.press('ArrowDown');
  await expect(menu.getByRole('menuitem', { name: 'Edit' })).toBeFocused();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect(menu.getByRole('menuitem', { name: 'Delete' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(menu).toHaveCount(0);
  await expect(menuButton).toBeFocused();
  // Enter on Reply starts a reply.
  await page.keyboard.press('Enter');
  await expect(menu.getByRole('menuitem', { name: 'Reply' })).toBeFocused();
  await page.keyboard.press('Enter');
  await expect(page.getByText('Replying to')).toBeVisible();
});

test('the chat page passes axe-core at phone width too', async ({ page }) => {
  const corp = server('corp');
  await createUser(corp, 'eli', 'eli-password-1', 'Eli Eng');
  await page.setViewportSize({ width: 390, height: 844 });
  await signIn(page, corp.url, 'eli', 'eli-password-1');
  await expect(page.getByRole('heading', { name: 'Chats' })).toBeVisible();
  expect(await violations(page), 'chats at phone width').toEqual([]);
});

// The chat, search and the control panel at desktop and phone width, light and
// dark (the system's setting), kept as screenshots; dark passes axe-core too.
for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(colorScheme, () => {
    test.use({ colorScheme });
    test(`the chat, search and the panel in ${colorScheme}, at desktop and phone width`, async ({ browser }) => {
      test.setTimeout(120_000);
      const corp = server('corp');
      const login = `looks-${colorScheme}`;
      await createUser(corp, login, 'looks-password-1', `Looks ${colorScheme}`);
      await createUser(corp, `${login}-friend`, 'looks-password-1', `Friend ${colorScheme}`);
      const context = await browser.newContext({ colorScheme });
      const page = await context.newPage();
      await signIn(page, corp.url, 'admin', corp.adminPassword);
      await newGroupChat(page, `Looks ${colorScheme}`, new RegExp(`Looks ${colorScheme}`));
      const box = page.getByRole('textbox', { name: 'Message' });
      await box.fill(`Welcome @${login}@corp — the plan is at https://example.com/plan`);
      await box.press('Enter');
      await box.fill('Second message, for the search');
      await box.press('Enter');
      await expect(page.getByRole('list', { name: 'Messages' }).getByText('Second message')).toBeVisible();
      const chatUrl = page.url();
      for (const [width, height, size] of [
        [1280, 800, 'desktop'],
        [390, 844, 'phone'],
      ] as const) {
        await page.setViewportSize({ width, height });
        await open(page, chatUrl);
        await expect(page.getByRole('list', { name: 'Messages' }).getByText('Second message')).toBeVisible();
        await screenshot(page, `looks-chat-${size}-${colorScheme}`);
        if (colorScheme === 'dark') expect(await violations(page), `chat, ${size}, dark`).toEqual([]);
        await open(page, `${corp.url}/search?q=message`);
        await expect(page.getByRole('list', { name: 'Search results' })).toBeVisible();
        await screenshot(page, `looks-search-${size}-${colorScheme}`);
        if (colorScheme === 'dark') expect(await violations(page), `search, ${size}, dark`).toEqual([]);
        await open(page, `${corp.url}/admin/groups`);
        await expect(page.getByRole('heading', { name: 'Groups', exact: true })).toBeVisible();
        await screenshot(page, `looks-panel-${size}-${colorScheme}`);
        if (colorScheme === 'dark') expect(await violations(page), `panel, ${size}, dark`).toEqual([]);
      }
      await context.close();
    });
  });
}

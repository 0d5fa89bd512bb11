// The trust boundary as an administrator and a user meet it: the panel's rule
// for whom people of other servers may reach, and an account deactivated while
// its owner has the page open.
import { expect, test } from '@playwright/test';
import { asAdmin } from '../harness/api';
import { cspRefusals, interactive, open, screenshot, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp');

test('the administrator decides whom people of other servers may reach', async ({ page }) => {
  const corp = server('corp');
  const refused = cspRefusals(page);
  await signIn(page, corp.url, 'admin', corp.adminPassword);
  await open(page, `${corp.url}/admin/settings`);
  const chats = page.getByRole('region', { name: 'Chats' });
  const reach = chats.getByLabel('People of other servers may start chats with');
  // The safe default: only people whose address book lists them.
  await expect(reach).toHaveValue('address_book');
  await reach.selectOption({ label: 'Everyone' });
  await chats.getByRole('button', { name: 'Save chat settings' }).click();
  await expect(chats.getByText('Chat settings saved.')).toBeVisible();
  await screenshot(page, 'trust-settings-reach');
  await page.reload();
  await interactive(page);
  await expect(
    page.getByRole('region', { name: 'Chats' }).getByLabel('People of other servers may start chats with'),
  ).toHaveValue('everyone');
  expect(refused).toEqual([]);
});

test('a person whose account is deactivated is told so at once', async ({ browser }) => {
  const corp = server('corp');
  const user = (await asAdmin(corp, 'POST', '/api/v1/admin/users', {
    login: 'dora',
    password: 'dora-password-1',
    profile: { display_name: 'Dora' },
  })) as { id: number };
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, corp.url, 'dora', 'dora-password-1');
  await expect(page.getByRole('heading', { name: 'Chats', exact: true })).toBeVisible();
  await asAdmin(corp, 'PATCH', `/api/v1/admin/users/${user.id}`, { is_active: false });
  // No click, no reload: the open page learns it from its live connection.
  await expect(page).toHaveURL(/\/login/);
  await expect(page.getByText('Your account has been deactivated. Contact your administrator.')).toBeVisible();
  await screenshot(page, 'trust-deactivated');
  await context.close();
});

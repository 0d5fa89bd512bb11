// An impatient person on a slow link: the chat page shows before its
// WebAssembly has arrived, and whatever they type into the message box in the
// meantime is still there once the page works, and goes out with Enter.

import { expect, request, test } from '@playwright/test';
import { interactive, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

const PASSWORD = 'slow-link-password-1';
const server = useServers('corp');

test('text typed before the page has hydrated is kept and sent', async ({ page }) => {
  const corp = server('corp');
  const admin = await request.newContext({ baseURL: corp.url });
  expect((await admin.post('/api/v1/auth/login', { data: { login: 'admin', password: corp.adminPassword } })).ok()).toBe(true);
  for (const [login, name] of [['wolf', 'Wolf'], ['moore', 'Albert Moore']]) {
    const made = await admin.post('/api/v1/admin/users', {
      data: { login, password: PASSWORD, profile: { display_name: name } },
    });
    expect(made.ok(), await made.text()).toBe(true);
  }
  await admin.dispose();

  await signIn(page, corp.url, 'wolf', PASSWORD);
  const opened = await page.request.post(`${corp.url}/api/v1/chats/direct`, {
    data: { with: `moore@${corp.serverName}` },
  });
  expect(opened.ok(), await opened.text()).toBe(true);
  const chat = await opened.json();

  // The client's WebAssembly is held back until Wolf has typed.
  let arrive: () => void = () => {};
  const typed = new Promise<void>((resolve) => (arrive = resolve));
  await page.route('**/pkg/*.wasm', async (route) => {
    await typed;
    await route.continue();
  });
  await page.goto(`${corp.url}/chats/${chat.id}`);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('Typed before the page worked');
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeDisabled();
  arrive();

  await interactive(page);
  await expect(box).toHaveValue('Typed before the page worked');
  await box.press('Enter');
  const messages = page.getByRole('list', { name: 'Messages' });
  await expect(messages.getByText('Typed before the page worked')).toBeVisible();
  await expect(box).toHaveValue('');
});

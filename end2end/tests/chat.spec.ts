// Two people chat in real time in two browsers: messages, typing, read state,
// edits and deletions, a failed send retried, and a file sent with a visible
// progress bar and downloaded byte for byte — while the person without the
// right to send files finds the attach control disabled and the API refusing.

import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { expect, request, test, type APIRequestContext, type Page } from '@playwright/test';
import { cspRefusals, messageAction, screenshot, signIn } from '../harness/pages';
import { useServersOn, type Backend, type RunningServer } from '../harness/server';

const PASSWORD = 'chat-password-1';

async function ok(response: Awaited<ReturnType<APIRequestContext['post']>>): Promise<any> {
  expect(response.ok(), `${response.url()}: ${response.status()} ${await response.text()}`).toBe(true);
  return response.status() === 204 ? null : response.json();
}

/**
 * The administrator's part, through the API: Wolf in "Staff" (may send and
 * download files), Moore in "Contractors" (may only download), each in the
 * other's group address book.
 */
async function setUp(corp: RunningServer): Promise<void> {
  const admin = await request.newContext({ baseURL: corp.url });
  await ok(await admin.post('/api/v1/auth/login', { data: { login: 'admin', password: corp.adminPassword } }));
  const staff = await ok(await admin.post('/api/v1/admin/groups', { data: { name: 'Staff', rights: ['send_files', 'download_files'] } }));
  const contractors = await ok(await admin.post('/api/v1/admin/groups', { data: { name: 'Contractors', rights: ['download_files'] } }));
  await ok(await admin.post('/api/v1/admin/users', {
    data: { login: 'wolf', password: PASSWORD, profile: { display_name: 'Wolf' }, group_ids: [staff.id] },
  }));
  await ok(await admin.post('/api/v1/admin/users', {
    data: { login: 'moore', password: PASSWORD, profile: { display_name: 'Albert Moore' }, group_ids: [contractors.id] },
  }));
  const server = corp.serverName;
  await ok(await admin.put(`/api/v1/admin/groups/${staff.id}/address-book`, {
    data: { entries: [{ causeway_id: `moore@${server}`, display_name: '' }] },
  }));
  await ok(await admin.put(`/api/v1/admin/groups/${contractors.id}/address-book`, {
    data: { entries: [{ causeway_id: `wolf@${server}`, display_name: '' }] },
  }));
  await admin.dispose();
}

function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

for (const backend of ['sqlite', 'postgres'] as Backend[]) {
  test.describe(backend, () => {
    const server = useServersOn(backend, 'corp');
    const prefix = backend === 'sqlite' ? 'chat' : 'postgres-chat';

    test(`two people chat in real time and exchange a file (${backend})`, async ({ browser }) => {
      test.setTimeout(120_000);
      const corp = server('corp');
      await setUp(corp);

      const wolfContext = await browser.newContext({ acceptDownloads: true });
      // Moore is on a phone.
      const mooreContext = await browser.newContext({ acceptDownloads: true, viewport: { width: 375, height: 740 } });
      const wolf = await wolfContext.newPage();
      const moore = await mooreContext.newPage();
      const cspRefused = cspRefusals(wolf, moore);
      await signIn(wolf, corp.url, 'wolf', PASSWORD);
      await signIn(moore, corp.url, 'moore', PASSWORD);
      await expect(moore.getByRole('heading', { name: 'Chats', exact: true })).toBeVisible();
      await expect(moore.getByText('No chats yet.')).toBeVisible();

      // Wolf starts the direct chat from his contacts.
      await wolf.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
      await wolf.getByRole('button', { name: 'Message Albert Moore' }).click();
      await expect(wolf).toHaveURL(/\/chats\/\d+$/);
      await expect(wolf.getByRole('heading', { name: 'Albert Moore' })).toBeVisible();
      await expect(wolf.getByText('No messages yet. Say hello!')).toBeVisible();
      const chatUrl = wolf.url();
      const chatId = chatUrl.split('/').pop();

      // Enter sends; the link in it is clickable; the text is not HTML.
      const box = wolf.getByRole('textbox', { name: 'Message' });
      await box.fill('Hello Albert <b>not bold</b>, the plan is at https://example.com/plan');
      await box.press('Enter');
      const first = messages(wolf).getByRole('listitem').filter({ hasText: 'Hello Albert' });
      await expect(first).toContainText('<b>not bold</b>');
      await expect(first.getByRole('link', { name: 'https://example.com/plan' })).toHaveAttribute('href', 'https://example.com/plan');
      await expect(first.getByText('Sent', { exact: true })).toBeVisible();
      await expect(box).toHaveValue('');

      // Moore's chat list shows it at once, unread.
      const item = moore.getByRole('link', { name: /Wolf/ });
      await expect(item).toBeVisible();
      await expect(item.getByLabel('1 unread')).toBeVisible();
      await screenshot(moore, `${prefix}-list-phone`);

      // Moore opens it: the message is there, and Wolf sees it read.
      await item.click();
      await expect(moore.getByRole('heading', { name: 'Wolf' })).toBeVisible();
      await expect(messages(moore).getByText('Hello Albert', { exact: false })).toBeVisible();
      await expect(first.getByText('Read', { exact: true })).toBeVisible();

      // Typing shows on the other side; Shift+Enter breaks the line.
      const mooreBox = moore.getByRole('textbox', { name: 'Message' });
      await mooreBox.pressSequentially('Thanks');
      await expect(wolf.getByText('Albert Moore is typing…')).toBeVisible();
      await mooreBox.press('Shift+Enter');
      await mooreBox.pressSequentially('Will read it today.');
      await mooreBox.press('Enter');
      const reply = messages(wolf).getByRole('listitem').filter({ hasText: 'Will read it today.' });
      await expect(reply).toBeVisible();
      expect(await reply.locator('.message-body').innerText()).toBe('Thanks\nWill read it today.');
      await screenshot(moore, `${prefix}-view-phone`);

      // Wolf edits his message; Moore sees the new text, marked edited.
      await messageAction(first, 'Edit');
      await expect(wolf.getByText('Editing your message')).toBeVisible();
      await box.fill('Hello Albert, the plan is at https://example.com/plan-v2');
      await box.press('Enter');
      const edited = messages(moore).getByRole('listitem').filter({ hasText: 'plan-v2' });
      await expect(edited).toBeVisible();
      await expect(edited.getByText('(edited)')).toBeVisible();

      // A send that gets no answer waits and goes again by itself, without a duplicate.
      await wolf.route('**/api/v1/chats/*/messages', (route) => route.abort('connectionrefused'), { times: 1 });
      await box.fill('One more thing');
      await box.press('Enter');
      const waiting = messages(wolf).getByRole('listitem').filter({ hasText: 'One more thing' });
      await expect(waiting.getByText('Waiting for the connection…')).toBeVisible();
      await expect(messages(moore).getByText('One more thing')).toBeVisible();
      await expect(messages(wolf).getByText('One more thing')).toHaveCount(1);
      await expect(messages(wolf).getByText('Waiting for the connection…')).toHaveCount(0);

      // A send the server refuses shows why and can be retried, without a duplicate.
      await wolf.route(
        '**/api/v1/chats/*/messages',
        (route) =>
          route.fulfill({
            status: 422,
            contentType: 'application/json',
            body: JSON.stringify({ error: { code: 'invalid_input', message: 'The message is too long.' } }),
          }),
        { times: 1 },
      );
      await box.fill('Second thing');
      await box.press('Enter');
      const failed = messages(wolf).getByRole('listitem').filter({ hasText: 'Second thing' });
      await expect(failed.getByRole('alert')).toContainText('Not sent: The message is too long.');
      await screenshot(wolf, `${prefix}-failed-send`);
      await failed.getByRole('button', { name: 'Retry' }).click();
      await expect(messages(moore).getByText('Second thing')).toBeVisible();
      await expect(messages(wolf).getByText('Second thing')).toHaveCount(1);

      // Wolf deletes it again; Moore sees that it was deleted.
      const doomed = messages(wolf).getByRole('listitem').filter({ hasText: 'One more thing' });
      await messageAction(doomed, 'Delete');
      // It asks first, in the message; Keep it changes nothing.
      await doomed.getByRole('alertdialog').getByRole('button', { name: 'Keep it' }).click();
      await expect(doomed.getByRole('alertdialog')).toHaveCount(0);
      await messageAction(doomed, 'Delete');
      await doomed.getByRole('alertdialog').getByRole('button', { name: 'Yes, delete' }).click();
      await expect(messages(moore).getByText('One more thing')).toHaveCount(0);
      await expect(messages(moore).getByText('This message was deleted.')).toBeVisible();

      // Wolf sends a 4 MB file over a slowed-down link: the progress bar shows.
      const bytes = randomBytes(4 * 1024 * 1024);
      const cdp = await wolfContext.newCDPSession(wolf);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: 1024 * 1024,
      });
      await wolf.getByLabel('Attach a file').setInputFiles({ name: 'plan.bin', mimeType: 'application/octet-stream', buffer: bytes });
      const progress = wolf.getByRole('progressbar');
      await expect(progress).toBeVisible();
      await expect(wolf.getByText(/Uploading plan\.bin/)).toBeVisible();
      // Send during the upload: the caption waits with it, and both go when it is done.
      await box.fill('Here is the plan');
      await box.press('Enter');
      await expect(wolf.getByText('Sends when the upload is done.')).toBeVisible();
      await expect(box).toHaveValue('');
      await screenshot(wolf, `${prefix}-upload-progress`);
      await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
      await expect(progress).toHaveCount(0, { timeout: 30_000 });
      const sent = messages(wolf).getByRole('listitem').filter({ hasText: 'plan.bin' });
      await expect(sent.getByText('Here is the plan')).toBeVisible();
      await expect(messages(moore).getByRole('listitem').filter({ hasText: 'plan.bin' }).getByText('Here is the plan')).toBeVisible();

      // Moore downloads it and gets the same bytes.
      const download = moore.waitForEvent('download');
      await messages(moore).getByRole('link', { name: 'Download plan.bin' }).click();
      const saved = await (await download).path();
      const digest = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      expect(digest(readFileSync(saved!))).toBe(digest(bytes));

      // Wolf captions the file's message, then takes the caption away: the file stays.
      const fileMessage = messages(wolf).getByRole('listitem').filter({ hasText: 'plan.bin' });
      const mooresFile = messages(moore).getByRole('listitem').filter({ hasText: 'plan.bin' });
      await messageAction(fileMessage, 'Edit');
      await box.fill('The launch plan');
      await box.press('Enter');
      await expect(mooresFile.getByText('The launch plan')).toBeVisible();
      await messageAction(fileMessage, 'Edit');
      await box.fill('');
      await wolf.getByRole('button', { name: 'Save' }).click();
      await expect(mooresFile.getByText('The launch plan')).toHaveCount(0);
      await expect(mooresFile.getByRole('link', { name: 'Download plan.bin' })).toBeVisible();

      // Moore may not send files: the control is disabled, and the API says no.
      await expect(moore.getByLabel('Attach a file')).toBeDisabled();
      const refused = await moore.request.post(`${corp.url}/api/v1/chats/${chatId}/files?name=notes.txt`, {
        data: Buffer.from('not allowed'),
        headers: { 'Content-Type': 'text/plain' },
      });
      expect(refused.status()).toBe(403);
      expect((await refused.json()).error.message).toContain('may not send files');
      await screenshot(moore, `${prefix}-file-phone`);
      await screenshot(wolf, `${prefix}-view`);

      // Back on the list, nothing is unread for Moore any more.
      await moore.getByRole('link', { name: 'Back to chats' }).click();
      await expect(moore.getByRole('link', { name: /Wolf/ }).getByLabel(/unread/)).toHaveCount(0);
      expect(cspRefused, 'nothing the pages did was refused by their policy').toEqual([]);

      await Promise.all([wolfContext.close(), mooreContext.close()]);
    });
  });
}

// The composer and the history (issue 13): an image pasted into the message
// box is sent with a caption; Send during an upload waits for it; an image
// opens at full size; days are separated; a "new messages" line marks where
// the unread messages start, and a jump reaches it when it is further up;
// "Read by" names the readers.

import { expect, test, type Page } from '@playwright/test';
import { createUser } from '../harness/api';
import { newGroupChat, open, screenshot, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp');

/** A 2×2 PNG. */
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFElEQVR4nGP4z8DAwPAfhP7/ZwAAHu8E/Gj7YDYAAAAASUVORK5CYII=';

function messages(page: Page) {
  return page.getByRole('list', { name: 'Messages' });
}

/** Pastes a file into the message box, as a screenshot pasted from the clipboard is. */
async function pasteImage(page: Page, name: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).focus();
  await page.evaluate(
    ([base64, name]) => {
      const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
      const clipboard = new DataTransfer();
      clipboard.items.add(new File([bytes], name, { type: 'image/png' }));
      document.getElementById('composer-input')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: clipboard, bubbles: true, cancelable: true }));
    },
    [PNG, name],
  );
}

test('the composer and the history: a pasted image with a caption, the viewer, days, new messages, read by', async ({ browser }) => {
  test.setTimeout(150_000);
  const corp = server('corp');
  await createUser(corp, 'ann', 'ann-password-1', 'Ann Archer');
  await createUser(corp, 'ben', 'ben-password-1', 'Ben Brown');
  await createUser(corp, 'cy', 'cy-password-1', 'Cy Cole');
  const contexts = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()]);
  const [ann, ben, cy] = await Promise.all(contexts.map((c) => c.newPage()));
  await signIn(ann, corp.url, 'ann', 'ann-password-1');
  await signIn(ben, corp.url, 'ben', 'ben-password-1');
  await signIn(cy, corp.url, 'cy', 'cy-password-1');
  await newGroupChat(ann, 'Design', /Ben Brown/, /Cy Cole/);
  const chatUrl = ann.url();
  await open(ben, chatUrl);
  await open(cy, chatUrl);

  // Ann pastes a screenshot: it waits in the composer until she sends it,
  // with what she types as its caption.
  await pasteImage(ann, 'screenshot.png');
  const staged = ann.getByRole('group', { name: 'File to send' });
  await expect(staged).toContainText('screenshot.png');
  const box = ann.getByRole('textbox', { name: 'Message' });
  await expect(box).toHaveValue('', { timeout: 1000 });
  await box.fill('The new header');
  await screenshot(ann, 'composer-pasted-image');
  await box.press('Enter');
  await expect(staged).toHaveCount(0);
  const mine = messages(ann).getByRole('listitem').filter({ hasText: 'The new header' });
  await expect(mine.getByRole('button', { name: 'Open screenshot.png full size' })).toBeVisible();
  await expect(mine.getByText('screenshot.png')).toBeVisible();

  // Read by names the readers (both have the chat open).
  await expect(mine.getByText('Read by Ben Brown and Cy Cole')).toBeVisible();

  // Ben opens the image at full size; the keyboard stays in the viewer, and
  // Escape brings him back to where he was.
  const opener = messages(ben).getByRole('button', { name: 'Open screenshot.png full size' });
  await opener.click();
  const viewer = ben.getByRole('dialog', { name: 'screenshot.png' });
  await expect(viewer).toBeVisible();
  const close = viewer.getByRole('button', { name: 'Close' });
  await expect(close).toBeFocused();
  await expect.poll(() => viewer.getByRole('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(2);
  await ben.keyboard.press('Tab');
  await expect(viewer.getByRole('link', { name: 'Download' })).toBeFocused();
  await ben.keyboard.press('Tab');
  await expect(close).toBeFocused();
  await screenshot(ben, 'composer-image-viewer');
  await ben.keyboard.press('Escape');
  await expect(viewer).toHaveCount(0);
  await expect(opener).toBeFocused();

  // The new messages line: Cy is elsewhere while Ben writes three messages;
  // the chat opens at the line, before the first of them.
  await open(cy, `${corp.url}/contacts`);
  const benBox = ben.getByRole('textbox', { name: 'Message' });
  for (const text of ['First of three', 'Second of three', 'Third of three']) {
    await benBox.fill(text);
    await benBox.press('Enter');
    await expect(messages(ben).getByText(text)).toBeVisible();
  }
  await open(cy, chatUrl);
  const line = messages(cy).locator('#new-messages');
  await expect(line).toHaveText('New messages');
  await expect(line).toBeInViewport();
  await expect(messages(cy).locator('#new-messages + li')).toContainText('First of three');
  await expect(messages(ann).locator('#new-messages')).toHaveCount(0);
  await screenshot(cy, 'composer-new-messages');

  // More unread than one page: a jump loads older pages up to the line.
  await open(cy, `${corp.url}/contacts`);
  const chatId = chatUrl.split('/').pop();
  for (let i = 1; i <= 70; i++) {
    const r = await ben.request.post(`${corp.url}/api/v1/chats/${chatId}/messages`, {
      data: { client_id: `unread-${i}`, body: `Unread number ${i}` },
    });
    expect(r.status()).toBe(201);
  }
  await open(cy, chatUrl);
  await expect(messages(cy).getByText('Unread number 70', { exact: true })).toBeVisible();
  await expect(line).toHaveCount(0);
  await cy.getByRole('button', { name: 'Jump to the first unread' }).click();
  await expect(line).toBeFocused();
  await expect(messages(cy).locator('#new-messages + li')).toContainText('Unread number 1');
  await expect(cy.getByRole('button', { name: 'Jump to the first unread' })).toHaveCount(0);

  // Days: seen a day later, today's messages are under "Yesterday".
  await cy.clock.setFixedTime(Date.now() + 86_400_000);
  await open(cy, chatUrl);
  await expect(messages(cy).getByText('Unread number 70', { exact: true })).toBeVisible();
  await expect(messages(cy).locator('.day-separator').last()).toHaveText('Yesterday');
  await expect(messages(cy).locator('.day-separator', { hasText: 'Today' })).toHaveCount(0);
  await Promise.all(contexts.map((c) => c.close()));
});

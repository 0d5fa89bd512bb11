// Every screen at phone width: nothing wider than the screen, and a screenshot.

import { expect, test } from '@playwright/test';
import { screenshot, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp.example');

test.use({ viewport: { width: 375, height: 740 } });

test('the control panel and the user pages fit a phone screen', async ({ page }) => {
  const corp = server('corp.example');
  await signIn(page, corp.url, 'admin', corp.adminPassword);
  const screens: Array<[string, string]> = [
    ['/', 'Chats'],
    ['/contacts', 'Contacts'],
    ['/account', 'My account'],
    ['/admin/users', 'Users'],
    ['/admin/users/1', 'Administrator (admin)'],
    ['/admin/settings', 'Settings'],
    ['/admin/groups', 'Groups'],
    ['/admin/groups/1', 'Users without a group'],
    ['/admin/federation', 'Federation'],
    ['/admin/audit', 'Audit log'],
  ];
  for (const [path, heading] of screens) {
    await page.goto(`${corp.url}${path}`);
    await expect(page.getByRole('heading', { name: heading, exact: true })).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow, `${path} is wider than the screen by ${overflow}px`).toBeLessThanOrEqual(0);
    await screenshot(page, `phone${path.replaceAll('/', '-')}`.replace(/-$/, '-home'));
  }
});

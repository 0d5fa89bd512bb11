// A company of 120 (issue 13, company-size pickers): every place that picks
// people searches the server and pages instead of listing everyone — Contacts,
// New group chat (a dialog in the main pane), a chat's Add people, and a
// group's members in the control panel.

import AxeBuilder from '@axe-core/playwright';
import { expect, test } from '@playwright/test';
import { asAdmin } from '../harness/api';
import { interactive, open, pickPerson, screenshot, signIn } from '../harness/pages';
import { useServers } from '../harness/server';

const server = useServers('corp');
const PASSWORD = 'a-long-password-1';
const GIVEN = ['Ada', 'Ben', 'Cleo', 'Dev', 'Erin', 'Finn', 'Gail', 'Hugo', 'Ida', 'Jon'];
const FAMILY = ['Frost', 'Hale', 'Irwin', 'Kerr', 'Lund', 'Marsh', 'Nash', 'Oakes', 'Pike', 'Quinn', 'Reyes', 'Stone'];

test('120 colleagues: contacts by page and search, pickers that search', async ({ page, browser }) => {
  test.setTimeout(240_000);
  const corp = server('corp');
  // 120 people in no group: on a new server they see each other.
  for (const family of FAMILY) {
    for (const given of GIVEN) {
      await asAdmin(corp, 'POST', '/api/v1/admin/users', {
        login: `${given}${family}`.toLowerCase(),
        password: PASSWORD,
        profile: { display_name: `${given} ${family}` },
      });
    }
  }
  await signIn(page, corp.url, 'adafrost', PASSWORD);

  // Contacts: 119 colleagues and the administrator, fifty at a time.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Contacts' }).click();
  const people = page.getByRole('list', { name: 'Contacts' });
  await expect(page.getByText('1–50 of 120')).toBeVisible();
  await expect(people.getByRole('listitem')).toHaveCount(50);
  const pages = page.getByRole('navigation', { name: 'Contact pages' });
  await expect(pages.getByRole('button', { name: 'Previous' })).toBeDisabled();
  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('51–100 of 120')).toBeVisible();
  await pages.getByRole('button', { name: 'Next' }).click();
  await expect(page.getByText('101–120 of 120')).toBeVisible();
  await expect(people.getByRole('listitem')).toHaveCount(20);
  await expect(pages.getByRole('button', { name: 'Next' })).toBeDisabled();
  await screenshot(page, 'company-contacts');

  // Searching asks the server: any part of a name, in any case.
  const search = page.getByRole('searchbox', { name: 'Find a contact' });
  await search.fill('quinn');
  await expect(page.getByText('1–10 of 10')).toBeVisible();
  await expect(people.getByRole('listitem')).toHaveCount(10);
  await expect(people.getByRole('listitem').first()).toContainText('Ada Quinn');
  await expect(pages).toHaveCount(0);
  await search.fill('zebra');
  await expect(page.getByText('No contact matches “zebra”.')).toBeVisible();

  // New group chat opens as a dialog in the main pane, with the caret in its
  // title; Escape closes it.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Chats' }).click();
  await interactive(page);
  await page.getByRole('button', { name: 'New group chat' }).click();
  const dialog = page.getByRole('main').getByRole('dialog', { name: 'New group chat' });
  await expect(dialog).toBeVisible();
  await expect(dialog.getByLabel('Title')).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);

  // The picker offers a few contacts on focus and finds any of the 120 by name.
  await page.getByRole('button', { name: 'New group chat' }).click();
  await dialog.getByLabel('Title').fill('Rollout');
  const picker = dialog.getByRole('combobox', { name: 'People' });
  const offered = dialog.getByRole('listbox', { name: 'People' }).getByRole('option');
  await picker.focus();
  await expect(offered).toHaveCount(8);
  await picker.fill('stone');
  await expect(offered).toHaveCount(8);
  await expect(offered.first()).toHaveText('Ada Stone — adastone@corp');
  await picker.fill('stone hugo');
  await expect(offered).toHaveCount(0);
  await expect(dialog.getByText('None of your contacts matches “stone hugo”.')).toBeVisible();
  await pickPerson(dialog, 'People', /Hugo Stone/);
  // By keyboard: type, arrow down, Enter; the one chosen is not offered again.
  await picker.fill('pike');
  await expect(offered.first()).toHaveText('Ada Pike — adapike@corp');
  await picker.press('ArrowDown');
  await picker.press('Enter');
  const chosen = dialog.getByRole('list', { name: 'Chosen people' });
  await expect(chosen.getByRole('listitem')).toHaveCount(2);
  await expect(chosen).toContainText('Ben Pike');
  await picker.fill('hugo stone');
  await expect(dialog.getByText('Everyone matching “hugo stone” is already in the list.')).toBeVisible();
  await chosen.getByRole('button', { name: 'Remove Ben Pike' }).click();
  await expect(chosen.getByRole('listitem')).toHaveCount(1);
  const axe = await new AxeBuilder({ page }).include('.dialog-pane').withTags(['wcag2a', 'wcag2aa']).analyze();
  expect(axe.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => v.id)).toEqual([]);
  await screenshot(page, 'company-new-group-chat');
  await dialog.getByRole('button', { name: 'Create' }).click();
  await expect(page.getByRole('heading', { name: 'Rollout' })).toBeVisible();
  await expect(page.getByText('2 members')).toBeVisible();

  // Add people in the chat searches the same way.
  await page.getByRole('button', { name: 'Members' }).click();
  const panel = page.getByRole('complementary', { name: /Members/ });
  await panel.getByRole('button', { name: 'Add people' }).click();
  await pickPerson(panel, 'People to add', /Jon Reyes/);
  await panel.getByRole('button', { name: 'Add', exact: true }).click();
  await expect(panel.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(3);

  // The panel: a group's members are added with a picker that searches the
  // server's users by name, and found in the list by name.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signIn(admin, corp.url, 'admin', corp.adminPassword);
  const group = (await asAdmin(corp, 'POST', '/api/v1/admin/groups', { name: 'Design' })) as { id: number };
  await open(admin, `${corp.url}/admin/groups/${group.id}`);
  await expect(admin.getByText('No members yet. Add people by name below.')).toBeVisible();
  const addMember = admin.getByRole('combobox', { name: 'Add a member' });
  for (const name of ['Cleo Marsh', 'Dev Marsh', 'Erin Marsh', 'Finn Marsh', 'Gail Marsh', 'Hugo Marsh', 'Ida Marsh', 'Jon Marsh', 'Ada Marsh', 'Ben Marsh', 'Cleo Nash']) {
    await addMember.fill(name);
    await admin.getByRole('listbox', { name: 'Add a member' }).getByRole('option', { name: new RegExp(name) }).click();
    await expect(admin.getByRole('list', { name: 'Members' }).getByRole('link', { name })).toBeVisible();
  }
  await expect(admin.getByText('11 in all')).toBeVisible();
  await expect(admin.getByRole('status').filter({ hasText: 'Cleo Nash added.' })).toBeVisible();
  await addMember.fill('cleo marsh');
  await expect(admin.getByText('Everyone matching “cleo marsh” is already in the list.')).toBeVisible();
  const filter = admin.getByRole('searchbox', { name: 'Find a member' });
  await filter.fill('nash');
  await expect(admin.getByRole('list', { name: 'Members' }).getByRole('listitem')).toHaveCount(1);
  await expect(admin.getByRole('list', { name: 'Members' })).toContainText('Cleo Nash');
  await screenshot(admin, 'company-group-members');

  // Many groups: a user's groups are found by name, and the chosen ones stay.
  for (let i = 1; i <= 9; i++) {
    await asAdmin(corp, 'POST', '/api/v1/admin/groups', { name: `Team ${String(i).padStart(2, '0')}` });
  }
  const users = (await asAdmin(corp, 'GET', '/api/v1/admin/users?search=cleonash')) as { items: { id: number }[] };
  await open(admin, `${corp.url}/admin/users/${users.items[0].id}`);
  const groups = admin.getByRole('region', { name: 'Groups' });
  await expect(groups.getByRole('checkbox', { name: 'Design' })).toBeChecked();
  await groups.getByRole('searchbox', { name: 'Find a group' }).fill('team 0');
  await expect(groups.getByRole('checkbox', { name: 'Team 03' })).toBeVisible();
  await expect(groups.getByRole('checkbox', { name: 'Design' })).toBeVisible();
  await groups.getByRole('searchbox', { name: 'Find a group' }).fill('team 03');
  await expect(groups.getByRole('checkbox', { name: 'Team 04' })).toBeHidden();
  await groups.getByRole('checkbox', { name: 'Team 03' }).check();
  await groups.getByRole('button', { name: 'Save groups' }).click();
  await expect(admin.getByRole('status').filter({ hasText: 'Groups saved.' })).toBeVisible();
  await expect(groups.getByRole('checkbox', { name: 'Team 03' })).toBeChecked();
  await adminContext.close();
});

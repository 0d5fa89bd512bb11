// Calls (issue 14): people call each other from a chat through their server's
// forwarding unit, with Chromium's fake camera and microphone. What proves it
// is the browser's own count: each participant's connection decodes the
// others' video frames and receives their sound (`getStats()`).

import { expect, test, type Browser, type Page } from '@playwright/test';
import { chromiumArgs } from '../harness/chromium';
import { asAdmin, createUser } from '../harness/api';
import { screenshot, signIn } from '../harness/pages';
import { useServers, type RunningServer } from '../harness/server';

// A camera and a microphone that need no one's permission, and host
// candidates on the loopback interface, where the server's unit listens.
test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      ...chromiumArgs,
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      '--allow-loopback-in-peer-connection',
    ],
  },
});

const server = useServers('corp');
const PASSWORD = 'call-password-1';

/** A signed-in page whose peer connections the test can ask for statistics. */
async function person(browser: Browser, corp: RunningServer, login: string): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.addInitScript(() => {
    const w = window as unknown as { RTCPeerConnection: typeof RTCPeerConnection; __connections: RTCPeerConnection[] };
    const Original = w.RTCPeerConnection;
    w.__connections = [];
    w.RTCPeerConnection = class extends Original {
      constructor(config?: RTCConfiguration) {
        super(config);
        w.__connections.push(this);
      }
    };
  });
  await signIn(page, corp.url, login, PASSWORD);
  return page;
}

interface Received {
  /** Video frames decoded, over every stream received. */
  frames: number;
  /** Audio samples received, over every stream received. */
  samples: number;
  /** Streams (participants) with decoded video. */
  videoStreams: number;
}

/** What the page's latest connection has received so far. */
async function received(page: Page): Promise<Received> {
  return page.evaluate(async () => {
    const connections = (window as unknown as { __connections: RTCPeerConnection[] }).__connections;
    const connection = connections[connections.length - 1];
    const result = { frames: 0, samples: 0, videoStreams: 0 };
    if (!connection) return result;
    (await connection.getStats()).forEach((report) => {
      if (report.type !== 'inbound-rtp') return;
      if (report.kind === 'video' && (report.framesDecoded ?? 0) > 0) {
        result.frames += report.framesDecoded;
        result.videoStreams += 1;
      }
      if (report.kind === 'audio') result.samples += report.totalSamplesReceived ?? 0;
    });
    return result;
  });
}

/** Opens the direct chat of `a` and `b` (as `a`); its id. */
async function directChat(corp: RunningServer, a: Page, b: string): Promise<number> {
  const opened = await a.request.post(`${corp.url}/api/v1/chats/direct`, {
    data: { with: `${b}@${corp.serverName}` },
  });
  expect(opened.ok(), await opened.text()).toBe(true);
  return (await opened.json()).id;
}

/** Media from `others` participants reaches `page`: their video decoded, their sound received. */
async function hearsAndSees(page: Page, others = 1): Promise<void> {
  await expect.poll(async () => (await received(page)).videoStreams, { timeout: 30_000 }).toBeGreaterThanOrEqual(others);
  await expect.poll(async () => (await received(page)).frames, { timeout: 30_000 }).toBeGreaterThan(10 * others);
  await expect.poll(async () => (await received(page)).samples, { timeout: 30_000 }).toBeGreaterThan(1000);
}

test('a call rings, is answered, survives a reload, and ends when the other hangs up', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'ann', PASSWORD, 'Ann Archer');
  await createUser(corp, 'ben', PASSWORD, 'Ben Brown');
  const ann = await person(browser, corp, 'ann');
  const ben = await person(browser, corp, 'ben');
  const chat = await directChat(corp, ann, 'ben');
  await ann.goto(`${corp.url}/chats/${chat}`);
  await ben.goto(`${corp.url}/`);

  await ann.getByRole('button', { name: 'Call', exact: true }).click();
  const annCall = ann.getByRole('region', { name: /^Call in/ });
  await expect(annCall.getByRole('status')).toHaveText('Calling Ben Brown…');

  // It rings for Ben wherever he is on the chats page, and his list shows it.
  const ringing = ben.getByRole('region', { name: 'Incoming call' });
  await expect(ringing.getByRole('status')).toHaveText('Ann Archer is calling you…');
  await expect(ben.getByRole('link', { name: /Ann Archer/ })).toContainText('Call in progress');
  await screenshot(ben, 'call-ringing');
  await ringing.getByRole('button', { name: 'Answer' }).click();
  await expect(ben).toHaveURL(new RegExp(`/chats/${chat}$`));
  await expect(ringing).toHaveCount(0);
  const benCall = ben.getByRole('region', { name: /^Call in/ });
  await expect(benCall.getByRole('status')).toHaveText('In the call with 1 other person.');
  await expect(annCall.getByRole('status')).toHaveText('In the call with 1 other person.');
  // Each sees the other by name.
  await expect(annCall.getByRole('figure').filter({ hasText: 'Ben Brown' })).toHaveCount(1);
  await expect(benCall.getByRole('figure').filter({ hasText: 'Ann Archer' })).toHaveCount(1);

  // Media flows both ways through the server: frames decoded, sound received.
  for (const page of [ann, ben]) await hearsAndSees(page);
  await screenshot(ann, 'call-two-people');

  // Mute and camera off say so on the buttons.
  await annCall.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(annCall.getByRole('button', { name: 'Unmute microphone' })).toHaveAttribute('aria-pressed', 'true');
  await annCall.getByRole('button', { name: 'Turn camera off' }).click();
  await expect(annCall.getByRole('button', { name: 'Turn camera on' })).toHaveAttribute('aria-pressed', 'true');
  await annCall.getByRole('button', { name: 'Turn camera on' }).click();
  await annCall.getByRole('button', { name: 'Unmute microphone' }).click();

  // Ben reloads his tab: he is back in the call, and media flows on a new connection.
  await ben.reload();
  await expect(benCall.getByRole('status')).toHaveText('In the call with 1 other person.');
  await expect(annCall.getByRole('figure').filter({ hasText: 'Ben Brown' })).toHaveCount(1);
  await hearsAndSees(ben);

  // Ben hangs up: his call is gone; Ann's ends and says why.
  await benCall.getByRole('button', { name: 'Leave call' }).click();
  await expect(benCall).toHaveCount(0);
  await expect(annCall.getByRole('status')).toHaveText('Ben Brown left: the call has ended.');
  await annCall.getByRole('button', { name: 'Close' }).click();
  await expect(annCall).toHaveCount(0);
  await expect(ann.getByRole('button', { name: 'Call', exact: true })).toBeEnabled();
  await ann.close();
  await ben.close();
});

test('a declined call tells the caller, and stops ringing', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'cat', PASSWORD, 'Cat Cole');
  await createUser(corp, 'dan', PASSWORD, 'Dan Dale');
  const cat = await person(browser, corp, 'cat');
  const dan = await person(browser, corp, 'dan');
  const chat = await directChat(corp, cat, 'dan');
  await cat.goto(`${corp.url}/chats/${chat}`);
  await dan.goto(`${corp.url}/chats/${chat}`);
  await cat.getByRole('button', { name: 'Call', exact: true }).click();
  const ringing = dan.getByRole('region', { name: 'Incoming call' });
  // The open chat offers to join too.
  await expect(dan.getByRole('button', { name: 'Join the call' })).toBeVisible();
  await ringing.getByRole('button', { name: 'Decline' }).click();
  await expect(ringing).toHaveCount(0);
  const catCall = cat.getByRole('region', { name: /^Call in/ });
  await expect(catCall.getByRole('status')).toHaveText('Dan Dale declined the call.');
  await catCall.getByRole('button', { name: 'Close' }).click();
  // The call has ended for everyone: Dan's chat offers a new call.
  await expect(dan.getByRole('button', { name: 'Call', exact: true })).toBeVisible();
  await cat.close();
  await dan.close();
});

test('four people meet in a conference and each receives the three others', async ({ browser }) => {
  test.slow();
  const corp = server('corp');
  const hosts = (await asAdmin(corp, 'POST', '/api/v1/admin/groups', {
    name: 'Hosts',
    rights: ['create_group_conferences'],
  })) as { id: number };
  await asAdmin(corp, 'POST', '/api/v1/admin/users', {
    login: 'eve',
    password: PASSWORD,
    profile: { display_name: 'Eve Ellis' },
    group_ids: [hosts.id],
  });
  const names: Record<string, string> = { eve: 'Eve Ellis', fay: 'Fay Ford', gus: 'Gus Gray', hal: 'Hal Hart' };
  for (const login of ['fay', 'gus', 'hal']) await createUser(corp, login, PASSWORD, names[login]);
  const eve = await person(browser, corp, 'eve');
  const created = await eve.request.post(`${corp.url}/api/v1/chats`, {
    data: { title: 'Launch', members: ['fay', 'gus', 'hal'].map((l) => `${l}@${corp.serverName}`) },
  });
  expect(created.ok(), await created.text()).toBe(true);
  const chat = (await created.json()).id;
  const others: Page[] = [];
  for (const login of ['fay', 'gus', 'hal']) others.push(await person(browser, corp, login));
  for (const page of [eve, ...others]) await page.goto(`${corp.url}/chats/${chat}`);

  // Without the right, nobody may start one: there is no button to press.
  await expect(others[0].getByRole('heading', { name: 'Launch' })).toBeVisible();
  await expect(others[0].getByRole('button', { name: /conference/ })).toHaveCount(0);

  await eve.getByRole('button', { name: 'Start a conference' }).click();
  await expect(eve.getByRole('region', { name: /^Call in/ }).getByRole('status')).toHaveText(
    'In the conference. Waiting for others to join…',
  );
  // Everyone sees it running, in the chat and in the list, and may join.
  await expect(others[0].locator('.chat-subtitle')).toContainText('Conference — 1 person');
  await expect(others[0].getByRole('link', { name: /Launch/ })).toContainText('Conference — 1 person');
  for (const page of others) await page.getByRole('button', { name: 'Join the conference' }).click();
  for (const page of [eve, ...others]) {
    await expect(page.getByRole('region', { name: /^Call in/ }).getByRole('status')).toHaveText(
      'In the call with 3 other people.',
      { timeout: 20_000 },
    );
  }
  await expect(eve.locator('.chat-subtitle')).toContainText('Conference — 4 people');
  // Each sees the three others by name and receives their media.
  const pages = { eve, fay: others[0], gus: others[1], hal: others[2] };
  for (const [login, page] of Object.entries(pages)) {
    const call = page.getByRole('region', { name: /^Call in/ });
    for (const [other, name] of Object.entries(names)) {
      await expect(call.getByRole('figure').filter({ hasText: name })).toHaveCount(other === login ? 0 : 1);
    }
  }
  for (const page of [eve, ...others]) await hearsAndSees(page, 3);
  await screenshot(eve, 'call-conference-four');

  // Hal's tab disappears without hanging up: the others see three people.
  await others[2].close();
  for (const page of [eve, others[0], others[1]]) {
    await expect(page.getByRole('region', { name: /^Call in/ }).getByRole('status')).toHaveText(
      'In the call with 2 other people.',
      { timeout: 20_000 },
    );
  }
  for (const page of [eve, others[0], others[1]]) await page.close();
});

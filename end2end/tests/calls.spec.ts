// Calls (issue 14): people call each other from a chat through their server's
// forwarding unit, with Chromium's fake camera and microphone. What proves it
// is the browser's own count: each participant's connection decodes the
// others' video frames and receives their sound (`getStats()`).

import { expect, test, type Browser, type Page } from '@playwright/test';
import { chromiumArgs } from '../harness/chromium';
import { createUser } from '../harness/api';
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

test('two people call each other from their chat, and each sees and hears the other', async ({ browser }) => {
  const corp = server('corp');
  await createUser(corp, 'ann', PASSWORD, 'Ann Archer');
  await createUser(corp, 'ben', PASSWORD, 'Ben Brown');
  const ann = await person(browser, corp, 'ann');
  const ben = await person(browser, corp, 'ben');
  const opened = await ann.request.post(`${corp.url}/api/v1/chats/direct`, {
    data: { with: `ben@${corp.serverName}` },
  });
  expect(opened.ok(), await opened.text()).toBe(true);
  const chat = await opened.json();
  for (const page of [ann, ben]) await page.goto(`${corp.url}/chats/${chat.id}`);

  await ann.getByRole('button', { name: 'Call', exact: true }).click();
  const annCall = ann.getByRole('region', { name: /^Call in/ });
  await expect(annCall.getByRole('status')).toHaveText('In the call. Waiting for others to join…');

  await ben.getByRole('button', { name: 'Call', exact: true }).click();
  const benCall = ben.getByRole('region', { name: /^Call in/ });
  await expect(benCall.getByRole('status')).toHaveText('In the call with 1 other person.');
  await expect(annCall.getByRole('status')).toHaveText('In the call with 1 other person.');

  // Media flows both ways through the server: frames decoded, sound received.
  for (const page of [ann, ben]) {
    await expect.poll(async () => (await received(page)).frames, { timeout: 20_000 }).toBeGreaterThan(10);
    await expect.poll(async () => (await received(page)).samples, { timeout: 20_000 }).toBeGreaterThan(1000);
  }
  await screenshot(ann, 'call-two-people');

  // Mute and camera off say so on the buttons.
  await annCall.getByRole('button', { name: 'Mute microphone' }).click();
  await expect(annCall.getByRole('button', { name: 'Unmute microphone' })).toHaveAttribute('aria-pressed', 'true');
  await annCall.getByRole('button', { name: 'Turn camera off' }).click();
  await expect(annCall.getByRole('button', { name: 'Turn camera on' })).toHaveAttribute('aria-pressed', 'true');

  // Ben leaves: his call is gone, and his camera and microphone are released.
  await benCall.getByRole('button', { name: 'Leave call' }).click();
  await expect(benCall).toHaveCount(0);
  await ann.close();
  await ben.close();
});

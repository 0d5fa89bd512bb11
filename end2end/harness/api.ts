// Set-up steps done through the HTTP API, for tests whose story is elsewhere:
// a signed-in administrator's session, users, and the white lists of two servers.

import { expect } from '@playwright/test';
import type { RunningServer } from './server';

/** Signs in as the server's administrator and returns the session cookie. */
async function adminCookie(server: RunningServer): Promise<string> {
  const response = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: server.adminLogin, password: server.adminPassword, remember_me: false }),
  });
  expect(response.status, await response.clone().text()).toBe(200);
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('causeway_session='));
  if (!cookie) throw new Error(`${server.serverName}: no session cookie`);
  return cookie.split(';')[0];
}

/** Calls the API of `server` as its administrator. */
export async function asAdmin(server: RunningServer, method: string, path: string, body?: unknown): Promise<unknown> {
  const cookie = await adminCookie(server);
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', cookie },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  expect(response.ok, `${method} ${path}: ${text}`).toBe(true);
  return text ? JSON.parse(text) : undefined;
}

/** Creates a user on `server`. */
export async function createUser(
  server: RunningServer,
  login: string,
  password: string,
  displayName: string,
): Promise<void> {
  await asAdmin(server, 'POST', '/api/v1/admin/users', {
    login,
    password,
    profile: { display_name: displayName },
  });
}

/** Puts `others` on the white list of `server` (mode: whitelisted servers). */
export async function allow(server: RunningServer, ...others: RunningServer[]): Promise<void> {
  await asAdmin(server, 'PUT', '/api/v1/admin/federation', {
    mode: 'whitelist',
    whitelist: others.map((o) => ({ server_name: o.serverName, address: o.url })),
  });
}

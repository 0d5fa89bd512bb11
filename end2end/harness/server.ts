// Starts real Causeway servers for a test file: each in a fresh data folder, on
// an ephemeral port, with its own server name. Reads the address and the first
// administrator's one-time password from the server's own start-up output.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from '@playwright/test';

const repoRoot = path.resolve(__dirname, '..', '..');

/** Where a test server keeps its data. */
export type Backend = 'sqlite' | 'postgres';

/** The PostgreSQL server tests use (trust authentication, as on the CI machine). */
const pgHost = process.env.TEST_PG_HOST ?? '127.0.0.1';
const pgUser = process.env.TEST_PG_USER ?? 'postgres';

function psql(sql: string): void {
  execFileSync('psql', ['-h', pgHost, '-U', pgUser, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', sql], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

export interface RunningServer {
  serverName: string;
  backend: Backend;
  url: string;
  adminLogin: string;
  adminPassword: string;
  dataDir: string;
  stop(): Promise<void>;
}

function binaryPath(): string {
  // The debug build: scripts/test.sh compiles it for the integration tests anyway.
  const bin = process.env.CAUSEWAY_BIN ?? path.join(repoRoot, 'target', 'debug', 'causeway');
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: build it with \`cargo build -p server\` (or set CAUSEWAY_BIN)`);
  }
  return bin;
}

export async function startServer(serverName: string, backend: Backend = 'sqlite'): Promise<RunningServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), `causeway-e2e-${serverName}-`));
  // On PostgreSQL each server gets a database of its own, dropped when it stops.
  const database = `causeway_e2e_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  const databaseEnv: Record<string, string> = {};
  if (backend === 'postgres') {
    psql(`create database ${database}`);
    databaseEnv.CAUSEWAY_DATABASE__URL = `postgres://${pgUser}@${pgHost}:5432/${database}`;
  }
  const child: ChildProcess = spawn(binaryPath(), ['serve'], {
    cwd: dataDir,
    env: {
      PATH: process.env.PATH ?? '',
      CAUSEWAY_SERVER_NAME: serverName,
      CAUSEWAY_LISTEN: '127.0.0.1:0',
      CAUSEWAY_DATA_DIR: dataDir,
      CAUSEWAY_SITE_ROOT: process.env.CAUSEWAY_SITE_ROOT ?? path.join(repoRoot, 'target', 'site'),
      RUST_LOG: process.env.RUST_LOG ?? 'warn',
      ...databaseEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const banner = await new Promise<{ url: string; password: string }>((resolve, reject) => {
    let url = '';
    let password = '';
    const timer = setTimeout(() => reject(new Error(`${serverName}: no start-up banner within 30 s`)), 30_000);
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const listening = line.match(/Listening on (http:\/\/\S+)/);
      if (listening) url = listening[1];
      const secret = line.match(/^\s*Password:\s+(\S+)/);
      if (secret) password = secret[1];
      if (line.startsWith('Press Ctrl+C')) {
        clearTimeout(timer);
        if (!url || !password) reject(new Error(`${serverName}: banner without address or password`));
        else resolve({ url, password });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${serverName}: exited with ${code} before it was ready`));
    });
  });

  // The banner is printed once the port is bound; wait until requests are answered.
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(`${banner.url}/healthz`);
      if (response.ok) break;
    } catch {
      // not up yet
    }
    if (attempt > 100) throw new Error(`${serverName}: /healthz never answered`);
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    serverName,
    backend,
    url: banner.url,
    adminLogin: 'admin',
    adminPassword: banner.password,
    dataDir,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const code = await exited;
        if (code !== 0) throw new Error(`${serverName}: exited with ${code} on SIGTERM`);
      }
      rmSync(dataDir, { recursive: true, force: true });
      if (backend === 'postgres') psql(`drop database if exists ${database} with (force)`);
    },
  };
}

/**
 * Starts one fresh server per name for the test file that calls it (before its
 * first test) and stops them after its last. Returns a lookup by server name.
 */
export function useServers(...names: string[]): (name: string) => RunningServer {
  return useServersOn('sqlite', ...names);
}

/** As [`useServers`], on the given storage backend. */
export function useServersOn(backend: Backend, ...names: string[]): (name: string) => RunningServer {
  const servers = new Map<string, RunningServer>();
  test.beforeAll(async () => {
    for (const name of names) servers.set(name, await startServer(name, backend));
  });
  test.afterAll(async () => {
    for (const server of servers.values()) await server.stop();
    servers.clear();
  });
  return (name: string) => {
    const server = servers.get(name);
    if (!server) throw new Error(`no server ${name} in this file`);
    return server;
  };
}

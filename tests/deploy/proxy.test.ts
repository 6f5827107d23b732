import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestApp, type TestApp } from '../helpers/app.js';
import { createUser } from '../helpers/auth.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { freePort } from '../integration/payments/helpers.js';

/**
 * The deployment shape of several instances (docs/deployment.md, "Several instances"): the
 * files say it (always checked), and when HAProxy is installed the repository's config is driven
 * for real in front of three app instances on one database and Redis.
 */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const HAPROXY = spawnSync('sh', ['-c', 'command -v haproxy'], { encoding: 'utf8' }).stdout.trim();

describe('several instances: the deployment files', () => {
  it('render.yaml runs several instances of the web service, checked on /health/ready', () => {
    const blueprint = parse(read('render.yaml')) as {
      services: { type: string; numInstances?: number; healthCheckPath?: string }[];
    };
    const web = blueprint.services.find((service) => service.type === 'web')!;
    expect(web.numInstances).toBeGreaterThanOrEqual(2);
    expect(web.healthCheckPath).toBe('/health/ready');
  });

  it('docker-compose scales `app` behind the proxy: no published port on app, the proxy mounts docker/haproxy.cfg', () => {
    const compose = parse(read('docker-compose.yml'), { merge: true }) as {
      services: Record<string, { ports?: string[]; volumes?: string[]; profiles?: string[]; image?: string }>;
    };
    expect(compose.services.app!.ports).toBeUndefined();
    expect(compose.services.proxy!.profiles).toEqual(compose.services.app!.profiles);
    expect(compose.services.proxy!.image).toMatch(/^haproxy:/);
    expect(compose.services.proxy!.volumes).toContain(
      './docker/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    );
    expect(compose.services.proxy!.ports).toEqual(['3000:3000']);
  });

  it('docker/haproxy.cfg checks each instance on /health/ready and keeps WebSockets open', () => {
    const config = read('docker/haproxy.cfg');
    expect(config).toMatch(/option httpchk GET \/health\/ready/);
    expect(config).toMatch(/timeout tunnel 1h/);
    expect(config).toMatch(/server-template app 1-10 "\$\{APP_HOST\}:\$\{APP_PORT\}" resolvers docker/);
  });
});

if (HAPROXY === '')
  console.log(
    '[proxy] haproxy is not installed: the test driving docker/haproxy.cfg is skipped (apt-get install haproxy to run it)',
  );

describe.skipIf(HAPROXY === '')(
  'several instances: docker/haproxy.cfg driven in front of three instances',
  () => {
    let database: TestDatabase | undefined;
    const apps: TestApp[] = [];
    let proxy: ChildProcess | undefined;
    afterAll(async () => {
      proxy?.kill('SIGTERM');
      for (const app of apps) await app.close();
      await database?.drop();
    });

    it(
      'serves every request through any instance and takes a stopped one out',
      { timeout: 120_000 },
      async () => {
        database = await createTestDatabase();
        const shared = {
          REDIS_KEY_PREFIX: `px${process.pid}:`,
          JWT_SECRET: 'p'.repeat(48),
          JWT_REFRESH_SECRET: 'q'.repeat(48),
          // One key ring and one PII key for all three, as instances of one deployment share them.
          ENCRYPTION_KEY: randomBytes(32).toString('hex'),
          PII_ENCRYPTION_KEYS: `k1:${randomBytes(32).toString('hex')}`,
          PII_BLIND_INDEX_KEY: randomBytes(32).toString('hex'),
        };
        const ports: number[] = [];
        for (let index = 0; index < 3; index += 1) {
          const app = await createTestApp({ database, keepDatabase: true, env: shared });
          apps.push(app);
          const port = await freePort();
          await app.app.listen({ host: '127.0.0.1', port });
          ports.push(port);
        }
        // The repository's config, with the three local instances in place of Docker's DNS, and a
        // connection cap this machine's file limit allows (HAProxy needs two descriptors a
        // connection and refuses to start when `ulimit -n` is below that; the image's is higher).
        const config = read('docker/haproxy.cfg')
          .replace(
            /^\s*server-template .*$/m,
            ports.map((port, index) => `  server app${index + 1} 127.0.0.1:${port}`).join('\n'),
          )
          .replace(/^(\s*)maxconn \d+$/m, '$1maxconn 2000');
        const directory = mkdtempSync(path.join(tmpdir(), 'haproxy-'));
        const file = path.join(directory, 'haproxy.cfg');
        writeFileSync(file, config);
        const proxyPort = await freePort();
        const check = spawnSync(HAPROXY, ['-c', '-f', file], {
          env: { ...process.env, PROXY_BIND: `127.0.0.1:${proxyPort}` },
          encoding: 'utf8',
        });
        expect(check.status, check.stderr).toBe(0);
        proxy = spawn(HAPROXY, ['-db', '-f', file], {
          env: { ...process.env, PROXY_BIND: `127.0.0.1:${proxyPort}` },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let proxyErrors = '';
        proxy.stderr!.on('data', (chunk: Buffer) => (proxyErrors += chunk.toString()));
        const base = `http://127.0.0.1:${proxyPort}`;
        const deadline = Date.now() + 20_000;
        let up = false;
        while (!up && Date.now() < deadline) {
          up = (await fetch(`${base}/health/ready`).catch(() => undefined))?.status === 200;
          if (!up) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        expect(up, proxyErrors).toBe(true);

        const customer = await createUser(apps[0]!, { roles: ['customer'] });
        for (let index = 0; index < 9; index += 1) {
          const answer = await fetch(`${base}/v1/wallet`, {
            headers: { authorization: `Bearer ${customer.accessToken}` },
          });
          expect(answer.status).toBe(200);
        }
        // One instance stops: after its health check fails, every request still succeeds.
        await apps.pop()!.close();
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        for (let index = 0; index < 9; index += 1) {
          const answer = await fetch(`${base}/v1/wallet`, {
            headers: { authorization: `Bearer ${customer.accessToken}` },
          });
          expect(answer.status).toBe(200);
        }
      },
    );
  },
);

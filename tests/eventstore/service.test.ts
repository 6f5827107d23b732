import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../helpers/app.js';

describe('the event store in the services', () => {
  let testApp: TestApp;
  beforeAll(async () => {
    testApp = await createTestApp();
  });
  afterAll(async () => testApp?.close());

  it('is reported by /health/ready as the check named eventstore', async () => {
    const response = await testApp.app.inject({ method: 'GET', url: '/health/ready' });
    const body = response.json() as { checks: { name: string; ok: boolean }[]; mode: { eventStore: string } };
    expect(body.checks).toContainEqual({ name: 'eventstore', ok: true });
    expect(body.mode.eventStore).toBe('postgres');
  });

  it('appends and reads through services.eventStore', async () => {
    const { eventStore } = testApp.services;
    const result = await eventStore.append('service-check-1', [{ type: 'Checked', data: { ok: true } }]);
    expect(result.nextRevision).toBe(0n);
    expect((await eventStore.readStream('service-check-1'))[0]?.data).toEqual({ ok: true });
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/index.js';
import { createChannelAdapters } from '../../../src/modules/notifications/channels.js';
import type { Transport } from '../../../src/modules/notifications/index.js';
import { productionRequirements, testEnvironment } from '../../helpers/app.js';
import { testServiceAccount } from './stand-ins.js';

/**
 * Which adapter serves each channel, from the configuration alone (no message is sent here), and
 * the production start's refusal to run without the configured SMS provider's credentials.
 */
const production = () => ({
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://x@db/y',
  JWT_SECRET: 'a'.repeat(32),
  JWT_REFRESH_SECRET: 'b'.repeat(32),
  ENCRYPTION_KEY: 'c'.repeat(64),
  ...productionRequirements(),
});
const withoutTwilio = (environment: Record<string, string>) =>
  Object.fromEntries(Object.entries(environment).filter(([name]) => !name.startsWith('TWILIO_')));

function refusedVariables(environment: Record<string, string>): string[] {
  try {
    loadConfig(environment);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).variables.sort();
  }
  return [];
}

const recording: Transport = { name: 'outbox', send: async () => ({ id: 'recorded-1' }) };

describe('createChannelAdapters', () => {
  it('serves every channel from the recording outbox while it is on', async () => {
    const config = loadConfig(testEnvironment({ OUTBOX_ENABLED: 'true' }));
    const { adapters, missing } = createChannelAdapters(config, recording);
    expect([...adapters.keys()].sort()).toEqual(['email', 'push', 'sms']);
    expect([...adapters.values()].map((adapter) => adapter.name)).toEqual(['outbox', 'outbox', 'outbox']);
    expect(missing.size).toBe(0);
    await expect(
      adapters.get('sms')!.send({ channel: 'sms', to: '+237670000000', body: 'x' }),
    ).resolves.toEqual({
      status: 'sent',
      providerId: 'recorded-1',
    });
  });

  it('picks FCM, Twilio and SMTP when configured, with the outbox off', async () => {
    const config = loadConfig({
      ...production(),
      FCM_SERVICE_ACCOUNT_JSON: testServiceAccount('food-delivery-prod').json,
      SMTP_HOST: 'smtp.example.cm',
      SMTP_FROM: 'Orders <no-reply@example.cm>',
    });
    const channels = createChannelAdapters(config, undefined);
    try {
      expect(
        Object.fromEntries([...channels.adapters].map(([channel, adapter]) => [channel, adapter.name])),
      ).toEqual({
        push: 'fcm',
        sms: 'twilio',
        email: 'smtp',
      });
    } finally {
      await channels.close();
    }
  });

  it("picks Africa's Talking for SMS_PROVIDER=africastalking and names what the missing channels need", async () => {
    const config = loadConfig({
      ...withoutTwilio(production()),
      SMS_PROVIDER: 'africastalking',
      AFRICASTALKING_USERNAME: 'food-delivery',
      AFRICASTALKING_API_KEY: 'atsk_example',
    });
    const channels = createChannelAdapters(config, undefined);
    expect(channels.adapters.get('sms')?.name).toBe('africastalking');
    expect(Object.fromEntries(channels.missing)).toEqual({
      push: 'FCM_SERVICE_ACCOUNT_JSON or GOOGLE_APPLICATION_CREDENTIALS',
      email: 'SMTP_HOST and SMTP_FROM',
    });
    await channels.close();
  });

  it('never serves from the outbox in production', () => {
    expect(refusedVariables({ ...production(), OUTBOX_ENABLED: 'true' })).toEqual(['OUTBOX_ENABLED']);
  });
});

describe('a production start without its SMS provider', () => {
  it("refuses SMS_PROVIDER=africastalking without Africa's Talking's credentials, naming them", () => {
    expect(refusedVariables({ ...production(), SMS_PROVIDER: 'africastalking' })).toEqual([
      'AFRICASTALKING_API_KEY',
      'AFRICASTALKING_USERNAME',
    ]);
  });

  it("needs no Twilio variable with Africa's Talking configured, and refuses Twilio's absence otherwise", () => {
    expect(
      refusedVariables({
        ...withoutTwilio(production()),
        SMS_PROVIDER: 'africastalking',
        AFRICASTALKING_USERNAME: 'food-delivery',
        AFRICASTALKING_API_KEY: 'atsk_example',
      }),
    ).toEqual([]);
    expect(refusedVariables(withoutTwilio(production()))).toEqual([
      'TWILIO_ACCOUNT_SID',
      'TWILIO_AUTH_TOKEN',
      'TWILIO_FROM',
    ]);
  });

  it('refuses a service-account key that is not one, without quoting it', () => {
    for (const key of ['{"private_key": "-----BEGIN PRIVATE KEY-----\\nsecret', '{"project_id": "x"}']) {
      try {
        loadConfig({ ...production(), FCM_SERVICE_ACCOUNT_JSON: key });
        expect.unreachable();
      } catch (error) {
        expect((error as ConfigError).variables).toEqual(['FCM_SERVICE_ACCOUNT_JSON']);
        expect((error as Error).message).not.toContain('secret');
      }
    }
  });

  it('refuses an unknown SMS_PROVIDER', () => {
    expect(refusedVariables({ ...production(), SMS_PROVIDER: 'carrier-pigeon' })).toEqual(['SMS_PROVIDER']);
  });
});

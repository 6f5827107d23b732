import { describe, expect, it } from 'vitest';
import { renderNewsletter, templateProblems, unsubscribeTokens } from './newsletters.js';

const TEMPLATE = {
  fr: { title: 'Titre', body: 'Corps', sms: 'Court' },
  en: { title: 'Title', body: 'Body', sms: 'Short' },
};

describe('newsletters (pure parts)', () => {
  it("renders the recipient's language with the unsubscribe link and the STOP line", () => {
    expect(renderNewsletter(TEMPLATE, 'en-CM', 'https://x/u?token=t')).toEqual({
      title: 'Title',
      body: 'Body\n\nUnsubscribe: https://x/u?token=t',
      sms: 'Short STOP to opt out',
    });
    expect(renderNewsletter(TEMPLATE, 'fr', 'https://x/u').sms).toBe('Court STOP pour ne plus recevoir');
    expect(renderNewsletter(TEMPLATE, 'de', 'https://x/u').title).toBe('Titre'); // French by default
  });

  it('refuses blank texts and the template engine syntax', () => {
    expect(templateProblems(TEMPLATE)).toEqual([]);
    expect(
      templateProblems({ ...TEMPLATE, en: { title: 'Hi {{name}}', body: '$t(secret)', sms: '  ' } }),
    ).toEqual([
      'en.title holds template syntax ({{, }} or $t()',
      'en.body holds template syntax ({{, }} or $t()',
      'en.sms is blank',
    ]);
  });

  it('a token names its account and cannot be moved to another', () => {
    const tokens = unsubscribeTokens((userId) => `mac-of-${userId.replaceAll('-', '')}`);
    const alice = '11111111-1111-4111-8111-111111111111';
    const bob = '22222222-2222-4222-8222-222222222222';
    const token = tokens.sign(alice);
    expect(tokens.verify(token)).toBe(alice);
    expect(tokens.verify(token.replace(alice, bob))).toBeUndefined();
    expect(tokens.verify(`${bob}.${token.split('.')[1]}`)).toBeUndefined();
    expect(tokens.verify('garbage')).toBeUndefined();
  });
});

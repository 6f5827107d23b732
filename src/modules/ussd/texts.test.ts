import { describe, expect, it } from 'vitest';
import { SCREEN_MAX_CHARS } from './machine.js';
import { money, orderNumber, say, TEXTS } from './texts.js';

describe('ussd texts', () => {
  it('has every key in both languages, none empty, and the same placeholders in each', () => {
    const keys = Object.keys(TEXTS.fr).sort();
    expect(Object.keys(TEXTS.en).sort()).toEqual(keys);
    for (const key of keys) {
      const fr = TEXTS.fr[key as keyof typeof TEXTS.fr];
      const en = TEXTS.en[key as keyof typeof TEXTS.en];
      expect(fr.trim().length, key).toBeGreaterThan(0);
      expect(en.trim().length, key).toBeGreaterThan(0);
      const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]).sort();
      expect(placeholders(en), key).toEqual(placeholders(fr));
    }
  });

  it('keeps every text shorter than a screen', () => {
    for (const language of ['fr', 'en'] as const)
      for (const text of Object.values(TEXTS[language]))
        expect(text.length + 4).toBeLessThanOrEqual(SCREEN_MAX_CHARS);
  });

  it('fills placeholders and formats money and order numbers', () => {
    expect(say('en', 'notice_pin_wrong', { left: 2 })).toBe('Wrong PIN, 2 attempt(s) left.');
    expect(money(1_234_567)).toBe('1 234 567 XAF');
    expect(money(500)).toBe('500 XAF');
    expect(orderNumber('0a1b2c3d-4e5f-4a6b-8c7d-8e9f0a1b2c3d')).toBe('0A1B2C3D');
  });
});

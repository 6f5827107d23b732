import { describe, expect, it } from 'vitest';
import { checkTemplates, createTemplates, flatten, formatXaf, loadTemplates } from './templates.js';

const clone = <T>(value: T): T => structuredClone(value);

describe('notification templates in French and English', () => {
  it('the shipped templates have every key in both languages with the same placeholders', () => {
    expect(checkTemplates(loadTemplates())).toEqual([]);
  });

  it('a key missing in one language fails the check, naming the key and the language', () => {
    const resources = clone(loadTemplates());
    delete (resources.en.order as Record<string, Record<string, string>>).ready!.sms;
    expect(checkTemplates(resources)).toContain('en: order.ready.sms is missing (fr has it)');
    expect(() => createTemplates(resources)).toThrow(/order\.ready\.sms is missing/);
  });

  it('a placeholder that differs between the languages fails the check', () => {
    const resources = clone(loadTemplates());
    (resources.fr.order as Record<string, Record<string, string>>).ready!.sms = 'Prête chez {{restaurnt}}.';
    expect(checkTemplates(resources).join('\n')).toMatch(/order\.ready\.sms: placeholders differ/);
  });

  it('a plural key without a form its language needs (French "many") fails the check', () => {
    const resources = clone(loadTemplates());
    delete (resources.fr.order as Record<string, Record<string, string>>).placed!.body_many;
    expect(checkTemplates(resources)).toContain('fr: order.placed.body lacks its plural form _many');
  });

  it('every kind has its title, body and SMS', () => {
    const kinds = new Set(
      [...flatten(loadTemplates().fr).keys()].map((key) => key.split('.').slice(0, 2).join('.')),
    );
    const templates = createTemplates();
    for (const kind of kinds) {
      for (const language of ['fr', 'en'] as const) {
        const text = templates.render(kind, language, {
          restaurant: 'Chez Mama',
          count: 2,
          total: 6_500,
          refund: 1_000,
          amount: 2_000,
          driver: 'Paul',
          link: 'https://example.cm/track/x',
          item: 'Ndolé',
          order: '0f3c9a1b',
          payout: '5d2e8c40',
          provider: 'campay',
          run: '7a1b2c3d',
          earnings: 1_200,
          distance: 2.4,
          ticket: '9b8c7d6e',
          priority: 'high',
          excerpt: 'Votre remboursement est en cours.',
          reply: 'Votre remboursement est en cours.\n\nBonne journée.',
          subject: 'Remboursement de ma commande',
          ref: 'T-9b8c7d6e',
          date: '2026-12-13',
          days: 7,
          dueKm: 15_000,
          odometerKm: 15_200,
          time: '12:45',
          where: '4.05110,9.76790',
          report: '1a2b3c4d',
          speed: 112,
          limit: 80,
          title: 'Promo ndolé',
          body: 'Le ndolé à moitié prix ce soir.',
          sms: 'Ndolé -50 % ce soir.',
          // group carts and bulk orders (docs/community.md "Notices")
          code: 'K7M2P9QX',
          when: '10/12 12:30',
          deadline: '10/12 06:30',
          portions: 40,
        });
        for (const part of [text.title, text.body, text.sms]) {
          expect(part.length).toBeGreaterThan(0);
          expect(part).not.toMatch(/\{\{|\}\}/);
        }
      }
    }
  });

  it('renders plurals and XAF amounts for the locale', () => {
    const templates = createTemplates();
    const one = templates.render('order.placed', 'en', { restaurant: 'A', count: 1, total: 6_500 });
    const many = templates.render('order.placed', 'fr', { restaurant: 'A', count: 3, total: 6_500 });
    expect(one.body).toBe(`A received your order of 1 item (${formatXaf(6_500, 'en')}).`);
    expect(many.body).toBe(`A a reçu votre commande de 3 articles (${formatXaf(6_500, 'fr')}).`);
    expect(formatXaf(6_500, 'fr')).toMatch(/^6\s500\sFCFA$/u);
    expect(formatXaf(6_500, 'en')).toBe('FCFA\u00a06,500');
  });
});

import { describe, expect, it } from 'vitest';
import {
  asksAboutOrder,
  asksForHuman,
  coverage,
  handoverAnswer,
  meaningfulWords,
  orderStatusAnswer,
} from './assistant-rules.js';

describe('the first-line assistant’s rules', () => {
  it('hears a request for a person in French and English, accents and apostrophes aside', () => {
    for (const text of [
      'Je veux parler à un agent',
      'un HUMAIN svp',
      'Passez-moi un conseiller',
      'puis-je parler à quelqu’un ?',
      'I want a real person',
      'can I talk to someone',
    ])
      expect(asksForHuman(text), text).toBe(true);
    for (const text of ['Mon livreur est en retard', 'Where is my order?', 'mot de passe oublié'])
      expect(asksForHuman(text), text).toBe(false);
  });

  it('tells questions about an order’s progress', () => {
    expect(asksAboutOrder('Où en est ma commande ?')).toBe(true);
    expect(asksAboutOrder('Where is my order?')).toBe(true);
    expect(asksAboutOrder('Quand arrivera le repas ?')).toBe(true);
    expect(asksAboutOrder('Comment changer mon mot de passe ?')).toBe(false);
  });

  it('measures coverage on meaningful words with word endings ignored', () => {
    expect(meaningfulWords('Bonjour, comment me faire rembourser ma commande annulée ?')).toEqual([
      'rembourser',
      'commande',
      'annulee',
    ]);
    const article = {
      title: 'Remboursement d’une commande annulée',
      body: 'Une commande annulée est remboursée sur votre portefeuille.',
    };
    expect(coverage('Comment me faire rembourser ma commande annulée ?', article)).toBe(1);
    expect(coverage('Ma commande annulée et ma carte SIM', article)).toBe(0.5);
    expect(coverage('Bonjour !', article)).toBe(0);
    // Placeholders left by redaction are not words of the question.
    expect(coverage('Je m’appelle [name], [phone], commande annulée', article)).toBe(1);
  });

  it('tells an order’s status in both languages, and names an unknown one as it is', () => {
    expect(orderStatusAnswer('fr', 'PICKED_UP')).toMatch(/^Votre commande est en route avec le livreur\./);
    expect(orderStatusAnswer('en', 'PREPARING')).toMatch(/^Your order is being prepared\./);
    expect(orderStatusAnswer('en', 'SOMETHING_NEW')).toMatch(/^Your order has the status SOMETHING_NEW\./);
  });

  it('names the ticket it handed over to', () => {
    const id = '1a2b3c4d-0000-4000-8000-000000000000';
    expect(handoverAnswer('fr', 'asked', id)).toContain('ticket 1a2b3c4d');
    expect(handoverAnswer('en', 'unsure', id)).toMatch(/^I am not sure/);
  });
});

import { describe, expect, it } from 'vitest';
import { excerptOf, normalizeText, searchTsquery, suggestionTsquery, wordsOf } from './kb-rules.js';

describe('knowledge-base search rules', () => {
  it('normalizes accents and case as the stored vector does', () => {
    expect(normalizeText('  Remboursé   ÉLÈVE cœur ')).toBe('rembourse eleve coeur');
  });

  it('keeps distinct words of letters and digits, at least two characters, bounded', () => {
    expect(wordsOf("l'appli a planté, planté!", 10)).toEqual(['appli', 'plante']);
    expect(wordsOf('a b c d e f g h i j k l m n o p', 3)).toEqual([]);
    expect(wordsOf(Array.from({ length: 50 }, (_, index) => `w${index}`).join(' '), 5)).toHaveLength(5);
  });

  it('a search needs every word, each as a prefix; tsquery operators in the text are only spaces', () => {
    expect(searchTsquery('Livraison en retard')).toBe('livraison:* & en:* & retard:*');
    expect(searchTsquery("x & y | !z:* ('")).toBeUndefined();
    expect(searchTsquery("rembour' & | !paiement")).toBe('rembour:* & paiement:*');
  });

  it('suggestions take any word of the ticket, not bare numbers', () => {
    expect(suggestionTsquery('Commande 1234 jamais livrée')).toBe('commande | jamais | livree');
    expect(suggestionTsquery('12 34')).toBeUndefined();
  });

  it('an excerpt is cut at a word and marked', () => {
    expect(excerptOf('court')).toBe('court');
    const long = 'mot '.repeat(100);
    const excerpt = excerptOf(long, 50);
    expect(excerpt.length).toBeLessThanOrEqual(51);
    expect(excerpt.endsWith('mot…')).toBe(true);
  });
});

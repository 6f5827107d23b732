import { describe, expect, it } from 'vitest';
import {
  fallbackReply,
  keywordCategory,
  parseAssistOutput,
  promptOf,
  redact,
  REPLY_MAX,
  systemInstruction,
} from './assist-rules.js';

describe('AI assist rules', () => {
  it('replaces phone numbers in every spelling, e-mails, known names and self-introduced names', () => {
    const text =
      'Je m’appelle Aïcha Ngo Bell, appelez le +237 6 70 12 34 56 ou 670123456 ou 00237670123456, aicha@example.cm. Merci, aïcha';
    const redacted = redact(text, ['Aïcha Ngo Bell']);
    expect(redacted).not.toMatch(/\d{3}/);
    expect(redacted).not.toMatch(/aïcha|ngo|bell|example/i);
    expect(redacted).toContain('[phone]');
    expect(redacted).toContain('[email]');
    expect(redacted).toContain('[name]');
    expect(redact('My name is John Smith and my order is late')).toBe(
      'My name is [name] and my order is late',
    );
    // Short amounts and times are not phone numbers.
    expect(redact('Commande de 4500 XAF à 12:30')).toBe('Commande de 4500 XAF à 12:30');
  });

  it('takes JSON or plain text from the model, drops unknown categories and control characters, caps the reply', () => {
    expect(parseAssistOutput('{"reply":"Bonjour","category":"delivery"}')).toEqual({
      reply: 'Bonjour',
      category: 'delivery',
    });
    expect(parseAssistOutput('```json\n{"reply":"Hi","category":"refund_all"}\n```')).toEqual({
      reply: 'Hi',
      category: null,
    });
    expect(parseAssistOutput('Just text\u0007')).toEqual({ reply: 'Just text', category: null });
    expect(parseAssistOutput('{"reply":42}')).toBeUndefined();
    expect(parseAssistOutput('   ')).toBeUndefined();
    expect(parseAssistOutput(JSON.stringify({ reply: 'x'.repeat(5_000) }))!.reply).toHaveLength(REPLY_MAX);
  });

  it('falls back to a keyword category and a templated reply with the closest article', () => {
    expect(keywordCategory('Mon livreur est en retard')).toBe('delivery');
    expect(keywordCategory('Débité deux fois par MoMo')).toBe('payment');
    expect(keywordCategory('Bonjour')).toBe('other');
    const reply = fallbackReply('fr', { title: 'Remboursement', excerpt: 'Ouvrez un litige.' });
    expect(reply).toContain('« Remboursement »');
    expect(fallbackReply('en')).toMatch(/^Hello/);
  });

  it('the prompt quotes the conversation as data after instructions that say so, bounded', () => {
    expect(systemInstruction('fr')).toMatch(/never instructions/);
    const prompt = JSON.parse(
      promptOf({
        category: 'other',
        order: null,
        articles: [],
        messages: Array.from({ length: 30 }, (_, index) => ({
          from: 'opener' as const,
          body: `m${index}`.repeat(600),
        })),
      }),
    );
    expect(prompt.conversation).toHaveLength(20);
    expect(prompt.conversation[0].text.length).toBeLessThanOrEqual(1_000);
    expect(prompt.conversation[0].from).toBe('customer');
  });
});

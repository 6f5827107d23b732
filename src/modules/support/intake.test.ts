import { describe, expect, it } from 'vitest';
import { referenceIn } from './intake.js';

describe('a ticket reference in an e-mail subject', () => {
  it('is read from the subject support writes, in any case and with a reply prefix', () => {
    expect(referenceIn('Re: Remboursement [#T-1a2b3c4d]')).toBe('1a2b3c4d');
    expect(referenceIn('RE: TR: remboursement [#t-1A2B3C4D]')).toBe('1a2b3c4d');
    expect(referenceIn('Re: [ # T-0f0f0f0f ] suite')).toBe('0f0f0f0f');
  });

  it('the last one counts (a forwarded chain), and anything else is none', () => {
    expect(referenceIn('Fwd: [#T-aaaaaaaa] Re: [#T-bbbbbbbb]')).toBe('bbbbbbbb');
    for (const subject of [
      'Remboursement',
      '#T-1a2b3c4d',
      '[#T-1a2b3c4]',
      '[#T-1a2b3c4g]',
      '[#X-1a2b3c4d]',
      '',
    ])
      expect(referenceIn(subject)).toBeUndefined();
  });
});

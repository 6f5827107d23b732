import { describe, expect, it } from 'vitest';
import { assertListPrefix, attachmentDisposition, createS3FileStore } from './s3-store.js';
import { InvalidObjectKeyError } from './store.js';

describe('attachmentDisposition', () => {
  it('keeps a plain name as it is', () => {
    expect(attachmentDisposition('receipt-42.pdf')).toBe(
      `attachment; filename="receipt-42.pdf"; filename*=UTF-8''receipt-42.pdf`,
    );
  });

  it('gives an ASCII fallback and the exact name, percent-encoded', () => {
    expect(attachmentDisposition('Carte grise (Mbappé).jpg')).toBe(
      `attachment; filename="Carte grise (Mbapp_).jpg"; filename*=UTF-8''Carte%20grise%20%28Mbapp%C3%A9%29.jpg`,
    );
  });

  it('lets no quote, backslash, separator or control character break the header', () => {
    const header = attachmentDisposition('a"b\\c/d;e%f\r\nSet-Cookie: x=1\u0000.pdf');
    expect(/\p{Cc}/u.test(header)).toBe(false);
    const fallback = /filename="([^"]*)"/.exec(header)?.[1];
    expect(fallback).toBe('a_b_c_d_e_f__Set-Cookie: x=1_.pdf');
    expect(header.split('"').length).toBe(3);
  });

  it('names an empty or blank name "download" and bounds a long one', () => {
    expect(attachmentDisposition('   ')).toContain('filename="download"');
    expect(attachmentDisposition('x'.repeat(1_000)).length).toBeLessThan(500);
  });
});

describe('assertListPrefix', () => {
  it('takes the empty prefix, a key, or a key and a slash', () => {
    for (const prefix of ['', 'menu', 'menu/', 'menu/item-1/', 'menu/item-1/lar'])
      expect(() => assertListPrefix(prefix), prefix).not.toThrow();
  });

  it('refuses anything a key could not be', () => {
    for (const prefix of ['/', '//', '../', 'menu//', 'menu/../', './', 'menu/ x', '%2e%2e/'])
      expect(() => assertListPrefix(prefix), prefix).toThrow(InvalidObjectKeyError);
  });
});

describe('createS3FileStore options', () => {
  const options = {
    region: 'auto',
    bucket: 'files',
    accessKeyId: 'id',
    secretAccessKey: 'secret',
    forcePathStyle: false,
  };

  it('refuses a prefix that is not folders ending with a slash', () => {
    for (const prefix of ['app', '/app/', 'app//', '../app/', 'app/./'])
      expect(() => createS3FileStore({ ...options, prefix }), prefix).toThrow(RangeError);
    createS3FileStore({ ...options, prefix: 'app/v1/' }).close();
  });

  it('refuses a listing page S3 would not serve', () => {
    for (const listPageSize of [0, 1_001, 2.5])
      expect(() => createS3FileStore({ ...options, listPageSize }), String(listPageSize)).toThrow(RangeError);
  });

  it('signs virtual-hosted URLs for AWS without sending a request', async () => {
    const store = createS3FileStore({ ...options, region: 'eu-west-3' });
    try {
      const url = new URL(await store.signedUrl('menu/a.jpg', { expiresInSeconds: 60 }));
      expect(url.origin).toBe('https://files.s3.eu-west-3.amazonaws.com');
      expect(url.pathname).toBe('/menu/a.jpg');
      expect(url.searchParams.get('X-Amz-Credential')).toMatch(/^id\/\d{8}\/eu-west-3\/s3\/aws4_request$/);
    } finally {
      store.close();
    }
  });
});

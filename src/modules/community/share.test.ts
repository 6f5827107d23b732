import { describe, expect, it } from 'vitest';
import type { DishCard, RestaurantCard } from '../catalog/index.js';
import { dishPreview, restaurantPreview, SHARE_PAGE_MAX_BYTES, sharePage } from './share.js';

const BASE = 'https://api.example.cm';
const photo = {
  fileId: 'f',
  renditions: { large: { jpeg: { url: '/v1/files/f/large.jpeg', width: 1200, height: 800, byteSize: 1 } } },
};

function restaurant(overrides: Partial<RestaurantCard> = {}): RestaurantCard {
  return {
    id: 'r1',
    name: 'Chez Mama Ngono',
    description: { fr: 'Cuisine camerounaise', en: null },
    cuisines: ['cameroonian'],
    city: 'douala',
    active: true,
    ratingAverage: null,
    ratingCount: 0,
    logo: null,
    ...overrides,
  };
}

function dish(overrides: Partial<DishCard> = {}): DishCard {
  return {
    id: 'd1',
    restaurantId: 'r1',
    name: { fr: 'Poulet DG', en: 'DG chicken' },
    description: { fr: 'Poulet, plantain, légumes', en: null },
    priceMinor: 4500,
    discountPriceMinor: null,
    photo,
    listed: true,
    orderable: true,
    ...overrides,
  };
}

describe('share previews', () => {
  it('a dish preview names the dish and its restaurant, its price (the discount when there is one) and its photo', () => {
    const preview = dishPreview(dish({ discountPriceMinor: 4000 }), restaurant(), BASE, 'en');
    expect(preview).toEqual({
      kind: 'dish',
      id: 'd1',
      url: 'https://api.example.cm/s/d/d1',
      title: 'DG chicken · Chez Mama Ngono',
      description: '4,000 FCFA · Poulet, plantain, légumes',
      imageUrl: 'https://api.example.cm/v1/files/f/large.jpeg',
    });
  });

  it('a restaurant without a description gets a sentence in the language asked', () => {
    const preview = restaurantPreview(restaurant({ description: { fr: null, en: null } }), BASE, 'fr');
    expect(preview.description).toBe('Commandez chez Chez Mama Ngono, livré chez vous.');
    expect(preview.imageUrl).toBeNull();
  });

  it('the page stays under 20 KB with the longest texts an owner may write, every one cut and escaped', () => {
    const long = '<&"\'>'.repeat(2_000);
    const preview = dishPreview(
      dish({ name: { fr: long, en: null }, description: { fr: long, en: null } }),
      restaurant({ name: long }),
      BASE,
      'fr',
    );
    const page = sharePage(preview, 'fr', 'Food delivery');
    expect(Buffer.byteLength(page)).toBeLessThan(SHARE_PAGE_MAX_BYTES);
    expect(preview.title.length).toBeLessThanOrEqual(90);
    expect(page).not.toMatch(/<&/);
    expect(page).toContain('&#60;&#38;&#34;&#39;&#62;');
    expect(page).toContain(
      '<meta property="og:image" content="https://api.example.cm/v1/files/f/large.jpeg">',
    );
    expect(page).toContain('<meta name="twitter:card" content="summary_large_image">');
  });
});

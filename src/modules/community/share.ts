/**
 * Shared links (issue #27): a dish or a restaurant as a link anyone can open, with a small public
 * page whose Open Graph tags make the preview in WhatsApp, Facebook or an SMS app. Pure: the page
 * is built from the catalog's public face and the public base URL, every value escaped; nothing
 * of the person who shares is in it. A page stays under SHARE_PAGE_MAX_BYTES (20 KB, slow links).
 */
import { createHash } from 'node:crypto';
import type { CatalogPhoto, DishCard, RestaurantCard } from '../catalog/index.js';

export const SHARE_PAGE_MAX_BYTES = 20_000;
/** Texts in a preview are cut here (Open Graph previews show about this much anyway). */
const MAX_TITLE_CHARS = 90;
const MAX_DESCRIPTION_CHARS = 200;

const STYLE =
  'body{font:16px/1.4 system-ui,sans-serif;margin:0 auto;max-width:32rem;padding:1rem}img{max-width:100%;border-radius:8px}';

/**
 * The page's own Content-Security-Policy: no script at all, its one inline style by hash, images
 * from the service itself (photos are served by the files context under the public base URL).
 */
export function sharePageCsp(baseUrl: string): string {
  const styleHash = createHash('sha256').update(STYLE).digest('base64');
  return [
    "default-src 'none'",
    `style-src 'sha256-${styleHash}'`,
    `img-src 'self' ${new URL(baseUrl).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export type ShareLanguage = 'fr' | 'en';

export interface SharePreview {
  kind: 'restaurant' | 'dish';
  id: string;
  url: string;
  title: string;
  description: string;
  imageUrl: string | null;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

function cut(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** The photo's large JPEG (every preview reader takes JPEG), as an absolute URL. */
function imageOf(photo: CatalogPhoto | null, baseUrl: string): string | null {
  const encodings = photo?.renditions.large ?? photo?.renditions.medium;
  const jpeg = encodings?.jpeg ?? (encodings === undefined ? undefined : Object.values(encodings)[0]);
  return jpeg === undefined ? null : new URL(jpeg.url, baseUrl).toString();
}

function formatXaf(amountMinor: number, language: ShareLanguage): string {
  return `${new Intl.NumberFormat(language === 'fr' ? 'fr-CM' : 'en-CM').format(amountMinor)} FCFA`;
}

export function sharePath(kind: 'restaurant' | 'dish', id: string): string {
  return `/s/${kind === 'restaurant' ? 'r' : 'd'}/${id}`;
}

export function restaurantPreview(
  card: RestaurantCard,
  baseUrl: string,
  language: ShareLanguage,
): SharePreview {
  const description =
    (language === 'en' ? (card.description.en ?? card.description.fr) : card.description.fr) ??
    (language === 'fr'
      ? `Commandez chez ${card.name}, livré chez vous.`
      : `Order from ${card.name}, delivered.`);
  return {
    kind: 'restaurant',
    id: card.id,
    url: new URL(sharePath('restaurant', card.id), baseUrl).toString(),
    title: cut(card.name, MAX_TITLE_CHARS),
    description: cut(description, MAX_DESCRIPTION_CHARS),
    imageUrl: imageOf(card.logo, baseUrl),
  };
}

export function dishPreview(
  card: DishCard,
  restaurant: RestaurantCard,
  baseUrl: string,
  language: ShareLanguage,
): SharePreview {
  const name = language === 'en' ? (card.name.en ?? card.name.fr) : card.name.fr;
  const text = language === 'en' ? (card.description.en ?? card.description.fr) : card.description.fr;
  const price = formatXaf(card.discountPriceMinor ?? card.priceMinor, language);
  return {
    kind: 'dish',
    id: card.id,
    url: new URL(sharePath('dish', card.id), baseUrl).toString(),
    title: cut(`${name} · ${restaurant.name}`, MAX_TITLE_CHARS),
    description: cut(`${price}${text === null ? '' : ` · ${text}`}`, MAX_DESCRIPTION_CHARS),
    imageUrl: imageOf(card.photo, baseUrl),
  };
}

/**
 * The public page: Open Graph and Twitter card tags, and the same text for a person who opens it.
 * The apps claim these URLs (App Links, Universal Links), so a phone with the app opens the dish
 * or restaurant in it; the page is what previews and phones without the app see.
 */
export function sharePage(preview: SharePreview, language: ShareLanguage, siteName: string): string {
  const title = escapeHtml(preview.title);
  const description = escapeHtml(preview.description);
  const url = escapeHtml(preview.url);
  const image = preview.imageUrl === null ? null : escapeHtml(preview.imageUrl);
  const page =
    `<!doctype html><html lang="${language}"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<title>${title}</title><meta name="description" content="${description}">` +
    `<link rel="canonical" href="${url}">` +
    `<meta property="og:type" content="${preview.kind === 'restaurant' ? 'restaurant.restaurant' : 'product'}">` +
    `<meta property="og:site_name" content="${escapeHtml(siteName)}">` +
    `<meta property="og:title" content="${title}">` +
    `<meta property="og:description" content="${description}">` +
    `<meta property="og:url" content="${url}">` +
    `<meta property="og:locale" content="${language === 'fr' ? 'fr_CM' : 'en_CM'}">` +
    (image === null ? '' : `<meta property="og:image" content="${image}">`) +
    `<meta name="twitter:card" content="${image === null ? 'summary' : 'summary_large_image'}">` +
    `<style>${STYLE}</style></head><body>` +
    (image === null ? '' : `<img src="${image}" alt="">`) +
    `<h1>${title}</h1><p>${description}</p></body></html>`;
  if (Buffer.byteLength(page) > SHARE_PAGE_MAX_BYTES)
    throw new Error(`a share page of ${Buffer.byteLength(page)} bytes passes ${SHARE_PAGE_MAX_BYTES}`);
  return page;
}

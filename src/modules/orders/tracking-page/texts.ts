/**
 * Every text of the public tracking page, in French and English (issue #25). The server renders
 * the page in one language (tracking.ts: `?lang=`, else Accept-Language, else the customer's
 * profile language, else French) and hands the script its texts in a JSON data block, so the
 * script carries no language of its own. tracking-texts.test.ts fails on a key missing in one
 * language or a `{{key}}` of the page that no language has.
 */
export type PageLanguage = 'fr' | 'en';

const fr = {
  title: 'Suivi de commande',
  status: 'Statut',
  eta: 'Arrivée estimée',
  address: 'Adresse',
  timeline: 'Historique',
  otherLanguage: 'English',
  driverAssigned: 'Livreur assigné',
  driverPosition: 'Position du livreur',
  pinHint: 'Donnez au livreur le code de livraison à {digits} chiffres de votre confirmation de commande.',
  expired: 'Ce lien a expiré.',
  invalid: 'Lien invalide.',
  polling: 'Mise à jour toutes les 15 s',
  live: 'En direct',
  PENDING_PAYMENT: 'Paiement en attente',
  PLACED: 'Commande passée',
  PAYMENT_FAILED: 'Paiement échoué',
  PAYMENT_EXPIRED: 'Paiement expiré',
  ACCEPTED: 'Acceptée',
  REJECTED: 'Refusée',
  CANCELLED: 'Annulée',
  PREPARING: 'En préparation',
  READY_FOR_PICKUP: 'Prête',
  PICKED_UP: 'En route',
  DELIVERED: 'Livrée',
  COMPLETED: 'Terminée',
  DELIVERY_FAILED: 'Livraison échouée',
  DISPUTED: 'Litige',
  RESOLVED: 'Résolue',
};

export type PageTexts = Record<keyof typeof fr, string>;

const en: PageTexts = {
  title: 'Order tracking',
  status: 'Status',
  eta: 'Estimated arrival',
  address: 'Address',
  timeline: 'Timeline',
  otherLanguage: 'Français',
  driverAssigned: 'Driver assigned',
  driverPosition: 'Driver position',
  pinHint: 'Give the driver the {digits}-digit delivery PIN shown in your order confirmation.',
  expired: 'This link has expired.',
  invalid: 'Invalid link.',
  polling: 'Updating every 15 s',
  live: 'Live',
  PENDING_PAYMENT: 'Awaiting payment',
  PLACED: 'Placed',
  PAYMENT_FAILED: 'Payment failed',
  PAYMENT_EXPIRED: 'Payment expired',
  ACCEPTED: 'Accepted',
  REJECTED: 'Rejected',
  CANCELLED: 'Cancelled',
  PREPARING: 'Preparing',
  READY_FOR_PICKUP: 'Ready for pickup',
  PICKED_UP: 'On the way',
  DELIVERED: 'Delivered',
  COMPLETED: 'Completed',
  DELIVERY_FAILED: 'Delivery failed',
  DISPUTED: 'Disputed',
  RESOLVED: 'Resolved',
};

export const PAGE_TEXTS: Readonly<Record<PageLanguage, PageTexts>> = { fr, en };

/** The delivery PIN hint of the JSON view, in the page's language. */
export function pinHint(language: PageLanguage, digits: number): string {
  return PAGE_TEXTS[language].pinHint.replace('{digits}', String(digits));
}

/**
 * Every sentence a USSD customer reads (screens and the order SMS), in French and English. Both
 * languages have every key (the type says so, and texts.test.ts checks their length): a screen is
 * at most SCREEN_MAX_CHARS with its `CON `/`END ` prefix, so the texts stay short.
 */
export type Language = 'fr' | 'en';

const fr = {
  language: 'Bienvenue / Welcome\n1. Français\n2. English',
  set_pin: 'Créez votre code PIN USSD (4 chiffres):',
  confirm_pin: 'Confirmez votre code PIN:',
  menu: '1. Recommander\n2. Restaurants\n3. Ma dernière commande\n4. Langue\n0. Quitter',
  recent: 'Recommander:',
  restaurants: 'Vos restaurants:',
  dishes: '{restaurant}:',
  next_page: '9. Suite',
  back: '0. Retour',
  quantity: '{dish} {price}\nQuantité (1-{max}):',
  cart: 'Panier: {count} plat(s), {subtotal}\n1. Ajouter un plat\n2. Commander\n0. Annuler',
  address: 'Livrer à:',
  new_address: '8. Nouvelle adresse',
  zone_city: 'Votre ville:',
  zone_pick: 'Votre quartier ({city}):',
  zone_restaurants: 'Ouverts, livrent {zone}:',
  no_zone_restaurants: 'Aucun restaurant ouvert ne livre {zone} maintenant.',
  zone_confirm:
    'Livraison au centre de {zone}, {city}. Le livreur vous appelle à l’arrivée.\n1. Confirmer\n0. Autre quartier',
  zone_landmark: 'Le livreur appelle le client à l’arrivée',
  zone_instructions:
    'Adresse choisie par USSD: centre du quartier. Appelez le client à l’arrivée (numéro vérifié).',
  payment_wallet: '1. Portefeuille',
  payment_momo: '2. {operator} Mobile Money',
  payment: 'Payer par:',
  confirm: 'Total {total} (dont livraison {fee})\n{address}\nCode PIN pour confirmer, 0 pour annuler:',
  bye: 'Merci, à bientôt!',
  cancelled: 'Commande annulée. Rien n’a été débité.',
  placed_wallet: 'Commande {number} payée ({total}). Le code de livraison arrive par SMS.',
  placed_momo:
    'Commande {number}: validez la demande {operator} de {total} avec votre PIN Mobile Money. Code de livraison par SMS.',
  wallet_refused: 'Paiement refusé par le portefeuille ({reason}). Rien n’a été débité.',
  refused: 'Commande impossible: {reason}.',
  locked: 'Trop de codes PIN erronés. Réessayez dans {minutes} min.',
  account_unavailable: 'Ce compte n’est pas disponible. Contactez le support.',
  no_address: 'Aucune adresse de livraison. Ajoutez-en une dans l’application ou sur le site.',
  expired: 'Session expirée. Recomposez le code pour reprendre où vous étiez.',
  status: 'Commande {number} ({restaurant}): {status}.',
  no_orders: 'Aucune commande récente.',
  no_restaurants: 'Aucun restaurant favori ni récent.',
  no_dishes: 'Aucun plat disponible maintenant.',
  unavailable: 'Service momentanément indisponible. Réessayez plus tard.',
  notice_invalid: 'Choix invalide.',
  notice_pin_format: 'PIN: 4 chiffres, pas 1234 ni 0000.',
  notice_pin_mismatch: 'Les codes ne correspondent pas.',
  notice_pin_wrong: 'PIN erroné, {left} essai(s).',
  notice_resumed: 'Reprise de votre session.',
  notice_repriced: 'Le prix a changé.',
  sms_placed:
    'Commande {number} ({restaurant}), {total}. Code de livraison: {pin}. Donnez-le au livreur à la réception.',
  sms_help: 'Envoyez STATUT pour suivre votre dernière commande, ou composez {code}.',
  sms_unknown: 'Aucun compte pour ce numéro. Composez {code} pour commander.',
  sms_stopped: 'Vous ne recevrez plus de SMS sur vos commandes. Envoyez START pour les reprendre.',
  sms_started: 'Vous recevrez de nouveau le suivi de vos commandes par SMS. Envoyez STOP pour arrêter.',
  reason_restaurant_closed: 'restaurant fermé',
  reason_outside_delivery_radius: 'adresse hors zone',
  reason_items_unavailable: 'plat indisponible',
  reason_insufficient_stock: 'plat épuisé',
  reason_insufficient_funds: 'solde insuffisant',
  reason_limit_exceeded: 'plafond atteint',
  reason_wallet_frozen: 'portefeuille bloqué',
  reason_rate_limited: 'trop de commandes, réessayez plus tard',
  reason_payment_method: 'ce moyen de paiement est refusé',
  reason_too_many_addresses: '20 adresses au plus, supprimez-en une dans l’application',
  reason_other: 'réessayez plus tard',
  status_PENDING_PAYMENT: 'paiement en attente',
  status_PAYMENT_FAILED: 'paiement échoué',
  status_PLACED: 'envoyée au restaurant',
  status_ACCEPTED: 'acceptée',
  status_PREPARING: 'en préparation',
  status_READY: 'prête',
  status_PICKED_UP: 'en route',
  status_DELIVERED: 'livrée',
  status_COMPLETED: 'terminée',
  status_REJECTED: 'refusée',
  status_CANCELLED: 'annulée',
  status_DISPUTED: 'en litige',
  status_RESOLVED: 'litige réglé',
  status_other: 'en cours',
} as const;

export type TextKey = keyof typeof fr;

const en: Record<TextKey, string> = {
  language: 'Bienvenue / Welcome\n1. Français\n2. English',
  set_pin: 'Create your USSD PIN (4 digits):',
  confirm_pin: 'Confirm your PIN:',
  menu: '1. Reorder\n2. Restaurants\n3. My last order\n4. Language\n0. Exit',
  recent: 'Reorder:',
  restaurants: 'Your restaurants:',
  dishes: '{restaurant}:',
  next_page: '9. More',
  back: '0. Back',
  quantity: '{dish} {price}\nQuantity (1-{max}):',
  cart: 'Cart: {count} dish(es), {subtotal}\n1. Add a dish\n2. Checkout\n0. Cancel',
  address: 'Deliver to:',
  new_address: '8. New address',
  zone_city: 'Your city:',
  zone_pick: 'Your neighbourhood ({city}):',
  zone_restaurants: 'Open, delivering to {zone}:',
  no_zone_restaurants: 'No open restaurant delivers to {zone} now.',
  zone_confirm:
    'Delivery to the centre of {zone}, {city}. The driver calls you on arrival.\n1. Confirm\n0. Another neighbourhood',
  zone_landmark: 'The driver calls the customer on arrival',
  zone_instructions:
    'Address picked over USSD: the neighbourhood centre. Call the customer on arrival (verified number).',
  payment_wallet: '1. Wallet',
  payment_momo: '2. {operator} Mobile Money',
  payment: 'Pay with:',
  confirm: 'Total {total} (delivery {fee})\n{address}\nPIN to confirm, 0 to cancel:',
  bye: 'Thank you, see you soon!',
  cancelled: 'Order cancelled. Nothing was charged.',
  placed_wallet: 'Order {number} paid ({total}). The delivery PIN comes by SMS.',
  placed_momo:
    'Order {number}: approve the {operator} request for {total} with your Mobile Money PIN. Delivery PIN by SMS.',
  wallet_refused: 'The wallet refused the payment ({reason}). Nothing was charged.',
  refused: 'Cannot order: {reason}.',
  locked: 'Too many wrong PINs. Try again in {minutes} min.',
  account_unavailable: 'This account is not available. Please contact support.',
  no_address: 'No delivery address. Add one in the app or on the website.',
  expired: 'Session expired. Dial the code again to continue where you were.',
  status: 'Order {number} ({restaurant}): {status}.',
  no_orders: 'No recent orders.',
  no_restaurants: 'No favourite or recent restaurants.',
  no_dishes: 'No dish available now.',
  unavailable: 'Service unavailable for a moment. Please try later.',
  notice_invalid: 'Invalid choice.',
  notice_pin_format: 'PIN: 4 digits, not 1234 or 0000.',
  notice_pin_mismatch: 'The PINs do not match.',
  notice_pin_wrong: 'Wrong PIN, {left} attempt(s) left.',
  notice_resumed: 'Resuming your session.',
  notice_repriced: 'The price changed.',
  sms_placed:
    'Order {number} ({restaurant}), {total}. Delivery PIN: {pin}. Give it to the driver on delivery.',
  sms_help: 'Send STATUS to follow your last order, or dial {code}.',
  sms_unknown: 'No account for this number. Dial {code} to order.',
  sms_stopped: 'You will no longer receive SMS about your orders. Send START to get them again.',
  sms_started: 'You will receive your order updates by SMS again. Send STOP to stop them.',
  reason_restaurant_closed: 'restaurant closed',
  reason_outside_delivery_radius: 'address out of range',
  reason_items_unavailable: 'dish unavailable',
  reason_insufficient_stock: 'dish sold out',
  reason_insufficient_funds: 'balance too low',
  reason_limit_exceeded: 'limit reached',
  reason_wallet_frozen: 'wallet frozen',
  reason_too_many_addresses: 'at most 20 addresses, remove one in the app',
  reason_rate_limited: 'too many orders, try later',
  reason_payment_method: 'this payment method is refused',
  reason_other: 'please try later',
  status_PENDING_PAYMENT: 'waiting for payment',
  status_PAYMENT_FAILED: 'payment failed',
  status_PLACED: 'sent to the restaurant',
  status_ACCEPTED: 'accepted',
  status_PREPARING: 'being prepared',
  status_READY: 'ready',
  status_PICKED_UP: 'on its way',
  status_DELIVERED: 'delivered',
  status_COMPLETED: 'completed',
  status_REJECTED: 'rejected',
  status_CANCELLED: 'cancelled',
  status_DISPUTED: 'disputed',
  status_RESOLVED: 'dispute resolved',
  status_other: 'in progress',
};

export const TEXTS: Record<Language, Record<TextKey, string>> = { fr, en };

/** The text of `key` in `language` with `{name}` placeholders filled. */
export function say(language: Language, key: TextKey, params: Record<string, string | number> = {}): string {
  return TEXTS[language][key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** `5600` → `5 600 XAF`. */
export function money(minor: number): string {
  return `${String(Math.trunc(minor)).replace(/\B(?=(\d{3})+(?!\d))/g, ' ')} XAF`;
}

/** What a customer calls an order: the first eight characters of its id, upper case. */
export function orderNumber(orderId: string): string {
  return orderId.replace(/-/g, '').slice(0, 8).toUpperCase();
}

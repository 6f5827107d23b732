/**
 * The labelled query set of semantic search (issue #27): French and English sentences over the
 * demo catalog fixture (src/modules/catalog/fixtures.ts), each with the fixture dishes (by their
 * French base name, `DISHES[].fr`) a customer asking it would accept, and a price cap where the
 * sentence names one. Written by hand from the fixture's dish list; precision@5 counts a returned
 * dish relevant when its base dish is listed and its price (discount first) is within the cap.
 */
export interface LabelledQuery {
  q: string;
  language: 'fr' | 'en';
  relevant: string[];
  maxPrice?: number;
}

const SPICY = [
  'Pepper soup de poisson',
  'Soya de bœuf',
  'Poisson braisé',
  'Bar braisé',
  'Maquereau braisé',
  'Poulet braisé',
  'Porc braisé',
  'Brochettes de chèvre',
];
const GRILLED_FISH = ['Poisson braisé', 'Bar braisé', 'Maquereau braisé'];
const SEAFOOD = [
  'Ndolè aux crevettes',
  'Mbongo tchobi poisson',
  'Bobolo et poisson',
  'Pepper soup de poisson',
  'Poisson braisé',
  'Bar braisé',
  'Maquereau braisé',
  'Accras de morue',
];
const CHICKEN = ['Poulet DG', 'Poulet braisé', 'Kati-kati', 'Riz sauté au poulet', 'Shawarma poulet'];
const DESSERTS = ['Salade de fruits', 'Beignets sucrés', 'Glace vanille', 'Okok sucré'];
const DRINKS = [
  'Jus de foléré',
  'Jus de gingembre',
  'Jus de baobab',
  'Eau minérale',
  'Bière 33 Export',
  'Top pamplemousse',
  'Café au lait',
];
const JUICES = ['Jus de foléré', 'Jus de gingembre', 'Jus de baobab'];
const BREAKFAST = [
  'Beignets-haricots',
  'Bouillie de maïs',
  'Pain chargé',
  'Spaghetti omelette',
  'Café au lait',
];
/** Dishes (not drinks or desserts) without meat; fish allowed. */
const NO_MEAT_DISHES = [
  'Ndolè aux crevettes',
  'Eru et water fufu',
  'Achu sauce jaune',
  'Koki et plantain',
  'Mbongo tchobi poisson',
  'Okok sucré',
  'Sanga',
  'Taro sauce jaune',
  'Bobolo et poisson',
  'Sauce gombo',
  'Folong aux arachides',
  'Nkui',
  'Egusi pudding',
  'Riz jollof',
  'Pepper soup de poisson',
  'Poisson braisé',
  'Bar braisé',
  'Maquereau braisé',
  'Beignets-haricots',
  'Bouillie de maïs',
  'Spaghetti omelette',
  'Plantains frits',
  'Accras de morue',
  'Salade avocat',
  'Pizza margherita',
];
const FISH_DISHES = new Set(SEAFOOD);
const VEGETARIAN = NO_MEAT_DISHES.filter((dish) => !FISH_DISHES.has(dish));
const CAMEROONIAN = [
  'Ndolè aux crevettes',
  'Ndolè viande',
  'Poulet DG',
  'Eru et water fufu',
  'Achu sauce jaune',
  'Koki et plantain',
  'Mbongo tchobi poisson',
  'Okok sucré',
  'Kondrè de chèvre',
  'Sanga',
  'Taro sauce jaune',
  'Bobolo et poisson',
  'Sauce gombo',
  'Folong aux arachides',
  'Nkui',
  'Egusi pudding',
  'Plantains frits',
];
const GRILLED_MEAT = ['Soya de bœuf', 'Poulet braisé', 'Porc braisé', 'Brochettes de chèvre', 'Kati-kati'];
const SOUPS = ['Pepper soup de poisson', 'Nkui', 'Sauce gombo', 'Achu sauce jaune', 'Taro sauce jaune'];

export const LABELLED_QUERIES: LabelledQuery[] = [
  { q: 'something spicy and cheap near Akwa', language: 'en', relevant: SPICY, maxPrice: 2_500 },
  { q: 'plat sans viande', language: 'fr', relevant: NO_MEAT_DISHES },
  { q: 'grilled fish', language: 'en', relevant: GRILLED_FISH },
  { q: 'du poisson grillé', language: 'fr', relevant: GRILLED_FISH },
  { q: 'quelque chose de pimenté', language: 'fr', relevant: SPICY },
  { q: 'spicy food', language: 'en', relevant: SPICY },
  { q: 'un dessert sucré', language: 'fr', relevant: DESSERTS },
  { q: 'something sweet', language: 'en', relevant: DESSERTS },
  { q: 'a cold drink', language: 'en', relevant: DRINKS },
  { q: 'une boisson fraîche', language: 'fr', relevant: DRINKS },
  { q: 'petit-déjeuner pas cher', language: 'fr', relevant: BREAKFAST, maxPrice: 2_500 },
  { q: 'breakfast in the morning', language: 'en', relevant: BREAKFAST },
  { q: 'vegetarian dish', language: 'en', relevant: VEGETARIAN },
  { q: 'plat végétarien', language: 'fr', relevant: VEGETARIAN },
  { q: 'chicken', language: 'en', relevant: CHICKEN },
  { q: 'du poulet pas cher', language: 'fr', relevant: CHICKEN, maxPrice: 2_500 },
  { q: 'un plat de riz', language: 'fr', relevant: ['Riz jollof', 'Riz sauté au poulet'] },
  { q: 'rice without meat', language: 'en', relevant: ['Riz jollof'] },
  { q: 'seafood', language: 'en', relevant: SEAFOOD },
  { q: 'fruits de mer et poisson', language: 'fr', relevant: SEAFOOD },
  { q: 'plat camerounais traditionnel', language: 'fr', relevant: CAMEROONIAN },
  {
    q: 'fast food burger or pizza',
    language: 'en',
    relevant: ['Burger maison', 'Pizza margherita', 'Shawarma poulet'],
  },
  { q: 'une bonne soupe', language: 'fr', relevant: SOUPS },
  { q: 'viande grillée', language: 'fr', relevant: GRILLED_MEAT },
  { q: 'cheap beer', language: 'en', relevant: ['Bière 33 Export'], maxPrice: 2_500 },
  { q: 'jus naturel', language: 'fr', relevant: JUICES },
];

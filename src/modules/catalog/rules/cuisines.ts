/**
 * The cuisine vocabulary: a fixed list, so filters and facets agree and a typo in a filter is a
 * 400 instead of an empty page. Labels in French and English for autocomplete.
 */
export const CUISINES = {
  cameroonian: { fr: 'Camerounaise', en: 'Cameroonian' },
  african: { fr: 'Africaine', en: 'African' },
  west_african: { fr: "Afrique de l'Ouest", en: 'West African' },
  grill: { fr: 'Grillades', en: 'Grill' },
  fish_seafood: { fr: 'Poissons et fruits de mer', en: 'Fish and seafood' },
  chicken: { fr: 'Poulet', en: 'Chicken' },
  street_food: { fr: 'Cuisine de rue', en: 'Street food' },
  breakfast: { fr: 'Petit-déjeuner', en: 'Breakfast' },
  bakery: { fr: 'Boulangerie et pâtisserie', en: 'Bakery and pastry' },
  fast_food: { fr: 'Restauration rapide', en: 'Fast food' },
  burgers: { fr: 'Burgers', en: 'Burgers' },
  pizza: { fr: 'Pizza', en: 'Pizza' },
  french: { fr: 'Française', en: 'French' },
  italian: { fr: 'Italienne', en: 'Italian' },
  lebanese: { fr: 'Libanaise', en: 'Lebanese' },
  chinese: { fr: 'Chinoise', en: 'Chinese' },
  indian: { fr: 'Indienne', en: 'Indian' },
  vegetarian: { fr: 'Végétarienne', en: 'Vegetarian' },
  desserts: { fr: 'Desserts et glaces', en: 'Desserts and ice cream' },
  drinks: { fr: 'Boissons et jus', en: 'Drinks and juices' },
} as const;

export type Cuisine = keyof typeof CUISINES;
export const CUISINE_CODES = Object.keys(CUISINES) as Cuisine[];
export const MAX_CUISINES_PER_RESTAURANT = 5;

export function isCuisine(value: string): value is Cuisine {
  return Object.hasOwn(CUISINES, value);
}

/** The codes that are not cuisines, for a 400 that names them. */
export function unknownCuisines(values: readonly string[]): string[] {
  return values.filter((value) => !isCuisine(value));
}

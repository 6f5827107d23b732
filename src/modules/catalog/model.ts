/** The catalog's records as the rest of the module sees them (rows mapped by the repository). */
import type { Selectable } from 'kysely';
import type { ClosureRules, AvailabilityWindow, WeeklyHours } from './rules/hours.js';
import type { Localized, ModifierOption } from './rules/menu.js';
import type { Point } from './rules/geo.js';
import type {
  MenuCategoriesTable,
  MenuItemsTable,
  MenuModifierGroupsTable,
  RestaurantStatus,
  RestaurantsTable,
} from './tables.js';

export type { RestaurantStatus };

export const DOCUMENT_KINDS = [
  'business_license',
  'tax_certificate',
  'health_certificate',
  'owner_id',
  'other',
] as const;
export type DocumentKind = (typeof DOCUMENT_KINDS)[number];
export interface RestaurantDocument {
  kind: DocumentKind;
  url: string;
}

export interface RestaurantRecord {
  id: string;
  ownerId: string;
  name: string;
  legalName: string;
  taxId: string;
  description: Localized | undefined;
  documents: RestaurantDocument[];
  contact: { phone?: string; email?: string };
  cuisines: string[];
  city: string;
  address: string;
  location: Point;
  deliveryRadiusM: number;
  /** The zones of its city it delivers to (issue #26); null: wherever its radius reaches. */
  deliveryZones: string[] | null;
  prepTimeMinutes: number;
  openingHours: WeeklyHours;
  closureRules: ClosureRules;
  status: RestaurantStatus;
  statusReason: string | null;
  ratingAverage: number;
  ratingCount: number;
  priceAverage: number;
  menuVersion: number;
  logo: CatalogPhoto | null;
  cover: CatalogPhoto | null;
  createdAt: Date;
  updatedAt: Date;
}

/** One encoding of a photo rendition, as the files context made it (`url` is a public API path). */
export interface PhotoEncoding {
  url: string;
  width: number;
  height: number;
  byteSize: number;
}

/**
 * A photo the files context attached (issue #18): its file id (to replace it) and its renditions
 * by size and format, shown as they are in the menu and the restaurant profile.
 */
export interface CatalogPhoto {
  fileId: string;
  renditions: Record<string, Record<string, PhotoEncoding>>;
}

export interface CategoryRecord {
  id: string;
  restaurantId: string;
  name: Localized;
  position: number;
  schedule: AvailabilityWindow[] | null;
  archived: boolean;
}

export interface ItemRecord {
  id: string;
  restaurantId: string;
  categoryId: string;
  name: Localized;
  description: Localized | undefined;
  price: bigint;
  discountPrice: bigint | null;
  costPrice: bigint | null;
  images: string[];
  photo: CatalogPhoto | null;
  allergens: string[];
  nutrition: Record<string, number> | null;
  prepTimeMinutes: number | null;
  schedule: AvailabilityWindow[] | null;
  stock: number | null;
  isAvailable: boolean;
  position: number;
  archived: boolean;
}

export interface ModifierGroupRecord {
  id: string;
  restaurantId: string;
  itemId: string;
  name: Localized;
  minSelections: number;
  maxSelections: number;
  options: ModifierOption[];
  position: number;
  archived: boolean;
}

export interface MenuRecord {
  restaurant: RestaurantRecord;
  categories: CategoryRecord[];
  items: ItemRecord[];
  modifierGroups: ModifierGroupRecord[];
}

function localized(fr: string | null, en: string | null): Localized | undefined {
  if (fr === null) return en === null ? undefined : { fr: en };
  return en === null ? { fr } : { fr, en };
}

export function restaurantFromRow(row: Selectable<RestaurantsTable>): RestaurantRecord {
  const closures = (row.closures ?? {}) as Partial<ClosureRules>;
  return {
    id: row.id,
    ownerId: row.owner_id,
    name: row.name,
    legalName: row.legal_name,
    taxId: row.tax_id,
    description: localized(row.description_fr, row.description_en),
    documents: row.documents as RestaurantDocument[],
    contact: {
      ...(row.contact_phone === null ? {} : { phone: row.contact_phone }),
      ...(row.contact_email === null ? {} : { email: row.contact_email }),
    },
    cuisines: row.cuisines,
    city: row.city,
    address: row.address,
    location: { latitude: row.latitude, longitude: row.longitude },
    deliveryRadiusM: row.delivery_radius_m,
    deliveryZones: row.delivery_zones ?? null,
    prepTimeMinutes: row.prep_time_minutes,
    openingHours: row.opening_hours as WeeklyHours,
    closureRules: { closures: closures.closures ?? [], holidays: closures.holidays ?? [] },
    status: row.status,
    statusReason: row.status_reason,
    ratingAverage: row.rating_average,
    ratingCount: row.rating_count,
    priceAverage: row.price_average,
    menuVersion: row.menu_version,
    logo: (row.logo ?? null) as CatalogPhoto | null,
    cover: (row.cover ?? null) as CatalogPhoto | null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function categoryFromRow(row: Selectable<MenuCategoriesTable>): CategoryRecord {
  return {
    id: row.id,
    restaurantId: row.restaurant_id,
    name: localized(row.name_fr, row.name_en)!,
    position: row.position,
    schedule: row.schedule as AvailabilityWindow[] | null,
    archived: row.archived_at !== null,
  };
}

export function itemFromRow(row: Selectable<MenuItemsTable>): ItemRecord {
  return {
    id: row.id,
    restaurantId: row.restaurant_id,
    categoryId: row.category_id,
    name: localized(row.name_fr, row.name_en)!,
    description: localized(row.description_fr, row.description_en),
    price: row.price,
    discountPrice: row.discount_price,
    costPrice: row.cost_price,
    images: row.images,
    photo: (row.photo ?? null) as CatalogPhoto | null,
    allergens: row.allergens,
    nutrition: row.nutrition as Record<string, number> | null,
    prepTimeMinutes: row.prep_time_minutes,
    schedule: row.schedule as AvailabilityWindow[] | null,
    stock: row.stock,
    isAvailable: row.is_available,
    position: row.position,
    archived: row.archived_at !== null,
  };
}

export function modifierGroupFromRow(row: Selectable<MenuModifierGroupsTable>): ModifierGroupRecord {
  return {
    id: row.id,
    restaurantId: row.restaurant_id,
    itemId: row.item_id,
    name: localized(row.name_fr, row.name_en)!,
    minSelections: row.min_selections,
    maxSelections: row.max_selections,
    options: row.options as ModifierOption[],
    position: row.position,
    archived: row.archived_at !== null,
  };
}

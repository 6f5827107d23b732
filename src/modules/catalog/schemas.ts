/**
 * The catalog's request and response schemas (the OpenAPI document). Limits live here so every
 * list, string and number a client sends has a maximum.
 */
import Type, { type Static, type TProperties } from 'typebox';
import { DOCUMENT_KINDS } from './model.js';
import { MAX_CLOSURES, MAX_RANGES_PER_DAY, MAX_SCHEDULE_WINDOWS, WEEKDAYS } from './rules/hours.js';
import { MAX_DELIVERY_RADIUS_KM, MAX_SEARCH_RADIUS_KM } from './rules/geo.js';
import { MAX_OPTIONS_PER_GROUP, MAX_PRICE_XAF, MAX_STOCK } from './rules/menu.js';
import { MAX_AUTOCOMPLETE, MAX_PAGE_SIZE, MAX_QUERY_LENGTH, SORTS } from './rules/search.js';
import { STATUS_DECISIONS } from './rules/status.js';
import {
  CITY_ID_PATTERN,
  MAX_CITY_COMMISSION_PERCENT,
  MAX_CITY_DELIVERY_DISTANCE_M,
  MAX_CITY_DISPATCH_RADIUS_KM,
  MIN_CITY_DISPATCH_RADIUS_KM,
  MAX_CITY_DELIVERY_FEE_PER_KM_XAF,
  MAX_CITY_DELIVERY_FEE_XAF,
  MAX_CITY_MINIMUM_ORDER_XAF,
  MIN_CITY_DELIVERY_DISTANCE_M,
} from './rules/cities.js';
import {
  MAX_RESTAURANT_DELIVERY_ZONES,
  MAX_SURGES_PER_ZONE,
  MAX_ZONE_FEE_ADJUSTMENT_XAF,
  MAX_ZONE_VERTICES,
  MIN_ZONE_FEE_ADJUSTMENT_XAF,
  MIN_ZONE_VERTICES,
  MAX_LISTED_CELLS,
  ZONE_ID_PATTERN,
} from './rules/zones.js';

const Uuid = Type.String({ format: 'uuid' });
const Text = (maxLength: number, minLength = 1) => Type.String({ minLength, maxLength });
const Clock = Type.String({
  pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$',
  description: 'HH:MM, local time (Africa/Douala)',
});
const Price = Type.Integer({ minimum: 0, maximum: MAX_PRICE_XAF, description: 'XAF (integer, no decimals)' });
const Url = Type.String({ pattern: '^https://', maxLength: 500 });

export const Localized = Type.Object(
  { fr: Type.Optional(Text(200)), en: Type.Optional(Text(200)) },
  { additionalProperties: false, minProperties: 1, description: 'French and/or English text' },
);
const LongLocalized = Type.Object(
  { fr: Type.Optional(Text(1000)), en: Type.Optional(Text(1000)) },
  { additionalProperties: false, minProperties: 1 },
);

export const Latitude = Type.Number({ minimum: -90, maximum: 90 });
export const Longitude = Type.Number({ minimum: -180, maximum: 180 });
export const Location = Type.Object(
  { latitude: Latitude, longitude: Longitude },
  { additionalProperties: false },
);

const TimeRange = Type.Object({ opens: Clock, closes: Clock }, { additionalProperties: false });
export const WeeklyHours = Type.Object(
  Object.fromEntries(
    WEEKDAYS.map((day) => [day, Type.Optional(Type.Array(TimeRange, { maxItems: MAX_RANGES_PER_DAY }))]),
  ),
  {
    additionalProperties: false,
    description: 'Per weekday; a range whose closing time is at or before its opening runs past midnight',
  },
);
const LocalDateTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}$',
  description: 'YYYY-MM-DDTHH:MM, Africa/Douala',
});
const Closure = Type.Object(
  { startsAt: LocalDateTime, endsAt: LocalDateTime, reason: Type.Optional(Text(200)) },
  { additionalProperties: false },
);
const Holiday = Type.Object(
  { date: Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }), name: Type.Optional(Text(200)) },
  { additionalProperties: false },
);
const Weekday = Type.Union(WEEKDAYS.map((day) => Type.Literal(day)));
export const Schedule = Type.Array(
  Type.Object(
    { days: Type.Array(Weekday, { minItems: 1, maxItems: 7 }), opens: Clock, closes: Clock },
    { additionalProperties: false },
  ),
  {
    maxItems: MAX_SCHEDULE_WINDOWS,
    description: 'When an item or category can be ordered (e.g. breakfast only); absent = whenever open',
  },
);

export const CreateRestaurantBody = Type.Object(
  {
    name: Text(120, 2),
    legalName: Text(200, 2),
    taxId: Type.String({
      pattern: '^[A-Z0-9]{10,20}$',
      description: 'NIU (numéro d’identifiant unique), 10-20 capitals and digits',
    }),
    description: Type.Optional(LongLocalized),
    documents: Type.Array(
      Type.Object(
        { kind: Type.Union(DOCUMENT_KINDS.map((kind) => Type.Literal(kind))), url: Url },
        { additionalProperties: false },
      ),
      { maxItems: 10 },
    ),
    contact: Type.Object(
      {
        phone: Type.Optional(Type.String({ pattern: '^\\+2376\\d{8}$' })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 200 })),
      },
      { additionalProperties: false },
    ),
    cuisines: Type.Array(Text(40), {
      minItems: 1,
      maxItems: 5,
      description: 'codes from the cuisine list (see docs/catalog.md)',
    }),
    city: Type.String({
      minLength: 2,
      maxLength: 60,
      description: 'The city: its id or its French or English name (GET /v1/cities); must be an active city',
    }),
    address: Text(300, 3),
    location: Location,
    deliveryRadiusKm: Type.Number({ exclusiveMinimum: 0, maximum: MAX_DELIVERY_RADIUS_KM }),
    deliveryZones: Type.Optional(
      Type.Union([
        Type.Array(Type.String({ pattern: ZONE_ID_PATTERN }), {
          minItems: 1,
          maxItems: MAX_RESTAURANT_DELIVERY_ZONES,
          uniqueItems: true,
          description: "zones of the restaurant's city (GET /v1/cities/{cityId}/zones) it delivers to",
        }),
        Type.Null(),
      ]),
    ),
    prepTimeMinutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 240 })),
    openingHours: WeeklyHours,
    closures: Type.Optional(Type.Array(Closure, { maxItems: MAX_CLOSURES })),
    holidays: Type.Optional(Type.Array(Holiday, { maxItems: MAX_CLOSURES })),
  },
  { additionalProperties: false },
);
export type CreateRestaurantInput = Static<typeof CreateRestaurantBody>;

export const UpdateRestaurantBody = Type.Partial(
  Type.Omit(CreateRestaurantBody, ['legalName', 'taxId', 'documents']),
  { additionalProperties: false, minProperties: 1 },
);
export type UpdateRestaurantInput = Static<typeof UpdateRestaurantBody>;

export const StatusBody = Type.Object(
  {
    decision: Type.Optional(Type.Union(STATUS_DECISIONS.map((decision) => Type.Literal(decision)))),
    reason: Type.Optional(Text(500)),
  },
  { additionalProperties: false },
);

export const CategoryBody = Type.Object(
  {
    name: Localized,
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    schedule: Type.Optional(Type.Union([Schedule, Type.Null()])),
  },
  { additionalProperties: false },
);
export type CategoryInput = Static<typeof CategoryBody>;
export const CategoryPatch = Type.Partial(
  Type.Object(
    {
      name: Localized,
      position: Type.Integer({ minimum: 0, maximum: 10_000 }),
      schedule: Type.Union([Schedule, Type.Null()]),
      archived: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, minProperties: 1 },
);
export type CategoryPatchInput = Static<typeof CategoryPatch>;

const Nutrition = Type.Object(
  {
    kcal: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
    proteinG: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000 })),
    carbsG: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000 })),
    fatG: Type.Optional(Type.Number({ minimum: 0, maximum: 1_000 })),
  },
  { additionalProperties: false },
);

const itemFields = {
  categoryId: Uuid,
  name: Localized,
  description: Type.Optional(LongLocalized),
  price: Price,
  discountPrice: Type.Optional(Type.Union([Price, Type.Null()])),
  costPrice: Type.Optional(Type.Union([Price, Type.Null()])),
  images: Type.Optional(Type.Array(Url, { maxItems: 5 })),
  allergens: Type.Optional(Type.Array(Text(40), { maxItems: 14 })),
  nutrition: Type.Optional(Type.Union([Nutrition, Type.Null()])),
  prepTimeMinutes: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 240 }), Type.Null()])),
  schedule: Type.Optional(Type.Union([Schedule, Type.Null()])),
  stock: Type.Optional(Type.Union([Type.Integer({ minimum: 0, maximum: MAX_STOCK }), Type.Null()])),
  isAvailable: Type.Optional(Type.Boolean()),
  position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
};
export const ItemBody = Type.Object(itemFields, { additionalProperties: false });
export type ItemInput = Static<typeof ItemBody>;
export const ItemPatch = Type.Partial(
  Type.Object({ ...itemFields, archived: Type.Boolean() }, { additionalProperties: false }),
  {
    additionalProperties: false,
    minProperties: 1,
  },
);
export type ItemPatchInput = Static<typeof ItemPatch>;

const OptionBody = Type.Object(
  {
    id: Type.Optional(Uuid),
    name: Localized,
    priceDelta: Type.Optional(Price),
    available: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export const ModifierGroupBody = Type.Object(
  {
    itemId: Uuid,
    name: Localized,
    minSelections: Type.Integer({ minimum: 0, maximum: MAX_OPTIONS_PER_GROUP }),
    maxSelections: Type.Integer({ minimum: 1, maximum: MAX_OPTIONS_PER_GROUP }),
    options: Type.Array(OptionBody, { minItems: 1, maxItems: MAX_OPTIONS_PER_GROUP }),
    position: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type ModifierGroupInput = Static<typeof ModifierGroupBody>;
export const ModifierGroupPatch = Type.Partial(
  Type.Object(
    {
      name: Localized,
      minSelections: Type.Integer({ minimum: 0, maximum: MAX_OPTIONS_PER_GROUP }),
      maxSelections: Type.Integer({ minimum: 1, maximum: MAX_OPTIONS_PER_GROUP }),
      options: Type.Array(OptionBody, { minItems: 1, maxItems: MAX_OPTIONS_PER_GROUP }),
      position: Type.Integer({ minimum: 0, maximum: 10_000 }),
      archived: Type.Boolean(),
    },
    { additionalProperties: false },
  ),
  { additionalProperties: false, minProperties: 1 },
);
export type ModifierGroupPatchInput = Static<typeof ModifierGroupPatch>;

export const SearchQuerystring = Type.Object(
  {
    q: Type.Optional(Type.String({ maxLength: MAX_QUERY_LENGTH })),
    cuisine: Type.Optional(Type.Array(Text(40), { maxItems: 10 })),
    city: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 60,
        description: 'an active city, by id or name (`douala`, `Yaoundé`)',
      }),
    ),
    priceMin: Type.Optional(Price),
    priceMax: Type.Optional(Price),
    minRating: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    openNow: Type.Optional(Type.Boolean()),
    maxDeliveryMinutes: Type.Optional(Type.Integer({ minimum: 5, maximum: 240 })),
    lat: Type.Optional(Latitude),
    lng: Type.Optional(Longitude),
    radiusKm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: MAX_SEARCH_RADIUS_KM })),
    sort: Type.Optional(Type.Union(SORTS.map((sort) => Type.Literal(sort)))),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);
export type SearchInput = Static<typeof SearchQuerystring>;

export const AutocompleteQuerystring = Type.Object(
  {
    q: Type.String({ minLength: 1, maxLength: MAX_QUERY_LENGTH }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_AUTOCOMPLETE })),
  },
  { additionalProperties: false },
);

export const PointQuerystring = Type.Object(
  { lat: Type.Optional(Latitude), lng: Type.Optional(Longitude) },
  { additionalProperties: false },
);

export const RestaurantParams = Type.Object({ id: Uuid });
export const ItemParams = Type.Object({ id: Uuid, itemId: Uuid });
export const CategoryParams = Type.Object({ id: Uuid, categoryId: Uuid });
export const GroupParams = Type.Object({ id: Uuid, groupId: Uuid });

export const ReviewBody = Type.Object(
  { orderId: Uuid, rating: Type.Integer({ minimum: 1, maximum: 5 }), comment: Type.Optional(Text(1000)) },
  { additionalProperties: false },
);
export const ReplyBody = Type.Object({ reply: Text(1000) }, { additionalProperties: false });
export const ReviewsQuerystring = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE })),
    cursor: Type.Optional(Type.String({ maxLength: 512 })),
  },
  { additionalProperties: false },
);

/* Responses: open objects, documented; handlers only ever send these fields. */
const Open = <Properties extends TProperties>(properties: Properties, description?: string) =>
  Type.Object(properties, {
    additionalProperties: true,
    ...(description === undefined ? {} : { description }),
  });

export const RestaurantResponse = Open(
  {
    id: Uuid,
    name: Type.String(),
    status: Type.String(),
    cuisines: Type.Array(Type.String()),
    city: Type.String(),
    address: Type.String(),
    location: Location,
    deliveryRadiusKm: Type.Number(),
    deliveryZones: Type.Optional(Type.Array(Type.String())),
    prepTimeMinutes: Type.Integer(),
    openingHours: WeeklyHours,
    rating: Open({ average: Type.Number(), count: Type.Integer() }),
    priceAverage: Type.Integer(),
    openNow: Type.Boolean(),
    closesAt: Type.Optional(Type.String()),
    nextOpeningAt: Type.Optional(Type.String()),
    delivery: Type.Optional(
      Open({
        minutes: Type.Integer(),
        distanceM: Type.Optional(Type.Integer()),
        deliversHere: Type.Optional(Type.Boolean()),
      }),
    ),
  },
  'A restaurant profile; owners and admins also see legal name, tax id, documents, contact and status reason',
);

export const MenuResponse = Open(
  {
    restaurantId: Uuid,
    version: Type.Integer(),
    currency: Type.Literal('XAF'),
    openNow: Type.Optional(Type.Boolean()),
    categories: Type.Array(
      Open({
        id: Uuid,
        name: Type.String(),
        items: Type.Array(Open({ id: Uuid, name: Type.String(), price: Type.Integer() })),
      }),
    ),
    promotions: Type.Optional(
      Type.Array(
        Open({
          id: Uuid,
          name: Type.String(),
          kind: Type.String({ description: 'percent, fixed, free_delivery, buy_get or combo' }),
          endsAt: Type.String({ format: 'date-time', description: 'the end of its validity' }),
          activeNow: Type.Boolean(),
          activeUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
            description: 'when it stops running without a break (today’s hours or its validity)',
          }),
        }),
        {
          description:
            'the restaurant’s and the platform’s promotions in their validity window (as GET /v1/restaurants/{id}/promotions), left out when none',
        },
      ),
    ),
  },
  'The whole menu: fields that would be null, empty or false are left out; `orderable: true` marks what can be ordered now',
);

const Counts = (description: string) => Type.Record(Type.String(), Type.Integer(), { description });

export const SearchResponse = Open({
  items: Type.Array(
    Open({
      id: Uuid,
      name: Type.String(),
      matchedItems: Type.Optional(
        Type.Array(
          Open({
            id: Uuid,
            name: Type.String(),
            price: Type.Integer(),
            discountPrice: Type.Optional(Type.Integer()),
            image: Type.Optional(Type.String()),
          }),
          { description: 'With search text: up to 3 dishes of this restaurant that matched it, best first' },
        ),
      ),
    }),
  ),
  total: Type.Integer(),
  facets: Open({
    cuisines: Counts('restaurants per cuisine code (ignoring the cuisine filter itself)'),
    openNow: Type.Integer({ description: 'restaurants open now' }),
    priceTiers: Counts('restaurants per price tier 1-4'),
    ratings: Counts('restaurants rated at or above 4.5, 4 and 3'),
    deliveryTimes: Counts('restaurants delivering within 20, 30, 45 and 60 minutes'),
  }),
  nextCursor: Type.Optional(Type.String()),
});

export const AutocompleteResponse = Open({
  restaurants: Type.Array(Open({ id: Uuid, name: Type.String() })),
  dishes: Type.Array(Open({ name: Type.String(), restaurants: Type.Integer() })),
  cuisines: Type.Array(Open({ code: Type.String(), name: Type.String() })),
});

export const AnyObject = Open({});

/* Cities as data (issue #26). */
const CityName = Type.String({ minLength: 1, maxLength: 60, pattern: '^[^\\u0000-\\u001f]+$' });
const CityBounds = Type.Object(
  { south: Latitude, west: Longitude, north: Latitude, east: Longitude },
  { additionalProperties: false },
);
/** A matching radius (km) in steps of 0.5 (exact in binary, so `multipleOf` holds). */
const DispatchRadius = Type.Number({
  minimum: MIN_CITY_DISPATCH_RADIUS_KM,
  maximum: MAX_CITY_DISPATCH_RADIUS_KM,
  multipleOf: 0.5,
});
export const CityRulesSchema = Type.Object(
  {
    deliveryFeeXaf: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_CITY_DELIVERY_FEE_XAF })),
    deliveryFeePerKmXaf: Type.Optional(
      Type.Integer({ minimum: 0, maximum: MAX_CITY_DELIVERY_FEE_PER_KM_XAF, multipleOf: 10 }),
    ),
    minimumOrderXaf: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_CITY_MINIMUM_ORDER_XAF })),
    serviceOpen: Type.Optional(Type.Boolean()),
    serviceHours: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' })),
    supportHours: Type.Optional(Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$' })),
    maxDeliveryDistanceM: Type.Optional(
      Type.Integer({ minimum: MIN_CITY_DELIVERY_DISTANCE_M, maximum: MAX_CITY_DELIVERY_DISTANCE_M }),
    ),
    taxRatePercent: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    commissionPercent: Type.Optional(Type.Number({ minimum: 0, maximum: MAX_CITY_COMMISSION_PERCENT })),
    dispatchRadiusKm: Type.Optional(DispatchRadius),
    dispatchRadiusStepKm: Type.Optional(DispatchRadius),
    dispatchMaxRadiusKm: Type.Optional(DispatchRadius),
  },
  {
    additionalProperties: false,
  },
);
const CityFields = {
  name: Type.Object({ fr: CityName, en: CityName }, { additionalProperties: false }),
  country: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
  timeZone: Type.Optional(Type.String({ minLength: 3, maxLength: 64 })),
  languages: Type.Optional(
    Type.Array(Type.Union([Type.Literal('fr'), Type.Literal('en')]), {
      minItems: 1,
      maxItems: 2,
      uniqueItems: true,
    }),
  ),
  active: Type.Optional(Type.Boolean()),
  center: Location,
  bounds: CityBounds,
  rules: Type.Optional(CityRulesSchema),
};
export const CityBody = Type.Object(
  {
    id: Type.String({ pattern: CITY_ID_PATTERN }),
    ...CityFields,
  },
  { additionalProperties: false },
);
export const CityPatchBody = Type.Object(
  {
    name: Type.Optional(
      Type.Object(
        { fr: Type.Optional(CityName), en: Type.Optional(CityName) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    country: CityFields.country,
    timeZone: CityFields.timeZone,
    languages: CityFields.languages,
    active: CityFields.active,
    center: Type.Optional(Location),
    bounds: Type.Optional(CityBounds),
    rules: Type.Optional(CityRulesSchema),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const CityParams = Type.Object({ cityId: Type.String({ pattern: CITY_ID_PATTERN }) });
const Degrees = Type.Number();
const CityFacts = {
  id: Type.String(),
  name: Type.Object({ fr: Type.String(), en: Type.String() }),
  country: Type.String(),
  timeZone: Type.String(),
  currency: Type.Literal('XAF'),
  languages: Type.Array(Type.String()),
  center: Type.Object({ latitude: Degrees, longitude: Degrees }),
  bounds: Type.Object({ south: Degrees, west: Degrees, north: Degrees, east: Degrees }),
};
export const PublicCityResponse = Type.Object({
  ...CityFacts,
  /** The city's support hours (its `supportHours` rule), when set: what the app tells before a ticket. */
  support: Type.Optional(
    Type.Object({
      hours: Type.String({ description: 'HH:MM-HH:MM, local time (timeZone)' }),
      openNow: Type.Boolean(),
    }),
  ),
});
export const CityResponse = Type.Object({
  ...CityFacts,
  active: Type.Boolean(),
  rules: Type.Object({
    deliveryFeeXaf: Type.Optional(Type.Integer()),
    deliveryFeePerKmXaf: Type.Optional(Type.Integer()),
    minimumOrderXaf: Type.Optional(Type.Integer()),
    serviceOpen: Type.Optional(Type.Boolean()),
    serviceHours: Type.Optional(Type.String()),
    supportHours: Type.Optional(Type.String()),
    maxDeliveryDistanceM: Type.Optional(Type.Integer()),
    taxRatePercent: Type.Optional(Type.Number()),
    commissionPercent: Type.Optional(Type.Number()),
    dispatchRadiusKm: Type.Optional(Type.Number()),
    dispatchRadiusStepKm: Type.Optional(Type.Number()),
    dispatchMaxRadiusKm: Type.Optional(Type.Number()),
  }),
});

/* Zones within a city (issue #26): H3 cells and/or a polygon, see rules/zones.ts. */
const CellId = Type.String({ pattern: '^[0-9a-fA-F]{15,16}$', description: 'an H3 cell id (hex)' });
const CellList = Type.Array(CellId, {
  minItems: 1,
  maxItems: MAX_LISTED_CELLS,
  description:
    'H3 cells at the configured resolution (ZONE_H3_RESOLUTION) or coarser parents (a compacted set)',
});
const ZoneVertex = Type.Object({ latitude: Latitude, longitude: Longitude }, { additionalProperties: false });
const FeeAdjustment = Type.Integer({
  minimum: MIN_ZONE_FEE_ADJUSTMENT_XAF,
  maximum: MAX_ZONE_FEE_ADJUSTMENT_XAF,
});
const FeeSurgeSchema = Type.Object(
  {
    days: Type.Optional(
      Type.Array(Type.Union(WEEKDAYS.map((day) => Type.Literal(day))), {
        minItems: 1,
        maxItems: 7,
        uniqueItems: true,
      }),
    ),
    window: Type.String({ pattern: '^\\d{2}:\\d{2}-\\d{2}:\\d{2}$', description: 'HH:MM-HH:MM, local' }),
    addXaf: FeeAdjustment,
  },
  { additionalProperties: false },
);
const ZoneFields = {
  name: CityName,
  polygon: Type.Array(ZoneVertex, {
    minItems: MIN_ZONE_VERTICES,
    maxItems: MAX_ZONE_VERTICES,
    description:
      'the outline, vertices in order, not closed (the last joins the first); its H3 cells are computed unless `cells` is given',
  }),
  cells: CellList,
  active: Type.Optional(Type.Boolean()),
  delivers: Type.Optional(Type.Boolean({ description: 'false: no delivery to points in this zone' })),
  feeAdjustmentXaf: Type.Optional(FeeAdjustment),
  surges: Type.Optional(Type.Array(FeeSurgeSchema, { maxItems: MAX_SURGES_PER_ZONE })),
};
export const ZoneBody = Type.Object(
  {
    id: Type.String({ pattern: ZONE_ID_PATTERN }),
    ...ZoneFields,
    polygon: Type.Optional(ZoneFields.polygon),
    cells: Type.Optional(ZoneFields.cells),
  },
  { additionalProperties: false },
);
export const ZonePatchBody = Type.Object(
  {
    name: Type.Optional(ZoneFields.name),
    polygon: Type.Optional(ZoneFields.polygon),
    cells: Type.Optional(ZoneFields.cells),
    active: ZoneFields.active,
    delivers: ZoneFields.delivers,
    feeAdjustmentXaf: ZoneFields.feeAdjustmentXaf,
    surges: ZoneFields.surges,
  },
  { additionalProperties: false, minProperties: 1 },
);
export const ZoneParams = Type.Object({
  cityId: Type.String({ pattern: CITY_ID_PATTERN }),
  zoneId: Type.String({ pattern: ZONE_ID_PATTERN }),
});
export const PublicZoneResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  served: Type.Boolean({ description: 'false: the platform does not deliver to points in this zone' }),
  polygon: Type.Optional(Type.Array(Type.Object({ latitude: Degrees, longitude: Degrees }))),
  cells: Type.Array(Type.String(), {
    description: 'the H3 cells, compacted: what decides the zone of a point',
  }),
});
export const ZoneResponse = Type.Object({
  id: Type.String(),
  cityId: Type.String(),
  name: Type.String(),
  polygon: Type.Union([Type.Array(Type.Object({ latitude: Degrees, longitude: Degrees })), Type.Null()]),
  cells: Type.Array(Type.String()),
  resolution: Type.Integer(),
  active: Type.Boolean(),
  delivers: Type.Boolean(),
  feeAdjustmentXaf: Type.Integer(),
  surges: Type.Array(
    Type.Object({
      days: Type.Optional(Type.Array(Type.String())),
      window: Type.String(),
      addXaf: Type.Integer(),
    }),
  ),
});

/* A restaurant's own delivery area (issue #26): H3 cells, or an outline cut into cells. */
export const DeliveryAreaBody = Type.Object(
  {
    polygon: Type.Optional(
      Type.Array(ZoneVertex, {
        minItems: MIN_ZONE_VERTICES,
        maxItems: MAX_ZONE_VERTICES,
        description:
          'the outline, vertices in order, not closed; cut into H3 cells at the zones’ resolution unless `cells` is given',
      }),
    ),
    cells: Type.Optional(CellList),
  },
  { additionalProperties: false, minProperties: 1 },
);
export const DeliveryAreaResponse = Type.Object({
  restaurantId: Type.String(),
  cityId: Type.String(),
  polygon: Type.Optional(Type.Array(Type.Object({ latitude: Degrees, longitude: Degrees }))),
  cells: Type.Array(Type.String(), { description: 'the H3 cells, compacted: what decides a point' }),
  resolution: Type.Integer(),
  cellCount: Type.Integer({ description: 'cells of `resolution` the area covers' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

/** The previews of shared links, from the catalog's public face (share.ts renders them). */
import type { CatalogCommunityApi } from '../catalog/index.js';
import { communityErrors } from './errors.js';
import { dishPreview, restaurantPreview, type ShareLanguage, type SharePreview } from './share.js';

export function createSharePreviews(catalog: CatalogCommunityApi, baseUrl: string) {
  return {
    /** 404 for what the public may not see: an inactive restaurant, an archived dish. */
    async preview(kind: 'restaurant' | 'dish', id: string, language: ShareLanguage): Promise<SharePreview> {
      if (kind === 'restaurant') {
        const [card] = await catalog.restaurantCards([id]);
        if (card === undefined || !card.active)
          throw communityErrors.of('not_found', 'restaurant_not_found', 'There is no such restaurant.');
        return restaurantPreview(card, baseUrl, language);
      }
      const [dish] = await catalog.dishCards([id]);
      const [restaurant] = dish === undefined ? [] : await catalog.restaurantCards([dish.restaurantId]);
      if (dish === undefined || !dish.listed || restaurant === undefined)
        throw communityErrors.of('not_found', 'menu_item_not_found', 'There is no such dish on a menu.');
      return dishPreview(dish, restaurant, baseUrl, language);
    },
  };
}

export type SharePreviews = ReturnType<typeof createSharePreviews>;

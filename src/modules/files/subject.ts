import type { Permission } from '../../shared/principal.js';
import { filesErrors } from './errors.js';
import type { CatalogPhotosPort, OrderPartiesPort } from './ports.js';
import type { PurposeRule } from './purposes.js';
import type { DocumentKind, Purpose } from './tables.js';

/** What an uploaded file is of: a restaurant (and item), an order, or its uploader. */
export interface Subject {
  restaurantId?: string;
  itemId?: string;
  orderId?: string;
  ownerUserId?: string;
  documentKind?: DocumentKind;
}

/** Who uploads, as far as deciding the subject goes. */
export interface SubjectCaller {
  userId: string;
  permissions: ReadonlySet<Permission>;
  roles: readonly string[];
}

export const isAdmin = (caller: Pick<SubjectCaller, 'permissions'>) =>
  caller.permissions.has('FULL_SYSTEM_ACCESS');

/** The upload's subject, from the catalog's and the orders' ports (files.md: who may upload what). */
export function createSubjectCheck(deps: { catalog: CatalogPhotosPort; orders: OrderPartiesPort }) {
  /** Who the file is of; refuses a subject that is not the caller's (someone else's restaurant or order). */
  async function authorize(
    caller: SubjectCaller,
    purpose: Purpose,
    rule: PurposeRule,
    values: Record<string, string>,
  ): Promise<Subject> {
    if (rule.fields.includes('restaurantId')) {
      const restaurantId = values.restaurantId!;
      const owner = await deps.catalog.restaurantOwnerId(restaurantId);
      if (owner === undefined)
        throw filesErrors.of('not_found', 'restaurant_not_found', 'No such restaurant.', {
          details: { restaurantId },
        });
      if (owner !== caller.userId && !isAdmin(caller))
        throw filesErrors.of(
          'forbidden',
          'not_restaurant_owner',
          'Only the owner of the restaurant may change its photos.',
        );
      if (purpose !== 'menu_item_photo') return { restaurantId };
      const itemId = values.itemId!;
      if (!(await deps.catalog.itemBelongsTo(restaurantId, itemId)))
        throw filesErrors.of('not_found', 'menu_item_not_found', 'The restaurant has no such menu item.', {
          details: { itemId },
        });
      return { restaurantId, itemId };
    }
    // Anyone signed in who may upload attaches a file to their own support ticket; it is theirs.
    if (purpose === 'support_attachment') return { ownerUserId: caller.userId };
    if (purpose === 'driver_document') {
      // A driver, or a customer account applying to drive (dispatch onboarding): always their own.
      if (!caller.roles.includes('driver') && !caller.roles.includes('customer'))
        throw filesErrors.of(
          'forbidden',
          'not_a_driver',
          'Only a driver or an applicant to drive uploads driver documents, for themselves.',
        );
      return { ownerUserId: caller.userId, documentKind: values.documentKind as DocumentKind };
    }
    const orderId = values.orderId!;
    const parties = await deps.orders.partiesOf(orderId);
    const uploader = purpose === 'order_packed_photo' ? parties?.restaurantOwnerId : parties?.driverId;
    // Someone else's order is answered as no order at all: its existence is not the caller's to learn.
    if (parties === undefined || (uploader !== caller.userId && !isAdmin(caller)))
      throw filesErrors.of('not_found', 'order_not_found', 'There is no such order among yours.');
    if (!rule.orderStatuses!.includes(parties.status))
      throw filesErrors.of(
        'conflict',
        'order_state_refuses_file',
        `An order in ${parties.status} takes no ${purpose}.`,
        {
          details: { orderStatus: parties.status, allowed: rule.orderStatuses },
        },
      );
    return { orderId, restaurantId: parties.restaurantId };
  }
  return authorize;
}

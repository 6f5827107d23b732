/**
 * Offers reach a driver's phone as a push as well as over `/ws/driver`: each offer the dispatcher
 * makes becomes one notify intent (named after the offer: asked twice, told once), with what the
 * driver earns (the driver fee the ledger will book for the order's distance, plus the tip) and
 * how far the restaurant is. A push that cannot be recorded is logged; the offer stands (the
 * driver also lists open offers on reconnecting).
 */
import type { Logger } from 'pino';
import { driverFeeMinor } from '../../../ledger/rules/index.js';
import type { DriverOfferNotifier } from '../notify/index.js';
import type { DispatchOrders, OffersService } from './offers.js';

export function pushOffers(options: {
  offers: Pick<OffersService, 'onOffer'>;
  orders: () => Pick<DispatchOrders, 'find'>;
  notify: DriverOfferNotifier;
  logger: Logger;
}): () => void {
  return options.offers.onOffer((offer) => {
    void (async () => {
      const order = (await options.orders().find(offer.orderId))?.state.order;
      if (order === null || order === undefined) return;
      const fee = driverFeeMinor(Math.ceil(order.pricing.distanceMetres));
      await options.notify.driverOffer({
        offerId: offer.offerId,
        driverId: offer.driverId,
        orderId: offer.orderId,
        restaurantName: order.restaurantName,
        earningsMinor: Number(fee) + order.pricing.tipMinor,
        pickupDistanceMetres: Math.round(offer.travelMeters),
        expiresAt: new Date(offer.expiresAt),
      });
    })().catch((error: unknown) => {
      options.logger.warn({ err: error, offerId: offer.offerId }, 'the push of an offer was not recorded');
    });
  });
}

import { domainErrors } from '../../shared/errors.js';

/**
 * The dispatch context's refusals, free of HTTP: the edge (src/http/errors.ts) maps them to
 * problem+json. Codes (catalogued in src/http/problem-catalogue.ts):
 *   not_a_driver           403  the caller has no driver role (an admin is not a driver)
 *   driver_offline         409  a position from a driver who is not on shift
 *   location_invalid       400  out of range, accuracy too coarse
 *   location_in_future     400  recordedAt later than the server's clock (with a small skew)
 *   location_too_old       400  recordedAt older than DISPATCH_LOCATION_MAX_AGE_SECONDS
 *   location_out_of_order  409  recordedAt not after the driver's last accepted fix
 *   location_too_frequent  429  sooner than DISPATCH_LOCATION_MIN_INTERVAL_MS after the last accepted fix
 *   location_impossible_speed 422 faster than the vehicle's limit since the last fix: flagged, not used
 *   driver_not_approved    403  going online without an approved application (onboarding)
 *   driver_documents_expired 409 going online with an expired licence or insurance
 *   application_*          400/404/409/422  onboarding: missing or invalid documents, review order
 *   background_check_required 409 approval before the background check is clear
 *   incentive_rule_invalid / incentive_rule_not_found / invalid_period   earnings
 *   incident_photo_invalid / report_not_found                            safety
 *   delivery_photo_required 422 a delivery (or failed delivery) without its photo
 *   delivery_proof_invalid  422 a photo or signature that is not a clean file of this order by this driver
 *   offer_* / order_taken / dispatch_busy / dispatch_closed / dispatch_not_found   offers
 *   dispatch_not_retryable 409  a staff retry of a dispatch that is not failed, or whose order was taken
 */
export const dispatchErrors = domainErrors('dispatch');

import type { PersonalDataHook } from '../../platform/context.js';
import type { DriverLocationIndex } from './location-index.js';
import type { DeliveryProof } from './delivery-proof.js';
import type { MaintenanceRepository } from './maintenance-repository.js';
import type { OnboardingRepository } from './onboarding-repository.js';
import type { DispatchRepository } from './repository.js';
import type { Safety } from './safety.js';
import type { SpeedAlerts } from './speed-alerts.js';

/**
 * The dispatch context's share of a driver's data (issue #15): shift, last position, shift
 * history, flagged fixes, stored speed alerts and the trails of the orders they carried. Erasure deletes them all and
 * takes the driver out of the index; idempotent.
 */
export function dispatchPersonalData(
  repository: DispatchRepository,
  index: DriverLocationIndex,
  more: {
    onboarding: OnboardingRepository;
    safety: Pick<Safety, 'exportOf' | 'erase'>;
    deliveryProof: Pick<DeliveryProof, 'exportOf' | 'erase'>;
    maintenance: Pick<MaintenanceRepository, 'find' | 'erase'>;
    speedAlerts: Pick<SpeedAlerts, 'exportOf' | 'erase'>;
  },
): PersonalDataHook {
  return {
    async export(driverId) {
      const [
        availability,
        shifts,
        flags,
        application,
        safetyReports,
        failedDeliveries,
        maintenance,
        speedAlerts,
      ] = await Promise.all([
        repository.availability(driverId),
        repository.shiftsOf(driverId),
        repository.flagsOf(driverId),
        more.onboarding.find(driverId),
        more.safety.exportOf(driverId),
        more.deliveryProof.exportOf(driverId),
        more.maintenance.find(driverId),
        more.speedAlerts.exportOf(driverId),
      ]);
      return {
        application: application ?? null,
        safetyReports,
        failedDeliveries,
        vehicleMaintenance: maintenance ?? null,
        speedAlerts,
        availability: availability ?? null,
        shifts: shifts.map((shift) => ({ ...shift, at: shift.at.toISOString() })),
        flaggedFixes: flags.map((flag) => ({
          reason: flag.reason,
          latitude: flag.latitude,
          longitude: flag.longitude,
          recordedAt: flag.recorded_at.toISOString(),
          speedKmh: flag.speed_kmh,
        })),
      };
    },
    async erase(driverId) {
      await index.remove(driverId);
      await more.onboarding.erase(driverId);
      await more.safety.erase(driverId);
      await more.deliveryProof.erase(driverId);
      await more.maintenance.erase(driverId);
      await more.speedAlerts.erase(driverId);
      return repository.erase(driverId);
    },
  };
}

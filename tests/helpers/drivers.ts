import type { Vehicle } from '../../src/modules/dispatch/index.js';
import type { TestApp } from './app.js';
import { createUser, type CreatedUser, type CreateUserOptions } from './auth.js';

/**
 * Drivers who may go on shift. Since onboarding (docs/dispatch.md, "Onboarding"), only a driver
 * whose application was approved goes online; tests that are not about onboarding get one here
 * through the same fixture path as the demo seed (`onboarding.seedApproved`: an approved
 * application with a clear background check and documents valid for a year). Tests of
 * onboarding itself go through the HTTP routes instead.
 */
export async function approveDriver(
  testApp: TestApp,
  userId: string,
  vehicle: Vehicle = 'motorbike',
): Promise<void> {
  await testApp.services.dispatch.onboarding.seedApproved(userId, vehicle);
}

export async function approvedDriver(
  testApp: TestApp,
  options: CreateUserOptions & { vehicle?: Vehicle } = {},
): Promise<CreatedUser> {
  const { vehicle, ...userOptions } = options;
  const driver = await createUser(testApp, { ...userOptions, roles: userOptions.roles ?? ['driver'] });
  await approveDriver(testApp, driver.userId, vehicle);
  return driver;
}

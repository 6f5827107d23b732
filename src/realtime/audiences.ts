/**
 * How the transport addresses people: every message goes to audiences, and a connection hears
 * only the audiences its endpoint granted at the upgrade, so visibility is decided once, by the
 * publisher (who hears which event) and the endpoint (who may open it); the transport never
 * filters. Contexts that publish and contexts that grant use these names; a context may add
 * audiences of its own (orders: `order:<orderId>` for public tracking).
 *
 *   user:<userId>      the person, whatever their role (customers follow their orders here)
 *   owner:<userId>     a restaurant owner, for the restaurants they own
 *   drivers            every driver on shift (claimable orders)
 *   driver:<userId>    one driver (the orders they claimed)
 *   admin              administrators
 *   support            support agents
 *   agent:<userId>     one support agent (the tickets assigned to them: live chat)
 */
export const audiences = {
  customer: (userId: string) => `user:${userId}`,
  owner: (userId: string) => `owner:${userId}`,
  drivers: 'drivers',
  driver: (userId: string) => `driver:${userId}`,
  admin: 'admin',
  support: 'support',
  agent: (userId: string) => `agent:${userId}`,
};

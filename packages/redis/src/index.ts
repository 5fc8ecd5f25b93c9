export type * from "./contract.js";
export type { RedisBackplane } from "./backplane.js";
export { redisBackplane } from "./backplane.js";
export type { RedisBackplaneOptions } from "./options.js";
export { DEFAULT_REDIS_BACKPLANE_OPTIONS } from "./options.js";

export type { Behaviour, BehaviourKind, Clock, HostileProxy, HostileProxyOptions, HostileStats } from "./types.js";
export { REAL_CLOCK } from "./clock.js";
export { DEFAULT_COMPRESS_BLOCK_BYTES } from "./compress.js";
export { BEHAVIOUR_KINDS, describeBehaviour, validateBehaviour, validateBehaviours } from "./describe.js";
export { DEFAULT_HOSTILE_PROXY_OPTIONS, startHostileProxy } from "./proxy.js";
export type { NginxConfig, NginxOptions, NginxProxy } from "./nginx.js";
export { DEFAULT_NGINX_OPTIONS, NGINX_CONFIGS, findNginx, startNginx } from "./nginx.js";

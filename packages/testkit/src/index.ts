export type { Listener, Mount, TestServer } from "./harness.js";
export { NODE_HTTP_MOUNT, TEST_SERVER_OPTIONS, startTestServer } from "./harness.js";
export { sleep, waitFor, within } from "./wait.js";
export { freePort } from "./ports.js";
export type { Forwarder } from "./forwarder.js";
export { startForwarder } from "./forwarder.js";
export type { Behaviour, BehaviourKind, HostileProxy, HostileProxyOptions, HostileStats, NginxConfig, NginxOptions, NginxProxy } from "./hostile/index.js";
export {
  BEHAVIOUR_KINDS,
  DEFAULT_COMPRESS_BLOCK_BYTES,
  DEFAULT_HOSTILE_PROXY_OPTIONS,
  DEFAULT_NGINX_OPTIONS,
  NGINX_CONFIGS,
  describeBehaviour,
  findNginx,
  startHostileProxy,
  startNginx,
  validateBehaviour,
  validateBehaviours,
} from "./hostile/index.js";
export type { TestCertificate } from "./tls.js";
export { selfSignedCertificate } from "./tls.js";
export { FakeClock, flush } from "./fake-clock.js";

export { share } from "./shared-channel.js";
export type { SharedChannel } from "./shared-channel.js";
export { DEFAULT_SHARE_OPTIONS } from "./options.js";
export type { LockManagerLike, ShareOptions } from "./options.js";
export { serveSharedWorker } from "./worker.js";
export type { SharedWorkerScope } from "./worker.js";

/** The SharedWorker script (`dist/browser/share-worker.js`): serve the shared connection. */
import { serveSharedWorker } from "./worker.js";

serveSharedWorker();

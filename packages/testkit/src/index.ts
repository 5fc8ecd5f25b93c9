export type { TestServer } from "./harness.js";
export { TEST_SERVER_OPTIONS, startTestServer } from "./harness.js";
export { sleep, waitFor, within } from "./wait.js";

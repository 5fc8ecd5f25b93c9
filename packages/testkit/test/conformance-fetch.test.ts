/**
 * The conformance suite through the server's Fetch API handler (`rt.fetch`), served on Node by
 * `@hono/node-server` (a real Fetch-based server: node's request becomes a `Request`, the
 * `Response` body stream is piped back). SSE and long-poll; WebSocket needs a runtime upgrade
 * API that a plain Fetch handler does not have (see the README).
 */
import type { Server } from "node:http";
import { createAdaptorServer } from "@hono/node-server";
import { describeConformance } from "@throughline/testkit/conformance";
import type { Mount } from "@throughline/testkit";

const FETCH_MOUNT: Mount = (rt) => createAdaptorServer({ fetch: rt.fetch }) as Server;

describeConformance("sse", { label: "the Fetch handler (@hono/node-server)", mount: FETCH_MOUNT });
describeConformance("long-poll", { label: "the Fetch handler (@hono/node-server)", mount: FETCH_MOUNT });

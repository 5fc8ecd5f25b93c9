import { describeConformance } from "@throughline/testkit/conformance";

describeConformance("sse");
describeConformance("websocket");
describeConformance("long-poll");

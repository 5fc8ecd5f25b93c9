/**
 * The demo's topics, shared by server and client: one `Topic` value per topic carries the
 * `Schema` of its data, so the server validates what it publishes and the client decodes it.
 */
import * as Schema from "effect/Schema";
import { Topic } from "@throughline/effect/client";

/** What the server publishes on "notifications" (events "info", "warning", "reply"). */
export const Notification = Schema.Struct({
  title: Schema.String,
  body: Schema.String,
  level: Schema.Literals(["info", "warning", "reply"]),
  time: Schema.String,
});

export const Notifications = Topic.make("notifications", Notification);

/** What clients send; anything else is skipped by the server. */
export const Reply = Schema.Struct({ text: Schema.String.check(Schema.isMaxLength(200)) });

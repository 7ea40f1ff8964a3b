/** The package name that starts every message this package throws or logs. */
export const packageName = "@mastra/inngest-pubsub-realtime";

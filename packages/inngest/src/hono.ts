export { serve } from "@mastra/inngest-serve-hono";

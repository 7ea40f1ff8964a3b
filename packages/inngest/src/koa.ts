export { serve } from "@mastra/inngest-serve-koa";

export { serve } from "@mastra/inngest-serve-fastify";

export { serve } from "@mastra/inngest-serve-express";

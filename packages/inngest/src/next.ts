export { serve } from "@mastra/inngest-serve-next";

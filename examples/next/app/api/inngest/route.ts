import { serve } from "@mastra/inngest/next";
import { inngest, mastra } from "../../../src/mastra.ts";

// The Inngest endpoint: the engine syncs it (PUT), introspects it (GET) and calls the agent's steps (POST).
export const { GET, POST, PUT } = serve({ mastra, inngest });

import { serve } from "@mastra/inngest/express";
import express, { type Express } from "express";
import { durableAgent, inngest, mastra } from "./mastra.ts";

/** The Express app: the Inngest endpoint at `/api/inngest` and a chat route at `POST /chat`. */
export const app: Express = express();

// For POST /chat; serve would read its own body without it. It parses the engine's calls too, and a
// call carries the run's state, hence a limit above the default 100 kB.
app.use(express.json({ limit: "10mb" }));
app.use("/api/inngest", serve({ mastra, inngest }));

app.post("/chat", async (request, response) => {
  const message: unknown = request.body?.message;
  if (typeof message !== "string" || message.trim() === "") {
    response.status(400).json({ error: 'send a JSON body { "message": "..." }' });
    return;
  }
  const { output, runId, cleanup } = await durableAgent.stream(message);
  try {
    response.json({ runId, text: await output.text });
  } finally {
    cleanup();
  }
});

import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/fastify";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) as a Fastify route handler, for the methods GET, POST and PUT.
 *
 * @example
 * import { serve } from "@mastra/inngest-serve-fastify";
 *
 * fastify.route({ method: ["GET", "POST", "PUT"], url: "/api/inngest", handler: serve({ mastra, inngest }) });
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);

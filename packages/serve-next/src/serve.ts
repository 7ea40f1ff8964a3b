import { createServe, type MastraServeOptions } from "@mastra/inngest-serve";
import { serve as inngestServe } from "inngest/next";

/**
 * Serves the Inngest functions of a Mastra instance (its durable agents, its Inngest workflows and
 * `functions`) from a Next.js route: export its `GET`, `POST` and `PUT` from an App Router
 * `route.ts`, or the handler itself from a Pages Router API route.
 *
 * @example
 * // app/api/inngest/route.ts
 * import { serve } from "@mastra/inngest-serve-next";
 *
 * export const { GET, POST, PUT } = serve({ mastra, inngest });
 */
export const serve: (options: MastraServeOptions) => ReturnType<typeof inngestServe> = createServe(inngestServe);

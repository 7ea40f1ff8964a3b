// `pnpm demo:chat`: builds the page, starts the local Inngest engine and the chat server, syncs
// them, prints the URL, and runs until Ctrl-C. PORT (default 3000) picks the port, REDIS_URL a
// shared history, OPENAI_API_KEY a real model.
import { fileURLToPath } from "node:url";
import { startDevServer } from "@mastra/inngest-dev-server";
import { startChatServer } from "./chat-server.ts";
import { buildPage } from "./page-build.ts";

const port = Number(process.env.PORT ?? 3000);
const line = (text = ""): void => void process.stdout.write(`${text}\n`);

line("Durable support chat: a Mastra agent on Inngest behind useChat");
line("  building the page…");
const pageDirectory = await buildPage(fileURLToPath(new URL("../dist/page", import.meta.url)));
const engine = await startDevServer();
let server: Awaited<ReturnType<typeof startChatServer>>;
try {
  server = await startChatServer({ engineUrl: engine.url, pageDirectory, port, redisUrl: process.env.REDIS_URL });
} catch (error) {
  await engine.close();
  const reason = (error as NodeJS.ErrnoException).code === "EADDRINUSE" ? `port ${port} is in use (set PORT)` : error;
  throw new Error(`the chat server did not start: ${reason}`);
}
const synced = await engine.syncApp(server.serveUrl);
line(`  engine  ${engine.url}  (local dev server; serves ${synced.functionIds.join(", ")})`);
line(`  model   ${server.model}`);
line(`  history ${process.env.REDIS_URL ? `Redis at ${process.env.REDIS_URL}` : "in this process's memory"}`);
line();
line(`  Open ${server.url} and sign in with any name. Ctrl-C stops.`);

process.once("SIGINT", () => {
  line();
  line("Stopping the chat server and the engine.");
  void server
    .close()
    .then(() => engine.close())
    .finally(() => process.exit(130));
});

// The chat server as a process of its own, as an app runs in production: the browser test kills
// it mid-answer and starts it again. It prints "ready <url>" once it listens, and exits when its
// stdin closes (the parent is gone). Environment: ENGINE_URL, PAGE_DIRECTORY, PORT, and REDIS_URL
// for a history that outlives the process.
import { startChatServer } from "./chat-server.ts";

const { ENGINE_URL: engineUrl, PAGE_DIRECTORY: pageDirectory, PORT: port, REDIS_URL: redisUrl } = process.env;
if (!engineUrl || !pageDirectory || !port) {
  process.stderr.write("set ENGINE_URL, PAGE_DIRECTORY and PORT (and REDIS_URL for a shared history)\n");
  process.exit(2);
}
const server = await startChatServer({ engineUrl, pageDirectory, port: Number(port), redisUrl });
const stop = async (): Promise<void> => {
  await server.close();
  process.exit(0);
};
process.once("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.resume();
process.stdout.write(`ready ${server.url}\n`);

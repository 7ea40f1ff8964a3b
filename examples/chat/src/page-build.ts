import { fileURLToPath } from "node:url";
import { build } from "vite";

const pageSource = fileURLToPath(new URL("./page/", import.meta.url));

/**
 * Bundles the page (`src/page`: React, `useChat`) into `outDirectory` with Vite, and returns that
 * directory. Vite needs no plugin here: it compiles TSX to React's automatic JSX runtime itself.
 *
 * @example
 * const pageDirectory = await buildPage(join(tmpdir(), "chat-page"));
 */
export async function buildPage(outDirectory: string): Promise<string> {
  // Vite sets NODE_ENV to "production" for a build when it is unset; the server that starts in
  // this process afterwards runs in dev mode against the local engine, which that would refuse.
  const nodeEnv = process.env.NODE_ENV;
  try {
    await build({
      root: pageSource,
      base: "/",
      configFile: false,
      // Warnings about dependencies' "use client" directives say nothing about this page.
      logLevel: "error",
      build: { outDir: outDirectory, emptyOutDir: true },
    });
  } finally {
    if (nodeEnv === undefined) {
      delete process.env.NODE_ENV;
    } else {
      process.env.NODE_ENV = nodeEnv;
    }
  }
  return outDirectory;
}

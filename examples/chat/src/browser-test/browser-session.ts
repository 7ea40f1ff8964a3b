import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Browser, BrowserContext } from "playwright-core";
import { ChatPage } from "./chat-page.ts";

/** Where screenshots of failed tests go (ignored by git). */
const resultsDirectory = fileURLToPath(new URL("../../test-results/", import.meta.url));

/** Opens pages of the chat, each user in a browser context of its own (own cookies and storage). */
export interface Users {
  signIn(user: string): Promise<ChatPage>;
}

/**
 * Runs a browser scenario with fresh browser contexts, which it closes afterwards. When the
 * scenario throws, it first saves a screenshot of every page still open to `test-results/`, and
 * names the files in the error.
 */
export async function browserScenario(
  browser: Browser,
  url: string,
  name: string,
  scenario: (users: Users) => Promise<void>,
): Promise<void> {
  const contexts: BrowserContext[] = [];
  const users: Users = {
    async signIn(user) {
      const context = await browser.newContext({ viewport: { width: 1024, height: 720 } });
      contexts.push(context);
      return ChatPage.signIn(context, url, user);
    },
  };
  try {
    await scenario(users);
  } catch (error) {
    const saved = await screenshots(contexts, name);
    if (error instanceof Error && saved.length > 0) {
      error.message += `\nscreenshots: ${saved.join(", ")}`;
    }
    throw error;
  } finally {
    await Promise.all(contexts.map((context) => context.close()));
  }
}

async function screenshots(contexts: readonly BrowserContext[], name: string): Promise<string[]> {
  mkdirSync(resultsDirectory, { recursive: true });
  const slug = name.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
  const pages = contexts.flatMap((context) => context.pages());
  const saved: string[] = [];
  for (const [index, page] of pages.entries()) {
    const path = `${resultsDirectory}${slug}-${index + 1}.png`;
    await page.screenshot({ path, fullPage: true }).then(
      () => saved.push(path),
      () => undefined,
    );
  }
  return saved;
}

import { until } from "@mastra/inngest-testing/helpers";
import type { BrowserContext, Page } from "playwright-core";
import type { RunPosition } from "../run-position.ts";

/** The chat page as a user sees it, for the browser tests: what it shows, and what a user does on it. */
export class ChatPage {
  readonly page: Page;
  readonly user: string;

  private constructor(page: Page, user: string) {
    this.page = page;
    this.user = user;
  }

  /** Opens the page in `context` and signs in as `user`. */
  static async signIn(context: BrowserContext, url: string, user: string): Promise<ChatPage> {
    const page = await context.newPage();
    await page.goto(url);
    await page.getByTestId("user-name").fill(user);
    await page.getByTestId("sign-in").click();
    await page.getByTestId("signed-in-as").waitFor();
    return new ChatPage(page, user);
  }

  /** Types a message and sends it. */
  async send(text: string): Promise<void> {
    await this.page.getByTestId("message-input").fill(text);
    await this.page.getByTestId("send").click();
  }

  /** The text of the assistant's answers as shown, all blocks joined. */
  async answer(): Promise<string> {
    return (await this.page.getByTestId("assistant-text").allTextContents()).join("");
  }

  /**
   * Waits until the answer shown equals `expected`, and returns every distinct text shown on the
   * way: the stages of a streamed answer (a text that only ever appears whole has one). Fails at
   * once when the page shows anything but the start of `expected`: a repeat, a gap, another text.
   */
  async waitForAnswer(expected: string, timeoutMs = 20_000): Promise<string[]> {
    const stages: string[] = [];
    await until(
      async () => {
        const shown = await this.answer();
        if (shown !== stages.at(-1)) {
          stages.push(shown);
        }
        if (!expected.startsWith(shown)) {
          throw new Error(`the page shows ${JSON.stringify(shown)}, which is not the start of the answer`);
        }
        return shown === expected;
      },
      { timeoutMs, intervalMs: 20, description: `the answer of ${this.user} equal to ${JSON.stringify(expected)}` },
    ).catch((error: Error) => {
      throw new Error(`${error.message}; shown: ${JSON.stringify(stages.at(-1))}`);
    });
    return stages;
  }

  /** Waits until the answer shown has at least `length` characters (mid-answer), and returns it. */
  async waitForPartialAnswer(length: number): Promise<string> {
    return until(
      async () => {
        const shown = await this.answer();
        return shown.length >= length ? shown : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 20, description: `${length} characters of the answer` },
    );
  }

  /** Where the page is in its run, as it saved it with the messages. */
  async savedPosition(): Promise<RunPosition | undefined> {
    return this.page.evaluate(
      (user) =>
        (JSON.parse(localStorage.getItem(`durable-chat:${user}`) ?? "{}") as { position?: RunPosition }).position,
      this.user,
    );
  }

  /** The assistant's text in the conversation the page keeps in `localStorage`, what a reload shows first. */
  async savedAnswer(): Promise<string> {
    return this.page.evaluate((user) => {
      type KeptPart = { type: string; text?: string };
      const kept = JSON.parse(localStorage.getItem(`durable-chat:${user}`) ?? "{}") as {
        messages?: Array<{ role: string; parts: KeptPart[] }>;
      };
      return (kept.messages ?? [])
        .filter((message) => message.role === "assistant")
        .flatMap((message) => message.parts.filter((part) => part.type === "text").map((part) => part.text ?? ""))
        .join("");
    }, this.user);
  }

  /** Waits until the page has saved a position in `state` (the run's stream ended there), and returns it. */
  async waitForPosition(state: RunPosition["state"]): Promise<RunPosition> {
    return until(
      async () => {
        const position = await this.savedPosition();
        return position?.state === state ? position : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 20, description: `a saved position in state ${state}` },
    );
  }

  /** The tool calls shown, with their state (`approval-requested`, `output-available`, ...). */
  async toolCallStates(): Promise<string[]> {
    return this.page
      .getByTestId("tool-call")
      .evaluateAll((elements) => elements.map((element) => element.getAttribute("data-state") ?? ""));
  }

  /** The status line (what the page is doing) and the error it shows, if any. */
  async statusLine(): Promise<string> {
    return (await this.page.locator("footer.status").textContent()) ?? "";
  }
}

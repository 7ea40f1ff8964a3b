import type { Context, Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";

/** The cookie that holds the signed-in user's name. */
const cookieName = "chat-user";
const namePattern = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/**
 * The signed-in user of a request, or undefined. The example trusts a plain cookie, set by
 * `POST /api/session`: a real app reads its own authentication here (a session, a verified token),
 * and the rest stays as it is, since the routes only pass this id on as the run's owner.
 */
export function userOf(context: Context): string | undefined {
  const name = getCookie(context, cookieName);
  return name !== undefined && namePattern.test(name) ? name : undefined;
}

/**
 * Adds the sign-in routes: `POST /api/session` with `{ "user": "alice" }` signs in (lowercase
 * letters, digits, `-` and `_`), `GET /api/session` answers `{ user }`, `DELETE /api/session` signs out.
 */
export function addSessionRoutes(app: Hono): void {
  app.get("/api/session", (c) => c.json({ user: userOf(c) ?? null }));
  app.post("/api/session", async (c) => {
    const body = (await c.req.json().catch(() => undefined)) as { user?: unknown } | undefined;
    const user = typeof body?.user === "string" ? body.user.trim().toLowerCase() : "";
    if (!namePattern.test(user)) {
      return c.json({ error: "a user name is 1 to 32 letters, digits, - or _" }, 400);
    }
    setCookie(c, cookieName, user, { httpOnly: true, sameSite: "Strict", path: "/" });
    return c.json({ user });
  });
  app.delete("/api/session", (c) => {
    deleteCookie(c, cookieName, { path: "/" });
    return c.json({ user: null });
  });
}

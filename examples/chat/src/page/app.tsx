import { type ReactElement, useEffect, useState } from "react";
import { forgetChat } from "./chat-store.ts";
import { ChatView } from "./chat-view.tsx";
import { SignIn } from "./sign-in.tsx";

/** The page: the sign-in form, or the signed-in user's conversation. `?run=<id>` opens a run by link. */
export function App(): ReactElement {
  const [user, setUser] = useState<string | null | undefined>(undefined);
  // A new conversation mounts a new chat view, whose session starts from a new saved chat.
  const [conversation, setConversation] = useState(0);
  const openRunId = new URLSearchParams(location.search).get("run") ?? undefined;

  useEffect(() => {
    void fetch("/api/session")
      .then((response) => response.json() as Promise<{ user: string | null }>)
      .then((body) => setUser(body.user));
  }, []);

  if (user === undefined) {
    return <p className="loading">Loading…</p>;
  }
  if (user === null) {
    return <SignIn onSignedIn={setUser} />;
  }
  const signOut = async (): Promise<void> => {
    await fetch("/api/session", { method: "DELETE" });
    setUser(null);
  };
  const startOver = (): void => {
    forgetChat(user);
    if (openRunId !== undefined) {
      location.search = "";
    }
    setConversation((count) => count + 1);
  };
  return (
    <div className="app">
      <header>
        <h1>Durable support chat</h1>
        <span data-testid="signed-in-as">Signed in as {user}</span>
        <button type="button" onClick={startOver}>
          New conversation
        </button>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <ChatView key={`${user}:${conversation}`} user={user} openRunId={openRunId} />
    </div>
  );
}

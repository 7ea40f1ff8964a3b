import { type FormEvent, type ReactElement, useState } from "react";

/** The sign-in form: any name will do in this example; the server keeps it in a cookie. */
export function SignIn({ onSignedIn }: { onSignedIn: (user: string) => void }): ReactElement {
  const [name, setName] = useState("");
  const [error, setError] = useState<string | undefined>();
  const submit = async (event: FormEvent): Promise<void> => {
    event.preventDefault();
    const response = await fetch("/api/session", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ user: name }),
    });
    const body = (await response.json()) as { user?: string; error?: string };
    if (response.ok && body.user) {
      onSignedIn(body.user);
    } else {
      setError(body.error ?? `sign-in failed (${response.status})`);
    }
  };
  return (
    <form className="sign-in" onSubmit={(event) => void submit(event)}>
      <h1>Durable support chat</h1>
      <label>
        Your name <input data-testid="user-name" value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <button type="submit" data-testid="sign-in">
        Sign in
      </button>
      {error ? <p className="error">{error}</p> : null}
    </form>
  );
}

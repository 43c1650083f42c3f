import { describe, expect, it } from "vitest";

import { tokenWith } from "../testing/tokens";
import { ID_TOKEN_KEY, SessionStore } from "./session";

/** An in-memory Web Storage, the same interface as window.sessionStorage. */
class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length() {
    return this.items.size;
  }
  clear() {
    this.items.clear();
  }
  getItem(key: string) {
    return this.items.get(key) ?? null;
  }
  key(index: number) {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string) {
    this.items.delete(key);
  }
  setItem(key: string, value: string) {
    this.items.set(key, value);
  }
}

const NOW_MS = 1_700_000_000_000;
const valid = tokenWith({ sub: "s", "cognito:username": "demo-viewer", "cognito:groups": ["viewer"], exp: NOW_MS / 1000 + 3600 });
const expired = tokenWith({ sub: "s", exp: NOW_MS / 1000 - 1 });

describe("SessionStore", () => {
  it("keeps a saved token across a reload (a new store over the same storage)", () => {
    // Given a token saved in sessionStorage
    const storage = new MemoryStorage();
    new SessionStore(storage, () => NOW_MS).save(valid);
    // When the page reloads and a new store reads it
    const session = new SessionStore(storage, () => NOW_MS).load();
    // Then the session is back, with the claims of the token
    expect(session?.idToken).toBe(valid);
    expect(session?.claims.groups).toEqual(["viewer"]);
  });

  it("drops an expired token on load", () => {
    // Given an expired token left in storage
    const storage = new MemoryStorage();
    storage.setItem(ID_TOKEN_KEY, expired);
    // When it is loaded
    const session = new SessionStore(storage, () => NOW_MS).load();
    // Then there is no session and the token is gone
    expect(session).toBeNull();
    expect(storage.getItem(ID_TOKEN_KEY)).toBeNull();
  });

  it("drops a malformed token on load", () => {
    const storage = new MemoryStorage();
    storage.setItem(ID_TOKEN_KEY, "garbage");
    expect(new SessionStore(storage, () => NOW_MS).load()).toBeNull();
    expect(storage.length).toBe(0);
  });

  it("refuses to save a token that is already expired", () => {
    const storage = new MemoryStorage();
    expect(() => new SessionStore(storage, () => NOW_MS).save(expired)).toThrow(/already expired/);
    expect(storage.length).toBe(0);
  });

  it("forgets the token on clear (sign-out)", () => {
    const storage = new MemoryStorage();
    const store = new SessionStore(storage, () => NOW_MS);
    store.save(valid);
    store.clear();
    expect(store.load()).toBeNull();
  });
});

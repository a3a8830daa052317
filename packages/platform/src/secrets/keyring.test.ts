import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { Keyring, keyringFromConfig, parseKeys } from "./keyring.ts";

const k = (id: string) => ({ id, key: randomBytes(32) });

describe("Keyring (AES-256-GCM)", () => {
  const [a, b] = [k("a"), k("b")];
  const ring = new Keyring([a, b], "a");

  test("seals under the active key with a fresh 96-bit nonce, and opens what it sealed", () => {
    const one = ring.seal("NAME", "value é");
    const two = ring.seal("NAME", "value é");
    expect(one.key_id).toBe("a");
    expect(one.nonce.length).toBe(12);
    expect(Buffer.from(one.nonce).equals(Buffer.from(two.nonce))).toBe(false);
    expect(one.ciphertext.length).toBe(Buffer.byteLength("value é") + 16);
    expect(ring.open("NAME", one)).toBe("value é");
  });

  test("any configured key opens; an unknown key, another name, or an altered byte does not", () => {
    const underB = new Keyring([a, b], "b").seal("NAME", "v");
    expect(ring.open("NAME", underB)).toBe("v");
    expect(() => new Keyring([a], "a").open("NAME", underB)).toThrow('sealed with key "b", which SECRETS_KEYS does not hold');
    expect(() => ring.open("OTHER", underB)).toThrow();
    const altered = Buffer.from(underB.ciphertext);
    altered[0]! ^= 1;
    expect(() => ring.open("NAME", { ...underB, ciphertext: altered })).toThrow();
    const tag = Buffer.from(underB.ciphertext);
    tag[tag.length - 1]! ^= 1;
    expect(() => ring.open("NAME", { ...underB, ciphertext: tag })).toThrow();
  });

  test("the active key must be one of the keys", () => {
    expect(() => new Keyring([a], "b")).toThrow('the active key "b" is not one of the keys');
  });
});

describe("parseKeys and keyringFromConfig", () => {
  test("<id>:<base64 of 32 bytes>, comma-separated; ids unique", () => {
    const raw = `one:${randomBytes(32).toString("base64")}, two:${randomBytes(32).toString("base64")}`;
    const parsed = parseKeys(raw);
    expect(parsed.ok && parsed.keys.map((x) => x.id)).toEqual(["one", "two"]);
    expect(parseKeys("")).toEqual({ ok: true, keys: [] });
    for (const bad of ["one", `:${randomBytes(32).toString("base64")}`, `one:${randomBytes(31).toString("base64")}`, "one:!!!!"])
      expect(parseKeys(bad).ok).toBe(false);
    expect(keyringFromConfig({ secretsKeys: raw, secretsActiveKey: "two" }, () => {}).activeId).toBe("two");
  });

  test("no keys: a fixed development key (every process agrees) and a warning", () => {
    const warned: string[] = [];
    const one = keyringFromConfig({ secretsKeys: "", secretsActiveKey: "" }, (m) => warned.push(m));
    const other = keyringFromConfig({ secretsKeys: "", secretsActiveKey: "" }, () => {});
    expect(other.open("N", one.seal("N", "v"))).toBe("v");
    expect(warned).toHaveLength(1);
  });
});

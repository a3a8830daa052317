import type { Rng } from "./prng.ts";
import { hostileKey, hostileNumber, hostileString, nested, randomValue } from "./values.ts";

type Container = Record<string, unknown> | unknown[];
interface Slot {
  parent: Container;
  key: string | number;
}

const isContainer = (v: unknown): v is Container => v !== null && typeof v === "object";

/** Every slot (parent, key) of a JSON value, collected without recursion. */
function slots(root: Container): Slot[] {
  const out: Slot[] = [];
  const todo: Container[] = [root];
  while (todo.length > 0) {
    const c = todo.pop()!;
    const keys: Array<string | number> = Array.isArray(c) ? c.map((_, i) => i) : Object.keys(c);
    for (const key of keys) {
      out.push({ parent: c, key });
      const v = (c as Record<string | number, unknown>)[key];
      if (isContainer(v)) todo.push(v);
    }
  }
  return out;
}

const set = (s: Slot, v: unknown) => {
  if (Array.isArray(s.parent)) s.parent[s.key as number] = v;
  else Object.defineProperty(s.parent, s.key, { value: v, enumerable: true, writable: true, configurable: true });
};
const get = (s: Slot): unknown => (s.parent as Record<string | number, unknown>)[s.key];

/** Applies 1..n random mutations to a copy of a valid body: the classic near-miss inputs. */
export function mutate(rng: Rng, valid: unknown): unknown {
  const root = { v: structuredClone(valid) };
  for (let n = rng.int(1, 3); n > 0; n--) {
    const all = slots(root);
    if (all.length === 0) return randomValue(rng);
    const s = rng.pick(all);
    const old = get(s);
    switch (rng.int(0, 10)) {
      case 0:
        set(s, hostileString(rng));
        break;
      case 1:
        set(s, hostileNumber(rng));
        break;
      case 2:
        set(s, randomValue(rng));
        break;
      case 3:
        if (Array.isArray(s.parent)) s.parent.splice(s.key as number, 1);
        else delete s.parent[s.key as string];
        break;
      case 4:
        // Own properties named like prototype members: JSON.parse makes them plain keys.
        if (isContainer(old) && !Array.isArray(old))
          Object.defineProperty(old, hostileKey(rng), { value: randomValue(rng, 1), enumerable: true, writable: true, configurable: true });
        else set(s, { [hostileKey(rng)]: old });
        break;
      case 5:
        set(s, nested(rng, rng.pick([5, 20, 30, 31, 32, 33, 40, 300])));
        break;
      case 6:
        if (Array.isArray(old))
          set(
            s,
            Array.from({ length: rng.pick([0, 49, 50, 51, 200]) }, (_, i) => structuredClone(old[i % Math.max(1, old.length)] ?? null)),
          );
        else set(s, [old]);
        break;
      case 7:
        set(s, rng.pick([null, true, 0, "", [], {}, "null", "[]"]));
        break;
      case 8:
        if (typeof old === "string")
          set(s, `${old}${rng.pick(["{{input.__proto__}}", "{{steps.x.constructor}}", "\u0000", "\ud800", "'--"])}`);
        else set(s, JSON.stringify(old) ?? "undefined");
        break;
      case 9:
        if (typeof old === "string" && old.length > 0) set(s, old.repeat(rng.pick([2, 100, 5000])).slice(0, 300_000));
        else set(s, hostileString(rng));
        break;
      default:
        set(s, rng.chance(0.5) ? { [hostileKey(rng)]: randomValue(rng, 2) } : [randomValue(rng, 2)]);
    }
  }
  return root.v;
}

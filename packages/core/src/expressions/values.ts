import { Duration, UnsignedInt } from "@marcbachmann/cel-js/evaluator";

/** A result that has no JSON form; the caller turns it into an ExpressionError. */
export class NotJson extends Error {}

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

/**
 * The library types a JS object by its `constructor`, so a JSON object with its own
 * "constructor" key (`{"constructor": 1}`) is refused as an unsupported type. Such objects are
 * handed over as Maps instead: copy-on-write, so variables without one are passed as they are.
 */
export function withoutConstructorKeys(value: unknown): unknown {
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const x = withoutConstructorKeys(value[i]);
      if (x === value[i]) continue;
      out ??= value.slice();
      out[i] = x;
    }
    return out ?? value;
  }
  if (typeof value !== "object" || value === null || value instanceof Map) return value;
  const entries = Object.entries(value);
  let changed = Object.hasOwn(value, "constructor");
  const converted = entries.map(([k, v]) => {
    const x = withoutConstructorKeys(v);
    if (x !== v) changed = true;
    return [k, x] as const;
  });
  if (!changed) return value;
  return Object.hasOwn(value, "constructor") ? new Map(converted) : Object.fromEntries(converted);
}

function jsonNumber(n: bigint, what: string): number {
  if (n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER)) return Number(n);
  throw new NotJson(`the ${what} ${n} is beyond what a JSON number holds exactly (±${Number.MAX_SAFE_INTEGER})`);
}

function mapKey(k: unknown): string {
  if (typeof k === "string") return k;
  if (typeof k === "bigint" || typeof k === "boolean" || typeof k === "number") return String(k);
  if (k instanceof UnsignedInt) return String(k.value);
  throw new NotJson("a map key is not a string, number or boolean");
}

function durationText(d: Duration): string {
  const seconds = Number(d.seconds);
  const nanos = Number(d.nanos);
  const total = seconds + nanos / 1e9;
  return `${Number.isInteger(total) ? total : total.toFixed(9).replace(/0+$/, "")}s`;
}

/**
 * A CEL value as plain JSON: ints and uints become numbers when they are safe integers, maps
 * objects; timestamps, durations and bytes take their JSON form in CEL's (proto3) JSON mapping.
 * Copy-on-write: a value that is already plain JSON is returned as it is, so a result can share
 * structure with the variables it was read from.
 */
export function toJson(value: unknown): unknown {
  switch (typeof value) {
    case "string":
    case "boolean":
      return value;
    case "number":
      if (!Number.isFinite(value)) throw new NotJson(`${value} is not a JSON number`);
      return value;
    case "bigint":
      return jsonNumber(value, "integer");
    case "undefined":
      throw new NotJson("there is no value");
    case "object":
      break;
    default:
      throw new NotJson(`a ${typeof value} is not a JSON value`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const x = toJson(value[i]);
      if (x === value[i]) continue;
      out ??= value.slice();
      out[i] = x;
    }
    return out ?? value;
  }
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [mapKey(k), toJson(v)]));
  if (value instanceof UnsignedInt) return jsonNumber(value.value, "unsigned integer");
  if (value instanceof Uint8Array) return Buffer.from(value).toString("base64");
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Duration) return durationText(value);
  if (!isPlainObject(value)) throw new NotJson(`a ${describeCel(value)} is not a JSON value`);
  // Most results are read from the variables and already plain: copied only from the first change.
  const record = value as Record<string, unknown>;
  let entries: Array<[string, unknown]> | undefined = Object.getPrototypeOf(value) === null ? [] : undefined;
  let i = 0;
  for (const k in record) {
    const v = record[k];
    const x = toJson(v);
    if (entries) entries.push([k, x]);
    else if (x !== v) {
      entries = Object.keys(record)
        .slice(0, i)
        .map((key): [string, unknown] => [key, record[key]]);
      entries.push([k, x]);
    }
    i++;
  }
  // fromEntries defines own properties, so a "__proto__" key stays data.
  return entries ? Object.fromEntries(entries) : value;
}

function describeCel(value: object): string {
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name === "Type" ? "type" : name === "Optional" ? "optional" : (name ?? "value");
}

/** A short description of a JSON value for an error message: its kind and a preview. */
export function describeJson(value: unknown): string {
  if (value === null) return "null";
  const kind = Array.isArray(value)
    ? "a list"
    : typeof value === "object"
      ? "a map"
      : typeof value === "string"
        ? "a string"
        : `a ${typeof value}`;
  let preview = JSON.stringify(value) ?? String(value);
  if (preview.length > 40) preview = `${preview.slice(0, 37)}...`;
  return `${kind} (${preview})`;
}

import type { Rng } from "./prng.ts";

/**
 * Hostile values for the fuzzer. Numbers that JSON.stringify cannot write (1e309, 2^64 exactly,
 * -0) are carried as RAW markers and spliced into the text after serialisation.
 */
const RAW = /"@@raw@@(.*?)@@"/g;
export const raw = (text: string) => `@@raw@@${text}@@`;
export const serialise = (v: unknown): string => (JSON.stringify(v) ?? "").replace(RAW, "$1");

export const RAW_NUMBERS = [
  "1e309",
  "-1e309",
  "18446744073709551616",
  "-9223372036854775809",
  "9007199254740993",
  "1e-400",
  "123456789012345678901234567890.123456789",
  "-0",
  "0.1e1",
  "1E2",
  "4.9e-324",
  "1.7976931348623157e308",
];

export const INJECTIONS = [
  "'; DROP TABLE workflows; --",
  "' OR '1'='1",
  "1; SELECT pg_sleep(5)",
  "\\'; TRUNCATE runs; --",
  "$1",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as it is
  "${7*7}",
  "#{7*7}",
  "<script>alert(1)</script>",
  "../../../../etc/passwd",
  "%00%ff",
  "{{input.__proto__}}",
  "{{input.__proto__.polluted}}",
  "{{steps.x.constructor}}",
  "{{ input.constructor.prototype }}",
  "{{steps.__proto__.toString}}",
  "{{input}}",
  "{{env.HOME}}",
  "{{{{input.a}}}}",
  "{{",
  "}}",
  "{{input.a.b.c.d.e.f.g.h}}",
  "http://169.254.169.254/latest/meta-data/",
  "http://[::1]:6379/",
  "file:///etc/passwd",
  "javascript:alert(1)",
];

export const UNICODE = [
  "\u0000",
  "a\u0000b",
  "\ud800",
  "\udc00",
  "x\udbff",
  "\udfff\ud800",
  "\ud83d\ude00",
  "\ufeff",
  "\uffff",
  "\u202e\u202d",
  "e\u0301\u0301\u0301",
  "名前",
  "\u0007\u001b[31m",
  "\r\n\t",
];

const ASCII = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.~!*'();:@&=+$,/?#[]% \"\\";

export function randomString(rng: Rng, maxLen = 40): string {
  const len = rng.int(0, maxLen);
  let s = "";
  for (let i = 0; i < len; i++) {
    const r = rng.next();
    if (r < 0.7) s += ASCII[rng.int(0, ASCII.length - 1)];
    else if (r < 0.85) s += String.fromCharCode(rng.int(0, 0xffff));
    else s += String.fromCodePoint(rng.int(0x10000, 0x10ffff));
  }
  return s;
}

export function hostileString(rng: Rng): string {
  switch (rng.int(0, 8)) {
    case 0:
      return rng.pick(INJECTIONS);
    case 1:
      return rng.pick(UNICODE);
    case 2:
      return rng.pick(UNICODE).repeat(rng.int(1, 3000));
    case 3:
      return "x".repeat(rng.pick([199, 200, 201, 2000, 2001, 5000, 70_000]));
    case 4:
      return `${rng.pick(INJECTIONS)}${rng.pick(UNICODE)}${randomString(rng, 10)}`;
    case 5:
      // An unclosed placeholder before long whitespace: the template parser once backtracked cubically on it.
      return `${rng.pick(["{{", "{{ input", "x {{ steps.a"])}${rng.pick([" ", "\t", "\n"]).repeat(rng.pick([100, 3000, 20_000]))}`;
    default:
      return randomString(rng);
  }
}

export function hostileNumber(rng: Rng): unknown {
  if (rng.chance(0.35)) return raw(rng.pick(RAW_NUMBERS));
  return rng.pick([0, -1, 1, 1.5, 0.1, 50, 51, 200, 201, 2 ** 31, 2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MIN_VALUE, 60_001, 3_600_001]);
}

/** A JSON value nested `depth` levels deep, built without recursion. */
export function nested(rng: Rng, depth: number): unknown {
  let v: unknown = rng.chance(0.5) ? 1 : "x";
  for (let i = 0; i < depth; i++) v = rng.chance(0.5) ? [v] : { a: v };
  return v;
}

export function randomValue(rng: Rng, budget = 3): unknown {
  const r = rng.next();
  if (budget <= 0 || r < 0.45) {
    switch (rng.int(0, 5)) {
      case 0:
        return null;
      case 1:
        return rng.chance(0.5);
      case 2:
        return hostileNumber(rng);
      default:
        return hostileString(rng);
    }
  }
  if (r < 0.6) return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, budget - 1));
  if (r < 0.9) {
    const o: Record<string, unknown> = {};
    for (let i = rng.int(0, 4); i > 0; i--) o[hostileKey(rng)] = randomValue(rng, budget - 1);
    return o;
  }
  return nested(rng, rng.pick([10, 31, 32, 33, 64, 200]));
}

export function hostileKey(rng: Rng): string {
  return rng.chance(0.5)
    ? rng.pick(["__proto__", "constructor", "prototype", "", "toString", "hasOwnProperty", "\u0000", "\ud800", "a.b", "$where"])
    : randomString(rng, 12);
}

/** Bodies that are not valid JSON, or valid JSON that no parser should be asked to hold. */
export function rawBody(rng: Rng, valid: string): string | Uint8Array {
  switch (rng.int(0, 13)) {
    case 0:
      return rng.pick([
        "{",
        "}",
        "[",
        "nul",
        "tru",
        "[1,]",
        "{'a':1}",
        "NaN",
        "Infinity",
        "undefined",
        '{"a":1}}',
        '{"a" 1}',
        '"\\x41"',
        "//c\n{}",
        "{}/*x*/",
        '"\\u12"',
      ]);
    case 1:
      return valid.slice(0, rng.int(0, Math.max(0, valid.length - 1)));
    case 2: {
      const d = rng.pick([33, 100, 1000, 100_000, 499_999]);
      return "[".repeat(d) + "]".repeat(d);
    }
    case 3: {
      const d = rng.pick([33, 1000, 50_000]);
      return `${'{"a":'.repeat(d)}1${"}".repeat(d)}`;
    }
    case 4:
      return "[".repeat(rng.pick([10, 1000, 999_999]));
    case 5:
      return Uint8Array.from({ length: rng.int(1, 64) }, () => rng.int(0, 255));
    case 6:
      return Uint8Array.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xc0, 0xaf, 0xed, 0xa0, 0x80, 0xff, 0x22, 0x7d]);
    case 7:
      return `\ufeff${valid}`;
    case 8:
      return `${valid}${rng.pick([" x", "}", "\u0000", ",{}", "\n\n[]"])}`;
    case 9:
      return rng.pick(RAW_NUMBERS);
    case 10:
      return rng.pick(['"\\u0000"', '"\\ud800"', '{"\\u0000":1}', '{"\\udc00":"\\ud800"}', "null", "[]", '""', "0", "true"]);
    case 11:
      return `{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}},${valid.slice(1)}`;
    case 12:
      return " ".repeat(rng.int(1, 5000));
    default:
      return `[${Array.from({ length: rng.int(1, 20_000) }, () => "1e309").join(",")}]`;
  }
}

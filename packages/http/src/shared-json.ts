const texts = new WeakMap<object, string>();

/**
 * The JSON text of a response many requests share: a list page that the core's SingleFlight hands
 * to every request that asked while its query ran, serialized once per page, not once per request
 * (cost: "Figures behind code comments" in bench/FINDINGS.md). A value must not change after it
 * was first serialized (pages are built once and never touched).
 */
export function sharedJson(value: object): string {
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

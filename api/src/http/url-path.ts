/**
 * The path of a request URL, without parsing it into a URL object: the hooks that need it run on
 * every request, before routing.
 */
export const pathOf = (url: string): string => {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  const query = url.indexOf("?", start);
  return start < 0 ? "/" : url.slice(start, query < 0 ? undefined : query);
};

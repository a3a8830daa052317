/**
 * A number as a query string may spell it, the same on both servers: decimal digits, an optional
 * minus and fraction. Not `!isNaN(+text)`, which also takes "0x10", "1e1", "+5" and " 5".
 */
export const QUERY_NUMBER = /^-?\d+(\.\d+)?$/;

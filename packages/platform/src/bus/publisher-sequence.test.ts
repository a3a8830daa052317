import { describe, expect, test } from "bun:test";
import { KafkaJSConnectionError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from "kafkajs";
import { outOfSequence } from "./publisher.ts";

// The broker's answer that makes the idempotent publisher start a new producer, as kafkajs builds it.
const answer = (type: string, code: number, message: string) =>
  new KafkaJSProtocolError(Object.assign(new Error(message), { type, code, retriable: false }));

describe("outOfSequence", () => {
  test("finds OUT_OF_ORDER_SEQUENCE_NUMBER as thrown, and as the cause of kafkajs's retries giving up", () => {
    const outOfOrder = answer("OUT_OF_ORDER_SEQUENCE_NUMBER", 45, "The broker received an out of order sequence number");
    expect(outOfSequence(outOfOrder)).toBe(true);
    expect(outOfSequence(new KafkaJSNumberOfRetriesExceeded(outOfOrder, { retryCount: 6, retryTime: 1000 }))).toBe(true);
  });

  test("no other failure: a lost connection, another protocol error, not an error at all", () => {
    expect(outOfSequence(new KafkaJSConnectionError("Connection error: read ECONNRESET"))).toBe(false);
    const notEnough = answer("NOT_ENOUGH_REPLICAS", 19, "Messages are rejected since there are fewer in-sync replicas than required");
    expect(outOfSequence(new KafkaJSNumberOfRetriesExceeded(notEnough, { retryCount: 6, retryTime: 1000 }))).toBe(false);
    expect(outOfSequence(undefined)).toBe(false);
    expect(outOfSequence("out of order")).toBe(false);
  });
});

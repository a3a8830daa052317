import { describe, expect, test } from "bun:test";
import { SingleFlight } from "./single-flight.ts";

describe("SingleFlight", () => {
  test("concurrent calls with one key share one execution; other keys run their own", async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    const slow = (v: number) => async () => {
      runs++;
      await Bun.sleep(20);
      return v;
    };
    const got = await Promise.all([flights.run("a", slow(1)), flights.run("a", slow(2)), flights.run("b", slow(3))]);
    expect(got).toEqual([1, 1, 3]);
    expect(runs).toBe(2);
  });

  test("nothing is kept once a call settles, failures included", async () => {
    const flights = new SingleFlight<number>();
    await expect(flights.run("a", () => Promise.reject(new Error("down")))).rejects.toThrow("down");
    expect(await flights.run("a", async () => 7)).toBe(7);
    expect(await flights.run("a", async () => 8)).toBe(8);
  });
});

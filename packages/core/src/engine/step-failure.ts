/**
 * A step that did not succeed, as a value the engine records. `retryable` false means another
 * attempt cannot help (the egress policy refused, the URL is invalid): the step fails at once.
 */
export class StepFailure extends Error {
  constructor(
    message: string,
    readonly retryable = true,
    readonly output?: unknown,
  ) {
    super(message);
    this.name = "StepFailure";
  }
}

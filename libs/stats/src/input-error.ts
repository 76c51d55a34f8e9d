/**
 * Thrown for inputs no statistics can make sense of and that indicate a caller or storage bug
 * (a stored p-value of −1, a winsorization upper bound below the lower one, an inverted interval).
 * Data that is merely degenerate (n < 2, zero variance) never throws: it yields an undefined
 * Estimate with a reason. The API maps this error to a 4xx `invalid_statistics_input`.
 */
export class StatsInputError extends Error {
  readonly code = 'invalid_statistics_input';
  constructor(message: string) {
    super(message);
    this.name = 'StatsInputError';
  }
}

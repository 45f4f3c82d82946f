/** An object whose fields can be read one by one, as a validator of an untyped message needs. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

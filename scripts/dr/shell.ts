/** Quotes a word for a POSIX shell: URNs hold `$` between parent and child types. */
export const shellArg = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

import { InvalidInputError } from './errors';

/**
 * Splits what a user typed into words the way a POSIX shell would for quoting
 * ('single', "double", backslash), without expanding anything: the words are
 * then passed as an argument array, never to a shell.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line.charAt(i);
    if (quote === "'") {
      if (char === "'") {
        quote = undefined;
      } else {
        word += char;
      }
    } else if (quote === '"') {
      if (char === '"') {
        quote = undefined;
      } else if (char === '\\' && i + 1 < line.length && '"\\$`'.includes(line.charAt(i + 1))) {
        word += line.charAt(++i);
      } else {
        word += char;
      }
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (char === '\\' && i + 1 < line.length) {
      word += line.charAt(++i);
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote) {
    throw new InvalidInputError(`unclosed ${quote} quote`);
  }
  if (inWord) {
    words.push(word);
  }
  return words;
}

// A restart command given as one string, split into argv the way a POSIX
// shell splits words (quotes and backslashes), so it can run in an image
// that has no shell at all. Nothing is expanded: no variables, globs or
// pipes. Whoever needs those writes `sh -c '...'` and brings the shell.

export class CommandLineError extends Error {
  override name = 'CommandLineError';
}

export function splitCommand(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CommandLineError(`unbalanced ${quote} in '${text}'`);
  if (inWord) words.push(word);
  if (words.length === 0) throw new CommandLineError('the restart command is empty');
  return words;
}

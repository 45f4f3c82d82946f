// Pure (no `vscode`): unit tests read it, and so does showError.ts.

/** `gitiso.` followed by a dotted name; not `.gitiso.json` (a file), not a trailing full stop. */
const MENTION = /(?<![\w.-])gitiso\.[A-Za-z]\w*(?:\.[A-Za-z]\w*)*/g;

/** Every `gitiso.<name>` a text mentions, in order, without repeats. */
export function gitisoNamesIn(text: string): string[] {
  return [...new Set(text.match(MENTION) ?? [])];
}

/** The settings among them: what an error's *Open Settings* button can show. */
export function settingsNamedIn(message: string, settings: ReadonlySet<string>): string[] {
  return gitisoNamesIn(message).filter((name) => settings.has(name));
}

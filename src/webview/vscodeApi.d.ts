/**
 * What VS Code gives a webview's script (`acquireVsCodeApi`, callable once per page).
 * Typed by the protocol's messages and state, so a script can only post what its panel parses.
 */
interface VsCodeWebviewApi<Message, State> {
  postMessage(message: Message): void;
  getState(): State | undefined;
  setState(state: State): State;
}

declare function acquireVsCodeApi<Message = never, State = never>(): VsCodeWebviewApi<Message, State>;

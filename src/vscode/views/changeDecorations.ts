import * as vscode from 'vscode';
import { CHANGE_SCHEME } from '../review/reviewUris';

/** The colours VS Code's Source Control view gives each status letter. */
const COLORS: Record<string, string> = {
  A: 'gitDecoration.addedResourceForeground',
  M: 'gitDecoration.modifiedResourceForeground',
  D: 'gitDecoration.deletedResourceForeground',
  R: 'gitDecoration.renamedResourceForeground',
  C: 'gitDecoration.addedResourceForeground',
  T: 'gitDecoration.modifiedResourceForeground',
};

const NAMES: Record<string, string> = { A: 'Added', M: 'Modified', D: 'Deleted', R: 'Renamed', C: 'Copied', T: 'Type changed' };

/** The status letter and colour of a changed file's row, read from its `gitiso-change:` URI. */
export class ChangeDecorations implements vscode.FileDecorationProvider {
  provideFileDecoration(uri: vscode.Uri): vscode.FileDecoration | undefined {
    const letter = uri.query;
    if (uri.scheme !== CHANGE_SCHEME || !(letter in COLORS)) {
      return undefined;
    }
    return new vscode.FileDecoration(letter, NAMES[letter], new vscode.ThemeColor(COLORS[letter] ?? 'foreground'));
  }

  register(): vscode.Disposable {
    return vscode.window.registerFileDecorationProvider(this);
  }
}

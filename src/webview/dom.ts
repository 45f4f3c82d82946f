/**
 * The element with this id, of the type the page's HTML (built in src/vscode) gives it.
 * Throws at start rather than failing later on a null when the HTML and the script disagree.
 */
export function elementById<T extends Element>(id: string, type: { new (): T; readonly prototype: T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) {
    throw new Error(`the page has no #${id} of the expected kind`);
  }
  return found;
}

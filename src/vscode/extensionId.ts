/** `<publisher>.<name>` from package.json (a unit test keeps them in step). */
export const EXTENSION_ID = 'gitiso.gitiso';

/** The getting-started walkthrough's id, as `contributes.walkthroughs` declares it. */
export const WALKTHROUGH_ID = 'gettingStarted';

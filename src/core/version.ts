/** gitiso's version, written on every agent's labels. A unit test keeps it equal to package.json's. */
export const GITISO_VERSION = '0.1.0';

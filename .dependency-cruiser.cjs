/**
 * Module edges of the server, checked by `pnpm lint` (dependency-cruiser): a module's service is its only door,
 * and no import cycle anywhere. See docs/design-notes.md ("Module edges").
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle hides which module owns a rule; split the shared part out or invert the call.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-foreign-repository',
      severity: 'error',
      comment: "A module reaches another module's data through that module's service, never its repository.",
      from: { path: '^server/src/modules/([^/]+)/' },
      to: { path: '^server/src/modules/[^/]+/[^/]+[.]repository[.]ts$', pathNot: '^server/src/modules/$1/' },
    },
    {
      name: 'no-repository-outside-modules',
      severity: 'error',
      comment:
        'Code outside server/src/modules (app, plugins) calls services, not repositories; bulk.ts and testing.ts are the named exceptions.',
      from: { pathNot: '^server/src/(modules/|bulk[.]ts$|testing[.]ts$)' },
      to: { path: '^server/src/modules/[^/]+/[^/]+[.]repository[.]ts$' },
    },
    {
      name: 'no-routes-from-services',
      severity: 'error',
      comment: 'Services know the rules, not HTTP: only the app and other routes import a routes file.',
      from: { path: '[.](service|repository)[.]ts$' },
      to: { path: '[.]routes[.]ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)node_modules/' },
    tsPreCompilationDeps: true,
  },
};

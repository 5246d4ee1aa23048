export * from './aead.js';
export * from './keyring.js';
export * from './master-keys.js';
export * from './code-token.js';
export * from './secrets.js';
export * from './rotation.js';

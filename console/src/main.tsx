import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserApi } from './api.js';
import { App } from './App.js';
import { cspNonce, nonceNewStyles } from './csp.js';
import './styles.css';

const nonce = cspNonce();
if (nonce) nonceNewStyles(nonce);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App api={createBrowserApi()} />
  </StrictMode>,
);

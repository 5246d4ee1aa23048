/** What the server writes in place of Vite's nonce placeholder; left as is (dev server, tests) there is no nonce. */
const PLACEHOLDER = '__CSP_NONCE__';

/**
 * This response's Content-Security-Policy nonce, for the style tags AntD's CSS-in-JS adds (the policy allows no
 * inline style without it). Vite writes `<meta property="csp-nonce" nonce="…">` (vite.config.ts `html.cspNonce`);
 * browsers hide a nonce attribute's value from getAttribute once applied, so the property is read first.
 */
export function cspNonce(doc: Document = document): string | undefined {
  const meta = doc.querySelector<HTMLMetaElement>('meta[property="csp-nonce"]');
  const nonce = meta?.nonce || meta?.getAttribute('nonce') || undefined;
  return nonce && nonce !== PLACEHOLDER ? nonce : undefined;
}

/**
 * Gives every `<style>` element created from now on this nonce. AntD's CSS-in-JS takes the nonce from
 * ConfigProvider, but a few helpers underneath it (scroll locking of drawers and modals, scroll-bar measuring)
 * create style tags without asking for one, and the policy would block them.
 */
export function nonceNewStyles(nonce: string, doc: Document = document): void {
  const create = doc.createElement.bind(doc) as (
    tag: string,
    options?: ElementCreationOptions,
  ) => HTMLElement;
  doc.createElement = ((tag: string, options?: ElementCreationOptions) => {
    const el = create(tag, options);
    if (tag.toLowerCase() === 'style') el.setAttribute('nonce', nonce);
    return el;
  }) as Document['createElement'];
}

import dayjs from 'dayjs';

/** Date and time as officials read them, in the browser's time zone. */
export const fmtTime = (iso: string | null | undefined): string =>
  iso ? dayjs(iso).format('YYYY-MM-DD HH:mm') : '—';

export const fmtRange = (from: string, to: string): string => `${fmtTime(from)} – ${fmtTime(to)}`;

/** Save text as a file download (CSV export). */
export function downloadText(filename: string, text: string, type: string): void {
  downloadBlob(filename, new Blob([text], { type }));
}

/** Save bytes the API sent (poster PDFs) as a file download. */
export function downloadBytes(filename: string, bytes: Uint8Array, type: string): void {
  downloadBlob(filename, new Blob([bytes as Uint8Array<ArrayBuffer>], { type }));
}

function downloadBlob(filename: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  // Revoked on the next tick: some browsers start the download only after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text for HTML that a library renders (ECharts tooltips): data from operators must not become markup. */
export const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);

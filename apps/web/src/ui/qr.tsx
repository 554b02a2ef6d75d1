import { useEffect, useState } from 'react';

/** A QR code of a partner link, drawn in the browser (no extra request, works offline for print). */
export function QrCode({ value, size = 128 }: { value: string; size?: number }) {
  const [src, setSrc] = useState<string>();
  useEffect(() => {
    let live = true;
    // The encoder loads on first use, so screens without QR codes do not pay for it.
    import('qrcode')
      .then((QRCode) => QRCode.toDataURL(value, { width: size * 2, margin: 1, errorCorrectionLevel: 'M' }))
      .then(
        (url) => live && setSrc(url),
        () => live && setSrc(undefined),
      );
    return () => {
      live = false;
    };
  }, [value, size]);
  if (!src) return <div style={{ width: size, height: size }} className="animate-pulse rounded bg-slate-100 dark:bg-slate-800" />;
  return (
    <a href={src} download="tandem-link-qr.png" title="Download the QR code">
      <img src={src} width={size} height={size} alt={`QR code for ${value}`} className="rounded bg-white p-1 ring-1 ring-slate-200" />
    </a>
  );
}

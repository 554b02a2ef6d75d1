/**
 * The browser snippet served at `/t.js`. A brand adds it to its site:
 *
 * ```html
 * <script src="https://tandem.example.com/t.js" data-window-days="30" data-consent="required" async></script>
 * ```
 *
 * On a landing from a partner link it reads `tdm_click` (and a partner coupon in `?via=`) from the
 * URL and keeps them in first-party cookies for the attribution window, so the brand's checkout can
 * send them to `POST /api/v1/track/*`. With `data-consent="required"` nothing is written until the
 * site calls `tandem.consent(true)`. Kept tiny (< 3 KB gzipped) and dependency-free.
 *
 * @example
 * // at checkout, in the page:
 * fetch('/api/checkout', { method: 'POST', body: JSON.stringify({ clickId: window.tandem.clickId(), coupon: window.tandem.couponCode() }) });
 */

export interface TandemBrowserApi {
  /** The partner click id of this visitor (`clk_…`), or null. */
  clickId(): string | null;
  /** The partner coupon code the visitor arrived with (`?via=`), or null. */
  couponCode(): string | null;
  /** Records the visitor's consent decision; `false` also forgets what was stored. */
  consent(granted: boolean): void;
}

/*
 * The few browser globals the snippet touches, declared here rather than pulling the DOM library
 * into a workspace whose other code runs on Node.
 */
declare const document: { cookie: string; currentScript: { getAttribute(name: string): string | null } | null };
declare const location: { search: string; protocol: string };
declare const window: { tandem?: TandemBrowserApi };

const CLICK_COOKIE = 'tdm_click';
const COUPON_COOKIE = 'tdm_via';
const CLICK_ID = /^clk_[0-9a-f]{32}$/;
const COUPON = /^[A-Za-z0-9_-]{1,64}$/;
const DAY_SECONDS = 86_400;

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

function writeCookie(name: string, value: string, maxAgeSeconds: number): void {
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${name}=${encodeURIComponent(value)}; Max-Age=${maxAgeSeconds}; Path=/; SameSite=Lax${secure}`;
}

function start(): void {
  const script = document.currentScript;
  const days = Number(script?.getAttribute('data-window-days') ?? '30');
  const maxAge = Math.round((days >= 1 && days <= 365 ? days : 30) * DAY_SECONDS);
  let consented = script?.getAttribute('data-consent') !== 'required';

  const params = new URLSearchParams(location.search);
  const landedClick = params.get(CLICK_COOKIE);
  const landedCoupon = params.get('via');
  // Newly landed values win over stored ones (last touch in the browser; the server applies the program's model).
  let clickId = landedClick && CLICK_ID.test(landedClick) ? landedClick : null;
  let coupon = landedCoupon && COUPON.test(landedCoupon) ? landedCoupon : null;

  function persist(): void {
    if (!consented) return;
    if (clickId) writeCookie(CLICK_COOKIE, clickId, maxAge);
    if (coupon) writeCookie(COUPON_COOKIE, coupon, maxAge);
  }

  function stored(name: string, pattern: RegExp): string | null {
    if (!consented) return null;
    const value = readCookie(name);
    return value && pattern.test(value) ? value : null;
  }

  persist();

  window.tandem = {
    clickId: () => clickId ?? stored(CLICK_COOKIE, CLICK_ID),
    couponCode: () => coupon ?? stored(COUPON_COOKIE, COUPON),
    consent(granted: boolean) {
      consented = granted;
      if (granted) return persist();
      writeCookie(CLICK_COOKIE, '', 0);
      writeCookie(COUPON_COOKIE, '', 0);
      clickId = null;
      coupon = null;
    },
  };
}

start();

/**
 * Throw-away mailbox providers. Shipped with the code (no network look-up at scoring time) and
 * deliberately short: the well-known services that account for most sign-up abuse. A program can
 * add its own domains through the rule's `extraDomains` setting.
 */
export const DISPOSABLE_EMAIL_DOMAINS: readonly string[] = [
  '10minutemail.com',
  '20minutemail.com',
  'burnermail.io',
  'discard.email',
  'dispostable.com',
  'emailondeck.com',
  'fakeinbox.com',
  'getairmail.com',
  'getnada.com',
  'guerrillamail.com',
  'guerrillamail.net',
  'guerrillamailblock.com',
  'mailcatch.com',
  'maildrop.cc',
  'mailinator.com',
  'mailnesia.com',
  'mintemail.com',
  'moakt.com',
  'mohmal.com',
  'mytemp.email',
  'sharklasers.com',
  'spamgourmet.com',
  'temp-mail.org',
  'tempail.com',
  'tempmail.dev',
  'tempmailo.com',
  'tempr.email',
  'throwawaymail.com',
  'trashmail.com',
  'trashmail.de',
  'yopmail.com',
  'yopmail.fr',
];

/** The domain part of an email address, lower-cased, or null when there is none. */
export function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at < 0 || at === email.length - 1) return null;
  return email.slice(at + 1).trim().toLowerCase();
}

/** True when the domain, or a parent domain of it, is on the list (`x.mailinator.com` counts). */
export function isDisposableDomain(domain: string, list: Iterable<string>): boolean {
  const known = new Set([...list].map((d) => d.toLowerCase()));
  const labels = domain.toLowerCase().split('.');
  for (let i = 0; i < labels.length - 1; i += 1) {
    if (known.has(labels.slice(i).join('.'))) return true;
  }
  return false;
}

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import ICAL from 'ical.js';
import { escapeText, foldLine, renderICalendar } from './icalendar.js';

const octets = (s: string) => new TextEncoder().encode(s).length;

describe('foldLine', () => {
  it('keeps every physical line within 75 octets and unfolds back to the original', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 400 }), (text) => {
        const line = `DESCRIPTION:${text.replace(/[\r\n]/g, '')}`;
        const folded = foldLine(line);
        for (const physical of folded.split('\r\n')) expect(octets(physical)).toBeLessThanOrEqual(75);
        expect(folded.replace(/\r\n /g, '')).toBe(line);
      }),
    );
  });
});

describe('renderICalendar', () => {
  const generatedAt = new Date('2026-05-01T10:00:00Z');
  const text = renderICalendar({
    prodId: '-//Tandem//Milestones//EN',
    name: 'Ünïcode, calendar; test',
    generatedAt,
    events: [{ uid: 'a@tandem', date: '2026-05-08', summary: 'Share your link, today; really', description: `Line one\nLine two ${'é'.repeat(60)}` }],
  });

  it('uses CRLF line endings only', () => {
    expect(text.endsWith('\r\n')).toBe(true);
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  });

  it('parses with ical.js into the same event', () => {
    const component = new ICAL.Component(ICAL.parse(text));
    const [vevent] = component.getAllSubcomponents('vevent');
    const event = new ICAL.Event(vevent);
    expect(event.uid).toBe('a@tandem');
    expect(event.summary).toBe('Share your link, today; really');
    expect(event.description).toBe(`Line one\nLine two ${'é'.repeat(60)}`);
    expect(event.startDate.toString()).toBe('2026-05-08');
    expect(vevent!.getFirstPropertyValue('dtstamp')!.toString()).toBe('2026-05-01T10:00:00Z');
  });

  it('escapes TEXT values', () => {
    expect(escapeText('a,b;c\\d\ne')).toBe('a\\,b\\;c\\\\d\\ne');
  });
});

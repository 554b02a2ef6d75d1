import { expect, it } from 'vitest';
import { slugify } from './slug.js';

it('slugifies names to lowercase ASCII with single dashes', () => {
  expect(slugify('  Café Olé & Co. ')).toBe('cafe-ole-co');
  expect(slugify('***')).toBe('workspace');
  expect(slugify('a'.repeat(60)).length).toBe(48);
});

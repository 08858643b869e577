import { describe, expect, it } from 'vitest';
import { displayName, initialsOf } from './names';

describe('names', () => {
  it('makes initials from the first and last words', () => {
    expect(initialsOf('Alice Martin')).toBe('AM');
    expect(initialsOf('Jean-Paul de la Tour')).toBe('JT');
    expect(initialsOf('émile')).toBe('É');
    expect(initialsOf('(Bob) 2nd')).toBe('B2');
    expect(initialsOf('')).toBe('');
  });

  it('falls back on the login', () => {
    expect(displayName({ id: 1, login: 'bob', display_name: 'Bob Stone' })).toBe('Bob Stone');
    expect(displayName({ id: 1, login: 'bob', display_name: ' ' })).toBe('bob');
  });
});

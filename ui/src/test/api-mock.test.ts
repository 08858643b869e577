import { describe, expect, it } from 'vitest';
import * as real from '../lib/api';
import * as mock from './api-mock';

describe('api-mock', () => {
  it('stands in for every command and event of the api', () => {
    expect(Object.keys(mock).sort()).toEqual(Object.keys(real).sort());
  });
});

import { describe, expect, it } from 'vitest';
import { accountNameFor, isPortableAccountName, MAX_ACCOUNT_NAME } from './account-name.js';

describe('accountNameFor', () => {
  it.each([
    ['alice', 'nsml-alice'],
    ['bob-2', 'nsml-bob-2'],
    ['7up', 'nsml-7up'],
    ['a'.repeat(27), `nsml-${'a'.repeat(27)}`],
  ])('%s → %s (plain)', (user, account) => expect(accountNameFor(user)).toBe(account));

  it.each([
    ['Alice'],
    ['a.b'],
    ['a_b'],
    ['a'.repeat(28)],
    ['researcher-' + 'x'.repeat(53)],
  ])('%s → a hashed name that is portable and fits', (user) => {
    const name = accountNameFor(user);
    expect(name).toMatch(/^nsml-[a-z0-9-]*_[0-9a-f]{12}$/);
    expect(name.length).toBeLessThanOrEqual(MAX_ACCOUNT_NAME);
    expect(isPortableAccountName(name)).toBe(true);
  });

  it('never gives two users one account', () => {
    const users = ['alice', 'Alice', 'ALICE', 'a.lice', 'a_lice', 'a-lice', 'a'.repeat(28), 'a'.repeat(29)];
    expect(new Set(users.map((u) => accountNameFor(u))).size).toBe(users.length);
  });

  it('a plain name cannot spell a hashed one (no underscore in plain names)', () => {
    const hashed = accountNameFor('Bob');
    expect(accountNameFor(hashed.slice('nsml-'.length))).not.toBe(hashed);
  });

  it('takes another prefix', () => expect(accountNameFor('alice', 'u-')).toBe('u-alice'));
});

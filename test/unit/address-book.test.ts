import { describe, expect, it } from 'vitest';
import { AddressBook } from '../../src/net/address-book.js';

describe('AddressBook', () => {
  it('serves a family while fresh; `any` only when both families are known', () => {
    let now = 0;
    const book = new AddressBook(() => now);
    book.publish('web', 4, ['192.0.2.1', '192.0.2.2', '2001:db8::1'], 30_000, 'dns check web-dns via system');
    expect(book.lookup('web', 'ipv4')).toEqual({
      addresses: [
        { address: '192.0.2.1', family: 4 },
        { address: '192.0.2.2', family: 4 },
      ],
      source: 'dns check web-dns via system',
    });
    expect(book.lookup('web', 'any')).toBeUndefined();
    book.publish('web', 6, ['2001:db8::1'], 30_000, 'dns check web-dns6 via system');
    expect(book.lookup('web', 'any')?.addresses.map((a) => a.address)).toEqual([
      '192.0.2.1',
      '192.0.2.2',
      '2001:db8::1',
    ]);
    now = 30_001;
    expect(book.lookup('web', 'ipv4')).toBeUndefined();
    expect(book.lookup('other', 'ipv4')).toBeUndefined();
  });
});

// Server hash replies and MFMT times: parsed and written exactly, local hashes in the server's algorithm.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mfmtTime, parseHashReply, parseXReply } from '../../src/session/hash.js';
import { LocalHash } from '../../src/transfer/verify.js';

test('HASH and X-command replies give the hex digest; anything else is refused', () => {
  const hex = '2c4b101169bf328cd4a882e640a8b57eb3acf76518b3d105869905cf629e791c';
  assert.deepEqual(parseHashReply({ code: 213, message: `213-Computing SHA-256 digest\n213 SHA-256 0-100000 ${hex} dir/a b.bin` }), { algorithm: 'SHA-256', hex });
  assert.deepEqual(parseHashReply({ code: 213, message: `213 MD5 0-5 ${'A'.repeat(32)} x` }), { algorithm: 'MD5', hex: 'a'.repeat(32) });
  assert.throws(() => parseHashReply({ code: 213, message: '213 WHIRLPOOL 0-5 abcdef0123 x' }), /unexpected HASH reply/);
  assert.throws(() => parseHashReply({ code: 213, message: '213 SHA-256 not-a-range abc x' }), /unexpected HASH reply/);
  assert.equal(parseXReply(`250-Computing SHA256 digest\n250 ${hex.toUpperCase()}`), hex);
  assert.equal(parseXReply('250 3B71DF88'), '3b71df88');
  assert.throws(() => parseXReply('250 OK'), /unexpected hash reply/);
});

test('local hashes match what servers print: SHA-256, MD5, CRC32 as 8 hex digits', () => {
  const data = Buffer.alloc(100_000, 7);
  assert.equal(new LocalHash('SHA-256').update(data).hex(), '2c4b101169bf328cd4a882e640a8b57eb3acf76518b3d105869905cf629e791c');
  // proftpd's XCRC of the same 100,000 bytes of 0x07.
  assert.equal(new LocalHash('CRC32').update(data.subarray(0, 50_000)).update(data.subarray(50_000)).hex(), '3b71df88');
  assert.equal(new LocalHash('MD5').update(Buffer.from('')).hex(), 'd41d8cd98f00b204e9800998ecf8427e');
});

test('MFMT times are UTC seconds', () => {
  assert.equal(mfmtTime(Date.UTC(2020, 4, 5, 5, 5, 5, 999)), '20200505050505');
});

// Package VERSION ordering (solaris-p2v.md 4.5) against real Solaris and
// SVR4 VERSION strings; every expected value worked out by hand from the
// algorithm (not by running it). Each row is also checked reversed.

import t from 'tap';
import { fieldCompare, patchNumCompare, patchRevCompare, pkgVersionCompare } from '../src/attach/version.js';

type Row = [a: string, b: string, want: -1 | 0 | 1, why: string];

const table: Row[] = [
  // Solaris 10 SUNW packages: same primary, REV= dates field by field.
  ['11.10.0,REV=2005.01.21.15.53', '11.10.0,REV=2005.01.21.16.34', -1, 'REV hour 15 < 16'],
  ['11.10.0,REV=2005.01.21.16.34', '11.10.0,REV=2005.08.25.02.12', -1, 'REV month 01 < 08'],
  ['11.10.0,REV=2005.08.25.02.12', '11.10.0,REV=2008.04.30.11.59', -1, 'REV year 2005 < 2008'],
  ['11.10.0,REV=2008.04.30.11.59', '11.10.0,REV=2008.04.30.11.59', 0, 'identical'],
  ['11.10.0,REV=2005.01.21.15.53', '1.2.2,REV=2005.01.21.15.53', 1, 'primary 11 > 1'],
  // Numeric, not textual: strcmp would order these the other way.
  ['11.9.0,REV=2002.04.06.15.27', '11.10.0,REV=2005.01.21.15.53', -1, 'primary field 9 < 10 numerically (Solaris 9 vs 10)'],
  ['10.0,REV=2005.01.21.16.34', '6.0,REV=2009.07.29.12.18', 1, 'primary 10 > 6 numerically; rev never consulted'],
  ['3.6.1,REV=10.2004.12.20', '3.6.1,REV=2005.01.21.15.53', -1, 'REV first field 10 < 2005'],
  ['4.9.9,REV=2006.11.17.14.12', '4.9.9,REV=2006.11.17.14.12', 0, 'identical'],
  ['2.6.0,REV=10.0.3.2004.12.15.17.32', '2.6.0,REV=10.0.3.2005.01.09.16.53', -1, 'GNOME REV: 10.0.3 equal, then 2004 < 2005'],
  ['11.10.0,REV=2008.04.30.11.59', '11.11,REV=2009.11.11', -1, 'S10 vs SXCE: second field 10 < 11'],
  // Only one side has a rev part: it is greater.
  ['4.9.9,REV=2006.11.17.14.12', '4.9.9', 1, 'only a has a rev'],
  ['6.0', '6.0,REV=2009.07.29.12.18', -1, 'only b has a rev'],
  ['6.0', '6.0', 0, 'no revs, same primary'],
  // More fields, all compared equal: the longer is greater.
  ['6.6.2.7400,REV=0.2004.12.15', '6.6.2,REV=0.2004.12.15', 1, 'primary has a 4th field'],
  ['2.6.0,REV=10.0.3.2004.12.15.17.32', '2.6.0,REV=10.0.3.2004.12.15', 1, 'REV has more fields'],
  // Non-numeric fields (Blastwave/OpenCSW SVR4 VERSIONs): strcmp of that field decides.
  ['1.0.2k,REV=2017.01.26', '1.0.2j,REV=2016.09.26', 1, '"2k" > "2j" by strcmp'],
  ['7.4p1,REV=2017.01.03', '7.5p1,REV=2017.03.20', -1, '"4p1" < "5p1" by strcmp'],
  ['1.0.2k,REV=2017.01.26', '1.0.2k,REV=2016.09.26', 1, 'primaries "equal" at 2k, then REV 2017 > 2016'],
  // The quirk: equal non-numeric fields end the compare as equal.
  ['1.0.2k.1', '1.0.2k.9', 0, 'stops at equal "2k": later fields ignored'],
  ['1.0.2k', '1.0.2k.5', 0, 'stops at "2k": field count never compared'],
  ['10.2k', '9.2k', 1, 'numeric fields before the text field still decide'],
  // Empty fields count as 0; leading zeros do not matter numerically.
  ['1..2', '1.0.2', 0, 'empty field is 0'],
  ['6.0,REV=2009.07.29.12.18', '6.0,REV=2009.7.29.12.18', 0, '07 == 7'],
  // Revs that do not both start with REV=: strcmp of the whole revs.
  ['1.0,10', '1.0,9', -1, 'strcmp("10","9")'],
  ['1.0,REV=9', '1.0,Z', -1, 'strcmp("REV=9","Z"): R < Z'],
  ['5.8,beta', '5.8,alpha', 1, 'strcmp'],
];

t.test('pkgVersionCompare: real VERSION table', async (t) => {
  for (const [a, b, want, why] of table) {
    t.equal(pkgVersionCompare(a, b), want, `${a} vs ${b}: ${why}`);
    t.equal(pkgVersionCompare(b, a), -want || 0, `${b} vs ${a} (reversed)`);
  }
});

t.test('fieldCompare', async (t) => {
  t.equal(fieldCompare('2005.01.21', '2005.01.21'), 0);
  t.equal(fieldCompare('99999999999999999999', '100000000000000000000'), -1, 'integers of any length');
  t.equal(fieldCompare('1.a.5', '1.b.0'), -1);
  t.equal(fieldCompare('', '0'), 0, '"" is 0');
});

t.test('patch numbers and revisions', async (t) => {
  t.equal(patchNumCompare('119254', '119255'), -1);
  t.equal(patchNumCompare('99999', '100000'), -1, 'numeric, not strcmp');
  t.equal(patchRevCompare('59', '60'), -1);
  t.equal(patchRevCompare('09', '10'), -1);
  t.equal(patchRevCompare('70', '70'), 0);
  t.equal(patchRevCompare('10', '09'), 1);
  t.equal(patchRevCompare('9', '10'), -1, 'unequal widths fall back to numeric');
});

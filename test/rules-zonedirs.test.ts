import t from 'tap';
import { zoneDirsRule } from '../src/rules/zonedirs.js';
import { collect, ent, file, from, makeCtx } from './rules-lib.js';

t.test('missing zone directories are added at the end with Solaris modes and owners', async (t) => {
  const ctx = makeCtx();
  const input = [ent('etc'), ent('etc/svc'), file('etc/passwd', 'x'), ent('var'), ent('var/tmp', 'dir', undefined, { mode: 0o1777 }), ent('usr')];
  const out = await collect(zoneDirsRule.apply(from(input), ctx));
  t.same(
    out.slice(input.length).map((o) => [o.path, o.type, o.mode.toString(8), o.uid, o.gid, o.size]),
    [
      ['tmp', 'dir', '1777', 0, 3, 0],
      ['var/run', 'dir', '1755', 0, 3, 0],
      ['etc/mnttab', 'file', '444', 0, 0, 0],
      ['proc', 'dir', '755', 0, 0, 0],
      ['dev', 'dir', '755', 0, 3, 0],
      ['etc/svc/volatile', 'dir', '755', 0, 3, 0],
    ],
  );
  t.equal(out.slice(0, input.length).length, input.length, 'everything passed unchanged');
  t.match(ctx.report.toText(), /zone-dirs: etc\/mnttab: created \(empty file 0444\)/);
});

t.test('nothing is added when present (any type); never below a symlink; parents created', async (t) => {
  const ctx = makeCtx();
  const input = [
    ent('./tmp', 'symlink', undefined, { linkTarget: 'var/tmp' }),
    ent('./proc'),
    ent('./dev'),
    ent('./etc', 'symlink', undefined, { linkTarget: 'private/etc' }),
  ];
  const out = await collect(zoneDirsRule.apply(from(input), ctx));
  t.same(
    out.slice(input.length).map((o) => o.path),
    ['var', 'var/run', 'var/tmp'],
  );
  t.match(ctx.report.toText(), /etc\/mnttab: not created \(etc is a symlink\)/);
  t.match(ctx.report.toText(), /etc\/svc\/volatile: not created \(etc is a symlink\)/);
});

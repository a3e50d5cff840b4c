import t from 'tap';
import { exclusionsRule } from '../src/rules/exclusions.js';
import { collect, ent, file, from, makeCtx, paths } from './rules-lib.js';

t.test('contents of dev, proc, tmp, var/run, system/contract, system/object dropped, dirs kept; devices gone', async (t) => {
  const ctx = makeCtx();
  const input = [
    ent('.'),
    ent('./dev'),
    ent('./dev/dsk'),
    ent('./dev/null', 'symlink', undefined, { linkTarget: '../devices/pseudo/mm@0:null' }),
    ent('./devices'),
    ent('./devices/pseudo'),
    ent('./devices/pseudo/mm@0:null', 'char', undefined, { devMajor: 13, devMinor: 2 }),
    ent('./development'),
    file('./development/notes', 'x'),
    ent('./proc'),
    file('./proc/1/status', ''),
    ent('./tmp'),
    file('./tmp/.X0-lock', '123'),
    ent('./tmpfiles'),
    ent('./var'),
    ent('./var/run'),
    file('./var/run/syslog.pid', '99'),
    ent('./var/run/.inetd.uds', 'socket'),
    ent('./var/runner'),
    ent('./system'),
    ent('./system/contract'),
    ent('./system/contract/process', 'dir'),
    ent('./system/object'),
    file('./system/object/x', ''),
    ent('./system/other'),
    ent('./etc'),
    ent('./etc/initpipe', 'fifo'),
    ent('./opt/dev/disk0', 'block', undefined, { devMajor: 1, devMinor: 1 }),
    file('./etc/passwd', 'root:x:0:0::/:/sbin/sh\n'),
    ent('./etc/passwd.link', 'hardlink', undefined, { linkTarget: './etc/passwd' }),
    ent('./etc/lock.link', 'hardlink', undefined, { linkTarget: 'tmp/.X0-lock' }),
  ];
  const out = await collect(exclusionsRule.apply(from(input), ctx));
  t.same(paths(out), [
    '.',
    './dev',
    './development',
    './development/notes',
    './proc',
    './tmp',
    './tmpfiles',
    './var',
    './var/run',
    './var/runner',
    './system',
    './system/contract',
    './system/object',
    './system/other',
    './etc',
    './etc/initpipe',
    './etc/passwd',
    './etc/passwd.link',
  ]);
  t.same(ctx.report.dropped, {
    'excluded dev/*': 2,
    'excluded devices': 2,
    'device node': 2,
    'excluded proc/*': 1,
    'excluded tmp/*': 1,
    'excluded var/run/*': 1,
    socket: 1,
    'excluded system/contract/*': 1,
    'excluded system/object/*': 1,
    'hard link to an excluded path': 1,
  });
});

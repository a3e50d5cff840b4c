// Every option rule of the install hook, with Solaris's words and order.
import t, { type Test } from 'tap';
import { parseInstallArgs } from '../src/cli/install-args.js';
import { UsageError } from '../src/errors.js';

const fails = (t: Test, argv: string[], msg: string | RegExp) => {
  let err: unknown;
  try {
    parseInstallArgs(argv);
  } catch (e) {
    err = e;
  }
  t.ok(err instanceof UsageError, `${argv.join(' ')} is a usage error`);
  t.match((err as Error | undefined)?.message, typeof msg === 'string' ? new RegExp(`^${msg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) : msg);
};

t.test('hook form and -z/-R form', async (t) => {
  const a = parseInstallArgs(['web1', '/zones/web1', '-a', '/x.flar', '-u']);
  t.equal(a.zone, 'web1');
  t.equal(a.zonepath, '/zones/web1');
  t.equal(a.archive, '/x.flar');
  t.equal(a.identity, 'unconfigure');
  const b = parseInstallArgs(['-z', 'web2', '-R', '/zones/web2', '-d/img', '-p', '-v']);
  t.equal(b.zone, 'web2');
  t.equal(b.dir, '/img');
  t.equal(b.identity, 'preserve');
  t.equal(b.verbose, true);
  // zoneadm appends options as " -<c><optarg>" after the operands
  const c = parseInstallArgs(['web3', '/zones/web3', '-a-', '-p', '-s', '-b123456-01', '-b', '654321-02', '-xnodataset']);
  t.equal(c.archive, '-');
  t.equal(c.silent, true);
  t.same(c.backout, ['123456-01', '654321-02']);
  const d = parseInstallArgs(['z', '/zp', '-vp', '-a', '/a']);
  t.equal(d.verbose && d.identity === 'preserve', true, 'clustered flags parse');
  fails(t, ['z', '/zp', '-up', '-a', '/a'], 'zoneadm install: cannot select both preserve and unconfigure options');
});

t.test('the rules, in Solaris order', async (t) => {
  fails(t, ['z', '/zp', '-a', '/a', '-d', '/d', '-u'], 'zoneadm install: cannot specify both archive and directory');
  fails(t, ['z', '/zp', '-a', '/a', '-s', '-v', '-u'], 'zoneadm install: cannot select both silent and verbose modes');
  fails(t, ['z', '/zp'], "zoneadm install: you must specify an installation source using '-a' or '-d'.");
  fails(t, ['z', '/zp', '-a', '/a', '-u', '-p'], 'zoneadm install: cannot select both preserve and unconfigure options');
  fails(t, ['z', '/zp', '-a', '/a'], 'zoneadm install: you must specify -u (sys-unconfig) or -p (preserve identity).');
  // both-media is reported before silent+verbose, as image_install does
  fails(t, ['z', '/zp', '-a', '/a', '-d', '/d', '-s', '-v'], 'zoneadm install: cannot specify both archive and directory');
});

t.test('-p -s -u -v -b only with -a or -d', async (t) => {
  for (const c of ['p', 's', 'u', 'v']) fails(t, ['z', '/zp', `-${c}`], `native brand: option: ${c} is only valid with -a or -d`);
  fails(t, ['z', '/zp', '-b', '123456-01'], 'native brand: option: b is only valid with -a or -d');
});

t.test('bad values', async (t) => {
  fails(t, ['z', '/zp', '-a', '/a', '-u', '-x', 'other'], 'native brand: invalid option: x');
  fails(t, ['z', '/zp', '-a', '/a', '-u', '-q'], 'native brand: invalid option: q');
  fails(t, ['z', '/zp', '-d', 'rel', '-u'], "Pathname specified to -d 'rel' must be absolute.");
  fails(t, ['z', 'rel/zp', '-a', '/a', '-u'], /zonepath must be absolute/);
  fails(t, ['bad zone', '/zp', '-a', '/a', '-u'], /invalid zone name/);
  // zonecfg reserves these: refused before anything is written, not at attach.
  fails(t, ['global', '/zp', '-a', '/a', '-u'], /"global" is a reserved zone name/);
  fails(t, ['SUNWtest', '/zp', '-a', '/a', '-u'], /"SUNWtest" is a reserved zone name/);
  t.equal(parseInstallArgs(['SUNwise', '/zp', '-a', '/a', '-u']).zone, 'SUNwise', 'only the exact SUNW prefix');
  fails(t, ['z', '/zp', '-a', '/a', '-u', '-b', '12'], /patch id/);
  fails(t, ['z', '/zp', '-a', '/a', '-u', '--ip-type', 'both'], /--ip-type/);
  fails(t, ['z', '/zp', '-a', '/a', '-u', '--net', 'e1000g0'], /physical=NAME/);
  fails(t, ['z', '/zp', '-a', '/a', '-u', '--bogus'], /unknown option --bogus/);
  fails(t, ['z', '/zp', '-a'], /requires an argument -- a/);
  fails(t, ['/zp', '-a', '/a', '-u'], /invalid zone name/);
  fails(t, ['-a', '/a', '-u'], /zone name is missing/);
  fails(t, ['-z', 'z', '-a', '/a', '-u'], /zonepath is missing/);
});

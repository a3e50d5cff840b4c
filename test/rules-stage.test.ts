import t from 'tap';
import { runStages, type Stage } from '../src/rules/stage.js';
import { applyRules } from '../src/rules/index.js';
import { defineRule } from '../src/rules/stage.js';
import { ent, file, from, makeCtx } from './rules-lib.js';
import type { Entry } from '../src/entry.js';

t.test('fused runner: pass, drop, replace, lists, promises and finish steps in order', async (t) => {
  const log: string[] = [];
  const s0: Stage = {
    entry(e, rel) {
      if (rel === 'drop') return null;
      if (rel === 'two') return [ent('two.a'), ent('two.b')];
      if (rel === 'later') return Promise.resolve(ent('later.replaced'));
      return e;
    },
    finish() {
      log.push('finish0');
      return [ent('f0.a'), ent('f0.b')];
    },
  };
  const s1: Stage = {
    entry(e, rel) {
      log.push(`s1 ${rel}`);
      if (rel === 'two.b') return null;
      return rel === 'f0.a' ? Promise.resolve([e, ent('f0.a.extra')]) : e;
    },
    async finish() {
      log.push('finish1');
      return ent('f1');
    },
  };
  const got: string[] = [];
  for await (const e of runStages(from([ent('./a'), ent('drop'), ent('two'), ent('/later'), ent('b/')]), [s0, s1])) {
    got.push(e.path);
    log.push(`out ${e.path}`);
  }
  t.same(got, ['./a', 'two.a', 'later.replaced', 'b/', 'f0.a', 'f0.a.extra', 'f0.b', 'f1']);
  t.same(log, [
    's1 a', 'out ./a',
    's1 two.a', 's1 two.b', 'out two.a',
    's1 later.replaced', 'out later.replaced',
    's1 b', 'out b/',
    'finish0', 's1 f0.a', 's1 f0.b', 'out f0.a', 'out f0.a.extra', 'out f0.b',
    'finish1', 'out f1',
  ], 'finish outputs of a stage go out before the next stage finishes');
});

t.test('a stage can read the current body before the next entry is pulled', async (t) => {
  const rule = defineRule('upper', () => ({
    async entry(e) {
      if (e.type !== 'file') return e;
      let s = '';
      for await (const c of e.body()) s += c.toString();
      return { ...e, body: () => ({ async *[Symbol.asyncIterator]() { yield Buffer.from(s.toUpperCase()); } }) } as Entry;
    },
  }));
  const out: string[] = [];
  for await (const e of applyRules(from([file('a', 'x'), file('b', 'y')]), [rule], makeCtx())) {
    for await (const c of e.body()) out.push(c.toString());
  }
  t.same(out, ['X', 'Y']);
});

t.test('breaking out of the loop closes the source', async (t) => {
  let closed = false;
  async function* src() {
    try {
      yield ent('a');
      yield ent('b');
    } finally {
      closed = true;
    }
  }
  for await (const e of runStages(src(), [{ entry: (e) => e }])) {
    t.equal(e.path, 'a');
    break;
  }
  t.ok(closed);
});

t.test('an error in a stage rejects the iteration', async (t) => {
  const it = runStages(from([ent('a')]), [{ entry: () => Promise.reject(new Error('boom')) }]);
  await t.rejects(it.next(), /boom/);
});

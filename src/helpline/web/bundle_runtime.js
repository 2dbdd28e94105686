// The bundle runtime (written into the entry bundle by helpline/web/bundler.py): ES-module semantics for modules
// joined into a few files. Each module is written as
//   __hlDefine("js/x.js", function* (__hl) { let <imports>; __hl.link([[dep, [setters]], …], { name: getter, … });
//   yield; <the module's own text, import/export statements removed> });
// The part before `yield` links: imported names are variables that setters fill, exports are getters over the
// body's own bindings (hoisted functions are there before the body runs, as in ES linking). The rest is the body,
// run once, after its dependencies, in import order. `import(x)` became `__hl.load(x)`: it resolves x against the
// module's own URL and, when the module is in a bundle not loaded yet, imports that file first — so every module
// has one instance whichever bundle defined it.
const [__hlDefine, __hlStart] = (() => {
  /*MANIFEST*/
  const ROOT = new URL('../', import.meta.url); // the static folder: bundles are <static>/bundle/<name>.js
  const factories = new Map(); // module name → its generator function
  const records = new Map(); // module name → { ns, imports, importers, state, error, body }
  const loading = new Map(); // bundle name → Promise of its import

  function define(name, factory) {
    factories.set(name, factory);
  }

  // A binding of a module in an import cycle that has not run yet is in its temporal dead zone: left unset
  // here, set again when that module has run (its importers' setters run then).
  function assign(setter, ns) {
    try {
      setter(ns);
    } catch (err) {
      if (!(err instanceof ReferenceError)) throw err;
    }
  }

  function link(name) {
    let rec = records.get(name);
    if (rec) return rec;
    const factory = factories.get(name);
    if (!factory) throw new Error(`Helpline bundle: module ${name} is not loaded`);
    const url = new URL(name, ROOT).href;
    rec = { ns: Object.create(null), imports: [], importers: [], state: 'linked', error: null, body: null };
    records.set(name, rec);
    const self = rec;
    rec.body = factory({
      meta: Object.freeze({ url }),
      load: (specifier) => load(specifier, url),
      link(imports, getters) {
        self.imports = imports;
        for (const [key, get] of Object.entries(getters)) {
          Object.defineProperty(self.ns, key, { get, enumerable: true });
        }
        Object.defineProperty(self.ns, Symbol.toStringTag, { value: 'Module' });
        Object.preventExtensions(self.ns);
      },
    });
    rec.body.next();
    for (const [dep] of rec.imports) link(dep);
    return rec;
  }

  function evaluate(rec) {
    if (rec.state === 'failed') throw rec.error;
    if (rec.state !== 'linked') return; // done, or evaluating (an import cycle)
    rec.state = 'evaluating';
    try {
      for (const [dep, setters] of rec.imports) {
        const target = records.get(dep);
        evaluate(target);
        for (const setter of setters) {
          target.importers.push(setter);
          assign(setter, target.ns);
        }
      }
      rec.body.next();
    } catch (err) {
      rec.state = 'failed';
      rec.error = err;
      throw err;
    }
    rec.state = 'done';
    for (const setter of rec.importers) assign(setter, rec.ns);
  }

  function bundle(name) {
    let pending = loading.get(name);
    if (!pending) {
      pending = Promise.all((NEEDS[name] || []).map(bundle))
        .then(() => import(new URL(`${name}.js`, import.meta.url).href))
        .catch((err) => {
          loading.delete(name); // a later import() may try again (a network blip)
          throw err;
        });
      loading.set(name, pending);
    }
    return pending;
  }

  async function load(specifier, base) {
    const url = new URL(String(specifier), base).href;
    const name = url.startsWith(ROOT.href) ? url.slice(ROOT.href.length) : '';
    const home = Object.hasOwn(CHUNK_OF, name) ? CHUNK_OF[name] : null;
    if (!home) throw new TypeError(`Failed to fetch dynamically imported module: ${url}`);
    if (!factories.has(name)) await bundle(home);
    const rec = link(name);
    evaluate(rec);
    return rec.ns;
  }

  function start(name) {
    evaluate(link(name));
  }

  return [define, start];
})();
export { __hlDefine };

// What the phone keeps between visits, in IndexedDB: the login, the last board and
// trips seen, and payments not sent yet. The page and the service worker share it,
// so nothing here touches the DOM.
const STORE = "kv";
let opened = null;

function db() {
  opened ??= new Promise((resolve, reject) => {
    const req = indexedDB.open("scc", 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
  return opened;
}

async function run(mode, work) {
  const t = (await db()).transaction(STORE, mode);
  const req = work(t.objectStore(STORE));
  return new Promise((resolve, reject) => {
    t.oncomplete = () => resolve(req.result);
    t.onerror = t.onabort = () => reject(t.error);
  });
}

export const get = (key) => run("readonly", (s) => s.get(key));
export const put = (key, value) => run("readwrite", (s) => s.put(value, key));
export const del = (key) => run("readwrite", (s) => s.delete(key));
/** Every value whose key starts with `prefix`, in key order. */
export const list = (prefix) => run("readonly", (s) => s.getAll(IDBKeyRange.bound(prefix, `${prefix}\uffff`)));

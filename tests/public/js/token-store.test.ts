import { loadPageModule, type TokenStorage, type TokenStoreApi, type TokenStoreModule } from '../../helpers/page-modules.js';

// Node has BroadcastChannel too: two stores in one process talk as two tabs of one origin do.
const { TokenStore } = await loadPageModule<TokenStoreModule>('token-store');

/** sessionStorage as a Map. */
function memoryStorage(): TokenStorage & { readonly items: Map<string, string> } {
  const items = new Map<string, string>();
  return { items, getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) };
}

/** Storage that the browser disabled: every call throws. */
const disabledStorage: TokenStorage = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('SecurityError');
  },
};

describe('TokenStore (public/js/token-store.js)', () => {
  const stores: TokenStoreApi[] = [];
  const tab = (storage: TokenStorage = memoryStorage()): TokenStoreApi => {
    const store = new TokenStore(storage);
    stores.push(store);
    return store;
  };

  afterEach(() => {
    for (const store of stores.splice(0)) store.channel?.close(); // an open channel keeps Node running
  });

  it('keeps the token in session storage, so a reload of the tab still has it', () => {
    const storage = memoryStorage();
    tab(storage).set('s3cret');
    expect(storage.items.get('buildlog.token')).toBe('s3cret');
    expect(tab(storage).get()).toBe('s3cret');
  });

  it('keeps it in memory for the page when storage is disabled', () => {
    const store = tab(disabledStorage);
    expect(store.get()).toBeNull();
    store.set('s3cret');
    expect(store.get()).toBe('s3cret');
  });

  it('hands a token set in one tab to the others, and to whoever waits for the next one', async () => {
    const first = tab();
    const second = tab();
    const next = second.next();
    first.set('s3cret');
    await expect(next).resolves.toBe('s3cret');
    expect(second.get()).toBe('s3cret');
  });

  it('asks the other tabs for their token, and gets null when no tab has one', async () => {
    const lonely = tab();
    await expect(lonely.fromOtherTabs()).resolves.toBeNull();
    const holder = tab();
    holder.set('s3cret');
    const newcomer = tab();
    await expect(newcomer.fromOtherTabs()).resolves.toBe('s3cret');
  });
});

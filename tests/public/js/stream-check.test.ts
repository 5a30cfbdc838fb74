import { loadPageModule } from '../../helpers/page-modules.js';

interface StreamCheckModule {
  findClump(pingAtMs: number[], startMs: number): { size: number; silenceMs: number } | null;
  silenceWarning(silentMs: number): string;
  clumpWarning(clump: { size: number; silenceMs: number }): string;
  CLUMP_GAP_MS: number;
  MIN_SILENCE_MS: number;
}

describe("the page's look at its stream", () => {
  let module: StreamCheckModule;

  beforeAll(async () => {
    module = await loadPageModule<StreamCheckModule>('stream-check');
  });

  it('finds no clump in heartbeats that came one by one', () => {
    expect(module.findClump([], 0)).toBeNull();
    expect(module.findClump([3], 0)).toBeNull();
    expect(module.findClump([15000, 30000, 45000], 2)).toBeNull();
  });

  it('finds heartbeats that came together after a silence, the biggest run of them', () => {
    expect(module.findClump([1500, 1500, 1500], 5)).toEqual({ size: 3, silenceMs: 1495 });
    expect(module.findClump([300, 2400, 2401, 2402, 4500, 4501], 0)).toEqual({ size: 3, silenceMs: 2100 });
  });

  it('needs the silence: heartbeats that bunch up a little right after the stream opened are no clump', () => {
    expect(module.findClump([10, 10 + module.CLUMP_GAP_MS], 0)).toBeNull();
    expect(module.findClump([module.MIN_SILENCE_MS, module.MIN_SILENCE_MS + 1], 0)).toEqual({ size: 2, silenceMs: module.MIN_SILENCE_MS });
  });

  it('words both warnings with the same advice as buildlog doctor', () => {
    expect(module.silenceWarning(35400)).toBe(
      "Nothing reached this page on its stream for 35 s, not even the server's heartbeat: a proxy between you and the server buffers it. In nginx, set proxy_buffering off where it proxies /api/log/push; buildlog doctor checks the whole way.",
    );
    expect(module.clumpWarning({ size: 4, silenceMs: 2100 })).toMatch(/^The stream reaches this page in clumps \(4 heartbeats at once after 2\.1 s of silence\): a proxy .* proxy_buffering off/);
  });
});

import { connectionCap, parseOpenFilesLimit } from '../../src/http/connection-cap.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 1048576              files
Max locked memory         8388608              8388608              bytes
`;

describe('parseOpenFilesLimit', () => {
  it('reads the soft limit of open files', () => expect(parseOpenFilesLimit(LIMITS)).toBe(1024));
  it('has none when it is unlimited', () => expect(parseOpenFilesLimit(LIMITS.replace('1024  ', 'unlimited'))).toBeNull());
  it('has none when the line is missing', () => expect(parseOpenFilesLimit('Max cpu time unlimited unlimited seconds\n')).toBeNull());
});

describe('connectionCap', () => {
  it('keeps 128 descriptors and 16 per concurrent build back from connections', () => {
    expect(connectionCap(1024, 2)).toBe(1024 - 128 - 32);
    expect(connectionCap(65536, 1)).toBe(65536 - 144);
  });

  it('leaves at least half of a small limit to connections', () => {
    expect(connectionCap(256, 2)).toBe(128);
    expect(connectionCap(64, 1)).toBe(32);
  });

  it('sets no cap when the limit is unknown', () => expect(connectionCap(null, 2)).toBeNull());
});

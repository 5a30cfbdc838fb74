import { loadPageModule, type FirstErrorModule } from '../../helpers/page-modules.js';

const { findFirstError } = await loadPageModule<FirstErrorModule>('first-error');

describe('findFirstError (public/js/first-error.js)', () => {
  it('picks the first stdout or stderr line that names an error', () => {
    const lines = [
      { stream: 'stderr', text: 'warning: deprecated' },
      { stream: 'stdout', text: 'TypeError: x is undefined' },
      { stream: 'stderr', text: 'error Command failed' },
    ];
    expect(findFirstError(lines)).toBe(1);
    for (const text of ['error: x', 'Error: x', 'ERROR x', 'npm ERR! code 1', '2 errors']) {
      expect(findFirstError([{ stream: 'stdout', text }])).toBe(0);
    }
  });

  it('does not take a word that merely contains "error" for one', () => {
    expect(findFirstError([{ stream: 'stdout', text: '<img onerror=x> terrorist' }])).toBe(-1);
  });

  it('falls back to the first stderr line, and never counts the server\'s system lines', () => {
    const lines = [
      { stream: 'system', text: 'Error from the server itself' },
      { stream: 'stdout', text: 'compiling' },
      { stream: 'stderr', text: 'warning: slow' },
    ];
    expect(findFirstError(lines)).toBe(2);
    expect(findFirstError([{ stream: 'stdout', text: 'all good' }])).toBe(-1);
  });
});

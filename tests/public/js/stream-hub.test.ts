import { loadPageModule, type StreamHubModule } from '../../helpers/page-modules.js';

const { feedUrl } = await loadPageModule<StreamHubModule>('stream-hub');

describe('feedUrl (public/js/stream-hub.js)', () => {
  it('names the global stream and one build\'s stream by their feed keys', () => {
    expect(feedUrl('global')).toBe('/api/log/push');
    expect(feedUrl('build:0lx2k3abcd12')).toBe('/api/log/push?build=0lx2k3abcd12');
  });

  it('encodes the build id, so no id can add a query parameter of its own', () => {
    expect(feedUrl('build:a&lastEventId=9')).toBe('/api/log/push?build=a%26lastEventId%3D9');
  });
});

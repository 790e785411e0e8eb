import { describe, expect, it } from '@jest/globals';
import { staleBuildImages } from './gc.js';

// Layers: base <- b1 <- b2 (old builder steps) and base <- c1 <- c2 (current builder steps,
// under the tagged builder image); rt <- r1 (a current runtime image), rt <- r0 (an old one);
// other <- o1 (someone else's cache, on a base that is not ours).
const layers = [
  { id: 'base' },
  { id: 'b1', parent: 'base' },
  { id: 'b2', parent: 'b1' },
  { id: 'c1', parent: 'base' },
  { id: 'c2', parent: 'c1' },
  { id: 'rt' },
  { id: 'r0', parent: 'rt' },
  { id: 'r1', parent: 'rt' },
  { id: 'other' },
  { id: 'o1', parent: 'other' },
];
const images = [
  { id: 'BASE', names: ['localhost/herald/standin-node:k'], layer: 'base' },
  { id: 'RT', names: ['localhost/herald/standin-distroless-nodejs20:k'], layer: 'rt' },
  { id: 'OTHER', names: ['localhost/someone/base:1'], layer: 'other' },
  { id: 'old-b1', layer: 'b1' },
  { id: 'old-b2', layer: 'b2' },
  { id: 'cur-c1', layer: 'c1' },
  { id: 'BUILDER', names: ['localhost/herald/builder:dev'], layer: 'c2' },
  { id: 'old-r0', layer: 'r0' },
  { id: 'CONTROLLER', names: ['localhost/herald/controller:dev'], layer: 'r1' },
  { id: 'their-o1', layer: 'o1' },
];

describe('staleBuildImages', () => {
  it('picks untagged images on our bases that no tagged image is built on', () => {
    expect(staleBuildImages(images, layers, ['BASE', 'RT'])).toEqual(['old-b1', 'old-b2', 'old-r0']);
  });

  it('keeps the steps under a tagged image, and what stands on bases that are not ours', () => {
    const stale = staleBuildImages(images, layers, ['BASE', 'RT']);
    expect(stale).not.toContain('cur-c1');
    expect(stale).not.toContain('their-o1');
  });

  it('removes nothing when the bases are unknown, and survives a layer cycle', () => {
    expect(staleBuildImages(images, layers, [])).toEqual([]);
    expect(staleBuildImages([{ id: 'x', layer: 'l1' }, { id: 'B', names: ['b'], layer: 'l2' }], [{ id: 'l1', parent: 'l2' }, { id: 'l2', parent: 'l1' }], ['B'])).toEqual([]);
  });
});

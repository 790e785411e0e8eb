import { imageSize } from './buildah.js';
import { buildHeraldImages, type BuildHeraldOptions, type HeraldImage } from './herald.js';
import type { LogSink } from './exec.js';
import type { Part } from './args.js';
import { buildStandins, type Standins } from './standins.js';
import { buildTestImages, type TestImages } from './test-images.js';

/** One image in a summary: its local name and uncompressed size. */
export interface SizedImage {
  readonly image: string;
  readonly bytes: number;
  readonly mib: number;
}

/** What `build` prints: every image it made or found, with sizes, and where the time went. */
export interface BuildSummary {
  readonly standins?: { builder: SizedImage; runtime: SizedImage; runtimeNonroot: SizedImage; rootfsBuilt: boolean; imagesBuilt: boolean; seconds: Standins['seconds'] };
  readonly herald?: readonly (SizedImage & { seconds: number })[];
  readonly test?: { backend: SizedImage; nginx: SizedImage; built: readonly string[]; seconds: number };
  readonly seconds: number;
}

const mib = (bytes: number): number => Math.round((bytes / (1 << 20)) * 10) / 10;

async function sized(image: string): Promise<SizedImage> {
  const bytes = await imageSize(image);
  return { image, bytes, mib: mib(bytes) };
}

/** Builds the requested parts in order (stand-ins, Herald's images on them, test images). */
export async function buildAll(o: { tag: string; only: readonly Part[]; caFile: string | null | undefined; context?: string | undefined; log?: LogSink }): Promise<BuildSummary> {
  const started = Date.now();
  const logOpt = o.log ? { log: o.log } : {};
  const out: { -readonly [K in keyof BuildSummary]: BuildSummary[K] } = { seconds: 0 };
  if (o.only.includes('standins') || o.only.includes('herald')) {
    const s = await buildStandins(logOpt);
    out.standins = { builder: await sized(s.builder), runtime: await sized(s.runtime), runtimeNonroot: await sized(s.runtimeNonroot), rootfsBuilt: s.rootfsBuilt, imagesBuilt: s.imagesBuilt, seconds: s.seconds };
    if (o.only.includes('herald')) {
      const opts: BuildHeraldOptions = { tag: o.tag, bases: { builder: s.builder, controller: s.runtimeNonroot, speaker: s.runtime }, ...logOpt, ...(o.caFile === undefined ? {} : { caFile: o.caFile }), ...(o.context === undefined ? {} : { context: o.context }) };
      const { images } = await buildHeraldImages(opts);
      out.herald = images.map((i: HeraldImage) => ({ image: i.image, bytes: i.bytes, mib: mib(i.bytes), seconds: i.seconds }));
    }
  }
  if (o.only.includes('test')) {
    const t: TestImages = await buildTestImages(logOpt);
    out.test = { backend: await sized(t.backend), nginx: await sized(t.nginx), built: t.built, seconds: t.seconds };
  }
  out.seconds = (Date.now() - started) / 1000;
  return out;
}

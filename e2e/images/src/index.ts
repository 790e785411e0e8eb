export { ImagesError, type ImagesErrorCode } from './errors.js';
export { imagesCacheDir } from './cache.js';
export { exportImage, imageConfig, imageExists, imageId, imageSize, removeImage, runInImage, startInImage, tagImage, withMountedImage, type ArchiveFormat, type ContainerOptions, type RunningContainer } from './buildah.js';
export { DEBIAN_SUITE, ROOTFS_PACKAGES, debianRootfs, type Rootfs, type RootfsOptions } from './rootfs.js';
export { RUNTIME_PACKAGES, STANDIN_REPOS, buildStandins, type Standins } from './standins.js';
export { BACKEND_PORT, NGINX_PACKAGES, TEST_IMAGE_REPOS, buildTestImages, type TestImages } from './test-images.js';
export { HERALD_TARGETS, buildHeraldImages, defaultCaFile, heraldImageName, type BaseImages, type BuildHeraldOptions, type HeraldImage, type HeraldTarget } from './herald.js';
export { pushDestination, pushImage } from './push.js';
export { pruneBuildCache, staleBuildImages, type StoredImage, type StoredLayer } from './gc.js';

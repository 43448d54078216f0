export { PostProcessor } from './processor';
export type {
  PostprocessInput, PostprocessOptions, PostprocessResult, PostprocessEvents, PostprocessProgress, PostprocessPhase,
  PostprocessStatus, UploadedObject, UploadedImage,
} from './processor';
export { POSTPROCESS_FORMATS, isPostprocessFormat, planConversion, formatSpec } from './formats';
export type { PostprocessFormat, ConversionPlan, StreamMode } from './formats';
export { probeMedia } from './probe';
export type { MediaInfo, VideoStreamInfo, AudioStreamInfo } from './probe';
export { convertRecording } from './transcode';
export { generateThumbnails, thumbnailTimestamps, jpegSize, DEFAULT_THUMBNAIL_COUNT, DEFAULT_THUMBNAIL_WIDTH } from './thumbnails';
export type { LocalImage, ThumbnailOptions } from './thumbnails';
export { checkFreeSpace, freeSpace } from './disk';
export { PostprocessAdapter, StorageRecordingFiles, createPostprocessing } from './service-adapter';
export type { PostprocessAdapterOptions, Postprocessing } from './service-adapter';
export { deleteRecordingFiles, cleanupDir } from './retention';
export type { RecordingRef, DeleteRecordingResult } from './retention';
export { liveChildren, runOwned } from './child';
export { makeSyntheticRecording } from './synthetic';
export type { SyntheticKind, SyntheticOptions } from './synthetic';

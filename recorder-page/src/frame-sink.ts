/**
 * Turns the compositor's canvas into the video track the encoder reads, one frame per
 * push(). Where Chromium has MediaStreamTrackGenerator, each frame is a VideoFrame made
 * from the canvas: measured on a 2-core machine this costs the renderer 0.21 cores for a
 * 1280x720 30 fps H.264 recording where captureStream(0) + requestFrame() cost 0.27, since
 * requestFrame() snapshots the canvas and the next draw then copies its whole bitmap into
 * freshly mapped memory (about 27,000 page faults a second). captureStream stays as the
 * fallback for browsers without the generator.
 */
export interface FrameSink {
  readonly track: MediaStreamTrack;
  push(): void;
  /** Frames the encoder's track had no room for (it fell behind), so never encoded. */
  readonly dropped: number;
}

interface VideoTrackGenerator extends MediaStreamTrack {
  readonly writable: WritableStream<VideoFrame>;
}
type GeneratorConstructor = new (init: { kind: 'video' }) => VideoTrackGenerator;

export function frameSink(canvas: HTMLCanvasElement): FrameSink {
  const Generator = (globalThis as { MediaStreamTrackGenerator?: GeneratorConstructor }).MediaStreamTrackGenerator;
  return Generator ? generatorSink(canvas, new Generator({ kind: 'video' })) : captureStreamSink(canvas);
}

function generatorSink(canvas: HTMLCanvasElement, generator: VideoTrackGenerator): FrameSink {
  const writer = generator.writable.getWriter();
  const sink = {
    track: generator,
    dropped: 0,
    push() {
      // the capture clock in microseconds, as a camera's frames carry it
      const frame = new VideoFrame(canvas, { timestamp: Math.round((performance.timeOrigin + performance.now()) * 1000) });
      // a sink that falls behind drops this frame rather than queueing a copy of the canvas
      if ((writer.desiredSize ?? 1) <= 0) {
        sink.dropped++;
        return frame.close();
      }
      writer.write(frame).catch(() => frame.close());
    },
  };
  return sink;
}

function captureStreamSink(canvas: HTMLCanvasElement): FrameSink {
  const track = canvas.captureStream(0).getVideoTracks()[0] as CanvasCaptureMediaStreamTrack;
  return { track, push: () => track.requestFrame(), dropped: 0 };
}

export {
  ClockSync,
  positionAt,
  sampleFromPong,
  type ClockEstimate,
  type ClockSample,
  type ClockSyncOptions,
  type PingFrame,
  type PlaybackTiming,
  type PongFrame,
} from './clockSync'

/**
 * Deterministic music for a track id: the same id always gives the same tempo, key, scale,
 * bass line and melody, so every listener of a room hears the same notes at the same track
 * position, with no audio file, account or network. docs/web.md says why.
 */

export interface Voice {
  bpm: number;
  /** Length of one step (an eighth note) in ms. */
  stepMs: number;
  rootHz: number;
  /** Semitone offsets of the scale. */
  scale: number[];
  /** 16-step melody: scale degree per step, or null for a rest. */
  melody: (number | null)[];
  /** 4 bass degrees, one per bar of 8 steps... cycling. */
  bass: number[];
  wave: OscillatorType;
}

export interface Note {
  /** Track position where the note starts. */
  atMs: number;
  durationMs: number;
  frequencyHz: number;
  gain: number;
  wave: OscillatorType;
}

/** FNV-1a, 32 bit. */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** mulberry32: a tiny seeded PRNG in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCALES = [
  [0, 2, 4, 7, 9], // major pentatonic
  [0, 3, 5, 7, 10], // minor pentatonic
  [0, 2, 3, 5, 7, 8, 10], // natural minor
  [0, 2, 4, 5, 7, 9, 11], // major
];
const WAVES: OscillatorType[] = ["triangle", "sine", "square", "sawtooth"];

export function voiceFor(trackId: string): Voice {
  const random = seededRandom(hashString(trackId));
  const bpm = 78 + Math.floor(random() * 50);
  const scale = SCALES[Math.floor(random() * SCALES.length)] ?? SCALES[0]!;
  const rootHz = 196 * 2 ** (Math.floor(random() * 12) / 12); // G3 .. F#4
  const melody = Array.from({ length: 16 }, () =>
    random() < 0.3 ? null : Math.floor(random() * (scale.length + 3)),
  );
  const bass = Array.from({ length: 4 }, () => Math.floor(random() * scale.length));
  const wave = WAVES[Math.floor(random() * WAVES.length)] ?? "triangle";
  return { bpm, stepMs: 60_000 / bpm / 2, rootHz, scale, melody, bass, wave };
}

function degreeHz(voice: Voice, degree: number, octaveShift: number): number {
  const length = voice.scale.length;
  const octave = Math.floor(degree / length) + octaveShift;
  const semitone = (voice.scale[degree % length] ?? 0) + 12 * octave;
  return voice.rootHz * 2 ** (semitone / 12);
}

/** The notes that start in [fromMs, toMs) of the track. */
export function notesBetween(voice: Voice, fromMs: number, toMs: number): Note[] {
  const notes: Note[] = [];
  const first = Math.max(0, Math.ceil(fromMs / voice.stepMs - 1e-9));
  for (let step = first; step * voice.stepMs < toMs; step++) {
    const atMs = step * voice.stepMs;
    const degree = voice.melody[step % 16];
    if (degree !== null && degree !== undefined) {
      notes.push({
        atMs,
        durationMs: voice.stepMs * 0.9,
        frequencyHz: degreeHz(voice, degree, 0),
        gain: 0.12,
        wave: voice.wave,
      });
    }
    if (step % 8 === 0) {
      const bar = Math.floor(step / 8);
      notes.push({
        atMs,
        durationMs: voice.stepMs * 7.5,
        frequencyHz: degreeHz(voice, voice.bass[bar % 4] ?? 0, -2),
        gain: 0.18,
        wave: "sine",
      });
    }
  }
  return notes;
}

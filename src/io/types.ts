// The data model shared by loaders, formats, detection and evaluation.
// Points are in pixels of the original image: x right, y down, origin at
// the centre of the top-left pixel. A missing landmark is NaN, NaN.

export interface Point {
  x: number;
  y: number;
}

export const MISSING: Point = Object.freeze({ x: Number.NaN, y: Number.NaN });

export const isMissing = (p: Point) => Number.isNaN(p.x) || Number.isNaN(p.y);

/** Where an image's pixel spacing came from. */
export type SpacingSource =
  | 'dataset-default'
  | 'dicom-pixel-spacing'
  | 'dicom-imager-pixel-spacing'
  | 'user'
  | 'wrist-width'
  | 'file';

/** Millimetres per pixel along x (columns) and y (rows). */
export interface Spacing {
  x: number;
  y: number;
  source: SpacingSource;
}

/** One image's landmarks, as read from or written to a landmarks file. */
export interface AnnotatedImage {
  /** Image id: the file name without folder and extension, unless a format says otherwise. */
  image: string;
  points: Point[];
  width?: number;
  height?: number;
  spacing?: Spacing;
  /** The line of its (first) row, for formats with lines worth naming in errors (CSV). */
  line?: number;
}

/** A landmarks file's content: the landmark names, in order, and the images. */
export interface Annotations {
  names: string[];
  images: AnnotatedImage[];
}

/** An image of a dataset. */
export interface ImageRecord {
  id: string;
  /** Absolute path of the image file. */
  file: string;
  width: number;
  height: number;
  spacing?: Spacing;
  landmarks?: Point[];
}

export interface Dataset {
  name: string;
  landmarkNames: string[];
  images: ImageRecord[];
}

/** Default landmark names when a file gives none: L1, L2, ... */
export const defaultNames = (n: number) => Array.from({ length: n }, (_, i) => `L${i + 1}`);

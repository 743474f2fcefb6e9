// The X-ray viewer: one canvas showing the image with zoom, pan,
// brightness, contrast and inversion, and the landmark marks on top.
// Coordinates are fewmark's: image pixels, origin at the centre of the
// top-left pixel, so pixel (i, j) covers [i - 0.5, i + 0.5].
// Mouse: click places, dragging a mark moves it, dragging elsewhere (or
// with the middle/right button) pans, the wheel zooms around the cursor.

export interface Mark {
  index: number;
  x: number;
  y: number;
  /** 'placed': annotated; 'predicted': from the detector, not yet confirmed. */
  kind: 'placed' | 'predicted';
  label: string;
  current: boolean;
  /** Predicted marks: confidence in [0, 1]. */
  confidence?: number | null;
}

export interface ViewerEvents {
  place(x: number, y: number): void;
  move(index: number, x: number, y: number): void;
  select(index: number): void;
  hover(point: { x: number; y: number } | null): void;
}

const HIT_RADIUS = 9;
const CLICK_SLOP = 4;

export class Viewer {
  private image: HTMLImageElement | null = null;
  private marks: Mark[] = [];
  private scale = 1;
  private tx = 0;
  private ty = 0;
  private brightness = 1;
  private contrast = 1;
  private invert = false;
  private drag: {
    mode: 'pan' | 'mark' | 'pending';
    index: number;
    sx: number;
    sy: number;
    tx: number;
    ty: number;
  } | null = null;
  private dragPoint: { x: number; y: number } | null = null;
  private frame = 0;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly events: ViewerEvents,
  ) {
    new ResizeObserver(() => this.resize()).observe(canvas);
    canvas.addEventListener('mousedown', (e) => this.onDown(e));
    window.addEventListener('mousemove', (e) => this.onMove(e));
    window.addEventListener('mouseup', (e) => this.onUp(e));
    canvas.addEventListener('mouseleave', () => this.events.hover(null));
    canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    this.resize();
  }

  /** Shows an image, fitted to the view. */
  setImage(image: HTMLImageElement | null): void {
    this.image = image;
    this.fit();
  }

  setMarks(marks: Mark[]): void {
    this.marks = marks;
    this.redraw();
  }

  setDisplay(o: { brightness?: number; contrast?: number; invert?: boolean }): void {
    this.brightness = o.brightness ?? this.brightness;
    this.contrast = o.contrast ?? this.contrast;
    this.invert = o.invert ?? this.invert;
    this.redraw();
  }

  fit(): void {
    const { width, height } = this.canvas;
    if (this.image && width > 0 && height > 0) {
      this.scale = Math.min(width / this.image.naturalWidth, height / this.image.naturalHeight) * 0.95;
      this.tx = (width - this.image.naturalWidth * this.scale) / 2;
      this.ty = (height - this.image.naturalHeight * this.scale) / 2;
    }
    this.redraw();
  }

  /** Zooms by a factor around a canvas point (the centre by default). */
  zoom(factor: number, cx = this.canvas.width / 2, cy = this.canvas.height / 2): void {
    const next = Math.min(64, Math.max(0.02, this.scale * factor));
    this.tx = cx - ((cx - this.tx) * next) / this.scale;
    this.ty = cy - ((cy - this.ty) * next) / this.scale;
    this.scale = next;
    this.redraw();
  }

  /** Image point to canvas pixels. */
  toCanvas(x: number, y: number): { x: number; y: number } {
    return { x: this.tx + (x + 0.5) * this.scale, y: this.ty + (y + 0.5) * this.scale };
  }

  /** Image point to page (client) coordinates, for tests and tools. */
  toClient(x: number, y: number): { x: number; y: number } {
    const c = this.toCanvas(x, y);
    const r = this.canvas.getBoundingClientRect();
    const k = r.width / this.canvas.width;
    return { x: r.left + c.x * k, y: r.top + c.y * k };
  }

  private toImage(e: MouseEvent): { x: number; y: number } {
    const r = this.canvas.getBoundingClientRect();
    const k = this.canvas.width / r.width;
    const cx = (e.clientX - r.left) * k;
    const cy = (e.clientY - r.top) * k;
    return { x: (cx - this.tx) / this.scale - 0.5, y: (cy - this.ty) / this.scale - 0.5 };
  }

  private onImage(p: { x: number; y: number }): boolean {
    return (
      !!this.image &&
      p.x >= -0.5 &&
      p.y >= -0.5 &&
      p.x <= this.image.naturalWidth - 0.5 &&
      p.y <= this.image.naturalHeight - 0.5
    );
  }

  /** The mark under a mouse event, the current one first. */
  private hit(e: MouseEvent): Mark | undefined {
    const r = this.canvas.getBoundingClientRect();
    const k = this.canvas.width / r.width;
    const cx = (e.clientX - r.left) * k;
    const cy = (e.clientY - r.top) * k;
    const near = this.marks.filter((m) => {
      const c = this.toCanvas(m.x, m.y);
      return Math.hypot(c.x - cx, c.y - cy) <= HIT_RADIUS * devicePixelRatio;
    });
    return near.find((m) => m.current) ?? near[0];
  }

  private onDown(e: MouseEvent): void {
    this.canvas.focus();
    const base = { sx: e.clientX, sy: e.clientY, tx: this.tx, ty: this.ty, index: -1 };
    if (e.button !== 0) {
      this.drag = { mode: 'pan', ...base };
      e.preventDefault();
      return;
    }
    const mark = this.hit(e);
    this.drag = mark ? { mode: 'mark', ...base, index: mark.index } : { mode: 'pending', ...base };
    if (mark) this.events.select(mark.index);
    e.preventDefault();
  }

  private onMove(e: MouseEvent): void {
    const inside = e.target === this.canvas;
    if (inside) {
      const p = this.toImage(e);
      this.events.hover(this.onImage(p) ? p : null);
    }
    const d = this.drag;
    if (!d) {
      if (inside) this.canvas.classList.toggle('over-mark', !!this.hit(e));
      return;
    }
    const moved = Math.hypot(e.clientX - d.sx, e.clientY - d.sy) > CLICK_SLOP;
    if (d.mode === 'pending' && moved) d.mode = 'pan';
    if (d.mode === 'pan') {
      const k = this.canvas.width / this.canvas.getBoundingClientRect().width;
      this.tx = d.tx + (e.clientX - d.sx) * k;
      this.ty = d.ty + (e.clientY - d.sy) * k;
      this.canvas.classList.add('panning');
      this.redraw();
    } else if (d.mode === 'mark' && moved) {
      this.dragPoint = this.clamp(this.toImage(e));
      this.redraw();
    }
  }

  private onUp(e: MouseEvent): void {
    const d = this.drag;
    this.drag = null;
    this.canvas.classList.remove('panning');
    if (!d) return;
    if (d.mode === 'mark' && this.dragPoint) {
      const p = this.dragPoint;
      this.dragPoint = null;
      this.events.move(d.index, p.x, p.y);
    } else if (d.mode === 'pending') {
      const p = this.toImage(e);
      if (this.onImage(p)) this.events.place(p.x, p.y);
    }
    this.redraw();
  }

  private clamp(p: { x: number; y: number }): { x: number; y: number } {
    const w = this.image?.naturalWidth ?? 1;
    const h = this.image?.naturalHeight ?? 1;
    return { x: Math.min(w - 0.5, Math.max(-0.5, p.x)), y: Math.min(h - 0.5, Math.max(-0.5, p.y)) };
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault();
    const r = this.canvas.getBoundingClientRect();
    const k = this.canvas.width / r.width;
    this.zoom(Math.exp(-e.deltaY * 0.0015), (e.clientX - r.left) * k, (e.clientY - r.top) * k);
  }

  private resize(): void {
    const r = this.canvas.getBoundingClientRect();
    const w = Math.max(1, Math.round(r.width * devicePixelRatio));
    const h = Math.max(1, Math.round(r.height * devicePixelRatio));
    if (w === this.canvas.width && h === this.canvas.height) return;
    const first = this.canvas.width <= 300 && this.canvas.height <= 150;
    this.canvas.width = w;
    this.canvas.height = h;
    if (first) this.fit();
    else this.redraw();
  }

  redraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    if (!this.image) return;
    ctx.save();
    ctx.filter = `brightness(${this.brightness}) contrast(${this.contrast})${this.invert ? ' invert(1)' : ''}`;
    // Sharp pixels when zoomed in: landmarks are placed on pixels.
    ctx.imageSmoothingEnabled = this.scale < 2;
    ctx.setTransform(this.scale, 0, 0, this.scale, this.tx, this.ty);
    ctx.drawImage(this.image, 0, 0);
    ctx.restore();
    const dpr = devicePixelRatio;
    ctx.font = `${12 * dpr}px system-ui, sans-serif`;
    ctx.textBaseline = 'middle';
    for (const m of [...this.marks].sort((a, b) => Number(a.current) - Number(b.current))) {
      const dragging = this.drag?.mode === 'mark' && this.drag.index === m.index && this.dragPoint;
      const at = dragging ? this.toCanvas(this.dragPoint!.x, this.dragPoint!.y) : this.toCanvas(m.x, m.y);
      const colour = m.current ? '#ffb020' : m.kind === 'placed' ? '#4cc38a' : '#5ab0ff';
      const r = (m.current ? 7 : 5) * dpr;
      ctx.lineWidth = 2 * dpr;
      ctx.strokeStyle = colour;
      ctx.beginPath();
      ctx.arc(at.x, at.y, r, 0, 2 * Math.PI);
      if (m.kind === 'placed') {
        ctx.fillStyle = `${colour}55`;
        ctx.fill();
      }
      ctx.stroke();
      // Cross hair at the exact point.
      ctx.lineWidth = 1 * dpr;
      ctx.beginPath();
      ctx.moveTo(at.x - r - 4 * dpr, at.y);
      ctx.lineTo(at.x + r + 4 * dpr, at.y);
      ctx.moveTo(at.x, at.y - r - 4 * dpr);
      ctx.lineTo(at.x, at.y + r + 4 * dpr);
      ctx.stroke();
      const text = m.confidence != null ? `${m.label} ${m.confidence.toFixed(2)}` : m.label;
      ctx.lineWidth = 3 * dpr;
      ctx.strokeStyle = '#000';
      ctx.strokeText(text, at.x + r + 5 * dpr, at.y);
      ctx.fillStyle = colour;
      ctx.fillText(text, at.x + r + 5 * dpr, at.y);
    }
  }
}

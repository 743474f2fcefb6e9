// `fewmark doctor`: checks that the native engine loads and works.
export interface DoctorReport {
  node: string;
  threads: number;
  ops: number;
  matmulOk: boolean;
  imageCodecOk: boolean;
  siftOk: boolean;
}

export async function doctor(): Promise<DoctorReport> {
  const E = await import('../../engine/index.js');
  return E.tidy(() => {
    const product = E.matmul(E.tensor([[1, 2]]), E.tensor([[3], [4]])).item();
    const card = E.tensor(
      Array.from({ length: 64 * 64 }, (_, i) =>
        i % 64 > 20 && i % 64 < 40 && i > 1280 && i < 2800 ? 220 : 30,
      ),
      [64, 64],
      'uint8',
    );
    const decoded = E.decodeImage(E.encodeImage(card, '.png')).pixels;
    const same = decoded.to('float32').sub(card.to('float32')).abs().max().item() === 0;
    const points = E.detectKeypoints(E.resizeImage(card, 256, 256, 'linear'), { method: 'sift' }).shape[0]!;
    return {
      node: process.version,
      threads: E.threads(),
      ops: E.opNames().length,
      matmulOk: product === 11,
      imageCodecOk: same,
      siftOk: points > 0,
    };
  });
}
